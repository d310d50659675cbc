/**
 * What grading writes (grader/runner/results.ts, feedback.ts, report.ts, grader/cli/table.ts):
 * results.json valid against the Gradescope schema with the documented visibility mapping,
 * feedback.md with teaching messages or compiler messages, grades.csv with one column per id.
 */
import { renderTable } from '../cli/table';
import type { RubricTest } from '../rubric';
import { renderFeedback } from '../runner/feedback';
import type { SubmissionReport } from '../runner/grade-submission';
import type { Layer } from '../runner/isolation';
import { gradesCsv } from '../runner/report';
import { GradescopeResultsSchema, gradescopeResults } from '../runner/results';
import { gradeRuns, gradeWithoutRuns } from '../runner/score';

const TESTS: RubricTest[] = [
  {
    id: 'a.one',
    name: 'a one',
    points: 2,
    part: '9A',
    file: 'grader/suites/a.test.ts',
    visibility: 'visible',
  },
  {
    id: 'b.one',
    name: 'b one',
    points: 3,
    part: '9B',
    file: 'grader/suites/b.test.ts',
    visibility: 'hidden',
  },
];

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

describe('results.json', () => {
  test('is valid Gradescope output: ids as numbers, hidden tests shown after publishing', () => {
    const results = gradescopeResults(graded);
    expect(GradescopeResultsSchema.safeParse(results).success).toBe(true);
    expect(results.score).toBe(2);
    expect(results.execution_time).toBe(1.234);
    expect(results.tests).toEqual([
      {
        name: 'a one',
        number: 'a.one',
        score: 2,
        max_score: 2,
        status: 'passed',
        output: '',
        visibility: 'visible',
      },
      {
        name: 'b one',
        number: 'b.one',
        score: 0,
        max_score: 3,
        status: 'failed',
        output: 'client B was served only after client A finished: is handleClient awaiting?',
        visibility: 'after_published',
      },
    ]);
  });

  test('a submission that does not compile carries the compiler messages in its output', () => {
    const results = gradescopeResults(broken);
    expect(results.score).toBe(0);
    expect(results.output).toContain("peer.ts:3:7 - error TS2322: Type 'string' is not assignable");
  });

  test('the schema refuses inconsistent results', () => {
    const results = gradescopeResults(graded);
    const test = { ...results.tests[0], score: 5 };
    expect(GradescopeResultsSchema.safeParse({ ...results, tests: [test] }).success).toBe(false);
    expect(GradescopeResultsSchema.safeParse({ ...results, score: 99 }).success).toBe(false);
    expect(GradescopeResultsSchema.safeParse({ ...results, extra: 1 }).success).toBe(false);
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

  test('results.json names every layer in extra_data and the missing ones in its output', () => {
    const results = gradescopeResults(withheld);
    expect(GradescopeResultsSchema.safeParse(results).success).toBe(true);
    expect(results.extra_data).toEqual({
      isolation: [
        { layer: 'wall-clock', on: true, detail: '--timeout per run' },
        { layer: 'mount-namespace', on: false, detail: 'bubblewrap (bwrap) is not installed' },
      ],
      withheld_score: 0,
      runs: [],
    });
    expect(results.output).toContain(
      'Graded without these isolation layers (not available on the grading machine): mount namespace.',
    );
    expect(results.output).toContain('The score is withheld until a person reviews');
  });

  test('feedback.md says the score is withheld and how the runs were isolated', () => {
    const text = renderFeedback(withheld, 'Lab 9');
    expect(text).toContain(
      '**Score: withheld until review** (the verified results alone give 0 / 5)',
    );
    expect(text).toContain('- … withheld · **0/2** · a one');
    expect(text).toContain('- **off** · mount namespace: bubblewrap (bwrap) is not installed');
    expect(text).toContain('- on · wall-clock limit: --timeout per run');
  });
});

describe('feedback.md', () => {
  test('lists every test with its points and the teaching message of a failure', () => {
    const text = renderFeedback(graded, 'Lab 9');
    expect(text).toContain('# Lab 9 — alice');
    expect(text).toContain('**Score: 2 / 5**');
    expect(text).toContain('- ✓ passed · **2/2** · a one (`a.one`, 9A)');
    expect(text).toContain('- ✗ failed · **0/3** · b one (`b.one`, 9B · hidden test)');
    expect(text).toContain('```text\nclient B was served only after client A finished');
  });

  test('shows compiler messages, and the tests as not run, when peer.ts does not compile', () => {
    const text = renderFeedback(broken, 'Lab 9');
    expect(text).toContain('compile error: peer.ts does not compile, so no test ran');
    expect(text).toContain('## Compiler messages\n\n```text\npeer.ts:3:7 - error TS2322');
    expect(text).toContain('- – not run · **0/2** · a one');
  });
});

describe('grades.csv and the table', () => {
  test('one row per submission, one column of points per rubric id', () => {
    // No field here needs quoting, so splitting is parsing.
    const rows = gradesCsv([graded, broken], TESTS)
      .trimEnd()
      .split('\n')
      .map((line) => line.split(','));
    expect(rows).toEqual([
      ['submission', 'score', 'max', 'status', 'a.one', 'b.one'],
      ['alice', '2', '5', 'ok', '2', '0'],
      ['bob', '0', '5', 'compile-error', '0', '0'],
    ]);
  });

  test('the table names the failed tests, or why none ran', () => {
    const table = renderTable([graded, broken]);
    expect(table).toMatch(/^alice +2 +5 +ok +b\.one$/m);
    expect(table).toMatch(/^bob +0 +5 +compile-error +none ran: peer\.ts does not compile/m);
  });
});
