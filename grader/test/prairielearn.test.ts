/**
 * PrairieLearn external grading (scripts/prairielearn/): grade.sh run as PrairieLearn runs it,
 * on a simulated /grade (GRADE_ROOT) with this repository as the image's /lab9 (LAB9_KIT): a
 * submission that does not compile (score 0, each test saying why) and a kit whose grader cannot
 * start (not gradable, saying so). Every results.json passes the writer's schema. The Dockerfile
 * is checked, not built (no Docker engine here): it copies only what grading needs, never
 * solution/, and every path it copies exists.
 */
import {
  cpSync,
  existsSync,
  mkdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { loadRubric, rubricTests } from '../rubric';
import { PrairieLearnResultsSchema } from '../runner/prairielearn';
import { type PlatformRun, REPO, runPlatformScript, tempDir } from './cli-fixtures';

const GRADE_SH = join(REPO, 'scripts', 'prairielearn', 'grade.sh');
/** A type check and a start of the grader on a busy machine. */
const GRADING_MS = 180_000;

/** Runs grade.sh as PrairieLearn does, on `root` as /grade and with `kit` as the image's /lab9. */
function runGradeSh<T>(root: string, kit: string, schema: z.ZodType<T>): Promise<PlatformRun<T>> {
  return runPlatformScript(GRADE_SH, { root, env: { GRADE_ROOT: root, LAB9_KIT: kit } }, schema);
}

let tmp: { path: string; remove: () => void };
beforeEach(() => {
  tmp = tempDir('prairielearn');
});
afterEach(() => tmp.remove());

describe('PrairieLearn external grading', () => {
  test(
    'grade.sh: a peer.ts that does not compile scores 0 of every test, each saying why',
    async () => {
      const root = join(tmp.path, 'grade');
      mkdirSync(join(root, 'student'), { recursive: true });
      writeFileSync(join(root, 'student', 'peer.ts'), "export const x: number = 'one';\n");
      const { code, log, results } = await runGradeSh(root, REPO, PrairieLearnResultsSchema);
      expect(code).toBe(0);
      expect(results).toMatchObject({ gradable: true, score: 0 });
      expect(results.message).toMatch(/^0\/\d+ points · compile-error$/);
      expect(results.output).toContain(
        "peer.ts:1:14 - error TS2322: Type 'string' is not assignable to type 'number'.",
      );
      const rubric = rubricTests(loadRubric(REPO));
      expect(results.tests.map((test) => test.name).sort()).toEqual(
        rubric.map((test) => test.name).sort(),
      );
      for (const test of results.tests) expect(test.message).toContain('not run');
      expect(log).toContain('Isolation layers:');
    },
    GRADING_MS,
  );

  test(
    'grade.sh: a grader that cannot start still writes a results.json, not gradable, that says so',
    async () => {
      const kit = join(tmp.path, 'kit');
      for (const part of ['grader', 'lab9/src', 'package.json', 'tsconfig.json']) {
        cpSync(join(REPO, part), join(kit, part), { recursive: true });
      }
      rmSync(join(kit, 'grader', 'rubric.json'));
      symlinkSync(join(REPO, 'node_modules'), join(kit, 'node_modules'), 'dir');
      const root = join(tmp.path, 'grade');
      mkdirSync(join(root, 'student'), { recursive: true });
      writeFileSync(join(root, 'student', 'peer.ts'), 'export {};\n');
      const notGradable = z.strictObject({
        gradable: z.literal(false),
        score: z.literal(0),
        message: z.string(),
        output: z.string(),
        tests: z.array(z.never()).length(0),
      });
      const { code, results } = await runGradeSh(root, kit, notGradable);
      expect(code).toBe(0);
      expect(results.message).toContain('The autograder failed (exit code 2)');
    },
    GRADING_MS,
  );

  test('the Dockerfile copies only what grading needs, never solution/, and all of it exists', () => {
    const dockerfile = readFileSync(join(REPO, 'scripts', 'prairielearn', 'Dockerfile'), 'utf8');
    const copied = [...dockerfile.matchAll(/^COPY (.+) \S+$/gm)].flatMap((match) =>
      (match[1] ?? '').split(/\s+/),
    );
    expect(copied).toEqual([
      'package.json',
      'package-lock.json',
      'tsconfig.json',
      'lab9/src',
      'grader',
      'scripts/prairielearn/grade.sh',
    ]);
    for (const path of copied) expect(existsSync(join(REPO, path))).toBe(true);
    expect(dockerfile).toMatch(/^FROM node:24-/m);
    const instructions = dockerfile
      .split('\n')
      .filter((line) => !line.startsWith('#'))
      .join('\n');
    expect(instructions).not.toMatch(/solution|fixtures|COPY \. /);
  });
});
