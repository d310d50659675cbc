/**
 * The processes of one graded run, found through Linux's /proc, measured and killed together.
 * child.ts spawns the run detached (its own session and process group) and asks this module
 * for the tree's memory while it runs and to kill everything after it, however it ended.
 * A process is a member if it descends from the root, shares its session or process group,
 * was ever seen as a member (pid and start time, so a reused pid is left alone), carries
 * the run's tag in its environment, or runs as the run's own uid (when it has one: no other
 * process on the machine does). Elsewhere than Linux only the process group is killed.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { KILL_DEADLINE_MS } from './limits';

/** One line of /proc/<pid>/stat, the fields we use. */
export interface ProcStat {
  readonly pid: number;
  /** R running, S sleeping, T stopped, Z zombie (dead, waiting to be reaped)... */
  readonly state: string;
  readonly ppid: number;
  readonly pgrp: number;
  readonly session: number;
  /** Clock ticks after boot: with the pid, identifies one process for its whole life. */
  readonly startTime: string;
}

const HAS_PROC = process.platform === 'linux';

/** Parses /proc/<pid>/stat; the command name may contain spaces and parentheses. */
export function parseStat(line: string): ProcStat | null {
  const close = line.lastIndexOf(')');
  const pid = Number.parseInt(line, 10);
  if (close === -1 || Number.isNaN(pid)) return null;
  // Fields after the name, counted from 3 (state) as in proc(5).
  const fields = line.slice(close + 2).split(' ');
  const field = (n: number): string => fields[n - 3] ?? '';
  return {
    pid,
    state: field(3),
    ppid: Number(field(4)),
    pgrp: Number(field(5)),
    session: Number(field(6)),
    startTime: field(22),
  };
}

export function readStat(pid: number): ProcStat | null {
  try {
    return parseStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return null;
  }
}

function allStats(): ProcStat[] {
  const stats: ProcStat[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const stat = readStat(Number(name));
    if (stat !== null) stats.push(stat);
  }
  return stats;
}

/** Resident set size of one process in bytes (0 if it is gone). */
function rssBytes(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = /^VmRSS:\s+(\d+) kB$/m.exec(status);
    return match?.[1] === undefined ? 0 : Number(match[1]) * 1024;
  } catch {
    return 0;
  }
}

/** The effective uid of a process: the owner of its /proc folder. */
function uidOf(pid: number): number | null {
  try {
    return statSync(`/proc/${pid}`).uid;
  } catch {
    return null;
  }
}

function hasTag(pid: number, tag: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0').includes(tag);
  } catch {
    return false;
  }
}

/** True if `pid` is gone or a zombie: nothing left to kill. */
export function isDead(pid: number): boolean {
  if (HAS_PROC) {
    const stat = readStat(pid);
    return stat === null || stat.state === 'Z' || stat.state === 'X';
  }
  try {
    process.kill(pid, 0);
    return false;
  } catch {
    return true;
  }
}

export class ProcessTree {
  readonly #root: number;
  /** `NAME=value` in the environment of every process of the run. */
  readonly #tag: string;
  /** The run's own uids (its own, its peer processes'); empty when it shares the grader's. */
  readonly #uids: readonly number[];
  /** pid → start time of every process ever seen in the tree. */
  readonly #seen = new Map<number, string>();

  constructor(rootPid: number, tag: string, uids: readonly number[] = []) {
    this.#root = rootPid;
    this.#tag = tag;
    this.#uids = uids;
  }

  /** The live (non-zombie) members now; with `byTag`, also scans every environment (slower). */
  members(byTag = false): ProcStat[] {
    if (!HAS_PROC) return [];
    const stats = allStats().filter(
      (s) => s.state !== 'Z' && s.state !== 'X' && s.pid !== process.pid,
    );
    const byPid = new Map(stats.map((s) => [s.pid, s]));
    const chosen = new Map<number, ProcStat>();
    for (const stat of stats) {
      const known = this.#seen.get(stat.pid);
      if (
        stat.pid === this.#root ||
        stat.session === this.#root ||
        stat.pgrp === this.#root ||
        known === stat.startTime ||
        (this.#uids.length > 0 && this.#uids.includes(uidOf(stat.pid) ?? -1)) ||
        (byTag && hasTag(stat.pid, this.#tag))
      ) {
        chosen.set(stat.pid, stat);
      }
    }
    // Descendants of any member (children keep their ppid until their parent dies).
    let grew = true;
    while (grew) {
      grew = false;
      for (const stat of byPid.values()) {
        if (!chosen.has(stat.pid) && chosen.has(stat.ppid)) {
          chosen.set(stat.pid, stat);
          grew = true;
        }
      }
    }
    for (const stat of chosen.values()) this.#seen.set(stat.pid, stat.startTime);
    return [...chosen.values()];
  }

  /** Resident memory of the whole tree, in bytes. */
  rss(): number {
    return this.members().reduce((sum, stat) => sum + rssBytes(stat.pid), 0);
  }

  /**
   * Kills every member: stops them all first (so none forks while we look), then SIGKILL,
   * and looks again until a scan finds none. Resolves with the pids still alive at the
   * deadline (empty: all gone).
   */
  async kill(): Promise<number[]> {
    signalGroup(this.#root, 'SIGKILL');
    if (!HAS_PROC) return [];
    const deadline = Date.now() + KILL_DEADLINE_MS;
    for (;;) {
      const alive = this.members(true);
      if (alive.length === 0) return [];
      if (Date.now() > deadline) return alive.map((s) => s.pid);
      for (const stat of alive) signal(stat.pid, 'SIGSTOP');
      for (const stat of alive) signal(stat.pid, 'SIGKILL');
      signalGroup(this.#root, 'SIGKILL');
      // A killed process takes a moment to become a zombie; let the kernel get there.
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // Already gone.
  }
}

function signalGroup(pgid: number, name: NodeJS.Signals): void {
  signal(-pgid, name);
}
