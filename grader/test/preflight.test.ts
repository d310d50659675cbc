/**
 * The preflight (grader/runner/preflight.ts) through `npm run grade`, on stand-in kits whose
 * solution/peer.ts is the reference: a kit where the reference gets full marks grades the
 * batch; one where an environment check fails for every submission stops before grading,
 * names the environment and writes nothing; --no-preflight skips it. (A kit without solution/
 * warns and grades: cli.test.ts.)
 */
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { scaled } from '../../lab9/src/time-factor';
import type { RubricSuite } from '../rubric';
import {
  type GradeRun,
  REPO,
  ROUTING_TEST,
  runGrade,
  standInKitBase,
  tempDir,
  writeRoutingSuite,
} from './cli-fixtures';

let tmp: { path: string; remove: () => void };
beforeAll(() => {
  tmp = tempDir('preflight');
});
afterAll(() => tmp.remove());

function grade(args: readonly string[]): Promise<GradeRun> {
  return runGrade(args, { cwd: tmp.path });
}

const BROKEN_TEST = 'this machine can run the suites';

/**
 * A kit with one real scenario (the reference passes it), solution/peer.ts unless `solution`
 * is false, and with `broken` a second suite that fails whatever the submission: an
 * environment where nothing can pass.
 */
function kit(name: string, options: { solution: boolean; broken: boolean }): string {
  const root = join(tmp.path, name);
  standInKitBase(root);
  if (options.solution) {
    mkdirSync(join(root, 'solution'));
    cpSync(join(REPO, 'solution', 'peer.ts'), join(root, 'solution', 'peer.ts'));
  }
  const suites: RubricSuite[] = [writeRoutingSuite(root, { points: 3, visibility: 'visible' })];
  if (options.broken) {
    writeFileSync(
      join(root, 'grader', 'suites', 'machine.test.ts'),
      `test('${BROKEN_TEST}', () => { throw new Error('ERR_ACCESS_DENIED: sockets are denied here'); });\n`,
    );
    suites.push({
      file: 'grader/suites/machine.test.ts',
      visibility: 'visible',
      tests: [{ id: 'machine.runs', name: BROKEN_TEST, points: 1, part: '9A' }],
    });
  }
  writeFileSync(
    join(root, 'grader', 'rubric.json'),
    JSON.stringify({ lab: 'Lab 9 (stand-in)', suites }),
  );
  return root;
}

/** The score the grading in `out` gave the one submission, from its results.json. */
function scoreIn(out: string): number {
  const results = JSON.parse(readFileSync(join(out, 'solution', 'results.json'), 'utf8')) as {
    score: number;
  };
  return results.score;
}

/** The reference as a student's submission folder. */
const SUBMISSION = join(REPO, 'solution');
const GRADING_MS = scaled(240_000);

describe('npm run grade: the preflight', () => {
  test(
    'stops before grading when the reference does not get full marks, names the environment, writes nothing',
    async () => {
      const out = join(tmp.path, 'broken-out');
      const cli = await grade([
        '--kit',
        kit('broken', { solution: true, broken: true }),
        '--out',
        out,
        '--seed',
        '3',
        SUBMISSION,
      ]);
      expect(cli.code).toBe(4);
      expect(cli.stderr).toContain(
        'error: preflight failed: the reference solution/peer.ts scored 3/4 (ok)',
      );
      expect(cli.stderr).toContain(`Node ${process.version}`);
      expect(cli.stderr).toMatch(/isolation layers on: fresh sandbox per run, /);
      expect(cli.stderr).toContain(`✗ ${BROKEN_TEST}: `);
      expect(cli.stderr).toContain('sockets are denied here');
      expect(cli.stderr).not.toContain(`✗ ${ROUTING_TEST}`);
      expect(cli.stderr).not.toMatch(/^Grading /m);
      expect(existsSync(join(out, 'grades.csv'))).toBe(false);
    },
    GRADING_MS,
  );

  test(
    'grades the batch once the reference got full marks; skips it, warning included, with --no-preflight',
    async () => {
      const [checked, unchecked] = await Promise.all([
        grade([
          '--kit',
          kit('good', { solution: true, broken: false }),
          ...['--out', join(tmp.path, 'good-out'), '--seed', '3', SUBMISSION],
        ]),
        grade([
          '--kit',
          kit('no-solution', { solution: false, broken: false }),
          ...['--out', join(tmp.path, 'skip-out'), '--no-preflight', SUBMISSION],
        ]),
      ]);
      expect(checked.code).toBe(0);
      expect(checked.stderr).toMatch(/^Preflight passed: 3\/3 in \d+\.\d s$/m);
      expect(checked.stderr.indexOf('Preflight passed')).toBeLessThan(
        checked.stderr.indexOf('Grading 1 submission'),
      );
      expect(scoreIn(join(tmp.path, 'good-out'))).toBe(3);
      expect(unchecked.code).toBe(0);
      expect(unchecked.stderr).not.toMatch(/preflight/i);
      expect(scoreIn(join(tmp.path, 'skip-out'))).toBe(3);
    },
    GRADING_MS,
  );
});
