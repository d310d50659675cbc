/**
 * Scores, computed in the parent from the rubric alone: a rubric test earns its points only if
 * a verified record says it passed, in every run (with --repeat, a test that passed in some runs
 * and failed in others scores 0 and is listed as unstable: a race in the student's code).
 * Records that contradict the rubric or each other put the submission up for review.
 * Below: channel.ts (verified records), run-jest.ts (one run). Above: grade-submission.ts.
 */
import { stripVTControlCharacters } from 'node:util';
import { escapeControls } from '../harness/untrusted-text';
import type { RubricTest } from '../rubric';
import type { ChannelRecord, TestStatus } from './channel';
import type { JestRun, RunIdentity, RunOutcome } from './run-jest';

/** What happened to one rubric test in one run. `not-run`: no result, or skipped. */
export type TestRunStatus = 'passed' | 'failed' | 'not-run';

export interface TestRunResult {
  readonly status: TestRunStatus;
  /** The failure message, or why there is no result; empty when passed. */
  readonly message: string;
}

/**
 * How grading of one submission ended, most serious first in SEVERITY. needs-review: records
 * that cannot be trusted (unsigned, duplicated, unknown tests, a canary that passed); the score
 * is withheld (0) until a person has looked, and what the verified records give is kept aside.
 */
export type SubmissionStatus =
  | 'needs-review'
  | 'invalid'
  | 'compile-error'
  | 'memory-limit'
  | 'output-limit'
  | 'timeout'
  | 'crashed'
  | 'ok';

export const SEVERITY: readonly SubmissionStatus[] = [
  'needs-review',
  'invalid',
  'compile-error',
  'memory-limit',
  'output-limit',
  'timeout',
  'crashed',
  'ok',
];

export interface RunResults {
  /** Rubric test name → its result in this run; every rubric test has one. */
  readonly tests: ReadonlyMap<string, TestRunResult>;
  readonly anomalies: readonly string[];
}

const NOT_RUN_STATUSES: ReadonlySet<TestStatus> = new Set([
  'skipped',
  'pending',
  'todo',
  'disabled',
]);

function runStatus(status: TestStatus): TestRunStatus {
  if (status === 'passed') return 'passed';
  return NOT_RUN_STATUSES.has(status) ? 'not-run' : 'failed';
}

/**
 * Trims the parts of a failure message that teach nothing (colours, frames inside Jest) and
 * shows any other control character as an escape: the message may quote the student's code.
 */
export function cleanMessage(message: string): string {
  return escapeControls(
    stripVTControlCharacters(message)
      .split('\n')
      .filter((line) => !/^\s+at .*(node_modules[\\/]|node:internal|\(<anonymous>\)$)/.test(line))
      .join('\n')
      .trimEnd(),
  );
}

/** One run's records, checked against the rubric and each other. */
export function resultsOfRun(
  tests: readonly RubricTest[],
  records: readonly ChannelRecord[],
  outcome: RunOutcome,
  reason: string,
): RunResults {
  const anomalies: string[] = [];
  const byName = new Map(tests.map((test) => [test.name, test]));
  const fromCases = new Map<string, { attempt: number; result: TestRunResult }>();
  const fromFiles = new Map<string, TestRunResult>();
  const fileErrors = new Map<string, string>();
  const filesSeen = new Set<string>();

  const known = (name: string, file: string): boolean => {
    const test = byName.get(name);
    if (test === undefined) {
      anomalies.push(`a result for a test the rubric does not have: "${name}" (${file})`);
      return false;
    }
    if (test.file !== file) {
      anomalies.push(`"${name}" reported from ${file}, but the rubric puts it in ${test.file}`);
      return false;
    }
    return true;
  };

  for (const record of records) {
    if (record.kind === 'case') {
      if (!known(record.name, record.file)) continue;
      const previous = fromCases.get(record.name);
      // A higher attempt is Jest re-running a file whose worker died; the same one is a repeat.
      if (previous !== undefined && previous.attempt >= record.attempt) {
        anomalies.push(`"${record.name}" reported twice in one run`);
        continue;
      }
      const message = record.failures.map(cleanMessage).join('\n\n');
      fromCases.set(record.name, {
        attempt: record.attempt,
        result: {
          status: runStatus(record.status),
          message: notRunMessage(record.status, message),
        },
      });
    } else if (record.kind === 'file') {
      if (filesSeen.has(record.file)) {
        anomalies.push(`test file ${record.file} reported twice in one run`);
        continue;
      }
      filesSeen.add(record.file);
      if (record.error !== null) fileErrors.set(record.file, cleanMessage(record.error));
      const namesInFile = new Set<string>();
      for (const test of record.tests) {
        if (namesInFile.has(test.name)) {
          anomalies.push(`"${test.name}" appears twice in the results of ${record.file}`);
          continue;
        }
        namesInFile.add(test.name);
        if (!known(test.name, record.file)) continue;
        const message = test.failures.map(cleanMessage).join('\n\n');
        fromFiles.set(test.name, {
          status: runStatus(test.status),
          message: notRunMessage(test.status, message),
        });
      }
    }
  }

  const results = new Map<string, TestRunResult>();
  for (const test of tests) {
    // Jest's per-file result is final (hooks included); a per-test record is all a run that
    // was stopped mid-file leaves.
    const result = fromFiles.get(test.name) ?? fromCases.get(test.name)?.result;
    if (result !== undefined) {
      results.set(test.name, result);
      continue;
    }
    const fileError = fileErrors.get(test.file);
    results.set(test.name, {
      status: 'not-run',
      message:
        fileError !== undefined
          ? `${test.file} failed to run, so this test did not run:\n${fileError}`
          : `no result: this test did not finish before the run ended (${outcome}: ${reason})`,
    });
  }
  return { tests: results, anomalies: [...new Set(anomalies)] };
}

function notRunMessage(status: TestStatus, message: string): string {
  return NOT_RUN_STATUSES.has(status) && message === '' ? `the test was ${status}` : message;
}

export interface TestGrade {
  readonly test: RubricTest;
  readonly score: number;
  readonly passed: boolean;
  /** Its result in each run, in run order. */
  readonly runs: readonly TestRunResult[];
  /** Passed in some runs and not in others. */
  readonly unstable: boolean;
  /** The first failing run's message (prefixed with the run when there were several). */
  readonly message: string;
  /** Its points are withheld for review; `passed` and `runs` say what the verified records say. */
  readonly withheld: boolean;
}

export interface RunSummary {
  readonly seed: number;
  readonly outcome: RunOutcome;
  readonly reason: string;
  readonly durationMs: number;
  readonly identity: RunIdentity | null;
}

export interface Grade {
  /** 0 while withheld for review. */
  readonly score: number;
  readonly max: number;
  /** needs-review: the score the verified records alone would give; null otherwise. */
  readonly withheld: number | null;
  readonly status: SubmissionStatus;
  /** Why the status is not ok, one line each (anomalies, runs that did not complete). */
  readonly reasons: readonly string[];
  readonly tests: readonly TestGrade[];
  readonly runs: readonly RunSummary[];
}

/** Grades a submission from its runs (at least one); see the file header for the rules. */
export function gradeRuns(tests: readonly RubricTest[], runs: readonly JestRun[]): Grade {
  const perRun = runs.map((run) =>
    resultsOfRun(tests, run.reading.records, run.outcome, run.reason),
  );
  const several = runs.length > 1;
  const grades = tests.map((test): TestGrade => {
    const results = perRun.map(
      (run): TestRunResult =>
        run.tests.get(test.name) ?? { status: 'not-run', message: 'no result' },
    );
    const passed = results.length > 0 && results.every((r) => r.status === 'passed');
    const firstBad = results.findIndex((r) => r.status !== 'passed');
    const bad = results[firstBad];
    const message =
      bad === undefined
        ? ''
        : several
          ? `run ${firstBad + 1} of ${runs.length} (seed ${runs[firstBad]?.seed}): ${bad.message}`
          : bad.message;
    return {
      test,
      score: passed ? test.points : 0,
      passed,
      runs: results,
      unstable: new Set(results.map((r) => r.status)).size > 1,
      message,
      withheld: false,
    };
  });

  const reasons: string[] = [];
  const anomalies = new Set<string>();
  runs.forEach((run, index) => {
    const label = several ? `run ${index + 1} (seed ${run.seed})` : `run (seed ${run.seed})`;
    for (const anomaly of [...run.reading.anomalies, ...(perRun[index]?.anomalies ?? [])]) {
      anomalies.add(`${label}: ${anomaly}`);
    }
    if (run.outcome !== 'ok') reasons.push(`${label}: ${run.outcome}, ${run.reason}`);
  });
  const outcomes = runs.map((run): SubmissionStatus => run.outcome);
  const status: SubmissionStatus =
    anomalies.size > 0 ? 'needs-review' : worstStatus(outcomes.length > 0 ? outcomes : ['crashed']);
  const verified = grades.reduce((sum, grade) => sum + grade.score, 0);
  const review = status === 'needs-review';
  return {
    score: review ? 0 : verified,
    max: tests.reduce((sum, test) => sum + test.points, 0),
    withheld: review ? verified : null,
    status,
    reasons: [...anomalies, ...reasons],
    tests: review ? grades.map(withheldGrade) : grades,
    runs: runs.map((run) => ({
      seed: run.seed,
      outcome: run.outcome,
      reason: run.reason,
      durationMs: run.durationMs,
      identity: run.identity ?? null,
    })),
  };
}

/** A test's grade while the submission waits for review: no points, and says why. */
function withheldGrade(grade: TestGrade): TestGrade {
  const verified = grade.passed ? 'passed in the verified results' : grade.message;
  return {
    ...grade,
    score: 0,
    passed: false,
    withheld: true,
    message: `points withheld until a person reviews this submission; ${verified}`,
  };
}

/**
 * A grade of 0 on every test, for a submission that never ran: invalid, compile error, or
 * needs-review when the grader itself failed on it.
 */
export function gradeWithoutRuns(
  tests: readonly RubricTest[],
  status: 'invalid' | 'compile-error' | 'needs-review',
  reason: string,
): Grade {
  const message =
    status === 'compile-error' ? 'not run: peer.ts does not compile' : `not run: ${reason}`;
  return {
    score: 0,
    max: tests.reduce((sum, test) => sum + test.points, 0),
    withheld: status === 'needs-review' ? 0 : null,
    status,
    reasons: [reason],
    tests: tests.map((test) => ({
      test,
      score: 0,
      passed: false,
      runs: [],
      unstable: false,
      message,
      withheld: status === 'needs-review',
    })),
    runs: [],
  };
}

export function worstStatus(statuses: readonly SubmissionStatus[]): SubmissionStatus {
  return SEVERITY.find((status) => statuses.includes(status)) ?? 'ok';
}
