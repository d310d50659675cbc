/**
 * `npm run package:gradescope [-- --out <zip>]`: builds the Gradescope autograder zip: setup.sh
 * and run_autograder (scripts/gradescope/) at its root, beside the grader (every suite, public
 * and hidden, the rubric, harness, runner and CLI), lab9/src, package.json, the lock file and
 * tsconfig.json. Never solution/: the build fails if a file or a distinctive line of it would go
 * in. The zip is reproducible: same sources, same bytes.
 * Below: the file walk, import closure and leak check of export-student.ts. Above: Gradescope,
 * which unpacks the zip into /autograder/source and runs setup.sh once, run_autograder per
 * submission.
 */
import { createWriteStream, mkdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { ZipFile } from 'yazl';
import { loadRubric, maxScore } from '../grader/rubric';
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
  const contents = new Map(code.map((path) => [path, readFileSync(join(from, path))]));
  for (const script of SCRIPTS) {
    contents.set(script, readFileSync(join(from, 'scripts/gradescope', script)));
  }
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
  };
}

export function describePackage(report: PackageReport, shownZip: string): string {
  return [
    `Wrote ${shownZip}: ${report.files.length} files, ${(report.bytes / 1024).toFixed(0)} KiB`,
    `  grader        ${report.publicSuites} public + ${report.hiddenSuites} hidden suites · ` +
      `${report.tests} tests · ${report.points} points (grader/rubric.json)`,
    '  scripts       setup.sh (Node 20, npm ci) · run_autograder (grades /autograder/submission)',
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
    const refused = error instanceof LeakError;
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
