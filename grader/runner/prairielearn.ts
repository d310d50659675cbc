/**
 * results.json in PrairieLearn's external-grading format (/grade/results/results.json), with the
 * zod schema every file is checked against before it is written: `score` a fraction from 0 to 1,
 * one entry per rubric test with `points` and `max_points`. PrairieLearn shows every test to the
 * student and has no per-test visibility, so the feedback mode (feedback.ts) decides alone what
 * a hidden test shows: before the deadline its name and points only. A score withheld for review
 * is `gradable: false` (no score recorded, no attempt used) with a message saying so.
 * Above: grade.ts's --prairielearn; below: score.ts's Grade, feedback.ts's failure groups.
 */
import { z } from 'zod';
import {
  DEFAULT_FEEDBACK_MODE,
  failureGroups,
  type FeedbackMode,
  HIDDEN_UNTIL_DEADLINE,
  messageShown,
} from './feedback';
import type { SubmissionReport } from './grade-submission';
import { summaryText, testNumbers } from './results';

/** PrairieLearn refuses results past 1 MB; a failure message is a screenful. */
const MAX_TEST_MESSAGE_CHARS = 8 * 1024;

export const PrairieLearnTestSchema = z
  .strictObject({
    name: z.string().min(1),
    description: z.string(),
    points: z.number().nonnegative(),
    max_points: z.number().positive(),
    message: z.string(),
    output: z.string(),
  })
  .refine((test) => test.points <= test.max_points, { message: 'points exceed max_points' });

export const PrairieLearnResultsSchema = z
  .strictObject({
    gradable: z.boolean(),
    score: z.number().min(0).max(1),
    message: z.string(),
    output: z.string(),
    tests: z.array(PrairieLearnTestSchema),
  })
  .refine(
    (results) => {
      const max = results.tests.reduce((sum, test) => sum + test.max_points, 0);
      const points = results.tests.reduce((sum, test) => sum + test.points, 0);
      return !results.gradable || max === 0 || Math.abs(results.score - points / max) < 1e-9;
    },
    { message: 'score must be the tests’ points over their max_points' },
  );

export type PrairieLearnResults = z.infer<typeof PrairieLearnResultsSchema>;

function capped(text: string): string {
  return text.length > MAX_TEST_MESSAGE_CHARS
    ? `${text.slice(0, MAX_TEST_MESSAGE_CHARS)}\n… [cut at ${MAX_TEST_MESSAGE_CHARS} characters]`
    : text;
}

export function prairieLearnResults(
  report: SubmissionReport,
  mode: FeedbackMode = DEFAULT_FEEDBACK_MODE,
): PrairieLearnResults {
  const { grade } = report;
  const numbers = testNumbers(grade.tests.map((test) => test.test));
  const messages = new Map<string, string>();
  for (const group of failureGroups(grade.tests, mode)) {
    const [first, ...rest] = group.tests;
    if (first === undefined) continue;
    messages.set(first.test.id, capped(group.message));
    for (const test of rest) {
      messages.set(
        test.test.id,
        `The same failure as test ${numbers.get(first.test.id) ?? ''} (${first.test.name}): its message is shown there.`,
      );
    }
  }
  const tests = grade.tests
    .map((test) => ({
      number: numbers.get(test.test.id) ?? '',
      name: test.test.name,
      description: `${numbers.get(test.test.id) ?? ''} · ${test.test.id} · ${test.test.part}${test.test.visibility === 'hidden' ? ' · hidden test' : ''}`,
      points: test.score,
      max_points: test.test.points,
      message: test.passed
        ? ''
        : (messages.get(test.test.id) ??
          (messageShown(test, mode) ? test.message : `${HIDDEN_UNTIL_DEADLINE}.`)),
      output: '',
    }))
    .sort((a, b) => a.number.localeCompare(b.number, 'en', { numeric: true }))
    .map(({ number: _number, ...test }) => test);
  const review = grade.status === 'needs-review';
  return PrairieLearnResultsSchema.parse({
    gradable: !review,
    score: review || grade.max === 0 ? 0 : grade.score / grade.max,
    message: review
      ? 'The score is withheld until a person reviews this submission; the course staff will be in touch.'
      : `${grade.score}/${grade.max} points · ${grade.status}`,
    output: summaryText(report, mode, 'text'),
    tests,
  });
}
