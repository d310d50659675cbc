/**
 * `npm run export:student`, as an instructor runs it and a student uses what it writes: the kit
 * is exported into a temporary folder (this repository's node_modules linked in, nothing
 * installed), type-checked and prettier-checked with its own configs, and its own `npm test`
 * runs twice, as the self-check workflow runs it on GitHub Actions: on the template (fails with
 * teaching messages, 0 public points, the job summary says so) and with the reference solution
 * copied in (every public point). Then the
 * leak check and the rubric's say over what ships, on copies of this repository with a line
 * planted.
 */
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  exportStudentKit,
  type ExportReport,
  LeakError,
  SELFCHECK_WORKFLOW,
  walk,
} from '../../scripts/export-student';
import { INSTRUCTOR_ONLY_DEV_DEPENDENCIES } from '../../scripts/lock-prune';
import { loadRubric, type Rubric } from '../rubric';
import { rewriteKitImports } from '../runner/submission';
import { REPO, tempDir } from './cli-fixtures';
import { scaled } from '../../lab9/src/time-factor';

const TEMPLATE = 'lab9/src/peer/peer.ts';
/** Two Jest runs of the kit, a lint and a type check: each well within this. */
const KIT_RUN_MS = scaled(120_000);

interface Totals {
  readonly publicTests: string[];
  readonly publicPoints: number;
  readonly hiddenNames: string[];
  readonly hiddenFiles: string[];
  readonly hiddenPoints: number;
}

function totals(rubric: Rubric): Totals {
  const visible = rubric.suites.filter((suite) => suite.visibility === 'visible');
  const hidden = rubric.suites.filter((suite) => suite.visibility === 'hidden');
  const points = (suites: typeof visible): number =>
    suites.flatMap((suite) => suite.tests).reduce((sum, test) => sum + test.points, 0);
  return {
    publicTests: visible.flatMap((suite) => suite.tests.map((test) => test.name)),
    publicPoints: points(visible),
    hiddenNames: hidden.flatMap((suite) => suite.tests.map((test) => test.name)),
    hiddenFiles: hidden.map((suite) => suite.file),
    hiddenPoints: points(hidden),
  };
}

/** Runs `command` in `cwd`; stdout and stderr together, as the student sees them. */
function run(
  command: string,
  args: readonly string[],
  cwd: string,
  env: Record<string, string> = {},
): Promise<{ code: number | null; output: string }> {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1', ...env };
  // This Jest's own variables must not make the kit's Jest think it is a worker of ours.
  delete childEnv.JEST_WORKER_ID;
  delete childEnv.LAB9_PEER_MODULE;
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env: childEnv });
    let output = '';
    let shown = 0;
    const collect = (chunk: Buffer): void => {
      output += chunk.toString('utf8');
      // Progress for whoever watches npm test: each test file the kit's Jest finishes, live.
      const lines = output.split('\n');
      for (const line of lines.slice(shown, -1)) {
        if (/^(PASS|FAIL) /.test(line)) {
          process.stderr.write(`  export.test.ts · kit's ${args.join(' ')}: ${line}\n`);
        }
      }
      shown = Math.max(shown, lines.length - 1);
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

/** One public test's row of the job summary's table. */
const SUMMARY_ROW = /^\| ([✓✗-]) \| (\d+)\/(\d+) \| (9A|9B|9A\+9B) \| (.+) \|$/;

/**
 * The kit's `npm test` as the self-check workflow runs it on GitHub Actions, with the job
 * summary file the runner provides; returns the summary's Markdown and its table's rows.
 */
async function kitTest(
  kit: string,
  summaryFile: string,
  only: readonly string[] = [],
): Promise<{
  code: number | null;
  output: string;
  summary: string;
  rows: { mark: string; score: number; points: number; name: string }[];
}> {
  writeFileSync(summaryFile, '');
  const result = await run('npm', ['test', ...(only.length > 0 ? ['--', ...only] : [])], kit, {
    CI: 'true',
    GITHUB_ACTIONS: 'true',
    GITHUB_STEP_SUMMARY: summaryFile,
  });
  const summary = readFileSync(summaryFile, 'utf8');
  if (summary === '') throw new Error(`nothing in GITHUB_STEP_SUMMARY:\n${result.output}`);
  const rows = summary.split('\n').flatMap((line) => {
    const match = SUMMARY_ROW.exec(line);
    return match === null
      ? []
      : [
          {
            mark: match[1] ?? '',
            score: Number(match[2]),
            points: Number(match[3]),
            name: match[5] ?? '',
          },
        ];
  });
  return { ...result, summary, rows };
}

describe('the exported student kit', () => {
  const rubric = loadRubric(REPO);
  const expected = totals(rubric);
  let tmp: { path: string; remove: () => void };
  let kit: string;
  let report: ExportReport;

  beforeAll(() => {
    tmp = tempDir('export');
    kit = join(tmp.path, 'kit');
    report = exportStudentKit({ out: kit });
    symlinkSync(join(REPO, 'node_modules'), join(kit, 'node_modules'), 'dir');
  });
  afterAll(() => tmp.remove());

  test('holds the template, the public suites, docs, configs and workflow; no solution, no hidden test', () => {
    const files = new Set(report.files);
    for (const path of [
      TEMPLATE,
      ...rubric.suites.filter((s) => s.visibility === 'visible').map((s) => s.file),
      'grader/harness/world.ts',
      'grader/selfcheck/points-reporter.js',
      'docs/handout.md',
      'docs/protocol.md',
      'docs/peer-api.md',
      'README.md',
      SELFCHECK_WORKFLOW,
      'package.json',
      'package-lock.json',
      'tsconfig.json',
      'jest.config.js',
      'eslint.config.mjs',
      'grader/rubric.json',
    ]) {
      expect(files).toContain(path);
      expect(existsSync(join(kit, path))).toBe(true);
    }
    const leaked = report.files.filter(
      (path) =>
        path.startsWith('solution/') ||
        expected.hiddenFiles.includes(path) ||
        /^grader\/(cli|runner|test)\//.test(path),
    );
    expect(leaked).toEqual([]);
    for (const path of report.files) {
      const text = readFileSync(join(kit, path), 'utf8');
      for (const name of expected.hiddenNames)
        expect(text.includes(name) ? `${path}: ${name}` : '').toBe('');
    }

    const studentRubric = JSON.parse(readFileSync(join(kit, 'grader/rubric.json'), 'utf8')) as {
      hiddenTests: number;
      hiddenPoints: number;
      suites: { visibility: string }[];
    };
    expect(studentRubric.hiddenTests).toBe(expected.hiddenNames.length);
    expect(studentRubric.hiddenPoints).toBe(expected.hiddenPoints);
    expect(studentRubric.suites.every((suite) => suite.visibility === 'visible')).toBe(true);

    const pkg = JSON.parse(readFileSync(join(kit, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
      devDependencies: Record<string, string>;
    };
    expect(Object.keys(pkg.scripts).sort()).toEqual(
      ['demo', 'format', 'lint', 'test', 'typecheck'].filter(
        (name) => name !== 'demo' || report.demoLeftOut === null,
      ),
    );
    // The instructors' tools stay out of the kit's package.json and lock file (lock-prune.ts).
    const lock = JSON.parse(readFileSync(join(kit, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { devDependencies?: Record<string, string> }>;
    };
    expect(lock.packages['']?.devDependencies).toEqual(pkg.devDependencies);
    for (const name of INSTRUCTOR_ONLY_DEV_DEPENDENCIES) {
      expect(Object.keys(pkg.devDependencies)).not.toContain(name);
      expect(Object.keys(lock.packages)).not.toContain(`node_modules/${name}`);
    }
    const workflow = readFileSync(join(kit, SELFCHECK_WORKFLOW), 'utf8');
    expect(workflow).toContain('uses: actions/checkout@v7');
    expect(workflow).toContain('uses: actions/setup-node@v7');
    expect(workflow).toMatch(/node-version: 24\n/);
    expect(workflow).toContain('run: npm test -- --ci');
    expect(workflow).not.toMatch(/classroom/i);
    expect(report.files.filter((path) => path.startsWith('.github/'))).toEqual([
      SELFCHECK_WORKFLOW,
    ]);
    expect(readFileSync(join(kit, 'README.md'), 'utf8')).toContain(
      `Public tests: 2/${expected.publicPoints} points · ${expected.hiddenNames.length} hidden ` +
        `tests worth ${expected.hiddenPoints} more points`,
    );
  });

  test(
    'passes its own type check and prettier check, and eslint sees every file through tsconfig',
    async () => {
      const typecheck = await run('npm', ['run', 'typecheck'], kit);
      expect(typecheck.code === 0 ? '' : typecheck.output).toBe('');
      const prettier = await run('npx', ['prettier', '--check', '.'], kit);
      expect(prettier.code === 0 ? '' : prettier.output).toBe('');
      // eslint's project service lints only files tsconfig.json includes (eslint itself is left
      // to the kit's CI: it takes as long as a Jest run and checks the same code as ours).
      const { include } = JSON.parse(readFileSync(join(kit, 'tsconfig.json'), 'utf8')) as {
        include: string[];
      };
      const outside = report.files.filter(
        (path) => path.endsWith('.ts') && !include.some((dir) => path.startsWith(`${dir}/`)),
      );
      expect(outside).toEqual([]);
    },
    KIT_RUN_MS,
  );

  test(
    'npm test on the template: every public test fails naming its TODO, 0 public points',
    async () => {
      // Only the public suites: the kit's unit tests do not depend on the Peer, and the run with
      // the reference below runs them.
      const { code, output, summary, rows } = await kitTest(
        kit,
        join(tmp.path, 'template-summary'),
        ['grader/suites'],
      );
      expect(code).not.toBe(0);
      expect(output).toMatch(
        /Peer\.handleClient \(9A\) is not implemented yet: this is your TODO in lab9\/src\/peer\/peer\.ts/,
      );
      expect(output).toMatch(
        /Peer\.routePiece \(9B\) is not implemented yet: this is your TODO in lab9\/src\/peer\/peer\.ts/,
      );
      expect(output).toContain('Likely cause:');
      expect(output).toContain(
        `Public tests: 0/${expected.publicPoints} points · ${expected.hiddenNames.length} hidden ` +
          `tests worth ${expected.hiddenPoints} more points run after you submit`,
      );
      for (const name of expected.publicTests)
        expect(output).toMatch(new RegExp(`✗ +0/\\d+ .*${escape(name)}`));
      for (const name of expected.hiddenNames) expect(output).not.toContain(name);

      expect(summary).toContain(`**Public tests: 0/${expected.publicPoints} points**`);
      expect(rows.map((row) => row.name)).toEqual(expected.publicTests);
      for (const row of rows) expect(row).toMatchObject({ mark: '✗', score: 0 });
      expect(rows.reduce((sum, row) => sum + row.points, 0)).toBe(expected.publicPoints);
      // Each failure once, in a collapsed block naming the test and its TODO.
      const blocks = summary.split('<details>').slice(1);
      expect(blocks).toHaveLength(expected.publicTests.length);
      const silent = blocks.filter((block) => !block.includes('not implemented yet'));
      expect(silent).toEqual([]);
      for (const name of expected.hiddenNames) expect(summary).not.toContain(name);
    },
    KIT_RUN_MS,
  );

  test(
    'npm test with the reference handleClient and routePiece: passes with every public point',
    async () => {
      const solution = readFileSync(join(REPO, 'solution', 'peer.ts'), 'utf8');
      writeFileSync(join(kit, TEMPLATE), rewriteKitImports(solution).text);
      const { code, output, summary, rows } = await kitTest(
        kit,
        join(tmp.path, 'solution-summary'),
      );
      expect(code === 0 ? '' : output).toBe('');
      expect(output).toContain(
        `Public tests: ${expected.publicPoints}/${expected.publicPoints} points`,
      );
      expect(output).not.toContain('✗');
      expect(summary).toContain(
        `**Public tests: ${expected.publicPoints}/${expected.publicPoints} points**`,
      );
      expect(rows.every((row) => row.mark === '✓' && row.score === row.points)).toBe(true);
      expect(summary).not.toContain('### Failures');
    },
    KIT_RUN_MS,
  );
});

describe('the leak check and the rubric, on a copy of this repository', () => {
  const PARTS = [
    'lab9',
    'grader/harness',
    'grader/selfcheck',
    'grader/suites',
    'grader/rubric.json',
    'solution',
    'docs',
    'scripts',
    'package.json',
    'package-lock.json',
    'tsconfig.json',
    'eslint.config.mjs',
    '.prettierrc.json',
    '.prettierignore',
    '.gitignore',
  ];
  const solution = readFileSync(join(REPO, 'solution', 'peer.ts'), 'utf8');
  const solutionLines = solution.split('\n').map((line) => line.trim());
  const publicText = [
    ...walk(REPO, 'lab9'),
    ...walk(REPO, 'grader/harness'),
    ...walk(REPO, 'grader/suites'),
  ]
    .map((path) => readFileSync(join(REPO, path), 'utf8'))
    .join('\n');
  /** A statement only the solution has, which compiles anywhere a statement may stand. */
  const secretLine =
    solutionLines.find(
      (line) =>
        line.startsWith('const ') &&
        line.endsWith(';') &&
        line.length >= 30 &&
        !publicText.includes(line),
    ) ?? '';
  let tmp: { path: string; remove: () => void };
  let repo: string;
  let out: string;

  beforeEach(() => {
    tmp = tempDir('export-leak');
    repo = join(tmp.path, 'repo');
    out = join(tmp.path, 'kit');
    for (const part of PARTS) {
      if (existsSync(join(REPO, part)))
        cpSync(join(REPO, part), join(repo, part), { recursive: true });
    }
  });
  afterEach(() => tmp.remove());

  const edit = (path: string, change: (text: string) => string): void => {
    const file = join(repo, path);
    writeFileSync(file, change(readFileSync(file, 'utf8')));
  };
  const refused = (pattern: RegExp): void => {
    let error: unknown = null;
    try {
      exportStudentKit({ from: repo, out });
    } catch (thrown) {
      error = thrown;
    }
    expect(error).toBeInstanceOf(LeakError);
    expect((error as Error).message).toMatch(pattern);
    expect(existsSync(out)).toBe(false);
  };

  test('a solution line planted in the template peer.ts is refused, naming the file and line', () => {
    expect(secretLine).not.toBe('');
    edit(TEMPLATE, (text) =>
      text.replace('void socket;', (statement) => `${statement}\n    ${secretLine}`),
    );
    const line = readFileSync(join(repo, TEMPLATE), 'utf8')
      .split('\n')
      .indexOf(`    ${secretLine}`);
    refused(
      new RegExp(
        `^${escape(`${TEMPLATE}:${line + 1} is a line of solution/peer.ts, which is secret`)}`,
      ),
    );
  });

  test('a solution line planted in the handout is refused', () => {
    edit('docs/handout.md', (text) => `${text}\n\`\`\`ts\n${secretLine}\n\`\`\`\n`);
    refused(/^docs\/handout\.md:\d+ is a line of solution\/peer\.ts/);
  });

  test('the solution in place of the template is refused: the TODO stubs are gone', () => {
    writeFileSync(join(repo, TEMPLATE), rewriteKitImports(solution).text);
    refused(/lab9\/src\/peer\/peer\.ts is not the template: it no longer throws/);
  });

  test('a hidden test named in the student README is refused', () => {
    const hidden = totals(loadRubric(repo));
    edit('scripts/student-kit/README.md', (text) => `${text}\n- ${hidden.hiddenNames[0]}\n`);
    refused(/^README\.md names a hidden test of grader\/suites\//);
  });

  test('a hidden suite copied under a public name is refused as a copy', () => {
    const [hiddenFile] = totals(loadRubric(repo)).hiddenFiles;
    cpSync(join(repo, hiddenFile ?? ''), join(repo, 'grader/harness/extra.test.ts'));
    refused(/^grader\/harness\/extra\.test\.ts is a copy of grader\/suites\/.*\.test\.ts/);
  });

  test('a public file importing a hidden suite is refused', () => {
    const [hiddenFile] = totals(loadRubric(repo)).hiddenFiles;
    const name = (hiddenFile ?? '').replace('grader/suites/', '').replace(/\.ts$/, '');
    edit('grader/harness/data.ts', (text) => `${text}\nimport '../suites/${name}';\n`);
    refused(new RegExp(`grader/harness/data\\.ts imports ${escape(hiddenFile ?? '')}`));
  });

  test('common lines of the solution are not leaks: imports, braces, the signatures', () => {
    const common = [
      ...solutionLines.filter((line) => line.startsWith('import ')).slice(0, 3),
      '}',
      '});',
      'export class Peer extends PeerCore {',
      'handleClient(socket: Duplex): void {',
      'routePiece(piece: PieceMessage): Promise<RouteResult> {',
    ];
    expect(common.length).toBeGreaterThan(6);
    edit('docs/handout.md', (text) => `${text}\n\`\`\`ts\n${common.join('\n')}\n\`\`\`\n`);
    expect(exportStudentKit({ from: repo, out })).toMatchObject({ out });
  });

  test('the rubric decides: a suite made visible ships, and its points leave the hidden total', () => {
    const before = loadRubric(repo);
    const suite = before.suites.find((s) => s.visibility === 'hidden');
    if (suite === undefined) return;
    const points = suite.tests.reduce((sum, test) => sum + test.points, 0);
    edit('grader/rubric.json', (text) => {
      const rubric = JSON.parse(text) as Rubric;
      const changed = rubric.suites.find((s) => s.file === suite.file);
      if (changed) changed.visibility = 'visible';
      return JSON.stringify(rubric, null, 2);
    });
    const result = exportStudentKit({ from: repo, out });
    expect(result.files).toContain(suite.file);
    expect(readFileSync(join(out, 'jest.config.js'), 'utf8')).toContain(
      `'<rootDir>/${suite.file}'`,
    );
    const kitRubric = JSON.parse(readFileSync(join(out, 'grader/rubric.json'), 'utf8')) as {
      hiddenTests: number;
      hiddenPoints: number;
    };
    expect(kitRubric.hiddenPoints).toBe(totals(before).hiddenPoints - points);
    expect(kitRubric.hiddenTests).toBe(totals(before).hiddenNames.length - suite.tests.length);
  });

  test('a demo that imports the solution is left out, with its script and README section', () => {
    edit('scripts/demo.ts', (text) => `${text}\nimport '../solution/peer';\n`);
    const result = exportStudentKit({ from: repo, out });
    expect(result.demoLeftOut).toMatch(/scripts\/demo\.ts imports solution\/peer\.ts/);
    expect(result.files).not.toContain('scripts/demo.ts');
    const pkg = JSON.parse(readFileSync(join(out, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    };
    expect(pkg.scripts.demo).toBeUndefined();
    expect(readFileSync(join(out, 'README.md'), 'utf8')).not.toContain('npm run demo');
  });

  test('writes only into a new or empty folder, or over a previous export with force', () => {
    mkdirSync(out);
    writeFileSync(join(out, 'notes.txt'), 'mine');
    expect(() => exportStudentKit({ from: repo, out })).toThrow(/is not empty/);
    expect(() => exportStudentKit({ from: repo, out, force: true })).toThrow(
      /not a previous export/,
    );
    expect(readFileSync(join(out, 'notes.txt'), 'utf8')).toBe('mine');
    expect(() => exportStudentKit({ from: repo, out: tmp.path })).toThrow(
      /holds the repository being exported/,
    );
    const fresh = join(tmp.path, 'fresh');
    exportStudentKit({ from: repo, out: fresh });
    expect(exportStudentKit({ from: repo, out: fresh, force: true })).toMatchObject({
      out: fresh,
    });
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
