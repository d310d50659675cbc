/**
 * The sample submissions of fixtures/submissions.json, graded as a TA grades them: one
 * `npm run grade` run over all of them, two at a time, on the real suites. Each must get exactly
 * what the manifest says: score, status and the set of failing rubric tests. A difference names
 * the fixture, what differs and, for a test that failed unexpectedly, the suite's message.
 * The manifest itself is checked first, against the rubric and the folders on disk.
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';
import { z } from 'zod';
import { loadRubric, maxScore, rubricTests } from '../rubric';
import { GradescopeResultsSchema, type GradescopeResults } from '../runner/results';
import { forwardProgress, GRADE, REPO, TSX, tempDir } from './cli-fixtures';
import { scaled, TIME_FACTOR } from '../../lab9/src/time-factor';

const MANIFEST = join(REPO, 'fixtures', 'submissions.json');
const FOLDER = 'fixtures/submissions';

/** Fixed, so a difference reproduces: `npm run grade -- --seed <seed> <fixture>`. */
const SEED = Number(process.env.LAB9_FIXTURE_SEED ?? 1);
/**
 * The slowest fixture takes about 60 s on 2 busy cores (44 tests); a run that hangs must not stall
 * npm run test:fixtures. Scaled by the time factor: on a loaded machine an honest run must not hit it.
 */
const RUN_TIMEOUT_S = Math.ceil(120 * TIME_FACTOR);
/** Runs at once: the 2 cores of CI, each run held to 1 CPU. */
const JOBS = 2;
/** Lines of an unexpected failure's message quoted in the difference. */
const MESSAGE_LINES = 12;

const FixtureSchema = z.strictObject({
  name: z.string().min(1),
  path: z.string().min(1),
  score: z.number().int().nonnegative(),
  status: z.enum(['ok', 'compile-error', 'invalid', 'timeout', 'memory-limit', 'crashed']),
  failing: z.union([z.literal('all'), z.array(z.string())]),
  bug: z.string().min(1),
});
type Fixture = z.infer<typeof FixtureSchema>;

const manifest = z
  .strictObject({ description: z.string(), fixtures: z.array(FixtureSchema).min(1) })
  .parse(JSON.parse(readFileSync(MANIFEST, 'utf8')));
const tests = rubricTests(loadRubric(REPO));
const max = maxScore(loadRubric(REPO));
/** results.json names tests by their Jest name (`number` only sorts them): name → rubric id. */
const idOf = new Map(tests.map((t) => [t.name, t.id]));

function expectedFailing(fixture: Fixture): string[] {
  return fixture.failing === 'all' ? tests.map((t) => t.id) : fixture.failing;
}

describe('fixtures/submissions.json', () => {
  test('lists every folder of fixtures/submissions, and nothing that does not exist', () => {
    const folders = readdirSync(join(REPO, FOLDER), { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => `${FOLDER}/${entry.name}`);
    const listed = manifest.fixtures.map((f) => f.path);
    expect(folders.filter((path) => !listed.includes(path))).toEqual([]);
    expect(listed.filter((path) => !existsSync(join(REPO, path)))).toEqual([]);
    expect(new Set(listed).size).toBe(listed.length);
  });

  test.each(manifest.fixtures.map((f) => [f.name, f] as const))(
    '%s: its name is its folder, its tests are in the rubric, its score is what they leave',
    (_, fixture) => {
      expect(fixture.name).toBe(basename(fixture.path));
      const unknown = expectedFailing(fixture).filter((id) => !tests.some((t) => t.id === id));
      expect(unknown).toEqual([]);
      const lost = tests
        .filter((t) => expectedFailing(fixture).includes(t.id))
        .reduce((sum, t) => sum + t.points, 0);
      expect(fixture.score).toBe(fixture.status === 'ok' ? max - lost : 0);
    },
  );
});

interface Graded {
  readonly status: string;
  readonly results: GradescopeResults;
}

describe('npm run grade on every fixture', () => {
  let out: { path: string; remove: () => void };
  let table = '';
  const graded = new Map<string, Graded>();
  let differed = false;

  beforeAll(async () => {
    out = tempDir('fixtures');
    // The folder as the README grades it, plus the reference and the template where they are.
    const paths = manifest.fixtures
      .map((f) => f.path)
      .filter((path) => !path.startsWith(`${FOLDER}/`));
    const grading = promisify(execFile)(
      process.execPath,
      [
        TSX,
        GRADE,
        ...['--out', out.path, '--jobs', String(JOBS), '--seed', String(SEED)],
        ...['--timeout', String(RUN_TIMEOUT_S)],
        // The reference is graded below as a fixture of its own: no need to grade it twice.
        '--no-preflight',
        ...paths,
        FOLDER,
      ],
      { cwd: REPO, maxBuffer: 16 * 1024 * 1024 },
    );
    forwardProgress('fixtures.test.ts', grading.child.stderr);
    const { stdout } = await grading;
    table = stdout;
    const [header, ...rows] = readFileSync(join(out.path, 'grades.csv'), 'utf8')
      .trimEnd()
      .split('\n')
      .map((line) => line.split(','));
    expect(header?.slice(0, 4)).toEqual(['submission', 'score', 'max', 'status']);
    for (const [name = '', , , status = ''] of rows) {
      const file = join(out.path, name, 'results.json');
      const parsed = GradescopeResultsSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
      if (!parsed.success) {
        throw new Error(`${file} is not in Gradescope's format: ${z.prettifyError(parsed.error)}`);
      }
      graded.set(name, { status, results: parsed.data });
    }
  }, scaled(1_800_000));

  afterAll(() => {
    if (differed) {
      process.stderr.write(`fixtures.test.ts: kept the grading output in ${out.path}\n`);
    } else {
      out.remove();
    }
  });

  test('grades nothing the manifest does not list', () => {
    const listed = new Set(manifest.fixtures.map((f) => f.name));
    expect([...graded.keys()].filter((name) => !listed.has(name))).toEqual([]);
  });

  test.each(manifest.fixtures.map((f) => [f.name, f] as const))(
    '%s gets its score, status and failing tests',
    (_, fixture) => {
      const differences = compare(fixture, graded.get(fixture.name));
      if (differences.length === 0) {
        expect(table).toMatch(
          new RegExp(`^${fixture.name} +${fixture.score} +${max} +${fixture.status} `, 'm'),
        );
        return;
      }
      differed = true;
      throw new Error(
        [
          `fixture ${fixture.name} (${fixture.path}: ${fixture.bug}):`,
          ...differences.map((line) => `  ${line}`),
          `seed ${SEED}; again: npm run grade -- --seed ${SEED} ${fixture.path}`,
        ].join('\n'),
      );
    },
  );
});

/** What differs between the manifest's entry and the grade, one line (or block) each. */
function compare(fixture: Fixture, graded: Graded | undefined): string[] {
  if (graded === undefined) return ['no row in grades.csv: the CLI did not grade it'];
  const { status, results } = graded;
  const differences: string[] = [];
  if (status !== fixture.status) {
    // The first lines of the summary say how the run ended.
    const how = results.output.split('\n').slice(1, 3).join('; ');
    differences.push(`status: expected ${fixture.status}, got ${status} (${how})`);
  }
  if (results.score !== fixture.score) {
    differences.push(`score: expected ${fixture.score}, got ${results.score}`);
  }
  const expected = new Set(expectedFailing(fixture));
  const failed = results.tests.filter((t) => t.status === 'failed');
  for (const test of failed.filter((t) => !expected.has(idOf.get(t.name) ?? t.name))) {
    const message = test.output.split('\n').slice(0, MESSAGE_LINES).join('\n    ');
    differences.push(
      `failed, but the manifest expects it to pass: ${idOf.get(test.name) ?? test.name}\n    ${message}`,
    );
  }
  const passed = results.tests
    .filter((t) => t.status === 'passed')
    .map((t) => idOf.get(t.name) ?? t.name);
  for (const id of passed.filter((id) => expected.has(id))) {
    differences.push(`passed, but the manifest expects it to fail: ${id}`);
  }
  return differences;
}
