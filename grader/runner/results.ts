/**
 * results.json in Gradescope's autograder format, with the zod schema every file is checked
 * against before it is written. Visibility mapping: a rubric suite marked `visible` gives its
 * tests Gradescope's "visible" (shown as soon as results come back); `hidden` gives
 * "after_published" (shown once the instructor publishes grades, never before).
 * `extra_data` (stored by Gradescope, not shown) holds the isolation layers the submission was
 * graded in, a withheld score, and where each run ran (tag, uid, cgroup) for audits.
 * Above: report.ts writes it; below: score.ts's Grade.
 */
import { z } from 'zod';
import { quoteBlock, quoteInline } from '../harness/untrusted-text';
import type { RubricTest } from '../rubric';
import type { SubmissionReport } from './grade-submission';
import { LABELS } from './isolation';

/** Per-test output is a failure message, not a log: Gradescope pages get slow past this. */
const MAX_TEST_OUTPUT_CHARS = 8 * 1024;

/** Lines of one test's output; a failure message is a screenful. */
const MAX_TEST_OUTPUT_LINES = 120;

/** Compiler messages quoted in `output`; the rest are in feedback.md's count. */
const MAX_COMPILE_LINES = 40;

export const GRADESCOPE_VISIBILITY = {
  visible: 'visible',
  hidden: 'after_published',
} as const satisfies Record<RubricTest['visibility'], string>;

export const GradescopeTestSchema = z
  .strictObject({
    name: z.string().min(1),
    /** The rubric id, e.g. "routing.pair-key". */
    number: z.string().min(1),
    score: z.number().nonnegative(),
    max_score: z.number().positive(),
    status: z.enum(['passed', 'failed']),
    output: z.string(),
    visibility: z.enum(['visible', 'hidden', 'after_due_date', 'after_published']),
  })
  .refine((test) => test.score <= test.max_score, { message: 'score exceeds max_score' })
  .refine((test) => (test.status === 'passed') === (test.score === test.max_score), {
    message: 'status must be passed exactly when the full score is earned',
  });

export const ExtraDataSchema = z.strictObject({
  isolation: z.array(z.strictObject({ layer: z.string(), on: z.boolean(), detail: z.string() })),
  /** needs-review: what the verified records would score; null otherwise. */
  withheld_score: z.number().nonnegative().nullable(),
  runs: z.array(
    z.strictObject({
      seed: z.number().int(),
      outcome: z.string(),
      tag: z.string().nullable(),
      uid: z.number().int().nullable(),
      cgroup: z.string().nullable(),
    }),
  ),
});

export const GradescopeResultsSchema = z
  .strictObject({
    score: z.number().nonnegative(),
    /** Seconds of grading, all runs included. */
    execution_time: z.number().nonnegative(),
    output: z.string(),
    extra_data: ExtraDataSchema,
    tests: z.array(GradescopeTestSchema),
  })
  .refine(
    (results) =>
      Math.abs(results.score - results.tests.reduce((sum, test) => sum + test.score, 0)) < 1e-9,
    { message: 'score must be the sum of the tests’ scores' },
  );

export type GradescopeResults = z.infer<typeof GradescopeResultsSchema>;

/** A failure message may quote the student's code: escaped and capped (untrusted-text.ts). */
function capped(text: string): string {
  return quoteBlock(text, MAX_TEST_OUTPUT_CHARS, MAX_TEST_OUTPUT_LINES);
}

/** The top-level `output`: how grading went, in a few lines. */
export function summaryText(report: SubmissionReport): string {
  const { grade } = report;
  const lines = [`${report.submission.name}: ${grade.score}/${grade.max} · ${grade.status}`];
  // Paths, reasons and compiler messages can quote the submission: one safe line each.
  if (report.peerPath !== null) lines.push(`Graded file: ${quoteInline(report.peerPath)}`);
  for (const [index, run] of grade.runs.entries()) {
    const label = grade.runs.length > 1 ? `Run ${index + 1}` : 'Run';
    lines.push(`${label} (seed ${run.seed}): ${run.outcome}, ${quoteInline(run.reason)}`);
  }
  if (report.compileErrors.length > 0) {
    const shown = report.compileErrors.slice(0, MAX_COMPILE_LINES).map((m) => quoteInline(m));
    const more = report.compileErrors.length - shown.length;
    lines.push('', 'peer.ts does not compile, so no test ran:', ...shown);
    if (more > 0) lines.push(`(${more} more compiler messages)`);
  }
  if (grade.status === 'needs-review' || grade.status === 'invalid') {
    lines.push('', `${grade.status === 'invalid' ? 'Not graded' : 'Needs review'}:`);
    lines.push(...grade.reasons.map((reason) => `- ${quoteInline(reason)}`));
  }
  if (grade.withheld !== null) {
    lines.push(
      '',
      `The score is withheld until a person reviews this submission (the verified results alone give ${grade.withheld}/${grade.max}).`,
    );
  }
  const off = report.layers.filter((layer) => !layer.on).map((layer) => LABELS[layer.id]);
  lines.push(
    '',
    off.length === 0
      ? 'Graded with every isolation layer on.'
      : `Graded without these isolation layers (not available on the grading machine): ${off.join(', ')}.`,
  );
  const unstable = grade.tests.filter((test) => test.unstable);
  if (unstable.length > 0) {
    lines.push('', 'Results changed between runs (a race in the code?), counted as failed:');
    lines.push(
      ...unstable.map(
        (test) => `- ${test.test.name}: ${test.runs.map((r) => r.status).join(', ')}`,
      ),
    );
  }
  return lines.join('\n');
}

export function gradescopeResults(report: SubmissionReport): GradescopeResults {
  return GradescopeResultsSchema.parse({
    score: report.grade.score,
    execution_time: Math.round(report.durationMs) / 1000,
    output: summaryText(report),
    extra_data: {
      isolation: report.layers.map((layer) => ({
        layer: layer.id,
        on: layer.on,
        detail: layer.detail,
      })),
      withheld_score: report.grade.withheld,
      runs: report.grade.runs.map((run) => ({
        seed: run.seed,
        outcome: run.outcome,
        tag: run.identity?.tag ?? null,
        uid: run.identity?.uid ?? null,
        cgroup: run.identity?.cgroup ?? null,
      })),
    },
    tests: report.grade.tests.map((grade) => ({
      name: grade.test.name,
      number: grade.test.id,
      score: grade.score,
      max_score: grade.test.points,
      status: grade.passed ? 'passed' : 'failed',
      output: grade.passed ? '' : capped(grade.message),
      visibility: GRADESCOPE_VISIBILITY[grade.test.visibility],
    })),
  });
}
