/**
 * `npm run package:gradescope` and the zip's run_autograder, as Gradescope runs them: the zip is
 * built and checked (both scripts at its root and executable, every suite and the rubric inside,
 * never solution/, the same bytes twice), unpacked into a simulated /autograder (AUTOGRADER_ROOT,
 * this repository's node_modules linked in where setup.sh would run npm ci), and run_autograder
 * grades there: the reference solution (full marks), the untouched template (0, teaching
 * feedback for public tests, names and points only for hidden ones), a submission without
 * peer.ts (invalid) and a kit whose grader cannot start (a results.json that says so). Every
 * results.json passes the CLI's Gradescope schema; run_autograder's options fit the container
 * (memory under 768 MB, a fixed seed that every grading uses).
 */
import { execFile } from 'node:child_process';
import {
  chmodSync,
  cpSync,
  createWriteStream,
  mkdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import * as yauzl from 'yauzl';
import { z } from 'zod';
import {
  checkGradeOptions,
  GRADESCOPE_CONTAINER,
  packageGradescope,
  type PackageReport,
} from '../../scripts/package-gradescope';
import { HIDDEN_UNTIL_DEADLINE } from '../runner/feedback';
import { loadRubric, maxScore, rubricTests } from '../rubric';
import { GRADESCOPE_VISIBILITY, GradescopeResultsSchema, testNumbers } from '../runner/results';
import { type PlatformRun, REPO, runPlatformScript, tempDir } from './cli-fixtures';
import { scaled } from '../../lab9/src/time-factor';

/** Two gradings of the real suites side by side, on a busy machine. */
const GRADING_MS = scaled(180_000);

/** Unpacks `zip` into `dest` as Gradescope does; returns each entry's Unix permission bits. */
async function unzip(zip: string, dest: string): Promise<Map<string, number>> {
  const modes = new Map<string, number>();
  const file = await promisify<string, yauzl.Options, yauzl.ZipFile>(yauzl.open)(zip, {
    lazyEntries: true,
  });
  const openStream = promisify(file.openReadStream.bind(file));
  await new Promise<void>((resolve, reject) => {
    file.on('error', reject);
    file.on('end', resolve);
    file.on('entry', (entry: yauzl.Entry) => {
      const mode = (entry.externalFileAttributes >>> 16) & 0o777;
      modes.set(entry.fileName, mode);
      const target = join(dest, entry.fileName);
      mkdirSync(dirname(target), { recursive: true });
      openStream(entry)
        .then((stream) => pipeline(stream, createWriteStream(target)))
        .then(() => {
          chmodSync(target, mode);
          file.readEntry();
        })
        .catch(reject);
    });
    file.readEntry();
  });
  return modes;
}

/** A simulated /autograder: the unpacked zip as source/, and the submission's files. */
function autograderRoot(base: string, source: string, submission: Record<string, string>): string {
  const root = join(base, 'autograder');
  mkdirSync(root, { recursive: true });
  symlinkSync(source, join(root, 'source'), 'dir');
  for (const [path, text] of Object.entries(submission)) {
    mkdirSync(dirname(join(root, 'submission', path)), { recursive: true });
    writeFileSync(join(root, 'submission', path), text);
  }
  mkdirSync(join(root, 'submission'), { recursive: true });
  return root;
}

/**
 * What run_autograder writes when the grader itself fails: the fields Gradescope documents for
 * results.json, without the CLI's extras (extra_data), which need a grading to fill.
 */
const FallbackResultsSchema = z.strictObject({
  score: z.literal(0),
  execution_time: z.number().nonnegative(),
  output: z.string().min(1),
  tests: z.array(z.never()).length(0),
});

/**
 * Runs run_autograder as Gradescope does, in /autograder (AUTOGRADER_ROOT says where that is
 * here); its log is what only instructors see.
 */
function runAutograder<T>(root: string, schema: z.ZodType<T>): Promise<PlatformRun<T>> {
  return runPlatformScript(
    join(root, 'source', 'run_autograder'),
    { root, cwd: root, env: { AUTOGRADER_ROOT: root } },
    schema,
  );
}

describe('the Gradescope autograder zip', () => {
  const rubric = loadRubric(REPO);
  let tmp: { path: string; remove: () => void };
  let report: PackageReport;
  let modes: Map<string, number>;
  let source: string;

  beforeAll(async () => {
    tmp = tempDir('gradescope');
    report = await packageGradescope({ out: join(tmp.path, 'autograder.zip') });
    source = join(tmp.path, 'source');
    modes = await unzip(report.zip, source);
    symlinkSync(join(REPO, 'node_modules'), join(source, 'node_modules'), 'dir');
  });
  afterAll(() => tmp.remove());

  test('holds both scripts at its root, the grader with every suite, and never solution/', async () => {
    expect(modes.get('setup.sh')).toBe(0o755);
    expect(modes.get('run_autograder')).toBe(0o755);
    for (const path of [
      ...rubric.suites.map((suite) => suite.file),
      'grader/rubric.json',
      'grader/cli/grade.ts',
      'grader/runner/channel-reporter.js',
      'grader/harness/peer-host/worker.ts',
      'grader/jest.config.js',
      'lab9/src/peer/peer.ts',
      'package.json',
      'package-lock.json',
      'tsconfig.json',
    ]) {
      expect(modes.has(path)).toBe(true);
    }
    const manifest = readFileSync(join(source, 'package.json'), 'utf8');
    const lock = readFileSync(join(source, 'package-lock.json'), 'utf8');
    // The container's npm ci installs what grading needs, not the maintainers' Stryker.
    expect({
      manifest: manifest.includes('@stryker-mutator'),
      lock: lock.includes('@stryker-mutator'),
    }).toEqual({ manifest: false, lock: false });
    const unwanted = [...modes.keys()].filter((path) =>
      /^(solution|fixtures|grader\/test|node_modules)\//.test(path),
    );
    expect(unwanted).toEqual([]);
    expect(report.points).toBe(maxScore(rubric));

    const option = (name: string): string | undefined =>
      report.gradeOptions[report.gradeOptions.lastIndexOf(name) + 1];
    expect(Number(option('--memory'))).toBeLessThan(GRADESCOPE_CONTAINER.memoryMb);
    expect(option('--seed')).toMatch(/^\d+$/);
    expect(option('--feedback')).toBe('before-deadline');

    const again = await packageGradescope({ out: join(tmp.path, 'again.zip') });
    expect(readFileSync(again.zip).equals(readFileSync(report.zip))).toBe(true);
    for (const script of ['setup.sh', 'run_autograder']) {
      await expect(
        promisify(execFile)('bash', ['-n', join(source, script)]),
      ).resolves.toBeDefined();
    }
  });

  test('packaging refuses options that exceed the container or reseed every regrade', () => {
    expect(() => checkGradeOptions(['--jobs', '1', '--seed', '7'])).toThrow(
      /need --memory under the container's 768 MB \(the grader's default, 2048 MiB, is not\); found none/,
    );
    expect(() => checkGradeOptions(['--memory', '768', '--seed', '7'])).toThrow(/found 768/);
    expect(() => checkGradeOptions(['--memory', '512'])).toThrow(/need a fixed --seed/);
    expect(() => checkGradeOptions(['--memory', '512', '--seed', '7'])).not.toThrow();
  });

  test(
    'run_autograder: the reference solution gets full marks, the template 0 with teaching feedback',
    async () => {
      const solutionRoot = autograderRoot(join(tmp.path, 'solution'), source, {
        'peer.ts': readFileSync(join(REPO, 'solution', 'peer.ts'), 'utf8'),
      });
      const templateRoot = autograderRoot(join(tmp.path, 'template'), source, {
        'README.md': '# my lab 9\n',
        'lab9/src/peer/peer.ts': readFileSync(join(REPO, 'lab9', 'src', 'peer', 'peer.ts'), 'utf8'),
      });
      const [solution, template] = await Promise.all([
        runAutograder(solutionRoot, GradescopeResultsSchema),
        runAutograder(templateRoot, GradescopeResultsSchema),
      ]);

      expect(solution.code).toBe(0);
      const failed = solution.results.tests.filter((test) => test.status !== 'passed');
      expect(failed.map((test) => `${test.name}\n${test.output}`)).toEqual([]);
      expect(solution.results.score).toBe(maxScore(rubric));
      const tests = rubricTests(rubric);
      const byName = new Map(tests.map((test) => [test.name, test]));
      const numbers = testNumbers(tests);
      for (const test of solution.results.tests) {
        const rubricTest = byName.get(test.name);
        expect(rubricTest).toBeDefined();
        if (rubricTest === undefined) continue;
        expect(test.visibility).toBe(GRADESCOPE_VISIBILITY[rubricTest.visibility]);
        expect(test.number).toBe(numbers.get(rubricTest.id));
        expect(test.tags).toEqual(rubricTest.part === '9A+9B' ? ['9A', '9B'] : [rubricTest.part]);
      }
      // Listed public first, then hidden; 9A before 9B within each.
      const order = solution.results.tests.map((test) => byName.get(test.name));
      const rank = (visibility = 'visible', part = '9A'): number =>
        (visibility === 'visible' ? 0 : 10) + ['9A', '9B', '9A+9B'].indexOf(part);
      const ranks = order.map((test) => rank(test?.visibility, test?.part));
      expect(ranks).toEqual([...ranks].sort((a, b) => a - b));
      // The package's fixed seed: "Regrade all" runs exactly these runs again.
      const seed = Number(report.gradeOptions[report.gradeOptions.indexOf('--seed') + 1]);
      expect(solution.results.extra_data.runs.map((run) => run.seed)).toEqual([seed]);
      expect(template.results.extra_data.runs.map((run) => run.seed)).toEqual([seed]);
      expect(solution.results.output_format).toBe('md');
      expect(solution.log).toContain(`**Score: ${maxScore(rubric)} / ${maxScore(rubric)}**`);

      expect(template.code).toBe(0);
      expect(template.results.score).toBe(0);
      expect(template.results.output).toContain('Graded file: lab9/src/peer/peer.ts');
      expect(template.results.tests).toHaveLength(rubricTests(rubric).length);
      for (const test of template.results.tests) expect(test.status).toBe('failed');
      const visible = template.results.tests.filter((test) => test.visibility === 'visible');
      const hidden = template.results.tests.filter((test) => test.visibility !== 'visible');
      for (const test of hidden) expect(test.output).toBe(`${HIDDEN_UNTIL_DEADLINE}.`);
      const outputs = visible.map((test) => test.output).join('\n');
      expect(outputs).toContain(
        'Peer.handleClient (9A) is not implemented yet: this is your TODO in lab9/src/peer/peer.ts',
      );
      expect(outputs).toContain(
        'Peer.routePiece (9B) is not implemented yet: this is your TODO in lab9/src/peer/peer.ts',
      );
    },
    GRADING_MS,
  );

  test(
    'run_autograder: a submission without peer.ts is one invalid submission, scored 0',
    async () => {
      const root = autograderRoot(join(tmp.path, 'nothing'), source, {
        'notes/todo.txt': 'start the lab\n',
        'other/answer.md': '42\n',
      });
      const { code, results } = await runAutograder(root, GradescopeResultsSchema);
      expect(code).toBe(0);
      expect(results.score).toBe(0);
      expect(results.output).toMatch(/· invalid/);
      expect(results.output).toContain('looked for lab9/src/peer/peer.ts');
    },
    GRADING_MS,
  );

  test(
    'run_autograder: a grader that cannot start still writes a results.json that says so',
    async () => {
      const broken = join(tmp.path, 'broken-source');
      cpSync(source, broken, { recursive: true, verbatimSymlinks: true });
      rmSync(join(broken, 'grader', 'rubric.json'));
      const root = autograderRoot(join(tmp.path, 'broken'), broken, { 'peer.ts': 'export {};\n' });
      const { code, results } = await runAutograder(root, FallbackResultsSchema);
      expect(code).toBe(0);
      expect(results.output).toContain('The autograder failed (exit code 2)');
    },
    GRADING_MS,
  );
});
