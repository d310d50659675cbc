/**
 * `npm run package:gradescope [-- --out <zip>]`: builds the Gradescope autograder zip: setup.sh
 * and run_autograder (scripts/gradescope/) at its root, beside the grader (every suite, public
 * and hidden, the rubric, harness, runner and CLI), lab9/src, package.json, the lock file and
 * tsconfig.json. Never solution/: the build fails if a file or a distinctive line of it would go
 * in. The zip is reproducible: same sources, same bytes. run_autograder's grading options must
 * fit Gradescope's container (GRADESCOPE_CONTAINER): a --memory under its 768 MB, and a --seed,
 * so that regrading gives the same results; packaging refuses otherwise.
 * Below: the file walk, import closure and leak check of export-student.ts. Above: Gradescope,
 * which unpacks the zip into /autograder/source and runs setup.sh once, run_autograder per
 * submission.
 */
import { createWriteStream, mkdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { ZipFile } from 'yazl';
import { loadRubric, maxScore } from '../grader/rubric';
import { DEFAULT_MEMORY_MIB } from '../grader/runner/limits';
import {
  INSTRUCTOR_ONLY_DEV_DEPENDENCIES,
  type LockFile,
  pruneDevDependencies,
  withoutDevDependencies,
} from './lock-prune';
import { checkNoLeak, importClosure, LeakError, walk } from './export-student';

export interface PackageOptions {
  /** Repository to package. @default this repository */
  readonly from?: string;
  /** The zip to write. @default out/lab9-gradescope.zip in the repository */
  readonly out?: string;
}

export interface PackageReport {
  readonly zip: string;
  /** Every entry, sorted. */
  readonly files: readonly string[];
  readonly bytes: number;
  readonly publicSuites: number;
  readonly hiddenSuites: number;
  readonly tests: number;
  readonly points: number;
  /** run_autograder's options of the grading CLI (GRADE_OPTIONS), in order. */
  readonly gradeOptions: readonly string[];
}

/** What a Gradescope autograder container gives by default (its documentation, 2026). */
export const GRADESCOPE_CONTAINER = {
  user: 'root',
  memoryMb: 768,
  vcpus: 0.5,
  /** bubblewrap cannot make its namespaces there: the grader runs without those layers. */
  namespaces: false,
} as const;

/** run_autograder's options cannot work in Gradescope's container; nothing is written. */
export class PackageOptionsError extends Error {
  readonly code = 'ERR_GRADESCOPE_OPTIONS';
  override readonly name = 'PackageOptionsError';
}

/** The words of every `GRADE_OPTIONS=(…)` and `GRADE_OPTIONS+=(…)` line of run_autograder. */
export function gradeOptionsOf(script: string): string[] {
  return [...script.matchAll(/^GRADE_OPTIONS\+?=\(([^)]*)\)/gm)].flatMap((match) =>
    (match[1] ?? '').split(/\s+/).filter((word) => word !== ''),
  );
}

/** Refuses options that would exceed the container's memory or reseed every regrade. */
export function checkGradeOptions(options: readonly string[]): void {
  const valueOf = (name: string): string | undefined => {
    const at = options.lastIndexOf(name);
    return at === -1 ? undefined : options[at + 1];
  };
  const memory = Number(valueOf('--memory'));
  if (!Number.isInteger(memory) || memory >= GRADESCOPE_CONTAINER.memoryMb) {
    throw new PackageOptionsError(
      `run_autograder's GRADE_OPTIONS need --memory under the container's ${GRADESCOPE_CONTAINER.memoryMb} MB ` +
        `(the grader's default, ${DEFAULT_MEMORY_MIB} MiB, is not); found ${valueOf('--memory') ?? 'none'}`,
    );
  }
  if (!/^\d+$/.test(valueOf('--seed') ?? '')) {
    throw new PackageOptionsError(
      "run_autograder's GRADE_OPTIONS need a fixed --seed, or every regrade runs with new seeds",
    );
  }
}

const REPO_ROOT = join(__dirname, '..');
const DEFAULT_ZIP = 'out/lab9-gradescope.zip';
/** Gradescope's two scripts, taken from scripts/gradescope/ to the root of the zip. */
const SCRIPTS = ['setup.sh', 'run_autograder'];
/** What grading needs: the CLI and runner load the rest by path (reporter, worker, config). */
const ROOTS = ['lab9/src', 'grader'];
const FILES = ['package.json', 'package-lock.json', 'tsconfig.json'];
/** Parts of grader/ that grading never loads: the kit's own tests and the students' reporter. */
const LEFT_OUT = ['grader/test/', 'grader/selfcheck/'];
/** Entries carry this time, not the files' mtimes, so the same sources give the same zip. */
const FIXED_MTIME = new Date('2020-01-01T00:00:00Z');

/**
 * package.json and its lock file, as read for the zip, without INSTRUCTOR_ONLY_DEV_DEPENDENCIES:
 * the container's npm ci installs what grading needs, not the maintainers' tools (Stryker).
 */
function pruneManifests(contents: Map<string, Buffer>): void {
  const json = (value: unknown): Buffer => Buffer.from(`${JSON.stringify(value, null, 2)}\n`);
  const parsed = (path: string): unknown => {
    const bytes = contents.get(path);
    if (bytes === undefined) throw new Error(`${path} is not among the files to package`);
    return JSON.parse(bytes.toString('utf8'));
  };
  const manifest = parsed('package.json') as { devDependencies?: Record<string, string> };
  const lock = parsed('package-lock.json') as LockFile;
  contents.set(
    'package.json',
    json(withoutDevDependencies(manifest, INSTRUCTOR_ONLY_DEV_DEPENDENCIES)),
  );
  contents.set(
    'package-lock.json',
    json(pruneDevDependencies(lock, INSTRUCTOR_ONLY_DEV_DEPENDENCIES)),
  );
}

export async function packageGradescope(options: PackageOptions = {}): Promise<PackageReport> {
  const from = resolve(options.from ?? REPO_ROOT);
  const zipPath = resolve(options.out ?? join(from, DEFAULT_ZIP));
  const rubric = loadRubric(from);
  const solution = walk(from, 'solution');
  const isSecret = (path: string): boolean => path.startsWith('solution/');

  const entries = [
    ...ROOTS.flatMap((dir) => walk(from, dir)).filter(
      (path) => !LEFT_OUT.some((prefix) => path.startsWith(prefix)),
    ),
    ...FILES,
  ];
  const code = importClosure(from, entries, isSecret);
  const contents = new Map<string, Buffer>(
    code.map((path) => [path, readFileSync(join(from, path))]),
  );
  pruneManifests(contents);
  for (const script of SCRIPTS) {
    contents.set(script, readFileSync(join(from, 'scripts/gradescope', script)));
  }
  const gradeOptions = gradeOptionsOf(contents.get('run_autograder')?.toString('utf8') ?? '');
  checkGradeOptions(gradeOptions);
  const shipped = new Map([...contents].map(([path, data]) => [path, data.toString('utf8')]));
  checkNoLeak({
    root: from,
    shipped,
    secretFiles: solution,
    publicCode: code.filter((path) => /\.(ts|js)$/.test(path)),
    hiddenTests: [],
  });

  const zip = new ZipFile();
  const names = [...contents.keys()].sort();
  for (const name of names) {
    const executable = SCRIPTS.includes(name);
    zip.addBuffer(contents.get(name) as Buffer, name, {
      mtime: FIXED_MTIME,
      mode: executable ? 0o100755 : 0o100644,
    });
  }
  zip.end();
  mkdirSync(dirname(zipPath), { recursive: true });
  await pipeline(zip.outputStream, createWriteStream(zipPath));

  const visible = rubric.suites.filter((suite) => suite.visibility === 'visible').length;
  return {
    zip: zipPath,
    files: names,
    bytes: statSync(zipPath).size,
    publicSuites: visible,
    hiddenSuites: rubric.suites.length - visible,
    tests: rubric.suites.reduce((sum, suite) => sum + suite.tests.length, 0),
    points: maxScore(rubric),
    gradeOptions,
  };
}

export function describePackage(report: PackageReport, shownZip: string): string {
  return [
    `Wrote ${shownZip}: ${report.files.length} files, ${(report.bytes / 1024).toFixed(0)} KiB`,
    `  grader        ${report.publicSuites} public + ${report.hiddenSuites} hidden suites · ` +
      `${report.tests} tests · ${report.points} points (grader/rubric.json)`,
    '  scripts       setup.sh (Node 24, npm ci) · run_autograder (grades /autograder/submission)',
    `  options       ${report.gradeOptions.join(' ')} (container: ${GRADESCOPE_CONTAINER.memoryMb} MB, ${GRADESCOPE_CONTAINER.vcpus} vCPU)`,
    '  leak check    no file or distinctive line of solution/',
    'Next: Gradescope → your assignment → Configure Autograder → upload this zip, base image',
    '      Ubuntu 22.04 (or newer); then "Test Autograder" with a peer.ts.',
    '',
  ].join('\n');
}

const USAGE = `usage: npm run package:gradescope [-- --out <zip>]
  Builds the Gradescope autograder zip (default ${DEFAULT_ZIP}): setup.sh, run_autograder,
  the grader with every suite and the rubric, lab9/src, package.json and the lock file.
`;

async function main(argv: readonly string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(USAGE);
    return 0;
  }
  const outAt = argv.indexOf('--out');
  const out = outAt === -1 ? undefined : argv[outAt + 1];
  const known = outAt === -1 ? 0 : 2;
  if (argv.length !== known || (outAt !== -1 && (out === undefined || out.startsWith('-')))) {
    process.stderr.write(USAGE);
    return 2;
  }
  // npm runs scripts in the package root; INIT_CWD is where the instructor typed the command.
  const cwd = process.env.INIT_CWD ?? process.cwd();
  try {
    const report = await packageGradescope(out === undefined ? {} : { out: resolve(cwd, out) });
    const shown = relative(cwd, report.zip);
    process.stdout.write(describePackage(report, shown.startsWith('..') ? report.zip : shown));
    return 0;
  } catch (error) {
    const refused = error instanceof LeakError || error instanceof PackageOptionsError;
    process.stderr.write(
      `${refused ? 'refusing to package (nothing written)' : 'packaging failed'}: ${(error as Error).message}\n`,
    );
    return 1;
  }
}

if (require.main === module) {
  void main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
