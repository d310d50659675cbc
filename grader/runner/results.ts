/**
 * results.json in Gradescope's autograder format, with the zod schema every file is checked
 * against before it is written. Visibility mapping: a rubric suite marked `visible` gives its
 * tests Gradescope's "visible" (shown as soon as results come back); `hidden` gives
 * "after_published" (shown once the instructor publishes grades, never before). What a failed
 * test's output holds follows the feedback mode (feedback.ts): before the deadline a hidden
 * test shows its name and points only. `number` sorts public before hidden, then 9A, 9B, 9A+9B
 * ("1.1", "1.2", …, "4.1"); `tags` name the part. Outputs are Markdown (`output_format: "md"`),
 * messages in fenced blocks, so `Buffer<ArrayBufferLike>` is shown as written, not taken for a
 * tag. `extra_data` (stored by Gradescope, never shown to students) holds the isolation layers
 * the submission was graded in, a withheld score, and where each run ran (tag, uid, cgroup).
 * Above: report.ts writes it; below: score.ts's Grade.
 */
import { z } from 'zod';
import { markdownInline, quoteBlock, quoteInline } from '../harness/untrusted-text';
import type { RubricTest } from '../rubric';
import {
  DEFAULT_FEEDBACK_MODE,
  failureGroups,
  type FeedbackMode,
  fenced,
  HIDDEN_UNTIL_DEADLINE,
  messageShown,
} from './feedback';
import type { SubmissionReport } from './grade-submission';

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
    /** Sorts public before hidden, then by part: "1.1", "1.2", …; the rubric id is in `name`. */
    number: z.string().regex(/^\d+\.\d+$/),
    score: z.number().nonnegative(),
    max_score: z.number().positive(),
    status: z.enum(['passed', 'failed']),
    output: z.string(),
    output_format: z.literal('md'),
    tags: z.array(z.enum(['9A', '9B'])).min(1),
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
    output_format: z.literal('md'),
    extra_data: ExtraDataSchema,
    tests: z.array(GradescopeTestSchema),
  })
  .refine(
    (results) =>
      Math.abs(results.score - results.tests.reduce((sum, test) => sum + test.score, 0)) < 1e-9,
    { message: 'score must be the sum of the tests’ scores' },
  );

export type GradescopeResults = z.infer<typeof GradescopeResultsSchema>;

/** Rubric parts in the order Gradescope lists them. */
const PART_ORDER: readonly RubricTest['part'][] = ['9A', '9B', '9A+9B'];

/**
 * Each test's `number`: the group ("1" public 9A, "2" public 9B, … hidden after public, empty
 * groups skipped) and its place in the rubric within the group, zero-padded when a group has
 * ten or more tests so that sorting as text and as numbers agree.
 */
export function testNumbers(tests: readonly RubricTest[]): Map<string, string> {
  const groups: RubricTest[][] = [];
  for (const visibility of ['visible', 'hidden'] as const) {
    for (const part of PART_ORDER) {
      const group = tests.filter((test) => test.visibility === visibility && test.part === part);
      if (group.length > 0) groups.push(group);
    }
  }
  const numbers = new Map<string, string>();
  groups.forEach((group, index) => {
    const width = String(group.length).length;
    group.forEach((test, at) => {
      numbers.set(test.id, `${index + 1}.${String(at + 1).padStart(width, '0')}`);
    });
  });
  return numbers;
}

export function testTags(test: RubricTest): ('9A' | '9B')[] {
  return test.part === '9A+9B' ? ['9A', '9B'] : [test.part];
}

/** A line of Markdown that shows `text` as written: no tags, no emphasis. */
function markdownPlain(text: string): string {
  return markdownInline(text, MAX_TEST_OUTPUT_CHARS);
}

/**
 * The top-level `output`: how grading went, in a few lines; Markdown, or plain text for a page
 * that shows it as written (PrairieLearn's).
 */
export function summaryText(
  report: SubmissionReport,
  mode: FeedbackMode = DEFAULT_FEEDBACK_MODE,
  format: 'md' | 'text' = 'md',
): string {
  const { grade } = report;
  const plain = format === 'md' ? markdownPlain : (text: string): string => quoteInline(text);
  const block = format === 'md' ? fenced : (text: string): string => quoteBlock(text);
  const lines = [
    `${format === 'md' ? '**' : ''}${plain(report.submission.name)}: ${grade.score}/${grade.max} · ${grade.status}${format === 'md' ? '**' : ''}`,
    '',
  ];
  if (report.peerPath !== null) lines.push(`- Graded file: ${plain(report.peerPath)}`);
  for (const [index, run] of grade.runs.entries()) {
    const label = grade.runs.length > 1 ? `Run ${index + 1}` : 'Run';
    lines.push(`- ${label} (seed ${run.seed}): ${plain(`${run.outcome}, ${run.reason}`)}`);
  }
  lines.push(
    mode === 'before-deadline'
      ? '- Hidden tests show their name and points only until the deadline.'
      : '- Every test shows its failure message.',
  );
  if (report.compileErrors.length > 0) {
    const shown = report.compileErrors.slice(0, MAX_COMPILE_LINES);
    const more = report.compileErrors.length - shown.length;
    if (more > 0) shown.push(`(${more} more compiler messages)`);
    lines.push('', 'peer.ts does not compile, so no test ran:', '', block(shown.join('\n')));
  }
  if (grade.status === 'needs-review' || grade.status === 'invalid') {
    lines.push('', `${grade.status === 'invalid' ? 'Not graded' : 'Needs review'}:`, '');
    lines.push(...grade.reasons.map((reason) => `- ${plain(reason)}`));
  }
  if (grade.withheld !== null) {
    lines.push(
      '',
      `The score is withheld until a person reviews this submission (the verified results alone give ${grade.withheld}/${grade.max}).`,
    );
  }
  const unstable = grade.tests.filter((test) => test.unstable);
  if (unstable.length > 0) {
    lines.push('', 'Results changed between runs (a race in the code?), counted as failed:', '');
    lines.push(
      ...unstable.map(
        (test) => `- ${plain(test.test.name)}: ${test.runs.map((r) => r.status).join(', ')}`,
      ),
    );
  }
  return lines.join('\n');
}

/** Each failed test's `output`: its message once, a pointer to it from the tests sharing it. */
function testOutputs(
  report: SubmissionReport,
  mode: FeedbackMode,
  numbers: ReadonlyMap<string, string>,
): Map<string, string> {
  const outputs = new Map<string, string>();
  for (const group of failureGroups(report.grade.tests, mode)) {
    const [first, ...rest] = group.tests;
    if (first === undefined) continue;
    outputs.set(first.test.id, fenced(group.message, MAX_TEST_OUTPUT_CHARS, MAX_TEST_OUTPUT_LINES));
    for (const test of rest) {
      outputs.set(
        test.test.id,
        `The same failure as test ${numbers.get(first.test.id) ?? first.test.id} (${markdownPlain(first.test.name)}): its message is shown there.`,
      );
    }
  }
  for (const test of report.grade.tests) {
    if (test.passed || outputs.has(test.test.id)) continue;
    outputs.set(
      test.test.id,
      messageShown(test, mode) ? markdownPlain(test.message) : `${HIDDEN_UNTIL_DEADLINE}.`,
    );
  }
  return outputs;
}

export function gradescopeResults(
  report: SubmissionReport,
  mode: FeedbackMode = DEFAULT_FEEDBACK_MODE,
): GradescopeResults {
  const numbers = testNumbers(report.grade.tests.map((grade) => grade.test));
  const outputs = testOutputs(report, mode, numbers);
  const tests = report.grade.tests
    .map((grade) => ({
      name: grade.test.name,
      number: numbers.get(grade.test.id) ?? '0.0',
      score: grade.score,
      max_score: grade.test.points,
      status: grade.passed ? 'passed' : 'failed',
      output: outputs.get(grade.test.id) ?? '',
      output_format: 'md',
      tags: testTags(grade.test),
      visibility: GRADESCOPE_VISIBILITY[grade.test.visibility],
    }))
    .sort((a, b) => compareNumbers(a.number, b.number));
  return GradescopeResultsSchema.parse({
    score: report.grade.score,
    execution_time: Math.round(report.durationMs) / 1000,
    output: summaryText(report, mode),
    output_format: 'md',
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
    tests,
  });
}

function compareNumbers(a: string, b: string): number {
  const [ga = 0, ta = 0] = a.split('.').map(Number);
  const [gb = 0, tb = 0] = b.split('.').map(Number);
  return ga - gb || ta - tb;
}
