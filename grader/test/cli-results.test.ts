/**
 * What grading writes for one submission (grader/runner/results.ts, feedback.ts, report.ts,
 * grader/cli/table.ts): results.json valid against the Gradescope schema with the documented
 * visibility, numbers, tags and formats; feedback.md by feedback mode, with teaching or compiler
 * messages and repeated failures given once; run.log with what only the instructor sees.
 * grades.csv, gradebook.csv, the roster and the summary: cli-grades.test.ts.
 */
import { renderTable } from '../cli/table';
import type { RubricTest } from '../rubric';
import type { ChannelRecord } from '../runner/channel';
import { HIDDEN_UNTIL_DEADLINE } from '../runner/feedback';
import { renderFeedback } from '../runner/feedback';
import type { SubmissionReport } from '../runner/grade-submission';
import type { Layer } from '../runner/isolation';
import { instructorLog } from '../runner/report';
import { PrairieLearnResultsSchema, prairieLearnResults } from '../runner/prairielearn';
import { GradescopeResultsSchema, gradescopeResults, testNumbers } from '../runner/results';
import { gradeRuns, gradeWithoutRuns } from '../runner/score';
import { TWO_TESTS } from './cli-fixtures';

const TESTS = TWO_TESTS;

function report(
  name: string,
  grade: SubmissionReport['grade'],
  compileErrors: string[] = [],
): SubmissionReport {
  return {
    submission: { name, path: `/subs/${name}`, kind: 'folder' },
    peerPath: 'lab9/src/peer/peer.ts',
    importsRewritten: 0,
    compileErrors,
    grade,
    durationMs: 1234,
    log: '',
    layers: [],
  };
}

const graded = report(
  'alice',
  gradeRuns(TESTS, [
    {
      seed: 5,
      outcome: 'ok',
      reason: 'completed in 1.0 s',
      output: '',
      durationMs: 1000,
      peakRssBytes: 0,
      reading: {
        anomalies: [],
        records: [
          {
            v: 1,
            seq: 1,
            kind: 'case',
            file: 'grader/suites/a.test.ts',
            name: 'a one',
            attempt: 1,
            status: 'passed',
            failures: [],
            durationMs: 1,
          },
          {
            v: 1,
            seq: 2,
            kind: 'case',
            file: 'grader/suites/b.test.ts',
            name: 'b one',
            attempt: 1,
            status: 'failed',
            failures: [
              'client B was served only after client A finished: is handleClient awaiting?',
            ],
            durationMs: 1,
          },
        ],
      },
    },
  ]),
);

const broken = report(
  'bob',
  gradeWithoutRuns(TESTS, 'compile-error', 'peer.ts does not compile (1 compiler message)'),
  ["peer.ts:3:7 - error TS2322: Type 'string' is not assignable to type 'number'."],
);

/** One run of `tests` in which each named test ended as given; the others passed. */
function ranReport(
  name: string,
  tests: readonly RubricTest[],
  failures: Record<string, string>,
): SubmissionReport {
  const records: ChannelRecord[] = tests.map((test, index) => ({
    v: 1,
    seq: index + 1,
    kind: 'case',
    file: test.file,
    name: test.name,
    attempt: 1,
    status: test.name in failures ? 'failed' : 'passed',
    failures: test.name in failures ? [failures[test.name] ?? ''] : [],
    durationMs: 1,
  }));
  return report(
    name,
    gradeRuns(tests, [
      {
        seed: 5,
        outcome: 'ok',
        reason: 'completed in 1.0 s',
        output: 'PASS grader/suites/a.test.ts\n',
        durationMs: 1000,
        peakRssBytes: 0,
        reading: { anomalies: [], records },
      },
    ]),
  );
}

const SCENARIO = 'client B was served only after client A finished: is handleClient awaiting?';

describe('results.json', () => {
  test('is valid Gradescope output: sortable numbers, part tags, Markdown, hidden tests after publishing', () => {
    const results = gradescopeResults(graded, 'after-deadline');
    expect(GradescopeResultsSchema.safeParse(results).success).toBe(true);
    expect(results.score).toBe(2);
    expect(results.execution_time).toBe(1.234);
    expect(results.output_format).toBe('md');
    expect(results.tests).toEqual([
      {
        name: 'a one',
        number: '1.1',
        score: 2,
        max_score: 2,
        status: 'passed',
        output: '',
        output_format: 'md',
        tags: ['9A'],
        visibility: 'visible',
      },
      {
        name: 'b one',
        number: '2.1',
        score: 0,
        max_score: 3,
        status: 'failed',
        output: `\`\`\`text\n${SCENARIO}\n\`\`\``,
        output_format: 'md',
        tags: ['9B'],
        visibility: 'after_published',
      },
    ]);
  });

  test('before the deadline a hidden test shows its name and points, not its message', () => {
    const results = gradescopeResults(graded, 'before-deadline');
    const hidden = results.tests.find((test) => test.name === 'b one');
    expect(hidden).toMatchObject({ score: 0, max_score: 3, status: 'failed' });
    expect(hidden?.output).toBe(`${HIDDEN_UNTIL_DEADLINE}.`);
    expect(JSON.stringify(results)).not.toContain('handleClient awaiting');
    expect(results.output).toContain('Hidden tests show their name and points only');
  });

  test('numbers sort public before hidden, then 9A, 9B, 9A+9B, whatever the rubric order', () => {
    const tests: RubricTest[] = [
      { ...TESTS[1], id: 'h.b', name: 'h b', part: '9B' } as RubricTest,
      ...Array.from({ length: 11 }, (_, i): RubricTest => ({
        id: `p.b${i}`,
        name: `p b${i}`,
        points: 1,
        part: '9B',
        file: 'grader/suites/a.test.ts',
        visibility: 'visible',
      })),
      { ...TESTS[0], id: 'p.ab', name: 'p ab', part: '9A+9B' } as RubricTest,
      { ...TESTS[0], id: 'p.a', name: 'p a', part: '9A' } as RubricTest,
    ];
    const numbers = testNumbers(tests);
    expect(numbers.get('p.a')).toBe('1.1');
    expect(numbers.get('p.b0')).toBe('2.01');
    expect(numbers.get('p.b10')).toBe('2.11');
    expect(numbers.get('p.ab')).toBe('3.1');
    expect(numbers.get('h.b')).toBe('4.1');
    const results = gradescopeResults(ranReport('dora', tests, {}));
    expect(results.tests.map((test) => test.number)).toEqual([...numbers.values()].sort());
    expect(results.tests.find((test) => test.name === 'p ab')?.tags).toEqual(['9A', '9B']);
  });

  test('a message with angle brackets and backticks is fenced, so Markdown shows it as written', () => {
    const message = 'Expected: Buffer<ArrayBufferLike>\nHappened: ```nothing```';
    const results = gradescopeResults(ranReport('erin', TESTS, { 'a one': message }));
    const output = results.tests[0]?.output ?? '';
    expect(output).toBe(`\`\`\`\`text\n${message}\n\`\`\`\``);
  });

  test('a submission that does not compile carries the compiler messages in its output', () => {
    const results = gradescopeResults(broken);
    expect(results.score).toBe(0);
    expect(results.output).toContain("peer.ts:3:7 - error TS2322: Type 'string' is not assignable");
  });

  test('a hidden test that never ran says why before the deadline too: the reason is not its scenario', () => {
    const hidden = gradescopeResults(broken, 'before-deadline').tests.find(
      (test) => test.name === 'b one',
    );
    expect(hidden?.output).toBe('not run: peer.ts does not compile');
  });

  test('the schema refuses inconsistent results', () => {
    const results = gradescopeResults(graded);
    const test = { ...results.tests[0], score: 5 };
    expect(GradescopeResultsSchema.safeParse({ ...results, tests: [test] }).success).toBe(false);
    expect(GradescopeResultsSchema.safeParse({ ...results, score: 99 }).success).toBe(false);
    expect(GradescopeResultsSchema.safeParse({ ...results, extra: 1 }).success).toBe(false);
  });
});

describe('PrairieLearn results.json', () => {
  test('a fraction for score, points per test, and before the deadline no hidden message', () => {
    const results = prairieLearnResults(graded, 'before-deadline');
    expect(PrairieLearnResultsSchema.safeParse(results).success).toBe(true);
    expect(results).toMatchObject({ gradable: true, score: 0.4, message: '2/5 points · ok' });
    expect(results.tests).toEqual([
      {
        name: 'a one',
        description: '1.1 · a.one · 9A',
        points: 2,
        max_points: 2,
        message: '',
        output: '',
      },
      {
        name: 'b one',
        description: '2.1 · b.one · 9B · hidden test',
        points: 0,
        max_points: 3,
        message: `${HIDDEN_UNTIL_DEADLINE}.`,
        output: '',
      },
    ]);
    expect(JSON.stringify(results)).not.toContain('handleClient awaiting');
    expect(prairieLearnResults(graded, 'after-deadline').tests[1]?.message).toBe(SCENARIO);
  });

  test('a score withheld for review is not gradable, and says why', () => {
    const withheld = report(
      'gina',
      gradeWithoutRuns(TESTS, 'needs-review', 'run (seed 5): results channel line 2 is not signed'),
    );
    const results = prairieLearnResults(withheld);
    expect(results).toMatchObject({ gradable: false, score: 0 });
    expect(results.message).toContain('withheld until a person reviews');
  });
});

describe('isolation and review in the results', () => {
  const layers: Layer[] = [
    { id: 'wall-clock', on: true, detail: '--timeout per run' },
    { id: 'mount-namespace', on: false, detail: 'bubblewrap (bwrap) is not installed' },
  ];
  const withheld = {
    ...report(
      'carol',
      gradeWithoutRuns(TESTS, 'needs-review', 'run (seed 5): results channel line 2 is not signed'),
    ),
    layers,
  };

  test('results.json names every layer in extra_data, and none in what the student sees', () => {
    const results = gradescopeResults(withheld, 'after-deadline');
    expect(GradescopeResultsSchema.safeParse(results).success).toBe(true);
    expect(results.extra_data).toEqual({
      isolation: [
        { layer: 'wall-clock', on: true, detail: '--timeout per run' },
        { layer: 'mount-namespace', on: false, detail: 'bubblewrap (bwrap) is not installed' },
      ],
      withheld_score: 0,
      runs: [],
    });
    expect(results.output).not.toMatch(/isolation|namespace|bubblewrap/);
    expect(results.output).toContain('The score is withheld until a person reviews');
  });

  test('feedback.md says the score is withheld and never names the isolation layers', () => {
    for (const mode of ['before-deadline', 'after-deadline'] as const) {
      const text = renderFeedback(withheld, 'Lab 9', mode);
      expect(text).toContain(
        '**Score: withheld until review** (the verified results alone give 0 / 5)',
      );
      expect(text).toContain('- … withheld · **0/2** · a one');
      expect(text).not.toMatch(/isolation|namespace|bubblewrap/);
    }
  });

  test('run.log keeps what the student does not see: the layers, the reasons, then Jest', () => {
    const log = instructorLog({ ...withheld, log: 'Jest output\n' });
    expect(log).toContain('carol (/subs/carol): 0/5 · needs-review · withheld');
    expect(log).toContain('reason: run (seed 5): results channel line 2 is not signed');
    expect(log).toMatch(/OFF +mount namespace +bubblewrap \(bwrap\) is not installed/);
    expect(log.endsWith('Jest output\n')).toBe(true);
  });
});

describe('feedback.md', () => {
  test('after the deadline: every test with its points and the teaching message of a failure', () => {
    const text = renderFeedback(graded, 'Lab 9', 'after-deadline');
    expect(text).toContain('# Lab 9 — alice');
    expect(text).toContain('**Score: 2 / 5**');
    expect(text).toContain('- Feedback: after the deadline');
    expect(text).toContain('- ✓ passed · **2/2** · a one (`a.one`, 9A)');
    expect(text).toContain('- ✗ failed · **0/3** · b one (`b.one`, 9B · hidden test) → failure 1');
    expect(text).toContain(`## Failure 1: b one\n\n\`\`\`text\n${SCENARIO}`);
  });

  test('before the deadline: a hidden test by name and points only, no scenario, no cause', () => {
    const text = renderFeedback(graded, 'Lab 9', 'before-deadline');
    expect(text).toContain(
      `- ✗ failed · **0/3** · b one (\`b.one\`, 9B · ${HIDDEN_UNTIL_DEADLINE})`,
    );
    expect(text).not.toContain('handleClient awaiting');
    expect(text).not.toContain('## Failure');
  });

  test('one failure shared by several tests is one section naming them, in either mode', () => {
    const tests: RubricTest[] = ['one', 'two', 'three'].map((n) => ({
      ...(TESTS[0] as RubricTest),
      id: `a.${n}`,
      name: `a ${n}`,
    }));
    const noLoad =
      'The Peer under test could not be loaded.\nLikely cause: process.exit at the top';
    const text = renderFeedback(
      ranReport('frank', [...tests, TESTS[1] as RubricTest], {
        'a one': noLoad,
        'a two': noLoad,
        'a three': noLoad,
        'b one': noLoad,
      }),
      'Lab 9',
      'before-deadline',
    );
    expect(text.split('could not be loaded').length - 1).toBe(1);
    expect(text).toContain('## Failure 1, the same in 3 tests');
    expect(text).toContain('Applies to: `a.one`, `a.two`, `a.three`');
    expect(text).toContain('(`a.two`, 9A) → failure 1');
    const after = renderFeedback(
      ranReport('frank', [...tests, TESTS[1] as RubricTest], {
        'a one': noLoad,
        'a two': noLoad,
        'a three': noLoad,
        'b one': noLoad,
      }),
      'Lab 9',
      'after-deadline',
    );
    expect(after.split('could not be loaded').length - 1).toBe(1);
    expect(after).toContain('Applies to: `a.one`, `a.two`, `a.three`, `b.one`');
  });

  test('shows compiler messages, and the tests as not run, when peer.ts does not compile', () => {
    const text = renderFeedback(broken, 'Lab 9');
    expect(text).toContain('compile error: peer.ts does not compile, so no test ran');
    expect(text).toContain('## Compiler messages\n\n```text\npeer.ts:3:7 - error TS2322');
    expect(text).toContain('- – not run · **0/2** · a one');
  });
});

describe('the table', () => {
  test('names the failed tests, or why none ran', () => {
    const table = renderTable([graded, broken]);
    expect(table).toMatch(/^alice +2 +5 +ok +b\.one$/m);
    expect(table).toMatch(/^bob +0 +5 +compile-error +none ran: peer\.ts does not compile/m);
  });
});
