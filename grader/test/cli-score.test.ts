/**
 * Scores computed in the parent (grader/runner/score.ts) from the rubric and verified records:
 * a test with no result scores 0 and says why; records that contradict the rubric or repeat
 * themselves make the submission "needs review"; with repeated runs a test must pass them all.
 */
import type { RubricTest } from '../rubric';
import type { ChannelRecord } from '../runner/channel';
import type { JestRun, RunOutcome } from '../runner/run-jest';
import { gradeRuns, resultsOfRun, worstStatus } from '../runner/score';

const FILE_A = 'grader/suites/a.test.ts';
const FILE_B = 'grader/suites/b.test.ts';

const TESTS: RubricTest[] = [
  { id: 'a.one', name: 'a one', points: 2, part: '9A', file: FILE_A, visibility: 'visible' },
  { id: 'a.two', name: 'a two', points: 3, part: '9A', file: FILE_A, visibility: 'visible' },
  { id: 'b.one', name: 'b one', points: 5, part: '9B', file: FILE_B, visibility: 'hidden' },
];

let seq = 0;
function caseRecord(
  name: string,
  status: 'passed' | 'failed',
  file = FILE_A,
  attempt = 1,
): ChannelRecord {
  seq += 1;
  const failures =
    status === 'failed' ? [`${name} failed\n    at x (node_modules/expect/x.js:1:1)`] : [];
  return { v: 1, seq, kind: 'case', file, name, attempt, status, failures, durationMs: 1 };
}

function fileRecord(
  file: string,
  error: string | null,
  tests: [string, 'passed' | 'failed'][] = [],
): ChannelRecord {
  seq += 1;
  return {
    v: 1,
    seq,
    kind: 'file',
    file,
    error,
    tests: tests.map(([name, status]) => ({
      name,
      status,
      failures: status === 'failed' ? ['boom'] : [],
    })),
  };
}

const DONE: ChannelRecord = {
  v: 1,
  seq: 99,
  kind: 'done',
  success: true,
  numTotalTests: 3,
  numPassedTests: 3,
  numFailedTests: 0,
};

function jestRun(
  records: ChannelRecord[],
  outcome: RunOutcome = 'ok',
  seed = 7,
  anomalies: string[] = [],
): JestRun {
  return {
    seed,
    outcome,
    reason: outcome === 'ok' ? 'completed in 1.0 s' : 'stopped after the time limit of 5 s',
    reading: { records, anomalies },
    output: '',
    durationMs: 1000,
    peakRssBytes: 0,
  };
}

describe('resultsOfRun', () => {
  test('a test without a record scores nothing and says the run ended before it', () => {
    const results = resultsOfRun(
      TESTS,
      [caseRecord('a one', 'passed')],
      'timeout',
      'stopped at 5 s',
    );
    expect(results.tests.get('a one')).toEqual({ status: 'passed', message: '' });
    expect(results.tests.get('b one')).toEqual({
      status: 'not-run',
      message: 'no result: this test did not finish before the run ended (timeout: stopped at 5 s)',
    });
    expect(results.anomalies).toEqual([]);
  });

  test("a file that failed to load gives its tests the file's error", () => {
    const results = resultsOfRun(
      TESTS,
      [fileRecord(FILE_B, 'SyntaxError: peer.ts: Unexpected token')],
      'ok',
      '',
    );
    expect(results.tests.get('b one')?.message).toBe(
      `${FILE_B} failed to run, so this test did not run:\nSyntaxError: peer.ts: Unexpected token`,
    );
  });

  test("Jest's per-file result wins over a per-test record; Jest's own stack frames are cut", () => {
    const results = resultsOfRun(
      TESTS,
      [
        caseRecord('a two', 'failed'),
        caseRecord('a one', 'failed'),
        fileRecord(FILE_A, null, [['a one', 'passed']]),
      ],
      'ok',
      '',
    );
    expect(results.tests.get('a one')?.status).toBe('passed');
    expect(results.tests.get('a two')).toEqual({ status: 'failed', message: 'a two failed' });
  });

  test('a later attempt of a retried file replaces the earlier one', () => {
    const results = resultsOfRun(
      TESTS,
      [caseRecord('a one', 'failed', FILE_A, 1), caseRecord('a one', 'passed', FILE_A, 2)],
      'ok',
      '',
    );
    expect(results.tests.get('a one')?.status).toBe('passed');
    expect(results.anomalies).toEqual([]);
  });

  test('unknown names, a test from the wrong file and duplicates are anomalies, never points', () => {
    const results = resultsOfRun(
      TESTS,
      [
        caseRecord('a one', 'passed'),
        caseRecord('a one', 'passed'),
        caseRecord('free points', 'passed'),
        caseRecord('b one', 'passed', FILE_A),
        fileRecord(FILE_B, null),
        fileRecord(FILE_B, null),
      ],
      'ok',
      '',
    );
    expect(results.anomalies).toEqual([
      '"a one" reported twice in one run',
      `a result for a test the rubric does not have: "free points" (${FILE_A})`,
      `"b one" reported from ${FILE_A}, but the rubric puts it in ${FILE_B}`,
      `test file ${FILE_B} reported twice in one run`,
    ]);
    expect(results.tests.get('b one')?.status).toBe('not-run');
  });
});

describe('gradeRuns', () => {
  test('sums the points of passed tests and is ok when the run completed', () => {
    const grade = gradeRuns(TESTS, [
      jestRun([
        caseRecord('a one', 'passed'),
        caseRecord('a two', 'failed'),
        caseRecord('b one', 'passed', FILE_B),
        DONE,
      ]),
    ]);
    expect([grade.score, grade.max, grade.status]).toEqual([7, 10, 'ok']);
    expect(grade.tests.map((t) => t.score)).toEqual([2, 0, 5]);
  });

  test('anomalies, of the channel or of the records, put the submission up for review', () => {
    const unsigned = gradeRuns(TESTS, [
      jestRun([DONE], 'ok', 7, ['results channel line 3 is not signed: "x"']),
    ]);
    expect(unsigned.status).toBe('needs-review');
    expect(unsigned.reasons).toEqual(['run (seed 7): results channel line 3 is not signed: "x"']);
    const unknown = gradeRuns(TESTS, [jestRun([caseRecord('free points', 'passed'), DONE])]);
    expect(unknown.status).toBe('needs-review');
    expect(unknown.score).toBe(0);
  });

  test('needs-review withholds every point, keeping aside what the verified records give', () => {
    const grade = gradeRuns(TESTS, [
      jestRun(
        [caseRecord('a one', 'passed'), caseRecord('b one', 'passed', FILE_B), DONE],
        'ok',
        7,
        ['results channel line 9 is not signed: "x"'],
      ),
    ]);
    expect([grade.status, grade.score, grade.withheld, grade.max]).toEqual([
      'needs-review',
      0,
      7,
      10,
    ]);
    expect(grade.tests.map((t) => [t.score, t.passed, t.withheld])).toEqual([
      [0, false, true],
      [0, false, true],
      [0, false, true],
    ]);
    expect(grade.tests[0]?.message).toBe(
      'points withheld until a person reviews this submission; passed in the verified results',
    );
    const fine = gradeRuns(TESTS, [jestRun([caseRecord('a one', 'passed'), DONE])]);
    expect([fine.score, fine.withheld]).toEqual([2, null]);
  });

  test('with repeated runs a test passes only if it passed every run, and is marked unstable', () => {
    const grade = gradeRuns(TESTS, [
      jestRun([caseRecord('a one', 'passed'), caseRecord('a two', 'passed')], 'ok', 10),
      jestRun([caseRecord('a one', 'passed'), caseRecord('a two', 'failed')], 'ok', 11),
    ]);
    expect(grade.tests.map((t) => [t.test.id, t.score, t.unstable])).toEqual([
      ['a.one', 2, false],
      ['a.two', 0, true],
      ['b.one', 0, false],
    ]);
    expect(grade.tests[1]?.message).toBe('run 2 of 2 (seed 11): a two failed');
  });

  test('the status is the most serious outcome of the runs', () => {
    const grade = gradeRuns(TESTS, [jestRun([DONE], 'ok', 1), jestRun([], 'timeout', 2)]);
    expect(grade.status).toBe('timeout');
    expect(grade.reasons).toEqual(['run 2 (seed 2): timeout, stopped after the time limit of 5 s']);
    expect(worstStatus(['ok', 'crashed', 'memory-limit'])).toBe('memory-limit');
  });
});
