/**
 * `npm run mutation:check`: re-runs single mutants of the last `npm run mutation`, each alone,
 * outside Stryker, to say for sure what happened to them. By default the mutants Stryker called
 * "Timeout": on a loaded machine a run can pass Stryker's time limit without any test failing,
 * so a timeout alone proves nothing. Each one runs the graded suites in the sandbox Stryker left
 * (its instrumented solution/peer.ts), with __STRYKER_ACTIVE_MUTANT__ set as Stryker sets it,
 * and Jest stops at the first failing suite. Left: stryker.config.mjs. Results: docs/mutation.md.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const REPO_ROOT = join(__dirname, '..');
const REPORT = join(REPO_ROOT, 'reports', 'mutation', 'mutation.json');
const OUT = join(REPO_ROOT, 'reports', 'mutation', 'check.json');
const SANDBOXES = join(REPO_ROOT, '.stryker-tmp');
const MUTATED = 'solution/peer.ts';

const HELP = `usage: npm run mutation:check -- [--status STATUS] [--ids 1,2,3] [--limit-s N] [--sandbox DIR]

  --status STATUS  re-run every mutant the last report gives this status (default Timeout)
  --ids LIST       re-run these mutant ids instead (e.g. to watch a killable one get killed)
  --limit-s N      give up on one mutant after N seconds and call it hanging (default 600)
  --sandbox DIR    the Stryker sandbox of that report (default: the newest under .stryker-tmp/)`;

/** The fields of Stryker's mutation-testing-report-schema read here. */
interface Report {
  readonly files: Record<
    string,
    {
      readonly mutants: readonly {
        readonly id: string;
        readonly mutatorName: string;
        readonly replacement?: string;
        readonly status: string;
        readonly location: { readonly start: { readonly line: number; readonly column: number } };
      }[];
    }
  >;
}

interface JestJson {
  readonly numFailedTests: number;
  readonly numPassedTests: number;
  readonly testResults: readonly {
    readonly message: string;
    readonly assertionResults: readonly { readonly fullName: string; readonly status: string }[];
  }[];
}

type Verdict =
  | { readonly kind: 'killed'; readonly by: string }
  | { readonly kind: 'survived'; readonly passed: number }
  | { readonly kind: 'hanging' };

/** The newest sandbox Stryker kept (cleanTempDir: false), with its instrumented peer.ts. */
function newestSandbox(): string {
  const candidates = existsSync(SANDBOXES)
    ? readdirSync(SANDBOXES)
        .filter((name) => name.startsWith('sandbox-'))
        .map((name) => join(SANDBOXES, name))
        .filter((dir) =>
          readFileSync(join(dir, MUTATED), 'utf8').includes('__STRYKER_ACTIVE_MUTANT__'),
        )
    : [];
  const newest = candidates.sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)[0];
  if (!newest) {
    throw new Error(
      `no Stryker sandbox with an instrumented ${MUTATED} under ${SANDBOXES}: run npm run mutation first`,
    );
  }
  return newest;
}

function runMutant(sandbox: string, id: string, limitSeconds: number): Promise<Verdict> {
  const outputFile = join(sandbox, `check-${id}.json`);
  const args = [
    join(REPO_ROOT, 'node_modules', 'jest', 'bin', 'jest.js'),
    '-c',
    'grader/jest.config.js',
    '--ci',
    '--silent',
    '--maxWorkers=1',
    '--bail=1',
    '--json',
    `--outputFile=${outputFile}`,
  ];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, {
      cwd: sandbox,
      env: {
        ...process.env,
        LAB9_PEER_MODULE: 'solution/peer',
        __STRYKER_ACTIVE_MUTANT__: id,
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString('utf8')).slice(-2000);
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), limitSeconds * 1000);
    child.on('error', reject);
    child.on('close', (_code, signal) => {
      clearTimeout(timer);
      if (signal === 'SIGKILL') return resolve({ kind: 'hanging' });
      let json: JestJson;
      try {
        json = JSON.parse(readFileSync(outputFile, 'utf8')) as JestJson;
      } catch {
        return reject(new Error(`mutant ${id}: Jest wrote no results.\n${stderr.trim()}`));
      }
      const failed = json.testResults.flatMap((file) =>
        file.assertionResults.length === 0 && file.message
          ? ['(a whole suite failed to run)']
          : file.assertionResults.filter((t) => t.status === 'failed').map((t) => t.fullName),
      );
      resolve(
        failed.length > 0
          ? { kind: 'killed', by: failed[0] ?? '' }
          : { kind: 'survived', passed: json.numPassedTests },
      );
    });
  });
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      status: { type: 'string', default: 'Timeout' },
      ids: { type: 'string' },
      'limit-s': { type: 'string', default: '600' },
      sandbox: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(HELP);
    return;
  }
  const limitSeconds = Number(values['limit-s']);
  const report = JSON.parse(readFileSync(REPORT, 'utf8')) as Report;
  const mutants = Object.values(report.files).flatMap((file) => file.mutants);
  const wanted = values.ids?.split(',').map((id) => id.trim());
  const chosen = mutants.filter((m) =>
    wanted ? wanted.includes(m.id) : m.status === values.status,
  );
  const sandbox = resolve(values.sandbox ?? newestSandbox());
  console.log(
    `re-running ${chosen.length} mutant(s) alone (${wanted ? 'by id' : `status ${values.status}`}) in ${sandbox}`,
  );
  const results: { id: string; was: string; verdict: Verdict }[] = [];
  for (const [i, mutant] of chosen.entries()) {
    const started = Date.now();
    const verdict = await runMutant(sandbox, mutant.id, limitSeconds);
    results.push({ id: mutant.id, was: mutant.status, verdict });
    const where = `${MUTATED}:${mutant.location.start.line}:${mutant.location.start.column}`;
    const what =
      verdict.kind === 'killed'
        ? `KILLED by "${verdict.by}"`
        : verdict.kind === 'survived'
          ? `SURVIVED (${verdict.passed} tests passed)`
          : `still running after ${limitSeconds} s`;
    console.log(
      `${i + 1}/${chosen.length} mutant ${mutant.id} (${mutant.mutatorName} at ${where}, was ${mutant.status}): ` +
        `${what} · ${((Date.now() - started) / 1000).toFixed(0)} s`,
    );
  }
  writeFileSync(OUT, JSON.stringify(results, null, 2) + '\n');
  const count = (kind: Verdict['kind']): number =>
    results.filter((r) => r.verdict.kind === kind).length;
  console.log(
    `${count('killed')} killed · ${count('survived')} survived · ${count('hanging')} hanging · written to ${OUT}`,
  );
  if (count('survived') > 0) process.exitCode = 1;
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 2;
});
