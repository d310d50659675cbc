/**
 * `npm run flake -- --runs N`: the flake budget. Runs every graded suite (grader/jest.config.js)
 * against the reference solution N times, each run a fresh Jest process as grading starts one,
 * counts the failures of each test and prints them. Exit code 0 only if no test ever failed.
 * What the budget is and the last measured result: docs/mutation.md.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const REPO_ROOT = join(__dirname, '..');
const JEST_BIN = join(REPO_ROOT, 'node_modules', 'jest', 'bin', 'jest.js');

const HELP = `usage: npm run flake -- [--runs N] [--peer MODULE] [--workers N]

  --runs N         whole-suite runs (default 100)
  --peer MODULE    the Peer under test, as LAB9_PEER_MODULE (default solution/peer)
  --workers N      Jest workers per run (default 1: the machine may be shared)`;

/** What Jest's --json output says about one test; only the fields read here. */
interface JestJson {
  readonly testResults: readonly {
    readonly name: string;
    readonly message: string;
    readonly assertionResults: readonly {
      readonly fullName: string;
      readonly status: string;
      readonly failureMessages: readonly string[];
    }[];
  }[];
}

interface RunResult {
  readonly passed: number;
  readonly failed: readonly { readonly test: string; readonly message: string }[];
  readonly seconds: number;
}

interface Options {
  readonly runs: number;
  readonly peer: string;
  readonly workers: number;
}

function positive(name: string, text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) {
    throw new RangeError(`--${name} must be a whole number of at least 1, got "${text}"`);
  }
  return value;
}

function options(): Options {
  const { values } = parseArgs({
    options: {
      runs: { type: 'string', default: '100' },
      peer: { type: 'string', default: 'solution/peer' },
      workers: { type: 'string', default: '1' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(HELP);
    process.exit(0);
  }
  return {
    runs: positive('runs', values.runs),
    peer: values.peer,
    workers: positive('workers', values.workers),
  };
}

/** The first line of a failure, enough to tell two causes apart in the summary. */
function firstLine(message: string): string {
  const line = message.split('\n').find((l) => l.trim() !== '') ?? '(no message)';
  return line.trim().slice(0, 160);
}

/** One whole-suite run in a fresh Jest process; its results come back through --outputFile. */
function runOnce(
  options: Options,
  scratch: string,
  run: number,
  signal: AbortSignal,
): Promise<RunResult> {
  const outputFile = join(scratch, `run-${run}.json`);
  const started = process.hrtime.bigint();
  const args = [
    JEST_BIN,
    '-c',
    join(REPO_ROOT, 'grader', 'jest.config.js'),
    '--ci',
    '--silent',
    `--maxWorkers=${options.workers}`,
    '--json',
    `--outputFile=${outputFile}`,
  ];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, {
      cwd: REPO_ROOT,
      env: { ...process.env, LAB9_PEER_MODULE: options.peer },
      stdio: ['ignore', 'ignore', 'pipe'],
      signal,
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString('utf8')).slice(-4000);
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (signal.aborted) {
        reject(new Error(`run ${run} interrupted`));
        return;
      }
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      let json: JestJson;
      try {
        json = JSON.parse(readFileSync(outputFile, 'utf8')) as JestJson;
      } catch {
        reject(
          new Error(`run ${run}: Jest exited with ${code} and wrote no results.\n${stderr.trim()}`),
        );
        return;
      }
      let passed = 0;
      const failed: { test: string; message: string }[] = [];
      for (const file of json.testResults) {
        if (file.assertionResults.length === 0 && file.message) {
          // A suite that could not run at all: its tests never reported.
          failed.push({ test: `${file.name} (the whole file)`, message: firstLine(file.message) });
        }
        for (const test of file.assertionResults) {
          if (test.status === 'passed') passed += 1;
          else {
            const message = test.failureMessages.join('\n') || test.status;
            failed.push({ test: test.fullName, message: firstLine(message) });
          }
        }
      }
      resolve({ passed, failed, seconds });
    });
  });
}

function clock(seconds: number): string {
  const m = Math.floor(seconds / 60);
  const s = Math.round(seconds % 60);
  return m > 0 ? `${m} min ${s} s` : `${s} s`;
}

async function main(): Promise<void> {
  const opts = options();
  const scratch = mkdtempSync(join(tmpdir(), 'lab9-flake-'));
  const failures = new Map<string, { count: number; messages: Set<string> }>();
  const durations: number[] = [];
  let failedRuns = 0;
  let testsPerRun = 0;
  // Ctrl-C ends the current run and still prints the summary of the runs that completed.
  const interrupt = new AbortController();
  process.once('SIGINT', () => interrupt.abort());
  console.log(`flake budget: ${opts.runs} runs of every graded suite against ${opts.peer}`);
  try {
    for (let run = 1; run <= opts.runs && !interrupt.signal.aborted; run++) {
      let result: RunResult;
      try {
        result = await runOnce(opts, scratch, run, interrupt.signal);
      } catch (error) {
        if (interrupt.signal.aborted) break;
        throw error;
      }
      durations.push(result.seconds);
      testsPerRun = Math.max(testsPerRun, result.passed + result.failed.length);
      if (result.failed.length > 0) failedRuns += 1;
      for (const { test, message } of result.failed) {
        const seen = failures.get(test) ?? { count: 0, messages: new Set<string>() };
        seen.count += 1;
        seen.messages.add(message);
        failures.set(test, seen);
      }
      const verdict =
        result.failed.length === 0
          ? 'all passed'
          : `${result.failed.length} FAILED: ${result.failed.map((f) => f.test).join(' | ')}`;
      console.log(
        `run ${run}/${opts.runs} · ${result.passed} passed · ${verdict} · ${result.seconds.toFixed(1)} s`,
      );
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }

  const runs = durations.length;
  const total = durations.reduce((a, b) => a + b, 0);
  const sorted = [...durations].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)] ?? 0;
  console.log('');
  if (runs < opts.runs) console.log(`interrupted: ${runs} of ${opts.runs} runs completed`);
  console.log(
    `${runs} runs · ${testsPerRun} tests each · ${runs - failedRuns} runs clean · ` +
      `${failedRuns} with a failure · ${clock(total)} in all · median run ${median.toFixed(1)} s · ` +
      `slowest ${(sorted.at(-1) ?? 0).toFixed(1)} s`,
  );
  if (failures.size === 0) {
    console.log(`no test failed in any of the ${runs} runs`);
    if (runs < opts.runs) process.exitCode = 130;
    return;
  }
  console.log('tests that failed at least once (failures / runs, then each distinct first line):');
  for (const [test, { count, messages }] of [...failures].sort((a, b) => b[1].count - a[1].count)) {
    console.log(`  ${count}/${runs}  ${test}`);
    for (const message of messages) console.log(`           ${message}`);
  }
  process.exitCode = 1;
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 2;
});
