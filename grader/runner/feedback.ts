/**
 * What the student sees of one grading, in feedback.md and (results.ts) results.json, by the
 * feedback mode. before-deadline (the default: nothing of the hidden suites leaks): public tests
 * in full; hidden tests by name and points only, without scenario, failure message or likely
 * cause. after-deadline: every test's message. Never the grading machine's details (isolation
 * layers, uids, cgroups): those go to run.log and results.json's extra_data, for instructors.
 * A failure shared word for word by several tests (a peer.ts that never loads) is one section
 * naming the tests it applies to, not one copy per test. report.ts writes the files.
 */
import { markdownFence, markdownInline } from '../harness/untrusted-text';
import type { SubmissionReport } from './grade-submission';
import type { SubmissionStatus, TestGrade } from './score';

/** Lines of one failure message shown; the rest is in run.log. */
const MAX_MESSAGE_LINES = 60;

export const FEEDBACK_MODES = ['before-deadline', 'after-deadline'] as const;
export type FeedbackMode = (typeof FEEDBACK_MODES)[number];
/** Safe to forget: what the hidden suites test stays unknown until the instructor says so. */
export const DEFAULT_FEEDBACK_MODE: FeedbackMode = 'before-deadline';

/** What a hidden test shows before the deadline in place of its message. */
export const HIDDEN_UNTIL_DEADLINE =
  'hidden test: its scenario and failure message are shown after the deadline';

const STATUS_TEXT: Record<SubmissionStatus, string> = {
  ok: 'ok: the suites ran to the end',
  'compile-error': 'compile error: peer.ts does not compile, so no test ran',
  invalid: 'not graded: no gradable peer.ts in the submission',
  timeout: 'timeout: the run was stopped at the time limit; tests that had not finished score 0',
  'memory-limit': 'memory limit: the run was stopped for using too much memory',
  'output-limit': 'output limit: the run was stopped for printing too much',
  crashed: 'crashed: the test run ended before it completed',
  'needs-review':
    'needs review: some results could not be trusted; the score is withheld until a person checks them',
};

const MODE_TEXT: Record<FeedbackMode, string> = {
  'before-deadline':
    'before the deadline: public tests in full; hidden tests by name and points only',
  'after-deadline': 'after the deadline: every test with its failure message',
};

/** A suite file that failed to load makes every test of it fail with its error, prefixed so. */
const FILE_FAILED = /^grader\/suites\/[\w-]+\.test\.ts failed to run, so this test did not run:\n/;

/**
 * The student may see this test's failure message in this mode. A test that never ran (no
 * peer.ts, a compile error) says only why, which is the submission's, not the test's scenario.
 */
export function messageShown(grade: TestGrade, mode: FeedbackMode): boolean {
  return (
    mode === 'after-deadline' || grade.test.visibility === 'visible' || grade.runs.length === 0
  );
}

/**
 * Untrusted text as a Markdown block: escaped, capped and fenced longer than any backtick run
 * inside, so a message cannot close its block (untrusted-text.ts).
 */
export function fenced(
  text: string,
  maxChars = 16 * 1024,
  maxLines = MAX_MESSAGE_LINES + 1,
): string {
  return markdownFence(text, maxChars, maxLines);
}

export function shortened(message: string): string {
  const lines = message.split('\n');
  if (lines.length <= MAX_MESSAGE_LINES) return message;
  return [
    ...lines.slice(0, MAX_MESSAGE_LINES),
    `… (${lines.length - MAX_MESSAGE_LINES} more lines)`,
  ].join('\n');
}

export interface FailureGroup {
  /** The message, without a per-file prefix when the cause was a suite file failing to load. */
  readonly message: string;
  readonly tests: readonly TestGrade[];
  /** The tests did not run because their suite files failed to load. */
  readonly fileFailed: boolean;
}

/**
 * The failures the student may see, each distinct message once with the tests it applies to,
 * in the order of their first test. Tests that never ran (no peer.ts, compile error) have one
 * reason for all, given with the outcome, and are not listed here.
 */
export function failureGroups(
  tests: readonly TestGrade[],
  mode: FeedbackMode,
): readonly FailureGroup[] {
  const groups = new Map<string, { tests: TestGrade[]; fileFailed: boolean }>();
  for (const test of tests) {
    if (test.passed || test.runs.length === 0 || !messageShown(test, mode)) continue;
    const fileFailed = FILE_FAILED.test(test.message);
    const message = test.message.replace(FILE_FAILED, '');
    const group = groups.get(message) ?? { tests: [], fileFailed };
    group.tests.push(test);
    groups.set(message, group);
  }
  return [...groups].map(([message, group]) => ({ message, ...group }));
}

function mark(grade: TestGrade): string {
  if (grade.withheld) return '… withheld';
  if (grade.passed) return '✓ passed';
  return grade.runs.length === 0 ? '– not run' : '✗ failed';
}

function testLine(grade: TestGrade, mode: FeedbackMode, failure: number | undefined): string {
  const hidden =
    grade.test.visibility !== 'hidden'
      ? ''
      : messageShown(grade, mode) || grade.passed || grade.runs.length === 0
        ? ' · hidden test'
        : ` · ${HIDDEN_UNTIL_DEADLINE}`;
  const see = failure === undefined ? '' : ` → failure ${failure}`;
  return `- ${mark(grade)} · **${grade.score}/${grade.test.points}** · ${grade.test.name} (\`${grade.test.id}\`, ${grade.test.part}${hidden})${see}`;
}

export function renderFeedback(
  report: SubmissionReport,
  lab: string,
  mode: FeedbackMode = DEFAULT_FEEDBACK_MODE,
): string {
  const { grade } = report;
  const score =
    grade.withheld === null
      ? `**Score: ${grade.score} / ${grade.max}**`
      : `**Score: withheld until review** (the verified results alone give ${grade.withheld} / ${grade.max})`;
  const out: string[] = [
    `# ${lab} — ${report.submission.name}`,
    '',
    score,
    '',
    `- Outcome: ${STATUS_TEXT[grade.status]}`,
  ];
  if (report.peerPath !== null) {
    const rewritten =
      report.importsRewritten > 0
        ? ` (${report.importsRewritten} import${report.importsRewritten === 1 ? '' : 's'} of \`lab9/src/\` rewritten to sit at lab9/src/peer/peer.ts)`
        : '';
    out.push(`- Graded file: ${markdownInline(report.peerPath)}${rewritten}`);
  }
  for (const [index, run] of grade.runs.entries()) {
    const label = grade.runs.length > 1 ? `Run ${index + 1} of ${grade.runs.length}` : 'Run';
    out.push(`- ${label}, seed ${run.seed}: ${run.outcome}, ${markdownInline(run.reason)}`);
  }
  out.push(`- Feedback: ${MODE_TEXT[mode]}`);
  if (grade.status !== 'ok' && grade.reasons.length > 0) {
    out.push(
      '',
      '## Why the outcome is not "ok"',
      '',
      ...grade.reasons.map((r) => `- ${markdownInline(r)}`),
    );
  }
  if (report.compileErrors.length > 0) {
    out.push('', '## Compiler messages', '', fenced(report.compileErrors.join('\n')));
  }
  const unstable = grade.tests.filter((t) => t.unstable);
  if (unstable.length > 0) {
    out.push(
      '',
      '## Results that changed between runs',
      '',
      'These tests passed in some runs and failed in others (different seeds change how data is',
      'split and in which order things happen): usually a race in the code. A test counts as',
      'passed only if it passed in every run.',
      '',
      ...unstable.map(
        (t) => `- ${t.test.name}: ${t.runs.map((r, i) => `run ${i + 1} ${r.status}`).join(', ')}`,
      ),
    );
  }
  const groups = failureGroups(grade.tests, mode);
  const failureOf = new Map<TestGrade, number>();
  groups.forEach((group, index) => {
    for (const test of group.tests) failureOf.set(test, index + 1);
  });
  const passed = grade.tests.filter((t) => t.passed).length;
  out.push('', `## Tests (${passed} of ${grade.tests.length} passed)`, '');
  for (const test of grade.tests) out.push(testLine(test, mode, failureOf.get(test)));
  groups.forEach((group, index) => {
    const [only] = group.tests;
    const title =
      group.tests.length === 1 && only !== undefined
        ? `## Failure ${index + 1}: ${only.test.name}`
        : `## Failure ${index + 1}, the same in ${group.tests.length} tests`;
    out.push('', title, '');
    if (group.tests.length > 1) {
      out.push(`Applies to: ${group.tests.map((t) => `\`${t.test.id}\``).join(', ')}`, '');
    }
    if (group.fileFailed) {
      out.push(
        group.tests.length > 1
          ? 'Their test files failed to load, so none of these tests ran:'
          : 'Its test file failed to load, so the test did not run:',
        '',
      );
    }
    out.push(fenced(shortened(group.message)));
  });
  return `${out.join('\n').replace(/\n{3,}/g, '\n\n')}\n`;
}
