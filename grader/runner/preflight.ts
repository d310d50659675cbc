/**
 * The preflight: before a batch is graded, the kit's known-good submission (the reference
 * solution/peer.ts) is graded exactly as the students will be, same limits, isolation and
 * first seed. Anything short of full marks is the environment's fault (a Node whose
 * permission model denies sockets, a missing module, a machine too loaded for the bounds), so
 * the batch must not run: every student would get the same wrong zeros. Where solution/ does
 * not exist (the Gradescope package and the student kit never ship it) there is nothing
 * known-good to grade, and the preflight says so loudly instead (docs/instructor-guide.md).
 * Above: grader/cli/grade.ts. Below: grade-submission.ts.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { TIME_FACTOR } from '../../lab9/src/time-factor';
import { gradeSubmission, type GradeSettings, type SubmissionReport } from './grade-submission';
import { LABELS } from './isolation';

/** The known-good submission, relative to the kit: never shipped to students or Gradescope. */
export const KNOWN_GOOD_PEER = join('solution', 'peer.ts');

export type PreflightOutcome =
  | { readonly kind: 'passed'; readonly report: SubmissionReport }
  | { readonly kind: 'failed'; readonly report: SubmissionReport; readonly message: string }
  | { readonly kind: 'skipped'; readonly message: string };

/** Grades the known-good submission with `settings` (one run, the batch's first seed). */
export async function runPreflight(settings: GradeSettings): Promise<PreflightOutcome> {
  const path = join(settings.kitRoot, KNOWN_GOOD_PEER);
  if (!existsSync(path)) {
    return {
      kind: 'skipped',
      message:
        `warning: NO PREFLIGHT: ${KNOWN_GOOD_PEER} is not in this kit, so nothing known to ` +
        'score full marks was graded first. If this environment is broken (an unsupported Node, ' +
        'a missing layer), every submission gets the same wrong score. Check it by grading the ' +
        'reference solution here once as a submission (Gradescope: upload solution/peer.ts as ' +
        'a test submission) and expect full marks (docs/instructor-guide.md, "Preflight").\n',
    };
  }
  const report = await gradeSubmission(
    { name: 'preflight', path, kind: 'file' },
    { ...settings, seeds: settings.seeds.slice(0, 1), onRunFinished: undefined },
  );
  const { grade } = report;
  if (grade.status === 'ok' && grade.score === grade.max) return { kind: 'passed', report };
  return { kind: 'failed', report, message: preflightFailure(report) };
}

/** Why the batch was not graded: the environment, how the run ended, the failing tests. */
export function preflightFailure(report: SubmissionReport): string {
  const { grade } = report;
  const failed = grade.tests.filter((test) => !test.passed);
  const lines = [
    `error: preflight failed: the reference ${KNOWN_GOOD_PEER} scored ${grade.score}/${grade.max} ` +
      `(${grade.status}) in this environment, so no submission was graded and nothing was written.`,
    'The fault is in the environment, not in any student code:',
    `  Node ${process.version} (supported: package.json "engines"; .nvmrc)`,
    `  time factor ${TIME_FACTOR} (LAB9_TIME_FACTOR)`,
    `  isolation layers on: ${layerNames(report, true)}`,
    `  isolation layers off: ${layerNames(report, false)}`,
    ...grade.reasons.map((reason) => `  ${reason}`),
    ...grade.runs.map((run) => `  run with seed ${run.seed}: ${run.outcome}, ${run.reason}`),
    ...report.compileErrors.slice(0, 5).map((message) => `  ${message}`),
  ];
  if (failed.length > 0) {
    lines.push(`Failing tests (${failed.length} of ${grade.tests.length}):`);
    for (const test of failed.slice(0, 8)) {
      const first = test.message.split('\n').find((line) => line.trim() !== '') ?? 'no message';
      lines.push(`  ✗ ${test.test.name}: ${first.trim().slice(0, 200)}`);
    }
    if (failed.length > 8) lines.push(`  … and ${failed.length - 8} more`);
  }
  const log = report.log.trim().split('\n').slice(0, 12);
  if (log.length > 0 && log.some((line) => line.trim() !== '')) {
    lines.push("Start of the run's log:", ...log.map((line) => `  | ${line}`));
  }
  lines.push(
    'Fix the environment (a supported Node, LAB9_TIME_FACTOR on a loaded machine, see the ' +
      'instructor guide\'s "Preflight"), or, for the grader\'s own tests only, --no-preflight.',
  );
  return `${lines.join('\n')}\n`;
}

function layerNames(report: SubmissionReport, on: boolean): string {
  const names = report.layers.filter((layer) => layer.on === on).map((layer) => LABELS[layer.id]);
  return names.length === 0 ? 'none' : names.join(', ');
}
