/**
 * `npm run grade` end to end, as a TA runs it: on a small stand-in kit (this repository's
 * lab9/src with a two-file suite and rubric, so it takes seconds), then once on the real grader
 * suites with the reference solution and the template, when grader/rubric.json exists.
 * Everything else about grading is tested piece by piece in the other cli-*.test.ts files.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { main } from '../cli/grade';
import { GradescopeResultsSchema } from '../runner/results';
import {
  type GradeRun,
  makeZip,
  REPO,
  runGrade,
  standInKitBase,
  tempDir,
  writeRoutingSuite,
} from './cli-fixtures';
import { scaled } from '../../lab9/src/time-factor';

const HAS_RUBRIC = existsSync(join(REPO, 'grader', 'rubric.json'));

let tmp: { path: string; remove: () => void };
beforeEach(() => {
  tmp = tempDir('cli');
});
afterEach(() => tmp.remove());

function grade(args: readonly string[]): Promise<GradeRun> {
  return runGrade(args, { cwd: tmp.path });
}

/** A kit with the real lab9/src and harness, and a two-test suite instead of the real ones. */
function standInKit(root: string): void {
  standInKitBase(root);
  const routing = writeRoutingSuite(root, { points: 3, visibility: 'visible' });
  writeFileSync(
    join(root, 'grader', 'suites', 'seed.test.ts'),
    `test('the run gets its seed', () => { expect(process.env.LAB9_SEED).toBe('41'); });\n`,
  );
  writeFileSync(
    join(root, 'grader', 'rubric.json'),
    JSON.stringify({
      lab: 'Lab 9 (stand-in)',
      suites: [
        routing,
        {
          file: 'grader/suites/seed.test.ts',
          visibility: 'hidden',
          tests: [{ id: 'seed.given', name: 'the run gets its seed', points: 1, part: '9A' }],
        },
      ],
    }),
  );
}

describe('npm run grade', () => {
  test('usage errors exit with 2 and say what is wrong; --help exits with 0', async () => {
    const stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const stdout = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      const kit = join(tmp.path, 'kit');
      standInKit(kit);
      expect(await main(['--kit', kit, join(tmp.path, 'missing')])).toBe(2);
      expect(stderr).toHaveBeenCalledWith(
        expect.stringMatching(/^error: no such file or folder: /),
      );
      expect(await main(['--kit', kit, '--jobs', '0', 'x'])).toBe(2);
      expect(await main(['--kit', join(tmp.path, 'nowhere'), 'x'])).toBe(2);
      expect(stderr).toHaveBeenCalledWith(expect.stringMatching(/rubric\.json does not exist/));
      expect(await main(['--help'])).toBe(0);

      // The same grading twice, its roster wrong about the template each time in another way.
      const roster = join(tmp.path, 'roster.csv');
      const gradeWithRoster = [
        ...['--kit', kit, '--out', join(tmp.path, 'o'), '--roster', roster],
        join(REPO, 'lab9'),
      ];
      writeFileSync(roster, 'submission,student_id\nsomeone,s1\n');
      expect(await main(gradeWithRoster)).toBe(2);
      expect(stderr).toHaveBeenCalledWith(
        expect.stringMatching(/^error: 1 submission to grade is not on the roster .*: lab9\./),
      );
      writeFileSync(roster, 'submission,student_id\nlab9,s1\nlab9,s2\n');
      expect(await main(gradeWithRoster)).toBe(2);
      expect(stderr).toHaveBeenCalledWith(expect.stringMatching(/submission lab9 appears 2 times/));
      expect(await main(['--kit', kit, '--feedback', 'never', 'x'])).toBe(2);
    } finally {
      stderr.mockRestore();
      stdout.mockRestore();
    }
  });

  test(
    'grades the solution, the template, a zip and a file that does not compile on a stand-in kit',
    async () => {
      const kit = join(tmp.path, 'kit');
      standInKit(kit);
      const subs = join(tmp.path, 'subs');
      mkdirSync(subs);
      const solution = readFileSync(join(REPO, 'solution', 'peer.ts'), 'utf8');
      writeFileSync(
        join(subs, 'zipped.zip'),
        makeZip([{ path: 'lab9-zed/' }, { path: 'lab9-zed/peer.ts', data: solution }]),
      );
      mkdirSync(join(subs, 'broken'));
      writeFileSync(join(subs, 'broken', 'peer.ts'), "export const x: number = 'one';\n");

      const out = join(tmp.path, 'out');
      // The regrade below writes into the same out/ with the same seed, so it updates these rows.
      const batchOptions = ['--kit', kit, '--out', out, '--seed', '41'];
      const result = await grade([
        ...batchOptions,
        join(REPO, 'solution'),
        join(REPO, 'lab9'),
        subs,
      ]);
      expect(result.stderr).toMatch(/Grading 4 submissions · 1 run each · seed 41/);
      // A kit without solution/ (like a Gradescope package) has nothing known-good to grade first.
      expect(result.stderr).toContain('warning: NO PREFLIGHT: solution/peer.ts is not in this kit');
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(/^solution +4 +4 +ok +–$/m);
      expect(result.stdout).toMatch(/^lab9 +1 +4 +ok +routing\.unknown-swarm$/m);
      expect(result.stdout).toMatch(/^broken +0 +4 +compile-error +none ran/m);
      expect(result.stdout).toMatch(/^zipped +4 +4 +ok +–$/m);

      expect(readFileSync(join(out, 'grades.csv'), 'utf8')).toBe(
        [
          'submission,score,max,status,student_id,email,routing.unknown-swarm,seed.given',
          'solution,4,4,ok,,,3,1',
          'lab9,1,4,ok,,,0,1',
          'broken,0,4,compile-error,,,0,0',
          'zipped,4,4,ok,,,3,1',
          '',
        ].join('\n'),
      );
      expect(result.stdout).toContain('Summary of out/grades.csv: 4 submissions');
      expect(result.stdout).toMatch(/status +ok 3 · compile-error 1/);
      expect(result.stdout).toMatch(/total +mean 2\.3 · median 2\.5 · of 4, over 4 scored/);
      const template = readFileSync(join(out, 'lab9', 'feedback.md'), 'utf8');
      expect(template).toContain('Peer.routePiece (9B)');
      expect(template).toContain('this is your TODO in lab9/src/peer/peer.ts');
      expect(readFileSync(join(out, 'broken', 'feedback.md'), 'utf8')).toContain(
        "peer.ts:1:14 - error TS2322: Type 'string' is not assignable to type 'number'.",
      );
      for (const name of ['solution', 'lab9', 'broken', 'zipped']) {
        const json: unknown = JSON.parse(readFileSync(join(out, name, 'results.json'), 'utf8'));
        expect(GradescopeResultsSchema.safeParse(json).success).toBe(true);
      }

      // The student fixes broken/peer.ts; regrading it alone, with the roster, keeps every row.
      writeFileSync(join(subs, 'broken', 'peer.ts'), solution);
      const roster = join(tmp.path, 'roster.csv');
      writeFileSync(
        roster,
        [
          'submission,student_id,email',
          'solution,s1,s1@uni.example',
          'lab9,s2,s2@uni.example',
          'broken,s3,s3@uni.example',
          'zipped,s4,s4@uni.example',
          'absent,s5,s5@uni.example',
          '',
        ].join('\n'),
      );
      const regrade = await grade([...batchOptions, '--roster', roster, join(subs, 'broken')]);
      expect(regrade.code === 0 ? '' : regrade.stderr).toBe('');
      expect(regrade.stdout).toContain('Wrote out/grades.csv (1 row updated, 0 added, 3 kept)');
      expect(readFileSync(join(out, 'grades.csv'), 'utf8').split('\n').slice(1, 5)).toEqual([
        'solution,4,4,ok,s1,s1@uni.example,3,1',
        'lab9,1,4,ok,s2,s2@uni.example,0,1',
        'broken,4,4,ok,s3,s3@uni.example,3,1',
        'zipped,4,4,ok,s4,s4@uni.example,3,1',
      ]);
      expect(readFileSync(join(out, 'gradebook.csv'), 'utf8')).toBe(
        'student_id,total,status\ns1,4,ok\ns2,1,ok\ns3,4,ok\ns4,4,ok\ns5,,missing\n',
      );
      expect(regrade.stdout).toMatch(/missing +1 on the roster with no submission graded: absent/);
    },
    scaled(240_000),
  );

  (HAS_RUBRIC ? test : test.skip)(
    HAS_RUBRIC
      ? 'the real suites give the reference solution full marks and the template none'
      : 'the real suites (skipped: grader/rubric.json does not exist yet)',
    async () => {
      const out = join(tmp.path, 'out');
      // No preflight: it would grade solution/peer.ts once more, as the first submission does
      // (the preflight itself: preflight.test.ts).
      const result = await grade([
        '--no-preflight',
        '--out',
        out,
        join(REPO, 'solution'),
        join(REPO, 'lab9'),
      ]);
      expect(result.code).toBe(0);
      const rows = readFileSync(join(out, 'grades.csv'), 'utf8')
        .split('\n')
        .map((l) => l.split(','));
      const [, solution, template] = rows;
      expect(solution?.slice(0, 4)).toEqual(['solution', solution?.[2], solution?.[2], 'ok']);
      expect(template?.slice(0, 2)).toEqual(['lab9', '0']);
      // Every test of the template fails; before the deadline only the public ones say why.
      const feedback = readFileSync(join(out, 'lab9', 'feedback.md'), 'utf8');
      expect(feedback).toContain('Peer.handleClient (9A) is not implemented yet');
      expect(feedback).toContain(
        'hidden test: its scenario and failure message are shown after the deadline',
      );
      expect(feedback).not.toContain('isolation');
    },
    scaled(600_000),
  );
});
