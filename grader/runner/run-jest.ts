/**
 * One Jest run of the grader suites on one sandbox: the kit's grader/jest.config.js with the
 * runner's settings on top (our reporter, loaded from the kit; one worker process, so no test
 * runs in the process that holds the channel; a cache of its own), under child.ts limits.
 * Below: child.ts runs it, channel.ts verifies what the reporter sent once the tree is dead.
 * Above: grade-submission.ts, which repeats runs with different seeds and scores them.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import { type ChannelReading, type ChannelRecord, newChannelKey, readChannel } from './channel';
import { type ChildLimits, type ChildResult, runChild } from './child';
import { JEST_WORKERS } from './limits';
import { type Sandbox, withoutSandboxPath } from './sandbox';

/** The reporter, from the kit's own tree (this folder), never from a sandbox. */
export const CHANNEL_REPORTER = join(__dirname, 'channel-reporter.js');

/** How one run ended. `ok`: Jest reported its run complete (whatever the tests' results). */
export type RunOutcome = 'ok' | 'timeout' | 'memory-limit' | 'output-limit' | 'crashed';

export interface JestRun {
  readonly seed: number;
  readonly outcome: RunOutcome;
  /** One line on how it ended, for the feedback. */
  readonly reason: string;
  readonly reading: ChannelReading;
  /** Jest's own output (not the tests' console, which the reporter does not print), capped. */
  readonly output: string;
  readonly durationMs: number;
  readonly peakRssBytes: number;
}

export interface JestRunOptions {
  readonly kitRoot: string;
  readonly sandbox: Sandbox;
  readonly seed: number;
  readonly limits: ChildLimits;
  /** V8 heap limit of each Node process of the run. */
  readonly heapMib: number;
}

const RUN_CONFIG = 'grader/.grade-run.config.js';

/** The run's Jest config: the kit's, read in the sandbox, with the runner's settings on top. */
function runConfig(sandbox: Sandbox, limits: ChildLimits): string {
  const settings = {
    reporters: [CHANNEL_REPORTER],
    cacheDirectory: sandbox.cache,
    maxWorkers: JEST_WORKERS,
    // Any idle-memory limit makes Jest use worker processes even for one worker or one file.
    workerIdleMemoryLimit: limits.memoryBytes,
    workerThreads: false,
    watchman: false,
    collectCoverage: false,
  };
  return [
    '// Written by grader/runner/run-jest.ts for one graded run: the kit config, runner settings on top.',
    "const base = require('./jest.config.js');",
    `const settings = ${JSON.stringify(settings)};`,
    'module.exports = async () => ({',
    "  ...(typeof base === 'function' ? await base() : base),",
    '  ...settings,',
    '});',
    '',
  ].join('\n');
}

export async function runJest(options: JestRunOptions): Promise<JestRun> {
  const { sandbox, limits } = options;
  writeFileSync(join(sandbox.root, RUN_CONFIG), runConfig(sandbox, limits));
  const key = newChannelKey();
  const result = await runChild({
    command: process.execPath,
    args: [
      join(options.kitRoot, 'node_modules', 'jest', 'bin', 'jest.js'),
      '--config',
      RUN_CONFIG,
      '--ci',
      '--forceExit',
      `--seed=${options.seed}`,
    ],
    cwd: sandbox.root,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: sandbox.tmp,
      TMPDIR: sandbox.tmp,
      CI: 'true',
      NODE_ENV: 'test',
      FORCE_COLOR: '0',
      NO_COLOR: '1',
      LAB9_SEED: String(options.seed),
      NODE_OPTIONS: `--max-old-space-size=${options.heapMib}`,
    },
    limits,
    channelKey: key,
    completionMarker: '"kind":"done"',
  });
  const reading = readChannel(result.channel, key, result.channelTruncated);
  const records = reading.records.map((record) => withoutSandboxPaths(record, sandbox.root));
  const done = records.some((record) => record.kind === 'done');
  const [outcome, reason] = describeEnd(result, done, limits, records);
  const anomalies =
    result.survivors.length === 0
      ? reading.anomalies
      : [...reading.anomalies, `processes ${result.survivors.join(', ')} survived SIGKILL`];
  return {
    seed: options.seed,
    outcome,
    reason,
    reading: { records, anomalies },
    output: withoutSandboxPath(stripVTControlCharacters(result.output), sandbox.root),
    durationMs: result.durationMs,
    peakRssBytes: result.peakRssBytes,
  };
}

/** Failure messages name files as in the kit (lab9/src/peer/peer.ts:12:5), not /tmp/lab9-grade-x/. */
function withoutSandboxPaths(record: ChannelRecord, root: string): ChannelRecord {
  const clean = (text: string): string => withoutSandboxPath(text, root);
  switch (record.kind) {
    case 'case':
      return { ...record, failures: record.failures.map(clean) };
    case 'file':
      return {
        ...record,
        error: record.error === null ? null : clean(record.error),
        tests: record.tests.map((test) => ({ ...test, failures: test.failures.map(clean) })),
      };
    case 'start':
    case 'done':
      return record;
  }
}

/** Jest's words for a test file whose worker process died under it (jest-worker). */
const WORKER_OUT_OF_MEMORY = /Jest worker ran out of memory/;
const WORKER_CRASHED = /child process exceptions, exceeding retry limit|Call retries were exceeded/;

function describeEnd(
  result: ChildResult,
  done: boolean,
  limits: ChildLimits,
  records: readonly ChannelRecord[],
): [RunOutcome, string] {
  const seconds = (result.durationMs / 1000).toFixed(1);
  switch (result.end) {
    case 'timeout':
      return ['timeout', `stopped after the time limit of ${limits.timeoutMs / 1000} s`];
    case 'memory-limit':
      return ['memory-limit', `stopped above the memory limit of ${mib(limits.memoryBytes)} MiB`];
    case 'output-limit':
      return [
        'output-limit',
        `stopped after printing more than ${mib(limits.outputFloodBytes)} MiB`,
      ];
    case 'lingered':
    case 'exited':
      break;
  }
  if (done) {
    // The run completed, but a file lost its worker: say so, its tests' results are gone.
    for (const record of records) {
      if (record.kind !== 'file' || record.error === null) continue;
      if (WORKER_OUT_OF_MEMORY.test(record.error)) {
        return ['memory-limit', `the test process ran out of memory while running ${record.file}`];
      }
      if (WORKER_CRASHED.test(record.error)) {
        return ['crashed', `the test process died again and again while running ${record.file}`];
      }
    }
    const lingered = result.end === 'lingered' ? ' (it left handles open and was stopped)' : '';
    return ['ok', `completed in ${seconds} s${lingered}`];
  }
  if (result.spawnError !== null) return ['crashed', `Jest could not start: ${result.spawnError}`];
  if (/heap out of memory|ERR_WORKER_OUT_OF_MEMORY/.test(result.output)) {
    return ['memory-limit', 'a process ran out of its heap and died'];
  }
  const how = result.signal === null ? `exit code ${result.exitCode}` : `signal ${result.signal}`;
  return ['crashed', `Jest ended (${how}) after ${seconds} s without completing the run`];
}

function mib(bytes: number): string {
  return (bytes / 1024 / 1024).toFixed(0);
}
