/**
 * `npm run export:student -- <out dir> [--force]`: writes the student repository from this one:
 * lab9/ with the TODOs, the public (visible) grader suites and their harness, the points
 * reporter, the handout and reference docs, configs, a student README, the self-check workflow
 * for GitHub Actions (points in the job summary), and the demo when it needs nothing secret. Fails, writing nothing, if a file of
 * solution/ or a hidden suite, a distinctive line of them, or a hidden test's name would ship.
 * package.json and the lock file are this repository's, less the instructors' tools (Stryker) and
 * what only they need (lock-prune.ts), so the kit's `npm ci` installs what was tested.
 * Below: grader/rubric.json says which suites are public. Above: the instructor, and
 * package-gradescope.ts, which reuses the file walk and import closure.
 */
import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import ts from 'typescript';
import { type Rubric, type RubricSuite, loadRubric } from '../grader/rubric';
import { SANDBOX_PEER_PATH } from '../grader/runner/submission';
import {
  INSTRUCTOR_ONLY_DEV_DEPENDENCIES,
  type LockFile,
  pruneDevDependencies,
  withoutDevDependencies,
} from './lock-prune';

export interface ExportOptions {
  /** Repository to export from. @default this repository */
  readonly from?: string;
  /** Folder to write the student kit into; must not exist, or be empty (or pass `force`). */
  readonly out: string;
  /** Replace a previous export in `out`. @default false */
  readonly force?: boolean;
}

export interface SuiteSummary {
  readonly file: string;
  readonly tests: number;
  readonly points: number;
}

export interface ExportReport {
  readonly out: string;
  /** Every file written, relative to `out`, sorted. */
  readonly files: readonly string[];
  readonly publicSuites: readonly SuiteSummary[];
  readonly hiddenSuites: readonly SuiteSummary[];
  /** Why the demo was left out, or null when `npm run demo` ships. */
  readonly demoLeftOut: string | null;
  /** How many secret files (solution/, hidden suites) the shipped files were checked against. */
  readonly secretFiles: number;
}

/** The export would give students an answer or a hidden test; the message names file and line. */
export class LeakError extends Error {
  readonly code = 'ERR_LEAK';
  override readonly name = 'LeakError';
}

const REPO_ROOT = join(__dirname, '..');
const PRETTIER = join(REPO_ROOT, 'node_modules', 'prettier', 'bin', 'prettier.cjs');
const DOCS = ['docs/handout.md', 'docs/protocol.md', 'docs/peer-api.md'];
const CONFIGS = [
  'eslint.config.mjs',
  '.prettierrc.json',
  '.prettierignore',
  '.gitignore',
  '.nvmrc',
];
/** Shipped with everything they import; an import of a secret file fails the export. */
const REQUIRED_ROOTS = ['lab9', 'grader/harness', 'grader/selfcheck'];
/** A relative module specifier: `from '…'`, `import '…'`, `require('…')`, `import('…')`. */
const IMPORT_SPECIFIER =
  /(?:\bfrom\s+|\bimport\s+|\brequire\(\s*|\bimport\(\s*)(['"])(\.{1,2}\/[^'"]+)\1/g;
/** Shipped only if nothing it imports is secret. */
const DEMO = 'scripts/demo.ts';
const STUDENT_NAME = 'p2p-lab9-student';
/** The self-check on GitHub Actions, from scripts/student-kit/selfcheck.yml. */
export const SELFCHECK_WORKFLOW = '.github/workflows/selfcheck.yml';
/** The template must still announce both TODOs; anything else in their place is an answer. */
const TODO_STUBS = [
  "NotImplementedError('Peer.handleClient (9A)')",
  "NotImplementedError('Peer.routePiece (9B)')",
];
/** Lines shorter than this (after trimming) are too common to call a leak (`}`, `return;`). */
const MIN_DISTINCTIVE_CHARS = 24;
/**
 * A shipped file holding this share of a secret file's distinctive lines is a copy of it, even
 * where its lines are public vocabulary (a hidden suite renamed into a public one).
 */
const COPY_FRACTION = 0.5;
const COPY_MIN_LINES = 5;
/** Imports, re-exports and comments are shared vocabulary, never a leak on their own. */
const COMMON_LINE = /^(import\b|export \{|export \* from|\}\s*from\b|\/\/|\/\*|\*)/;
/** The student README's demo section, kept only when the demo ships. */
const DEMO_SECTION = /<!-- demo -->\n([\s\S]*?)<!-- \/demo -->\n/;
/** The README's example total mentions hidden tests only when the rubric has some. */
const HIDDEN_TOTAL = / · \{\{hiddenTests\}\} hidden tests[^\n]*/;

export function exportStudentKit(options: ExportOptions): ExportReport {
  const from = resolve(options.from ?? REPO_ROOT);
  const out = resolve(options.out);
  checkOutFolder(from, out, options.force ?? false);

  const rubric = loadRubric(from);
  const publicSuites = rubric.suites.filter((suite) => suite.visibility === 'visible');
  const hiddenSuites = rubric.suites.filter((suite) => suite.visibility === 'hidden');
  const secretFiles = [...walk(from, 'solution'), ...hiddenSuites.map((suite) => suite.file)];
  const secret = new Set(secretFiles);
  const isSecret = (path: string): boolean => path.startsWith('solution/') || secret.has(path);

  const required = [
    ...REQUIRED_ROOTS.flatMap((dir) => walk(from, dir)),
    ...publicSuites.map((suite) => suite.file),
  ];
  const code = importClosure(from, required, isSecret);
  let demo: string[] = [];
  let demoLeftOut: string | null = null;
  if (!existsSync(join(from, DEMO))) {
    demoLeftOut = `${DEMO} does not exist`;
  } else {
    try {
      demo = importClosure(from, [DEMO], isSecret);
    } catch (error) {
      if (!(error instanceof LeakError)) throw error;
      demoLeftOut = error.message;
    }
  }
  const copied = [
    ...new Set([
      ...code,
      ...demo,
      ...[...DOCS, ...CONFIGS].filter((path) => existsSync(join(from, path))),
    ]),
  ].sort();

  const readme = studentReadme(from, rubric, demoLeftOut === null);
  const generated = new Map<string, string>([
    ['package.json', studentPackageJson(from, demoLeftOut === null)],
    ['package-lock.json', studentLockFile(from)],
    ['tsconfig.json', studentTsconfig(from)],
    ['jest.config.js', studentJestConfig(publicSuites)],
    ['grader/rubric.json', studentRubric(rubric)],
    ['README.md', readme],
    [SELFCHECK_WORKFLOW, readFileSync(join(from, 'scripts/student-kit/selfcheck.yml'), 'utf8')],
  ]);

  const shipped = new Map<string, string>([
    ...copied.map((path): [string, string] => [path, readFileSync(join(from, path), 'utf8')]),
    ...generated,
  ]);
  checkNoLeak({
    root: from,
    shipped,
    secretFiles,
    publicCode: code,
    hiddenTests: hiddenSuites.flatMap((suite) =>
      suite.tests.map((test) => ({ name: test.name, file: suite.file })),
    ),
  });

  prepareOut(out);
  for (const path of copied) writeFile(out, path, readFileSync(join(from, path)));
  for (const [path, text] of generated) writeFile(out, path, text);
  formatWithPrettier(out, [...generated.keys()]);
  return {
    out,
    files: [...shipped.keys()].sort(),
    publicSuites: publicSuites.map(summary),
    hiddenSuites: hiddenSuites.map(summary),
    demoLeftOut,
    secretFiles: secretFiles.length,
  };
}

function summary(suite: RubricSuite): SuiteSummary {
  return {
    file: suite.file,
    tests: suite.tests.length,
    points: suite.tests.reduce((sum, test) => sum + test.points, 0),
  };
}

/** Every file below `dir` (relative to root, `/`-separated, sorted), or none if it does not exist. */
export function walk(root: string, dir: string): string[] {
  const abs = join(root, dir);
  if (!existsSync(abs)) return [];
  return readdirSync(abs, { recursive: true, encoding: 'utf8' })
    .map((name) => `${dir}/${name.split(sep).join('/')}`)
    .filter((path) => statSync(join(root, path)).isFile())
    .sort();
}

/**
 * `entries` plus every file they import relatively, transitively, sorted. Importing a secret
 * file is a LeakError: the shipped code would not even compile without it.
 */
export function importClosure(
  root: string,
  entries: readonly string[],
  isSecret: (path: string) => boolean,
): string[] {
  const seen = new Set<string>();
  const queue = [...entries];
  for (let path = queue.pop(); path !== undefined; path = queue.pop()) {
    if (seen.has(path)) continue;
    if (isSecret(path)) throw new LeakError(`${path} is secret and is never shipped`);
    seen.add(path);
    if (!/\.(ts|js|mjs)$/.test(path)) continue;
    const text = readFileSync(join(root, path), 'utf8');
    for (const match of text.matchAll(IMPORT_SPECIFIER)) {
      const target = resolveImport(root, path, match[2] as string);
      if (target === undefined) continue;
      if (isSecret(target)) {
        throw new LeakError(`${path} imports ${target}, which is secret and is never shipped`);
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
      if (rel.startsWith('..'))
        throw new LeakError(`${from} imports ${specifier}, outside the repo`);
      return rel;
    }
  }
  return undefined;
}

export interface LeakCheck {
  readonly root: string;
  /** Every file about to ship, by path, with its text. */
  readonly shipped: ReadonlyMap<string, string>;
  /** Files whose distinctive lines must not ship (solution/, hidden suites). */
  readonly secretFiles: readonly string[];
  /** Source files that are public by definition: their lines are shared vocabulary. */
  readonly publicCode: readonly string[];
  /** Tests whose names must not appear in any shipped file. */
  readonly hiddenTests: readonly { readonly name: string; readonly file: string }[];
}

/**
 * Throws a LeakError if a shipped file gives away an answer or a hidden test:
 * - the template's peer.ts no longer holds both TODO stubs (someone solved it in place);
 * - a distinctive line of a secret file appears in a shipped file. A line is distinctive when it
 *   is long, not an import or comment, and absent from the public code the kit is built from
 *   (lab9/ but peer.ts, public suites, harness, reporter), whose lines are public by definition.
 *   peer.ts is left out of that baseline, all but its declarations (`handleClient(socket:
 *   Duplex): void {`), so a solution pasted into it is caught; a line pasted into another
 *   public source file becomes part of the baseline and cannot be told from shared code;
 * - a shipped file is a copy of a secret file (COPY_FRACTION of its distinctive lines);
 * - a hidden test's name appears anywhere.
 */
export function checkNoLeak(check: LeakCheck): void {
  const { root, shipped, secretFiles, publicCode, hiddenTests } = check;
  const template = shipped.get(SANDBOX_PEER_PATH);
  if (template === undefined) throw new LeakError(`${SANDBOX_PEER_PATH} is missing from the kit`);
  for (const stub of TODO_STUBS) {
    if (!template.includes(stub)) {
      throw new LeakError(
        `${SANDBOX_PEER_PATH} is not the template: it no longer throws ${stub}. ` +
          'Ship the TODO stubs, not an answer.',
      );
    }
  }

  const common = new Set(declarationLines(template));
  for (const path of publicCode) {
    if (path === SANDBOX_PEER_PATH) continue;
    for (const line of distinctiveLines(readFileSync(join(root, path), 'utf8'))) common.add(line);
  }
  const secretLines = new Map<string, string>();
  const secretTexts = secretFiles.map((path) => {
    const lines = new Set(distinctiveLines(readFileSync(join(root, path), 'utf8')));
    for (const line of lines) {
      if (!common.has(line) && !secretLines.has(line)) secretLines.set(line, path);
    }
    return { path, lines };
  });
  for (const [path, text] of shipped) {
    const own = new Set(distinctiveLines(text));
    for (const secret of secretTexts) {
      const shared = [...secret.lines].filter((line) => own.has(line)).length;
      if (shared >= COPY_MIN_LINES && shared >= COPY_FRACTION * secret.lines.size) {
        throw new LeakError(
          `${path} is a copy of ${secret.path}, which is secret: ` +
            `${shared} of its ${secret.lines.size} distinctive lines`,
        );
      }
    }
    const lines = text.split('\n');
    for (const [index, raw] of lines.entries()) {
      const line = raw.trim();
      const source = isDistinctive(line) ? secretLines.get(line) : undefined;
      if (source !== undefined) {
        throw new LeakError(
          `${path}:${index + 1} is a line of ${source}, which is secret: ${JSON.stringify(line)}`,
        );
      }
    }
    for (const hidden of hiddenTests) {
      if (text.includes(hidden.name)) {
        throw new LeakError(
          `${path} names a hidden test of ${hidden.file}: ${JSON.stringify(hidden.name)}`,
        );
      }
    }
  }
}

function isDistinctive(line: string): boolean {
  return line.length >= MIN_DISTINCTIVE_CHARS && !COMMON_LINE.test(line);
}

function distinctiveLines(text: string): string[] {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter(isDistinctive);
}

/** The first line of every class, member, function and type declaration: the template's API. */
function declarationLines(text: string): string[] {
  const file = ts.createSourceFile('peer.ts', text, ts.ScriptTarget.Latest, true);
  const lines = text.split('\n');
  const heads: string[] = [];
  const visit = (node: ts.Node): void => {
    if (
      ts.isClassDeclaration(node) ||
      ts.isClassElement(node) ||
      ts.isFunctionDeclaration(node) ||
      ts.isInterfaceDeclaration(node) ||
      ts.isTypeAliasDeclaration(node)
    ) {
      const { line } = file.getLineAndCharacterOfPosition(node.getStart(file));
      heads.push((lines[line] ?? '').trim());
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  return heads;
}

/**
 * `out` must be new, empty, or (with force) a previous export; never the repository itself
 * or a folder the export reads from.
 */
function checkOutFolder(from: string, out: string, force: boolean): void {
  const inside = (child: string, parent: string): boolean =>
    child === parent || child.startsWith(parent + sep);
  if (inside(from, out)) throw new Error(`${out} holds the repository being exported`);
  const top = relative(from, out).split(sep)[0];
  if (inside(out, from) && ['lab9', 'grader', 'docs', 'scripts', 'solution'].includes(top ?? '')) {
    throw new Error(`${out} is inside ${top}/, which the export reads; choose another folder`);
  }
  if (!existsSync(out) || readdirSync(out).length === 0) return;
  if (!force) throw new Error(`${out} is not empty; pass --force to replace a previous export`);
  const manifest = join(out, 'package.json');
  const name = existsSync(manifest)
    ? (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: unknown }).name
    : undefined;
  if (name !== STUDENT_NAME) {
    throw new Error(
      `${out} is not empty and is not a previous export; --force replaces only those`,
    );
  }
}

function prepareOut(out: string): void {
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
}

function writeFile(out: string, path: string, content: string | Buffer): void {
  const target = join(out, path);
  mkdirSync(dirname(target), { recursive: true });
  writeFileSync(target, content);
}

/**
 * Generated files pass the kit's own `prettier --check`, whatever JSON.stringify chose; with the
 * kit's prettier config and ignore file (the lock file stays as npm writes it). A child process:
 * prettier's API loads itself with a dynamic import, which Jest's module sandbox refuses.
 */
function formatWithPrettier(out: string, paths: readonly string[]): void {
  execFileSync(process.execPath, [PRETTIER, '--write', '--log-level', 'warn', ...paths], {
    cwd: out,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

interface PackageJson {
  name: string;
  scripts: Record<string, string>;
  devDependencies?: Record<string, string>;
  [key: string]: unknown;
}

/**
 * The same devDependencies as this repository but the instructors' tools, as the kit's lock file
 * has them, so `npm ci` accepts it.
 */
function studentPackageJson(root: string, withDemo: boolean): string {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as PackageJson;
  const scripts: Record<string, string> = {
    test: 'jest',
    lint: pkg.scripts.lint ?? 'eslint . && prettier --check .',
    format: pkg.scripts.format ?? 'prettier --write .',
    typecheck: pkg.scripts.typecheck ?? 'tsc --noEmit -p tsconfig.json',
  };
  if (withDemo && pkg.scripts.demo !== undefined) scripts.demo = pkg.scripts.demo;
  const student = {
    ...withoutDevDependencies(pkg, INSTRUCTOR_ONLY_DEV_DEPENDENCIES),
    name: STUDENT_NAME,
    description: 'Lab 9 — handling clients and routing data (student kit)',
    scripts,
  };
  return `${JSON.stringify(student, null, 2)}\n`;
}

/**
 * The same pinned versions as this repository, so `npm ci` installs exactly what was tested; less
 * the instructors' tools and the packages only they need.
 */
function studentLockFile(root: string): string {
  const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as LockFile;
  const pruned = pruneDevDependencies(lock, INSTRUCTOR_ONLY_DEV_DEPENDENCIES);
  const packages = { ...pruned.packages };
  const rootPackage = packages[''];
  if (rootPackage) packages[''] = { ...rootPackage, name: STUDENT_NAME };
  return `${JSON.stringify({ ...pruned, name: STUDENT_NAME, packages }, null, 2)}\n`;
}

function studentTsconfig(root: string): string {
  const config = JSON.parse(readFileSync(join(root, 'tsconfig.json'), 'utf8')) as {
    include: string[];
    exclude?: string[];
  };
  config.include = ['lab9', 'grader', 'scripts'];
  config.exclude = ['node_modules'];
  return `${JSON.stringify(config, null, 2)}\n`;
}

function studentJestConfig(publicSuites: readonly RubricSuite[]): string {
  const suites = publicSuites.map((suite) => `    '<rootDir>/${suite.file}',`).join('\n');
  return `// Self-check: the kit's unit tests and the public grader tests, run against YOUR Peer
// (lab9/src/peer/peer.ts). The points table at the end comes from grader/rubric.json.
const { availableParallelism } = require('node:os');

/** @type {import('jest').Config} */
module.exports = {
  // Two test files at once even on 2 cores (Jest's default there is one): the public tests
  // spend most of their time waiting on your Peer in a process of its own.
  maxWorkers: Math.max(2, availableParallelism() - 1),
  testEnvironment: 'node',
  transform: { '^.+\\\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  testMatch: [
    '<rootDir>/lab9/test/**/*.test.ts',
${suites}
  ],
  reporters: ['default', '<rootDir>/grader/selfcheck/points-reporter.js'],
  // Jest's default bound per test, scaled by LAB9_TIME_FACTOR on a slow machine (README).
  setupFilesAfterEnv: ['<rootDir>/lab9/test/helpers/jest-timeout.ts'],
  // Compiles the peer process's code once, before any test's time bound starts.
  globalSetup: '<rootDir>/grader/harness/peer-host/global-setup.ts',
};
`;
}

/** scripts/student-kit/README.md with the rubric's totals filled in, and the demo's section if it ships. */
function studentReadme(root: string, rubric: Rubric, withDemo: boolean): string {
  const points = (suites: readonly RubricSuite[]): number =>
    suites.reduce((sum, suite) => sum + summary(suite).points, 0);
  const hidden = rubric.suites.filter((suite) => suite.visibility === 'hidden');
  const totals: Record<string, number> = {
    publicPoints: points(rubric.suites.filter((suite) => suite.visibility === 'visible')),
    hiddenTests: hidden.reduce((sum, suite) => sum + suite.tests.length, 0),
    hiddenPoints: points(hidden),
  };
  let text = readFileSync(join(root, 'scripts/student-kit/README.md'), 'utf8');
  text = text.replace(DEMO_SECTION, (_section, body: string) => (withDemo ? body : ''));
  if (totals.hiddenTests === 0) text = text.replace(HIDDEN_TOTAL, '');
  return text.replace(/\{\{(\w+)\}\}/g, (placeholder, name: string) =>
    String(totals[name] ?? placeholder),
  );
}

/** The public suites as they are; of the hidden ones only how many tests and points. */
function studentRubric(rubric: Rubric): string {
  const hidden = rubric.suites
    .filter((suite) => suite.visibility === 'hidden')
    .flatMap((suite) => suite.tests);
  const student = {
    lab: rubric.lab,
    hiddenTests: hidden.length,
    hiddenPoints: hidden.reduce((sum, test) => sum + test.points, 0),
    suites: rubric.suites.filter((suite) => suite.visibility === 'visible'),
  };
  return `${JSON.stringify(student, null, 2)}\n`;
}

/** The summary printed after an export: what ships, what does not, what to do next. */
export function describeExport(report: ExportReport, shownOut: string): string {
  const total = (suites: readonly SuiteSummary[]): string => {
    const tests = suites.reduce((sum, suite) => sum + suite.tests, 0);
    const points = suites.reduce((sum, suite) => sum + suite.points, 0);
    const names = suites.map((suite) => suite.file.replace(/^grader\/suites\/|\.test\.ts$/g, ''));
    return `${suites.length} suites · ${tests} tests · ${points} points (${names.join(', ') || 'none'})`;
  };
  return [
    `Exported the student kit to ${shownOut}: ${report.files.length} files`,
    `  public tests   ${total(report.publicSuites)}`,
    `  hidden tests   ${total(report.hiddenSuites)}: not exported, their points announced`,
    `  demo           ${report.demoLeftOut === null ? 'npm run demo' : `left out: ${report.demoLeftOut}`}`,
    `  leak check     passed against ${report.secretFiles} secret files (solution/, hidden suites)`,
    `Next: cd ${shownOut} && npm ci && npm test   (0 public points until the TODOs are written)`,
    '',
  ].join('\n');
}

const USAGE = `usage: npm run export:student -- <out dir> [--force]
  Writes the student kit (template, public tests, docs, self-check workflow) into <out dir>,
  which must be new or empty; --force replaces a previous export. Writes nothing if any file or
  distinctive line of solution/ or of a hidden suite would ship.
`;

function main(argv: readonly string[]): number {
  const args = argv.filter((arg) => arg !== '--force');
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(USAGE);
    return 0;
  }
  const [out] = args;
  if (args.length !== 1 || out === undefined || out.startsWith('-')) {
    process.stderr.write(USAGE);
    return 2;
  }
  // npm runs scripts in the package root; INIT_CWD is where the instructor typed the command.
  const cwd = process.env.INIT_CWD ?? process.cwd();
  try {
    const report = exportStudentKit({
      out: resolve(cwd, out),
      force: argv.includes('--force'),
    });
    const shown = relative(cwd, report.out);
    process.stdout.write(
      describeExport(report, shown === '' ? '.' : shown.startsWith('..') ? report.out : shown),
    );
    return 0;
  } catch (error) {
    const refused = error instanceof LeakError;
    process.stderr.write(
      `${refused ? 'refusing to export (nothing written)' : 'export failed'}: ${(error as Error).message}\n`,
    );
    return 1;
  }
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
