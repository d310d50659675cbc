/**
 * `npm run export:student -- <out dir>`: writes the student repository from this one: lab9/
 * with the TODOs, the public (visible) grader suites and their harness, the handout, configs,
 * a student README and a GitHub Classroom workflow. Fails, writing nothing, if any file of
 * solution/ or a hidden suite, or a distinctive line of them, would be shipped.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { type Rubric, loadRubric, rubricTests } from '../grader/rubric';

export interface ExportOptions {
  /** Repository to export from. @default this repository */
  readonly from?: string;
  /** Folder to write the student kit into; must not exist or be empty (or pass `force`). */
  readonly out: string;
  /** Replace a non-empty `out`. @default false */
  readonly force?: boolean;
}

export interface ExportReport {
  readonly files: string[];
  readonly visibleSuites: string[];
  readonly hiddenSuites: string[];
}

/** Thrown when the export would leak the solution or a hidden test; names the file and line. */
export class LeakError extends Error {
  readonly code = 'ERR_LEAK';
}

const DOCS = ['docs/handout.md', 'docs/protocol.md', 'docs/peer-api.md'];
const CONFIGS = ['eslint.config.mjs', '.prettierrc.json', '.prettierignore', '.gitignore'];
const STUDENT_NAME = 'p2p-lab9-student';
/** Lines shorter than this (after trimming) are too common to call a leak. */
const MIN_DISTINCTIVE_CHARS = 24;

export function exportStudentKit(options: ExportOptions): ExportReport {
  const from = resolve(options.from ?? join(__dirname, '..'));
  const out = resolve(options.out);
  const rubric = loadRubric(from);
  const visibleSuites = rubric.suites.filter((s) => s.visibility === 'visible').map((s) => s.file);
  const hiddenSuites = rubric.suites.filter((s) => s.visibility === 'hidden').map((s) => s.file);
  const secret = (path: string): boolean =>
    path.startsWith('solution/') || hiddenSuites.includes(path);

  const entries = [
    ...walk(from, 'lab9'),
    ...walk(from, 'grader/harness'),
    ...walk(from, 'grader/selfcheck'),
    'grader/rubric.ts',
    ...visibleSuites,
    ...['scripts/demo.ts'].filter((path) => existsSync(join(from, path))),
  ];
  const code = withImports(from, entries, secret);
  const docs = DOCS.filter((path) => existsSync(join(from, path)));
  const copied = [...code, ...docs, ...CONFIGS.filter((path) => existsSync(join(from, path)))];

  const generated = new Map<string, string>([
    ['package.json', studentPackageJson(from, code.includes('scripts/demo.ts'))],
    ['package-lock.json', studentLockFile(from)],
    ['tsconfig.json', studentTsconfig(from)],
    ['jest.config.js', studentJestConfig(visibleSuites)],
    ['grader/rubric.json', studentRubric(rubric)],
    ['README.md', readFileSync(join(from, 'scripts/student-kit/README.md'), 'utf8')],
    [
      '.github/workflows/classroom.yml',
      readFileSync(join(from, 'scripts/student-kit/classroom.yml'), 'utf8'),
    ],
  ]);

  checkNoLeak(from, copied, generated, hiddenSuites, visibleSuites);

  prepareOut(out, options.force ?? false);
  for (const path of copied) writeFile(out, path, readFileSync(join(from, path)));
  for (const [path, text] of generated) writeFile(out, path, text);
  return { files: [...copied, ...generated.keys()].sort(), visibleSuites, hiddenSuites };
}

/** Every file below `dir` (relative to root, `/`-separated), or none if it does not exist. */
function walk(root: string, dir: string): string[] {
  const abs = join(root, dir);
  if (!existsSync(abs)) return [];
  return readdirSync(abs, { recursive: true, encoding: 'utf8' })
    .map((name) => `${dir}/${name.split(sep).join('/')}`)
    .filter((path) => statSync(join(root, path)).isFile());
}

/**
 * `entries` plus every file they import relatively, transitively. An import of a secret file
 * (solution, hidden suite) is a leak: the shipped code would not even compile without it.
 */
function withImports(root: string, entries: string[], secret: (path: string) => boolean): string[] {
  const seen = new Set<string>();
  const queue = [...entries];
  while (queue.length > 0) {
    const path = queue.pop() as string;
    if (seen.has(path)) continue;
    if (secret(path)) throw new LeakError(`refusing to export ${path}: it is secret`);
    seen.add(path);
    if (!/\.(ts|js|mjs)$/.test(path)) continue;
    const text = readFileSync(join(root, path), 'utf8');
    for (const match of text.matchAll(/(?:from\s+|require\(|import\()'(\.{1,2}\/[^']+)'/g)) {
      const target = resolveImport(root, path, match[1] as string);
      if (target === undefined) continue;
      if (secret(target)) {
        throw new LeakError(`refusing to export: ${path} imports ${target}, which is secret`);
      }
      queue.push(target);
    }
  }
  return [...seen].sort();
}

function resolveImport(root: string, from: string, specifier: string): string | undefined {
  const base = join(dirname(join(root, from)), specifier);
  for (const candidate of [base, `${base}.ts`, `${base}.js`, join(base, 'index.ts')]) {
    if (existsSync(candidate) && statSync(candidate).isFile()) {
      const rel = relative(root, candidate).split(sep).join('/');
      if (rel.startsWith('..')) throw new LeakError(`${from} imports ${specifier}, outside the repo`);
      return rel;
    }
  }
  return undefined;
}

/**
 * A line of the solution or of a hidden suite that appears nowhere in the template or the public
 * suites is distinctive; finding one in any shipped file means the export would leak it.
 */
function checkNoLeak(
  root: string,
  copied: string[],
  generated: Map<string, string>,
  hiddenSuites: string[],
  visibleSuites: string[],
): void {
  const secretFiles = [...walk(root, 'solution'), ...hiddenSuites];
  const publicLines = new Set(
    [...walk(root, 'lab9'), ...visibleSuites, ...walk(root, 'grader/harness')].flatMap((path) =>
      distinctiveLines(readFileSync(join(root, path), 'utf8')),
    ),
  );
  const secretLines = new Map<string, string>();
  for (const path of secretFiles) {
    for (const line of distinctiveLines(readFileSync(join(root, path), 'utf8'))) {
      if (!publicLines.has(line)) secretLines.set(line, path);
    }
  }
  const shipped: [string, string][] = [
    ...copied.map((path): [string, string] => [path, readFileSync(join(root, path), 'utf8')]),
    ...generated,
  ];
  for (const [path, text] of shipped) {
    for (const line of distinctiveLines(text)) {
      const source = secretLines.get(line);
      if (source !== undefined) {
        throw new LeakError(
          `refusing to export: ${path} contains a line of ${source}: ${JSON.stringify(line)}`,
        );
      }
    }
  }
}

function distinctiveLines(text: string): string[] {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.length >= MIN_DISTINCTIVE_CHARS && !/^(import|export \{|\}\s*from|\/\/|\*)/.test(line));
}

function prepareOut(out: string, force: boolean): void {
  if (existsSync(out) && readdirSync(out).length > 0) {
    if (!force) throw new Error(`${out} is not empty; pass --force to replace it`);
    rmSync(out, { recursive: true, force: true });
  }
  mkdirSync(out, { recursive: true });
}

function writeFile(out: string, path: string, content: string | Buffer): void {
  const target = join(out, path);
  mkdirSync(dirname(target), { recursive: true });
  writeFileSync(target, content);
}

interface PackageJson {
  name: string;
  scripts: Record<string, string>;
  [key: string]: unknown;
}

function studentPackageJson(root: string, withDemo: boolean): string {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as PackageJson;
  const scripts: Record<string, string> = {
    test: 'jest',
    lint: pkg.scripts.lint ?? 'eslint . && prettier --check .',
    format: pkg.scripts.format ?? 'prettier --write .',
    typecheck: pkg.scripts.typecheck ?? 'tsc --noEmit -p tsconfig.json',
  };
  if (withDemo && pkg.scripts.demo) scripts.demo = pkg.scripts.demo;
  const student = {
    ...pkg,
    name: STUDENT_NAME,
    description: 'Lab 9 — handling clients and routing data (student kit)',
    scripts,
  };
  return `${JSON.stringify(student, null, 2)}\n`;
}

/** The same pinned versions as this repository, so `npm ci` installs exactly what was tested. */
function studentLockFile(root: string): string {
  const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as {
    name: string;
    packages: Record<string, { name?: string }>;
  };
  lock.name = STUDENT_NAME;
  const rootPackage = lock.packages[''];
  if (rootPackage) rootPackage.name = STUDENT_NAME;
  return `${JSON.stringify(lock, null, 2)}\n`;
}

function studentTsconfig(root: string): string {
  const config = JSON.parse(readFileSync(join(root, 'tsconfig.json'), 'utf8')) as {
    include: string[];
    exclude?: string[];
  };
  config.include = ['lab9', 'grader', 'scripts'];
  delete config.exclude;
  return `${JSON.stringify(config, null, 2)}\n`;
}

function studentJestConfig(visibleSuites: string[]): string {
  const suites = visibleSuites.map((file) => `    '<rootDir>/${file}',`).join('\n');
  return `// Self-check: the kit's unit tests and the public grader tests, run against YOUR Peer
// (lab9/src/peer/peer.ts). The points table at the end uses grader/rubric.json.
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  transform: { '^.+\\\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  testMatch: [
    '<rootDir>/lab9/test/**/*.test.ts',
${suites}
  ],
  reporters: ['default', '<rootDir>/grader/selfcheck/points-reporter.js'],
};
`;
}

function studentRubric(rubric: Rubric): string {
  const hiddenPoints = rubricTests(rubric)
    .filter((test) => test.visibility === 'hidden')
    .reduce((sum, test) => sum + test.points, 0);
  const visible = {
    lab: rubric.lab,
    hiddenPoints,
    suites: rubric.suites.filter((suite) => suite.visibility === 'visible'),
  };
  return `${JSON.stringify(visible, null, 2)}\n`;
}

function main(argv: string[]): void {
  const args = argv.filter((arg) => arg !== '--force');
  if (args.length !== 1 || args[0]?.startsWith('-')) {
    process.stderr.write('usage: npm run export:student -- <out dir> [--force]\n');
    process.exitCode = 2;
    return;
  }
  try {
    const report = exportStudentKit({ out: args[0] as string, force: argv.includes('--force') });
    process.stdout.write(
      `exported ${report.files.length} files to ${resolve(args[0] as string)}\n` +
        `  public suites: ${report.visibleSuites.join(', ')}\n` +
        `  hidden suites (not exported): ${report.hiddenSuites.join(', ') || 'none'}\n` +
        `next: cd ${args[0]} && npm ci && npm test\n`,
    );
  } catch (error) {
    process.stderr.write(`export failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  }
}

if (require.main === module) main(process.argv.slice(2));
