/**
 * Runs one untrusted command (Jest on a sandbox, or the type check) under limits: wall clock,
 * resident memory of its whole process tree, and output, with the tree killed after every
 * exit, a clean one too. Optionally opens the results channel on fd 3 and sends the run's key,
 * and runs inside a confinement (isolation.ts), whose cgroup is killed and removed after it.
 * Below: process-tree.ts finds and kills the tree; output-cap.ts bounds what is kept.
 * Above: run-jest.ts and typecheck.ts. The channel's bytes are returned, not read: channel.ts
 * verifies them once the tree and its cgroup are dead.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import type { Duplex, Readable } from 'node:stream';
import { CHANNEL_FD, keyLine } from './channel';
import type { Confinement } from './isolation';
import { EXIT_GRACE_MS, MAX_CHANNEL_BYTES, MEMORY_POLL_MS, PIPE_DRAIN_MS } from './limits';
import { OutputCap } from './output-cap';
import { ProcessTree } from './process-tree';

/** The environment variable that tags every process of a run, so strays can be found. */
export const RUN_TAG_VARIABLE = 'LAB9_GRADE_RUN';

export interface ChildLimits {
  readonly timeoutMs: number;
  /** Resident memory of the whole tree. */
  readonly memoryBytes: number;
  /** Output kept (head and tail); see OutputCap. */
  readonly outputKeepBytes: number;
  /** Output past which the run is a flood and is killed. */
  readonly outputFloodBytes: number;
}

export interface ChildSpec {
  readonly command: string;
  readonly args: readonly string[];
  readonly cwd: string;
  /** The whole environment of the child: nothing of the parent's is passed unless listed. */
  readonly env: Readonly<Record<string, string>>;
  readonly limits: ChildLimits;
  /** Opens the results channel on fd 3 and sends this key as its first line. */
  readonly channelKey?: Buffer;
  /**
   * Bytes whose arrival on the channel means the run says it is done (unverified): it then gets
   * EXIT_GRACE_MS to exit before it is killed. Only shortens waiting, never scores.
   */
  readonly completionMarker?: string;
  /** @default EXIT_GRACE_MS */
  readonly exitGraceMs?: number;
  /**
   * The run's isolation layers (isolation.ts `confine`): `command` and `args` must be its
   * command line. Its cgroup is killed and removed, and its uid released, after the run.
   */
  readonly confinement?: Confinement;
}

/**
 * How the run ended. exited: by itself. lingered: it reported completion but did not exit and
 * was killed after the grace period. Others: killed for exceeding that limit.
 */
export type ChildEnd = 'exited' | 'lingered' | 'timeout' | 'memory-limit' | 'output-limit';

export interface ChildResult {
  readonly end: ChildEnd;
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  /** stdout and stderr as they interleaved, capped. */
  readonly output: string;
  readonly outputBytes: number;
  readonly channel: Buffer;
  /** The channel sent more than MAX_CHANNEL_BYTES; the rest was dropped. */
  readonly channelTruncated: boolean;
  readonly durationMs: number;
  readonly peakRssBytes: number;
  /** CFS periods in which the kernel held the run back for its CPU limit (0 without one). */
  readonly cpuThrottledPeriods: number;
  /** Files of the run's uid removed outside its sandbox after it (/tmp, /dev/shm, ...). */
  readonly leftoversRemoved: readonly string[];
  /** Pids of the tree still alive after killing it; empty unless something resisted SIGKILL. */
  readonly survivors: readonly number[];
  /** The command could not be started at all (e.g. ENOENT). */
  readonly spawnError: string | null;
  /** The value of RUN_TAG_VARIABLE in the run's environment. */
  readonly tag: string;
  /** The run's own uid and cgroup, when those layers were on. */
  readonly uid: number | null;
  readonly cgroup: string | null;
}

/** Trees of runs in progress, so an interrupted grader can take them down with it. */
const running = new Set<ProcessTree>();

/** Kills every run in progress (the CLI calls this on SIGINT/SIGTERM: they are detached). */
export async function killAllChildren(): Promise<void> {
  await Promise.all([...running].map((tree) => tree.kill()));
}

export async function runChild(spec: ChildSpec): Promise<ChildResult> {
  const started = Date.now();
  const tag = randomUUID();
  const cap = new OutputCap(spec.limits.outputKeepBytes);
  const channelChunks: Buffer[] = [];
  let channelBytes = 0;
  let channelTruncated = false;
  let end: ChildEnd | null = null;
  let peakRss = 0;
  let spawnError: string | null = null;

  const confinement = spec.confinement;
  const seccompFd = confinement?.seccompFd ?? null;
  const child: ChildProcess = spawn(spec.command, [...spec.args], {
    cwd: spec.cwd,
    env: { ...spec.env, [RUN_TAG_VARIABLE]: tag },
    // Its own session and process group: one kill(-pgid) reaches everything that stayed in it.
    detached: true,
    stdio: [
      'ignore',
      'pipe',
      'pipe',
      spec.channelKey === undefined ? 'ignore' : 'pipe',
      ...(seccompFd === null ? [] : [seccompFd]),
    ],
  });
  confinement?.closeSpawnFds();
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
    child.once('error', (error) => {
      spawnError = error.message;
      resolve({ code: null, signal: null });
    });
  });
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
  const tree =
    child.pid === undefined
      ? null
      : new ProcessTree(
          child.pid,
          `${RUN_TAG_VARIABLE}=${tag}`,
          [confinement?.uid, confinement?.peerUid].filter((uid) => typeof uid === 'number'),
        );
  if (tree !== null) running.add(tree);

  const stop = (reason: ChildEnd): void => {
    if (end !== null) return;
    end = reason;
    void tree?.kill();
  };

  const onOutput = (chunk: Buffer): void => {
    cap.push(chunk);
    if (cap.total > spec.limits.outputFloodBytes) stop('output-limit');
  };
  child.stdout?.on('data', onOutput);
  child.stderr?.on('data', onOutput);

  let graceTimer: NodeJS.Timeout | undefined;
  const marker = spec.completionMarker === undefined ? null : Buffer.from(spec.completionMarker);
  let lastTail = Buffer.alloc(0);
  const channel = spec.channelKey === undefined ? null : (child.stdio[CHANNEL_FD] as Duplex | null);
  if (channel !== null && spec.channelKey !== undefined) {
    // A child that dies before reading its key makes these fail; its missing records say enough.
    channel.on('error', () => undefined);
    channel.end(keyLine(spec.channelKey));
    (channel as Readable).on('data', (chunk: Buffer) => {
      if (channelBytes + chunk.length > MAX_CHANNEL_BYTES) {
        channelTruncated = true;
        return;
      }
      channelChunks.push(chunk);
      channelBytes += chunk.length;
      // The marker may straddle two chunks: look at this one with the end of the last.
      const window = Buffer.concat([lastTail, chunk]);
      if (marker !== null && graceTimer === undefined && window.includes(marker)) {
        graceTimer = setTimeout(() => stop('lingered'), spec.exitGraceMs ?? EXIT_GRACE_MS);
      }
      lastTail = window.subarray(Math.max(0, window.length - (marker?.length ?? 0)));
    });
  }

  const timeout = setTimeout(() => stop('timeout'), spec.limits.timeoutMs);
  const poll = setInterval(() => {
    if (tree === null) return;
    const rss = tree.rss();
    peakRss = Math.max(peakRss, rss);
    if (rss > spec.limits.memoryBytes) stop('memory-limit');
  }, MEMORY_POLL_MS);

  const { code, signal } = await exited;
  clearTimeout(timeout);
  clearTimeout(graceTimer);
  clearInterval(poll);
  // Always, also after a clean exit: whatever it left behind must not outlive the run.
  const survivors = tree === null ? [] : await tree.kill();
  if (tree !== null) running.delete(tree);
  // The kernel's OOM killer may have stopped the run before our own measurement did.
  if (end === null && (confinement?.cgroup?.oomKills() ?? 0) > 0) end = 'memory-limit';
  const cpuThrottledPeriods = confinement?.cgroup?.cpuThrottled() ?? 0;
  const cgroupMembers = confinement?.cgroup?.members() ?? [];
  const cgroupClean = (await confinement?.release()) ?? true;
  if (!cgroupClean) survivors.push(...cgroupMembers.filter((pid) => !survivors.includes(pid)));
  let drainTimer: NodeJS.Timeout | undefined;
  await Promise.race([
    closed,
    new Promise((resolve) => (drainTimer = setTimeout(resolve, PIPE_DRAIN_MS))),
  ]);
  clearTimeout(drainTimer);
  for (const stream of [child.stdout, child.stderr, channel]) stream?.destroy();

  return {
    end: end ?? 'exited',
    exitCode: code,
    signal,
    output: cap.text(),
    outputBytes: cap.total,
    channel: Buffer.concat(channelChunks),
    channelTruncated,
    durationMs: Date.now() - started,
    peakRssBytes: peakRss,
    cpuThrottledPeriods,
    leftoversRemoved: confinement?.leftovers()?.removed ?? [],
    survivors,
    spawnError,
    tag,
    uid: confinement?.uid ?? null,
    cgroup: confinement?.cgroup?.name ?? null,
  };
}
