/**
 * One Jest run of the grader suites on one sandbox: the kit's grader/jest.config.js with the
 * runner's settings on top (our reporter and canary, loaded from the kit; one worker thread, so
 * no test runs in the thread that holds the channel's key; no transform cache), inside the
 * isolation layers and under child.ts limits. The student's code never runs in the Jest
 * process: the harness starts it in a peer process of its own, from JavaScript compiled here
 * before the run (peer-host.ts), under a second uid where the grader is root.
 * Below: child.ts runs it, channel.ts verifies what the reporter sent once the tree is dead,
 * canary.ts checks the canaries. Above: grade-submission.ts, which repeats runs and scores them.
 */
import { realpathSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import { TIME_FACTOR, TIME_FACTOR_VARIABLE } from '../../lab9/src/time-factor';
import { CANARY_SETUP, checkCanaries } from './canary';
import { type ChannelReading, type ChannelRecord, newChannelKey, readChannel } from './channel';
import { type ChildLimits, type ChildResult, runChild } from './child';
import { confine, type Isolation } from './isolation';
import { JEST_WORKERS } from './limits';
import { permissionFlags, quietPermissionFlags } from './node-flags';
import { PEER_HOST_VARIABLE, preparePeerHost } from './peer-host';
import { type Sandbox, withoutSandboxPath } from './sandbox';

/** The reporter, from the kit's own tree (this folder), never from a sandbox. */
export const CHANNEL_REPORTER = join(__dirname, 'channel-reporter.js');

/** Keeps process.memoryUsage() working where the run has no /proc (mount namespace). */
export const NO_PROC_SHIM = join(__dirname, 'no-proc-shim.js');

/** The grading tool's own node_modules: the reporter requires jest from there. */
const TOOL_NODE_MODULES = join(__dirname, '..', '..', 'node_modules');

/** Where one run happened, so that a check afterwards can look for anything it left. */
export interface RunIdentity {
  /** RUN_TAG_VARIABLE's value in every process of the run that kept its environment. */
  readonly tag: string;
  readonly uid: number | null;
  readonly cgroup: string | null;
}

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
  /** Absent in runs built by tests. */
  readonly identity?: RunIdentity;
}

export interface JestRunOptions {
  readonly kitRoot: string;
  readonly sandbox: Sandbox;
  readonly seed: number;
  readonly limits: ChildLimits;
  /** V8 heap limit of each Node process of the run. */
  readonly heapMib: number;
  readonly isolation: Isolation;
}

const RUN_CONFIG = 'grader/.grade-run.config.js';

/** The run's Jest config: the kit's, read in the sandbox, with the runner's settings on top. */
function runConfig(sandbox: Sandbox, limits: ChildLimits): string {
  const settings = {
    reporters: [CHANNEL_REPORTER],
    // No transform cache: nothing transformed in one run can be read or reused by another, or
    // by a later suite of the same run.
    cache: false,
    cacheDirectory: sandbox.cache,
    maxWorkers: JEST_WORKERS,
    // Any idle-memory limit makes Jest use workers even for one worker or one file: no test
    // runs in the main thread, where the reporter holds the key.
    workerIdleMemoryLimit: limits.memoryBytes,
    workerThreads: true,
    watchman: false,
    collectCoverage: false,
  };
  return [
    '// Written by grader/runner/run-jest.ts for one graded run: the kit config, runner settings on top.',
    "const base = require('./jest.config.js');",
    `const settings = ${JSON.stringify(settings)};`,
    'module.exports = async () => {',
    "  const config = typeof base === 'function' ? await base() : base;",
    '  return {',
    '    ...config,',
    '    ...settings,',
    `    setupFilesAfterEnv: [...(config.setupFilesAfterEnv ?? []), ${JSON.stringify(CANARY_SETUP)}],`,
    '  };',
    '};',
    '',
  ].join('\n');
}

/**
 * Node's own flags for the Jest process: with the permission model, no inspector and no writes
 * outside the run's folders. Workers (Jest's test thread), child processes (the peer process)
 * and addons (Jest's resolver is one) stay allowed: no student code runs in this process.
 */
function nodeFlags(isolation: Isolation, sandbox: Sandbox): string[] {
  if (isolation.permissionFlag === null) return [];
  const flags = permissionFlags({
    read: ['*'],
    write: [sandbox.tmp, sandbox.cache],
    worker: true,
    childProcess: true,
    addons: true,
    net: true,
  });
  return flags === null ? [] : [...flags, ...quietPermissionFlags()];
}

export async function runJest(options: JestRunOptions): Promise<JestRun> {
  const { sandbox, limits } = options;
  writeFileSync(join(sandbox.root, RUN_CONFIG), runConfig(sandbox, limits));
  const key = newChannelKey();
  const kitModules = realpathSync(join(options.kitRoot, 'node_modules'));
  const peerHost = preparePeerHost(sandbox);
  let confinement;
  try {
    confinement = confine(options.isolation, {
      command: process.execPath,
      args: [
        ...nodeFlags(options.isolation, sandbox),
        join(kitModules, 'jest', 'bin', 'jest.js'),
        '--config',
        RUN_CONFIG,
        '--ci',
        '--forceExit',
        `--seed=${options.seed}`,
      ],
      cwd: sandbox.root,
      readOnly: [
        sandbox.root,
        kitModules,
        TOOL_NODE_MODULES,
        CHANNEL_REPORTER,
        CANARY_SETUP,
        NO_PROC_SHIM,
        peerHost.dir,
      ],
      writable: [sandbox.tmp, sandbox.cache],
      memoryBytes: limits.memoryBytes,
      base: dirname(sandbox.root),
      peerUid: true,
    });
    peerHost.lockFor(confinement.uid, confinement.peerUid);
  } catch (error) {
    peerHost.remove();
    throw error;
  }
  const plan = peerHost.plan(
    options.isolation.setpriv,
    confinement.peerUid,
    options.heapMib,
    options.isolation.permissionFlag !== null,
  );
  const result = await runChild({
    command: confinement.command,
    args: confinement.args,
    confinement,
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
      // The grader's own factor: inside the sandbox there is no /proc to read the load from.
      [TIME_FACTOR_VARIABLE]: String(TIME_FACTOR),
      [PEER_HOST_VARIABLE]: JSON.stringify(plan),
      NODE_OPTIONS: [
        `--max-old-space-size=${options.heapMib}`,
        ...(options.isolation.bwrap === null ? [] : [`--require=${JSON.stringify(NO_PROC_SHIM)}`]),
      ].join(' '),
    },
    limits,
    channelKey: key,
    completionMarker: '"kind":"done"',
  }).finally(() => peerHost.remove());
  // Read only now: the whole tree is dead, nothing can add to or change what it sent.
  const reading = readChannel(result.channel, key, result.channelTruncated);
  const canaries = checkCanaries(reading.records);
  const records = canaries.records.map((record) => withoutSandboxPaths(record, sandbox.root));
  const done = records.some((record) => record.kind === 'done');
  const [outcome, reason] = describeEnd(result, done, limits, records);
  const anomalies = [...reading.anomalies, ...canaries.anomalies];
  if (result.survivors.length > 0) {
    anomalies.push(`processes ${result.survivors.join(', ')} survived SIGKILL`);
  }
  return {
    seed: options.seed,
    outcome,
    reason,
    reading: { records, anomalies },
    output:
      withoutSandboxPath(stripVTControlCharacters(result.output), sandbox.root) +
      graderNotes(result),
    durationMs: result.durationMs,
    peakRssBytes: result.peakRssBytes,
    identity: { tag: result.tag, uid: result.uid, cgroup: result.cgroup },
  };
}

/** Files removed after the run: listed up to this many in its log, the rest counted. */
const SHOWN_LEFTOVERS = 20;

/** What the grader did to the run from outside, for run.log: leftovers removed, CPU throttling. */
function graderNotes(result: ChildResult): string {
  const notes: string[] = [];
  const removed = result.leftoversRemoved;
  if (removed.length > 0) {
    const shown = removed.slice(0, SHOWN_LEFTOVERS).join(', ');
    const more =
      removed.length > SHOWN_LEFTOVERS ? ` and ${removed.length - SHOWN_LEFTOVERS} more` : '';
    notes.push(
      `[grader] removed ${removed.length} file${removed.length === 1 ? '' : 's'} the run left outside its sandbox: ${shown}${more}`,
    );
  }
  if (result.cpuThrottledPeriods > 0) {
    notes.push(
      `[grader] the run was held at its CPU limit in ${result.cpuThrottledPeriods} periods of 100 ms`,
    );
  }
  return notes.map((note) => `\n${note}`).join('');
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
  if (result.end === 'lingered') {
    // The marker is unverified bytes: something other than the reporter wrote it.
    return [
      'crashed',
      'stopped: its results channel said the run was done, but no signed record did',
    ];
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
