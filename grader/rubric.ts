/**
 * The rubric: every graded test, its points and who may see it. The grading parent computes
 * scores from this list alone (a test with no result scores 0); `npm run export:student`
 * copies only suites marked visible. Data lives in rubric.json; this file validates it.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';

const Visibility = z.enum(['visible', 'hidden']);

export const RubricSchema = z
  .object({
    lab: z.string(),
    suites: z
      .array(
        z.object({
          /** Suite file, relative to the repository root, e.g. grader/suites/routing.test.ts. */
          file: z.string().regex(/^grader\/suites\/[\w-]+\.test\.ts$/),
          /** visible: shipped in the student kit as a self-check; hidden: grader only. */
          visibility: Visibility,
          tests: z
            .array(
              z.object({
                /** Stable ID, used in grades.csv and results.json `number`. */
                id: z.string().regex(/^[a-z0-9]+(\.[a-z0-9-]+)+$/),
                /** The Jest full name: describe titles and test title joined by one space. */
                name: z.string().min(1),
                points: z.number().positive(),
                /** Which TODO the test exercises. */
                part: z.enum(['9A', '9B', '9A+9B']),
              }),
            )
            .min(1),
        }),
      )
      .min(1),
  })
  .superRefine((rubric, ctx) => {
    const ids = new Set<string>();
    const names = new Set<string>();
    for (const suite of rubric.suites) {
      for (const test of suite.tests) {
        if (ids.has(test.id)) ctx.addIssue({ code: 'custom', message: `duplicate id ${test.id}` });
        if (names.has(test.name)) {
          ctx.addIssue({ code: 'custom', message: `duplicate name ${test.name}` });
        }
        ids.add(test.id);
        names.add(test.name);
      }
    }
  });

export type Rubric = z.infer<typeof RubricSchema>;
export type RubricSuite = Rubric['suites'][number];
export type RubricTest = RubricSuite['tests'][number] & {
  readonly file: string;
  readonly visibility: RubricSuite['visibility'];
};

/** The rubric of this repository (or of a sandbox copy of it), validated. */
export function loadRubric(root = join(__dirname, '..')): Rubric {
  const raw: unknown = JSON.parse(readFileSync(join(root, 'grader', 'rubric.json'), 'utf8'));
  return RubricSchema.parse(raw);
}

/** Every test of the rubric, flattened, in rubric order. */
export function rubricTests(rubric: Rubric): RubricTest[] {
  return rubric.suites.flatMap((suite) =>
    suite.tests.map((test) => ({ ...test, file: suite.file, visibility: suite.visibility })),
  );
}

export function maxScore(rubric: Rubric): number {
  return rubricTests(rubric).reduce((sum, test) => sum + test.points, 0);
}
