/**
 * Control groups of graded runs: one per run, below the grader's own cgroup, with a memory, a
 * task and a CPU limit the kernel enforces, and a kill that reaches every process in it, however
 * it was started (double-forked, setsid, environment cleared). Works on cgroup v2, v1 and the
 * hybrid layout (v1 memory, pids and cpu controllers, v2 only for `cgroup.kill`), found in
 * /proc/self. A missing cpu controller leaves runs without a CPU limit, and says so.
 * Above: isolation.ts detects the layout at start; child.ts joins, measures and kills.
 */
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmdirSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';

/** Where this process's cgroups are, per hierarchy; null where that hierarchy is not usable. */
export interface CgroupLayout {
  /** Our cgroup directory in the unified (v2) hierarchy. */
  readonly v2: string | null;
  /** The v2 memory and pids controllers can be used in children of `v2`. */
  readonly v2Memory: boolean;
  readonly v2Pids: boolean;
  /** The v2 cpu controller (`cpu.max`) can be used in children of `v2`. */
  readonly v2Cpu: boolean;
  /** Our cgroup directories in the v1 memory, pids and cpu hierarchies. */
  readonly v1Memory: string | null;
  readonly v1Pids: string | null;
  readonly v1Cpu: string | null;
}

export const NO_CGROUPS: CgroupLayout = {
  v2: null,
  v2Memory: false,
  v2Pids: false,
  v2Cpu: false,
  v1Memory: null,
  v1Pids: null,
  v1Cpu: null,
};

/** `layout` without its CPU controller: where setting a quota failed, runs go on without one. */
export function withoutCpu(layout: CgroupLayout): CgroupLayout {
  return { ...layout, v2Cpu: false, v1Cpu: null };
}

interface Mount {
  readonly root: string;
  readonly point: string;
  readonly type: string;
  readonly options: readonly string[];
}

/** Parses /proc/self/mountinfo lines: `id parent dev root point opts [tags] - type src super`. */
export function parseMountinfo(text: string): Mount[] {
  const mounts: Mount[] = [];
  for (const line of text.split('\n')) {
    const [left, right] = line.split(' - ');
    if (left === undefined || right === undefined) continue;
    const fields = left.split(' ');
    const [type = '', , superOptions = ''] = right.split(' ');
    const root = fields[3];
    const point = fields[4];
    if (root === undefined || point === undefined) continue;
    mounts.push({
      root: unescape(root),
      point: unescape(point),
      type,
      options: superOptions.split(','),
    });
  }
  return mounts;
}

/** mountinfo escapes space, tab, newline and backslash as octal. */
function unescape(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, octal: string) =>
    String.fromCharCode(Number.parseInt(octal, 8)),
  );
}

/** Parses /proc/self/cgroup lines `id:controllers:path` into controller → path ('' for v2). */
export function parseProcCgroup(text: string): Map<string, string> {
  const paths = new Map<string, string>();
  for (const line of text.split('\n')) {
    const first = line.indexOf(':');
    const second = line.indexOf(':', first + 1);
    if (first === -1 || second === -1) continue;
    const controllers = line.slice(first + 1, second);
    const path = line.slice(second + 1);
    if (controllers === '') paths.set('', path);
    for (const controller of controllers.split(','))
      if (controller !== '') paths.set(controller, path);
  }
  return paths;
}

function dirIn(mount: Mount, ownPath: string): string {
  // Inside a cgroup namespace both are relative to the namespace's root.
  const relative =
    mount.root !== '/' && ownPath.startsWith(mount.root)
      ? ownPath.slice(mount.root.length)
      : ownPath;
  return join(mount.point, relative);
}

function read(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/** Finds the hierarchies this process can create child cgroups in (needs root). */
export function detectCgroupLayout(): CgroupLayout {
  if (process.platform !== 'linux') return NO_CGROUPS;
  const mounts = parseMountinfo(read('/proc/self/mountinfo'));
  const own = parseProcCgroup(read('/proc/self/cgroup'));
  const v2Mount = mounts.find((m) => m.type === 'cgroup2');
  const v1 = (controller: string): string | null => {
    const mount = mounts.find((m) => m.type === 'cgroup' && m.options.includes(controller));
    const path = own.get(controller);
    return mount === undefined || path === undefined ? null : dirIn(mount, path);
  };
  const v2Path = own.get('');
  const v2 = v2Mount === undefined || v2Path === undefined ? null : dirIn(v2Mount, v2Path);
  const controllers = v2 === null ? [] : read(join(v2, 'cgroup.controllers')).trim().split(/\s+/);
  const enabled = (name: string): boolean => {
    if (v2 === null || !controllers.includes(name)) return false;
    const subtree = join(v2, 'cgroup.subtree_control');
    if (read(subtree).split(/\s+/).includes(name)) return true;
    try {
      writeFileSync(subtree, `+${name}`);
      return true;
    } catch {
      // EBUSY: our cgroup holds processes itself (cgroup v2's no-internal-process rule).
      return false;
    }
  };
  return {
    v2,
    v2Memory: enabled('memory'),
    v2Pids: enabled('pids'),
    v2Cpu: enabled('cpu'),
    v1Memory: v1('memory'),
    v1Pids: v1('pids'),
    v1Cpu: v1('cpu'),
  };
}

/** How a layout limits memory, tasks and CPU, and kills, in words for the start banner. */
export function describeLayout(layout: CgroupLayout): {
  memory: string | null;
  pids: string | null;
  cpu: string | null;
  kill: string | null;
} {
  return {
    memory: layout.v2Memory
      ? 'cgroup v2 memory.max'
      : layout.v1Memory === null
        ? null
        : 'cgroup v1 memory.limit_in_bytes',
    pids: layout.v2Pids
      ? 'cgroup v2 pids.max'
      : layout.v1Pids === null
        ? null
        : 'cgroup v1 pids.max',
    cpu: layout.v2Cpu
      ? 'cgroup v2 cpu.max'
      : layout.v1Cpu === null
        ? null
        : 'cgroup v1 cpu.cfs_quota_us',
    kill:
      layout.v2 !== null
        ? 'cgroup v2 cgroup.kill'
        : layout.v1Memory !== null || layout.v1Pids !== null
          ? 'SIGKILL to every pid of the cgroup, until it is empty'
          : null,
  };
}

/** Prefix of every run's cgroup; the grader's pid follows, so leftovers can be told apart. */
export const RUN_CGROUP_PREFIX = 'lab9-grade-';

/**
 * Removes empty cgroups left by graders that died before cleaning up (killed with SIGKILL):
 * those named `lab9-grade-<pid>-...` whose grader pid no longer runs.
 */
export function sweepStaleCgroups(layout: CgroupLayout): void {
  for (const parent of [layout.v2, layout.v1Memory, layout.v1Pids, layout.v1Cpu]) {
    if (parent === null) continue;
    let names: string[];
    try {
      names = readdirSync(parent);
    } catch {
      continue;
    }
    for (const name of names) {
      const match = new RegExp(`^${RUN_CGROUP_PREFIX}(\\d+)-`).exec(name);
      if (match?.[1] === undefined || Number(match[1]) === process.pid) continue;
      try {
        process.kill(Number(match[1]), 0);
        continue;
      } catch {
        // Its grader is gone.
      }
      try {
        rmdirSync(join(parent, name));
      } catch {
        // Still has processes (then they are reported by whoever looks) or already gone.
      }
    }
  }
}

export interface CgroupLimits {
  readonly memoryBytes: number;
  readonly maxTasks: number;
  /** CPU time per wall-clock time, in CPUs (0.5: half of one core); null for no limit. */
  readonly cpus: number | null;
}

/** The CFS period the CPU quota is counted in: the kernel's default, 100 ms. */
export const CPU_PERIOD_US = 100_000;

/** A quota in microseconds per CPU_PERIOD_US for `cpus` CPUs (the kernel's minimum is 1 ms). */
export function cpuQuotaUs(cpus: number): number {
  return Math.max(1000, Math.round(cpus * CPU_PERIOD_US));
}

/** The cgroup(s) of one run: one directory per hierarchy used, all named alike. */
export class RunCgroup {
  readonly name: string;
  /** Every directory of this run, the v2 one first. */
  readonly #dirs: string[];
  readonly #v2: string | null;
  readonly #memory: { dir: string; v2: boolean } | null;
  /** The directory whose `cpu.stat` counts the run's throttling; null without a CPU limit. */
  readonly #cpu: string | null;

  private constructor(
    name: string,
    dirs: string[],
    v2: string | null,
    memory: { dir: string; v2: boolean } | null,
    cpu: string | null,
  ) {
    this.name = name;
    this.#dirs = dirs;
    this.#v2 = v2;
    this.#memory = memory;
    this.#cpu = cpu;
  }

  /** Creates the run's cgroups and sets their limits; throws if the kernel refuses. */
  static create(layout: CgroupLayout, name: string, limits: CgroupLimits): RunCgroup {
    const dirs: string[] = [];
    const make = (parent: string | null): string | null => {
      if (parent === null) return null;
      const dir = join(parent, name);
      mkdirSync(dir);
      dirs.push(dir);
      return dir;
    };
    const run = new RunCgroup(name, dirs, null, null, null);
    try {
      const v2 = make(layout.v2);
      const memoryV1 = layout.v2Memory ? null : make(layout.v1Memory);
      const pidsV1 = layout.v2Pids ? null : make(layout.v1Pids);
      const cpuV1 = limits.cpus === null || layout.v2Cpu ? null : make(layout.v1Cpu);
      const memory =
        layout.v2Memory && v2 !== null
          ? { dir: v2, v2: true }
          : memoryV1 === null
            ? null
            : { dir: memoryV1, v2: false };
      if (memory?.v2 === true) {
        writeFileSync(join(memory.dir, 'memory.max'), String(limits.memoryBytes));
        // Without this the run would swap instead of meeting its limit.
        tryWrite(join(memory.dir, 'memory.swap.max'), '0');
      } else if (memory !== null) {
        writeFileSync(join(memory.dir, 'memory.limit_in_bytes'), String(limits.memoryBytes));
        tryWrite(join(memory.dir, 'memory.memsw.limit_in_bytes'), String(limits.memoryBytes));
      }
      const pidsDir = layout.v2Pids ? v2 : pidsV1;
      if (pidsDir !== null) writeFileSync(join(pidsDir, 'pids.max'), String(limits.maxTasks));
      if (limits.cpus !== null) {
        const quota = cpuQuotaUs(limits.cpus);
        if (layout.v2Cpu && v2 !== null) {
          writeFileSync(join(v2, 'cpu.max'), `${quota} ${CPU_PERIOD_US}`);
        } else if (cpuV1 !== null) {
          writeFileSync(join(cpuV1, 'cpu.cfs_period_us'), String(CPU_PERIOD_US));
          writeFileSync(join(cpuV1, 'cpu.cfs_quota_us'), String(quota));
        }
      }
      return new RunCgroup(name, dirs, v2, memory, layout.v2Cpu ? v2 : cpuV1);
    } catch (error) {
      run.#removeDirs();
      throw error;
    }
  }

  /** The `cgroup.procs` files a process writes its pid into to join the run. */
  get procsFiles(): string[] {
    return this.#dirs.map((dir) => join(dir, 'cgroup.procs'));
  }

  /** Pids in the run's cgroups (as this process sees them). */
  members(): number[] {
    const pids = new Set<number>();
    for (const file of this.procsFiles) {
      for (const line of read(file).split('\n')) if (line !== '') pids.add(Number(line));
    }
    return [...pids];
  }

  /** Times the kernel's OOM killer killed a process of the run for its memory limit. */
  oomKills(): number {
    if (this.#memory === null) return 0;
    const file = this.#memory.v2 ? 'memory.events' : 'memory.oom_control';
    const match = /^oom_kill (\d+)$/m.exec(read(join(this.#memory.dir, file)));
    return match?.[1] === undefined ? 0 : Number(match[1]);
  }

  /** Periods in which the kernel held the run back for its CPU limit; 0 without one. */
  cpuThrottled(): number {
    if (this.#cpu === null) return 0;
    const match = /^nr_throttled (\d+)$/m.exec(read(join(this.#cpu, 'cpu.stat')));
    return match?.[1] === undefined ? 0 : Number(match[1]);
  }

  /** Kills every process of the run; resolves with the pids still there at the deadline. */
  async kill(deadlineMs: number): Promise<number[]> {
    const deadline = Date.now() + deadlineMs;
    if (this.#v2 !== null) tryWrite(join(this.#v2, 'cgroup.kill'), '1');
    for (;;) {
      const alive = this.members();
      if (alive.length === 0) return [];
      if (Date.now() > deadline) return alive;
      for (const pid of alive) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // Gone already.
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  /** Removes the run's directories; a cgroup that still has members stays (and is reported). */
  async remove(): Promise<boolean> {
    for (let attempt = 0; attempt < 50; attempt += 1) {
      if (this.#removeDirs()) return true;
      // An exiting task leaves its cgroup a moment after it is reported dead.
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return false;
  }

  #removeDirs(): boolean {
    let all = true;
    for (const dir of [...this.#dirs].reverse()) {
      try {
        if (existsSync(dir)) rmdirSync(dir);
      } catch {
        all = false;
      }
    }
    return all;
  }
}

function tryWrite(path: string, value: string): void {
  try {
    writeFileSync(path, value);
  } catch {
    // Optional knob the kernel does not offer (no swap accounting, older kernel).
  }
}
