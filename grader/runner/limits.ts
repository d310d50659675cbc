/**
 * Every limit and timeout of the grading runner, each with the reason for its value.
 * The CLI (grader/cli/grade.ts) exposes the per-run ones as options; the runner modules
 * (sandbox, child, channel, archive) import the rest from here and nowhere else. The wall-clock
 * ones are scaled by the kit's time factor (lab9/src/time-factor.ts: LAB9_TIME_FACTOR, or the
 * machine's load), which every run also gets, so the harness's bounds inside scale alike.
 */
import { scaled, TIME_FACTOR } from '../../lab9/src/time-factor';

/** A correct solution passes every suite in about half a minute; 4× covers a slow machine. */
export const DEFAULT_TIMEOUT_S = Math.ceil(120 * TIME_FACTOR);

/** Resident memory of one submission's whole process tree (Jest, its worker, anything spawned). */
export const DEFAULT_MEMORY_MIB = 2048;

/**
 * CPU time of one run, in CPUs, at the least: one core's worth, so that with --jobs at most the
 * cores a run takes the same time whatever its neighbours do, and a busy submission cannot slow
 * them (it measured 3× without).
 */
export const DEFAULT_CPUS = 1;

/**
 * The CPU limit of every run when --cpus is not given: the cores shared out among the runs that
 * go at once, whole cores, at least DEFAULT_CPUS. One submission graded alone (a regrade,
 * Gradescope, PrairieLearn) then gets the machine: Jest, its worker and the peer processes start
 * side by side (a reference run measured 9.9 s at 1 CPU, 7.5 s at 2, on 2 cores).
 */
export function cpusPerRun(cores: number, runsAtOnce: number): number {
  return Math.max(DEFAULT_CPUS, Math.floor(cores / Math.max(1, runsAtOnce)));
}

/** --cpus bounds: the kernel's smallest quota is 1 ms per 100 ms; more than 64 is no limit. */
export const MIN_CPUS = 0.01;
export const MAX_CPUS = 64;

/** V8 heap per Node process of a run: half the tree's budget, so Jest and its worker both fit. */
export const heapLimitMib = (memoryMib: number): number => Math.max(64, Math.floor(memoryMib / 2));

/** How often the tree's resident memory is measured: often enough to stop a runaway in time. */
export const MEMORY_POLL_MS = 250;

/** Output kept per run (stdout and stderr together): half from the start, half from the end. */
export const DEFAULT_OUTPUT_KEEP_BYTES = 1024 * 1024;

/** Output past which a run counts as flooding and is killed: 64 times what we keep. */
export const OUTPUT_FLOOD_FACTOR = 64;

/** Signed records a run may send: thousands of failure messages; more means a flood. */
export const MAX_CHANNEL_BYTES = 16 * 1024 * 1024;

/** One failure message in a record; a teaching message is a screenful, not a log. */
export const MAX_FAILURE_MESSAGE_CHARS = 16 * 1024;

/** Grace for Jest to exit after it reported its run complete (open handles of a student). */
export const EXIT_GRACE_MS = 5_000;

/** After the tree is killed, how long its pipes may take to report end-of-file. */
export const PIPE_DRAIN_MS = 2_000;

/** How long killing a tree may take, fork bombs included, before we give up and say so. */
export const KILL_DEADLINE_MS = 5_000;

/** The type check of one file: a few seconds normally; pathological types are cut here. */
export const TYPECHECK_TIMEOUT_S = Math.ceil(90 * TIME_FACTOR);

/** tsc checking one file and the kit it imports needs a few hundred MiB. */
export const TYPECHECK_MEMORY_MIB = 1536;

/** An archive larger than this is not a source repository. */
export const MAX_ARCHIVE_BYTES = 64 * 1024 * 1024;

/** Bytes an archive unpacks to; a repository is megabytes, a gzip bomb gigabytes. */
export const MAX_ARCHIVE_UNPACKED_BYTES = 512 * 1024 * 1024;

/** Entries of an archive; a student repository has hundreds, a zip bomb millions. */
export const MAX_ARCHIVE_ENTRIES = 20_000;

/** peer.ts itself: a few hundred lines are about 20 KiB; 1 MiB is certainly not hand-written. */
export const MAX_PEER_FILE_BYTES = 1024 * 1024;

/** Jest workers per run: parallelism comes from grading several submissions at once (--jobs). */
export const JEST_WORKERS = 1;

/**
 * Seeds are 31-bit so that Jest's own --seed (a signed 32-bit integer) accepts them unchanged.
 */
export const SEED_MODULUS = 2 ** 31;

/** Tasks (processes and threads) of one run: Jest, its threads, esbuild, tsc; a fork bomb is more. */
export const MAX_TASKS = 512;

/** First uid given to a run; each run in progress on the machine holds its own from this range. */
export const RUN_UID_BASE = 64_000;

/** How many run uids exist: far more than runs at once on any one machine. */
export const RUN_UID_COUNT = 1_000;

/** One probe of an isolation layer at start (a sandboxed `node -e 0`): milliseconds normally. */
export const PROBE_TIMEOUT_MS = scaled(15_000);
