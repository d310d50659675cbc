/**
 * The canary's records (grader/runner/canary.ts): every test file that ran must report its
 * canary test failed and must not report the assertion library passing what must fail;
 * anything else is an anomaly. The canary's own results never reach the scores.
 */
import { CANARY_TAMPERED, CANARY_TEST, checkCanaries } from '../runner/canary';
import type { ChannelRecord } from '../runner/channel';

const FILE = 'grader/suites/a.test.ts';

function file(
  tests: [string, 'passed' | 'failed'][],
  error: string | null = null,
  name = FILE,
): ChannelRecord {
  return {
    v: 1,
    seq: 0,
    kind: 'file',
    file: name,
    error,
    tests: tests.map(([test, status]) => ({ name: test, status, failures: [] })),
  };
}

function testCase(name: string, status: 'passed' | 'failed'): ChannelRecord {
  return {
    v: 1,
    seq: 0,
    kind: 'case',
    file: FILE,
    name,
    attempt: 1,
    status,
    failures: [],
    durationMs: 1,
  };
}

describe('checkCanaries', () => {
  test('an honest file: the canary failed; its results are taken out, nothing to report', () => {
    const check = checkCanaries([
      testCase(CANARY_TEST, 'failed'),
      testCase('a one', 'passed'),
      file([
        [CANARY_TEST, 'failed'],
        ['a one', 'passed'],
      ]),
    ]);
    expect(check.anomalies).toEqual([]);
    expect(check.records).toEqual([testCase('a one', 'passed'), file([['a one', 'passed']])]);
  });

  test('a canary that passed, or is missing from a file whose tests ran, is an anomaly', () => {
    expect(
      checkCanaries([testCase(CANARY_TEST, 'passed'), file([[CANARY_TEST, 'passed']])]).anomalies,
    ).toEqual([`the canary test of ${FILE} passed: it must fail`]);
    expect(checkCanaries([file([['a one', 'passed']])]).anomalies).toEqual([
      `the canary test of ${FILE} is missing from its results`,
    ]);
  });

  test('the after-file check failing is an anomaly; a file that did not load has no canary', () => {
    expect(
      checkCanaries([file([[CANARY_TEST, 'failed']], `Error: ${CANARY_TAMPERED}\n    at x`)])
        .anomalies,
    ).toEqual([`in ${FILE} the assertion library passed what must fail`]);
    expect(checkCanaries([file([], 'SyntaxError: peer.ts: Unexpected token')]).anomalies).toEqual(
      [],
    );
  });
});
