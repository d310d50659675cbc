/**
 * The isolation layers of a graded run: which exist on this machine (checked once at start, by
 * running a probe in them), how they are described in the start banner and in every result,
 * whether `--official` may grade, and the command line that puts one run inside all of them:
 *   sh (joins the run's cgroups) → bwrap (pid, net, mount, ipc, uts namespaces; seccomp) →
 *   sh (mounts the run's noexec temporary folders) → setpriv (the run's own uid) → command.
 * Below: cgroup.ts, seccomp.ts, uid-pool.ts. Above: the CLI detects; child.ts runs a confinement.
 */
import {
  closeSync,
  chmodSync,
  chownSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readlinkSync,
  realpathSync,
  rmSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, resolve, sep } from 'node:path';
import {
  type CgroupLayout,
  describeLayout,
  detectCgroupLayout,
  NO_CGROUPS,
  RUN_CGROUP_PREFIX,
  RunCgroup,
  sweepStaleCgroups,
  withoutCpu,
} from './cgroup';
import { runChild } from './child';
import {
  DEFAULT_CPUS,
  KILL_DEADLINE_MS,
  MAX_TASKS,
  PROBE_TIMEOUT_MS,
  RUN_UID_BASE,
  RUN_UID_COUNT,
} from './limits';
import { privacyAtStart } from './batch-privacy';
import { removeFilesOf, type Sweep } from './leftovers';
import { permissionModel } from './node-flags';
import { seccompProgram } from './seccomp';
import { acquireUid, type HeldUid } from './uid-pool';

/** Every layer, mandatory ones first. */
export type LayerId =
  | 'fresh-sandbox'
  | 'wall-clock'
  | 'tree-kill'
  | 'output-cap'
  | 'signed-results'
  | 'canary'
  | 'node-permissions'
  | 'peer-process'
  | 'peer-permissions'
  | 'run-uid'
  | 'peer-uid'
  | 'cgroup-memory'
  | 'cgroup-pids'
  | 'cgroup-cpu'
  | 'cgroup-kill'
  | 'pid-namespace'
  | 'net-namespace'
  | 'mount-namespace'
  | 'private-submissions'
  | 'seccomp';

/** The layers `--official` requires on top of the mandatory ones (which are always on). */
export const STRONG_LAYERS: readonly LayerId[] = [
  'node-permissions',
  'peer-permissions',
  'run-uid',
  'peer-uid',
  'cgroup-memory',
  'cgroup-pids',
  'cgroup-cpu',
  'cgroup-kill',
  'pid-namespace',
  'net-namespace',
  'mount-namespace',
  'private-submissions',
  'seccomp',
];

/**
 * The layers that keep the results channel's key and the hidden suites out of the student's
 * reach without bubblewrap: the Peer in a process of its own under the permission model, and
 * under a uid of its own, which can neither read the Jest process through /proc or ptrace nor
 * open the sandbox's grader/ folder. The Gradescope entry point requires these (its containers
 * have no bubblewrap); `--official` requires them with every other strong layer.
 */
export const KEY_LAYERS: readonly LayerId[] = [
  'node-permissions',
  'peer-process',
  'peer-permissions',
  'run-uid',
  'peer-uid',
];

export interface Layer {
  readonly id: LayerId;
  readonly on: boolean;
  /** On: the mechanism; off: why not. */
  readonly detail: string;
}

/** Groups of layers an environment override can turn off (LAB9_GRADE_DISABLE=a,b or strong). */
export const DISABLE_VARIABLE = 'LAB9_GRADE_DISABLE';
export type LayerGroup = 'bwrap' | 'uid' | 'cgroups' | 'cpu' | 'permissions';
const GROUPS: readonly LayerGroup[] = ['bwrap', 'uid', 'cgroups', 'cpu', 'permissions'];

/** What was found at start; `confine` builds each run's command line from it. */
export interface Isolation {
  readonly layers: readonly Layer[];
  readonly bwrap: string | null;
  readonly setpriv: string | null;
  readonly cgroups: CgroupLayout;
  /** The CPU limit of every run, in CPUs; null where the kernel CPU limit layer is off. */
  readonly cpus: number | null;
  /**
   * The compiled seccomp program, given to bwrap per run on a descriptor of a file that no longer
   * has a name (confine); null without seccomp.
   */
  readonly seccompProgram: Buffer | null;
  /** The running Node's switch of its permission model (node-flags.ts); null to run without. */
  readonly permissionFlag: string | null;
}

/** The layers in words, as the CLI prints them at start and feedback.md repeats them. */
export function describeLayers(isolation: Isolation): string[] {
  const width = Math.max(...isolation.layers.map((layer) => LABELS[layer.id].length));
  return isolation.layers.map(
    (layer) => `${layer.on ? 'on ' : 'OFF'}  ${LABELS[layer.id].padEnd(width)}  ${layer.detail}`,
  );
}

export const LABELS: Record<LayerId, string> = {
  'fresh-sandbox': 'fresh sandbox per run',
  'wall-clock': 'wall-clock limit',
  'tree-kill': 'process-tree kill',
  'output-cap': 'output cap',
  'signed-results': 'signed results channel',
  canary: 'must-fail canary',
  'node-permissions': 'Node permission model',
  'peer-process': 'peer in its own process',
  'peer-permissions': 'peer process confined',
  'run-uid': 'own uid per run',
  'peer-uid': 'own uid for the peer',
  'cgroup-memory': 'kernel memory limit',
  'cgroup-pids': 'kernel task limit',
  'cgroup-cpu': 'kernel CPU limit',
  'cgroup-kill': 'cgroup kill',
  'pid-namespace': 'pid namespace',
  'net-namespace': 'network namespace',
  'mount-namespace': 'mount namespace',
  'private-submissions': 'submissions out of reach',
  seccomp: 'seccomp filter',
};

/** The strong layers that are off, for `--official`'s refusal; empty when it may grade. */
export function missingForOfficial(isolation: Isolation): Layer[] {
  return isolation.layers.filter((layer) => STRONG_LAYERS.includes(layer.id) && !layer.on);
}

/** A one-line summary for results: `all layers on` or the ones that are off. */
export function isolationSummary(isolation: Isolation): string {
  const off = isolation.layers.filter((layer) => !layer.on).map((layer) => LABELS[layer.id]);
  return off.length === 0
    ? 'every isolation layer on (official grading)'
    : `isolation layers off on this machine: ${off.join(', ')}`;
}

/** The layers that never depend on the machine. */
function mandatoryLayers(): Layer[] {
  return [
    {
      id: 'fresh-sandbox',
      on: true,
      detail: 'a new copy of the kit per run; of a submission only its peer.ts goes in',
    },
    { id: 'wall-clock', on: true, detail: '--timeout per run' },
    {
      id: 'tree-kill',
      on: true,
      detail:
        process.platform === 'linux'
          ? 'after every run: its session, group, descendants, and anything with its tag'
          : 'after every run: its process group',
    },
    { id: 'output-cap', on: true, detail: 'head and tail kept, a flood is killed' },
    {
      id: 'signed-results',
      on: true,
      detail: 'HMAC-SHA256 on fd 3, key sent over that pipe; read once the run is dead',
    },
    {
      id: 'canary',
      on: true,
      detail: 'a test that must fail, in every test file; if it passes or is missing: review',
    },
    {
      id: 'peer-process',
      on: true,
      detail:
        'the Peer runs in a child process of the harness: compiled JS, empty environment, ' +
        'stdio only, its stores in the harness; Jest cache off',
    },
  ];
}

function findExecutable(name: string): string | null {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/bin', '/bin', '/usr/sbin'];
  for (const dir of dirs) {
    if (dir === '') continue;
    const candidate = join(dir, name);
    try {
      if ((lstatSync(candidate).mode & 0o111) !== 0) return realpathSync(candidate);
    } catch {
      // Not there.
    }
  }
  return null;
}

function disabledGroups(value: string | undefined): Set<LayerGroup> {
  const words = (value ?? '')
    .split(',')
    .map((word) => word.trim())
    .filter((word) => word !== '');
  if (words.includes('strong') || words.includes('all')) return new Set(GROUPS);
  return new Set(GROUPS.filter((group) => words.includes(group)));
}

export interface DetectOptions {
  /** Folders a run reads, for the probe (the tool's runner and node_modules). */
  readonly readPaths: readonly string[];
  /** The environment override; defaults to process.env[DISABLE_VARIABLE]. */
  readonly disable?: string;
  /** CPU time of each run, in CPUs (`--cpus`). @default DEFAULT_CPUS */
  readonly cpus?: number;
}

/**
 * Finds the layers this machine offers and proves them with a probe run in each combination,
 * strongest first. Never throws: a layer that fails is reported off with the reason.
 */
export async function detectIsolation(options: DetectOptions): Promise<Isolation> {
  const disabled = disabledGroups(options.disable ?? process.env[DISABLE_VARIABLE]);
  const off = (group: LayerGroup): string => `turned off by ${DISABLE_VARIABLE} (${group})`;
  const linux = process.platform === 'linux';
  const root = linux && process.getuid?.() === 0;
  const notRoot = linux ? 'needs root' : `needs Linux (this is ${process.platform})`;

  const model = disabled.has('permissions') ? null : permissionModel();
  const permissionFlag = model?.flag ?? null;
  const permissionDetail = disabled.has('permissions')
    ? off('permissions')
    : model === null
      ? `Node ${process.version} has no permission model`
      : `${model.flag}: no inspector, writes only to the run's temporary folders`;

  const cpus = options.cpus ?? DEFAULT_CPUS;
  let cgroups = NO_CGROUPS;
  let cgroupReason = disabled.has('cgroups') ? off('cgroups') : notRoot;
  let cpuReason: string | null = null;
  if (root && !disabled.has('cgroups')) {
    cgroups = detectCgroupLayout();
    if (disabled.has('cpu')) {
      cgroups = withoutCpu(cgroups);
      cpuReason = off('cpu');
    }
    const hadCpu = cgroups.v2Cpu || cgroups.v1Cpu !== null;
    const tryCreate = async (layout: typeof cgroups): Promise<void> => {
      const probe = RunCgroup.create(layout, `${RUN_CGROUP_PREFIX}${process.pid}-probe`, {
        memoryBytes: 256 * 1024 * 1024,
        maxTasks: MAX_TASKS,
        cpus,
      });
      await probe.remove();
    };
    try {
      sweepStaleCgroups(cgroups);
      try {
        await tryCreate(cgroups);
      } catch (error) {
        // A kernel without CFS bandwidth control: every other cgroup layer still works.
        if (!hadCpu) throw error;
        cpuReason = `cannot set a CPU quota: ${(error as Error).message}`;
        cgroups = withoutCpu(cgroups);
        await tryCreate(cgroups);
      }
      cgroupReason = 'no cgroup memory/pids hierarchy we can create groups in';
    } catch (error) {
      cgroupReason = `cannot create a cgroup: ${(error as Error).message}`;
      cgroups = NO_CGROUPS;
    }
  }

  const bwrapPath = root && !disabled.has('bwrap') ? findExecutable('bwrap') : null;
  const setprivPath = root && !disabled.has('uid') ? findExecutable('setpriv') : null;
  const program = bwrapPath === null ? null : seccompProgram();

  const base: Isolation = {
    layers: [],
    bwrap: bwrapPath,
    setpriv: setprivPath,
    cgroups,
    cpus: cgroups.v2Cpu || cgroups.v1Cpu !== null ? cpus : null,
    seccompProgram: program,
    permissionFlag,
  };
  // Strongest first; the first combination whose probe passes is the one used.
  const attempts: { isolation: Isolation; failed: string | null }[] = [];
  for (const candidate of [
    base,
    { ...base, bwrap: null, seccompProgram: null },
    { ...base, bwrap: null, seccompProgram: null, setpriv: null },
  ]) {
    if (attempts.some((a) => sameTools(a.isolation, candidate))) continue;
    const failed =
      candidate.bwrap === null && candidate.setpriv === null
        ? null
        : await probe(candidate, options.readPaths);
    attempts.push({ isolation: candidate, failed });
    if (failed === null) break;
  }
  const chosen = attempts[attempts.length - 1]?.isolation ?? base;
  const failures = attempts.filter((a) => a.failed !== null);
  const whyBwrapOff = (): string => {
    if (!root) return notRoot;
    if (disabled.has('bwrap')) return off('bwrap');
    if (bwrapPath === null) return 'bubblewrap (bwrap) is not installed';
    const failedBwrap = failures.find((a) => a.isolation.bwrap !== null);
    return `bubblewrap failed its probe: ${failedBwrap?.failed ?? 'unknown'}`;
  };
  const whyUidOff = (): string => {
    if (!root) return notRoot;
    if (disabled.has('uid')) return off('uid');
    if (setprivPath === null) return 'setpriv (util-linux) is not installed';
    const failedUid = failures.find((a) => a.isolation.setpriv !== null);
    return `setpriv failed its probe: ${failedUid?.failed ?? 'unknown'}`;
  };

  const words = describeLayout(chosen.cgroups);
  const ns = chosen.bwrap !== null;
  const layers: Layer[] = [
    ...mandatoryLayers(),
    { id: 'node-permissions', on: permissionFlag !== null, detail: permissionDetail },
    {
      id: 'peer-permissions',
      on: permissionFlag !== null,
      detail:
        permissionFlag === null
          ? permissionDetail
          : 'reads only its compiled folder; no writes, child process, worker, addon or inspector',
    },
    {
      id: 'run-uid',
      on: chosen.setpriv !== null,
      detail:
        chosen.setpriv !== null
          ? `setpriv, a uid of ${RUN_UID_BASE}–${RUN_UID_BASE + RUN_UID_COUNT - 1} held by one run at a time`
          : whyUidOff(),
    },
    {
      id: 'peer-uid',
      on: chosen.setpriv !== null,
      detail:
        chosen.setpriv !== null
          ? 'setpriv, a second uid of the pool: no /proc, ptrace or file access to Jest or grader/'
          : whyUidOff(),
    },
    { id: 'cgroup-memory', on: words.memory !== null, detail: words.memory ?? cgroupReason },
    {
      id: 'cgroup-pids',
      on: words.pids !== null,
      detail: words.pids === null ? cgroupReason : `${words.pids} = ${MAX_TASKS}`,
    },
    {
      id: 'cgroup-cpu',
      on: words.cpu !== null,
      detail:
        words.cpu === null
          ? (cpuReason ??
            (cgroups === NO_CGROUPS ? cgroupReason : 'no cpu controller in our cgroups'))
          : `${words.cpu}: ${cpus} CPU${cpus === 1 ? '' : 's'} per run (--cpus, or the cores shared out)`,
    },
    { id: 'cgroup-kill', on: words.kill !== null, detail: words.kill ?? cgroupReason },
    {
      id: 'pid-namespace',
      on: ns,
      detail: ns ? 'bwrap --unshare-pid, no /proc mounted' : whyBwrapOff(),
    },
    {
      id: 'net-namespace',
      on: ns,
      detail: ns ? 'bwrap --unshare-net: loopback only' : whyBwrapOff(),
    },
    {
      id: 'mount-namespace',
      on: ns,
      detail: ns
        ? 'only the sandbox (read-only), node_modules and system folders; temp folders noexec'
        : whyBwrapOff(),
    },
    privacyAtStart(chosen, ns ? '' : whyBwrapOff()),
    {
      id: 'seccomp',
      on: ns && chosen.seccompProgram !== null,
      detail:
        ns && chosen.seccompProgram !== null
          ? 'ptrace, process_vm_*, pidfd_getfd, user namespaces, bpf, keyrings denied'
          : ns
            ? `no filter for ${process.arch}`
            : whyBwrapOff(),
    },
  ];
  return { ...chosen, layers };
}

function sameTools(a: Isolation, b: Isolation): boolean {
  return a.bwrap === b.bwrap && a.setpriv === b.setpriv;
}

/**
 * Runs `node -e` in `isolation` and checks what it sees: its uid, only loopback, no /proc, the
 * read paths readable, its temporary folder writable and not executable. Null when all is as
 * expected, else what was wrong.
 */
async function probe(isolation: Isolation, readPaths: readonly string[]): Promise<string | null> {
  const base = mkdtempSync(join(tmpdir(), 'lab9-grade-probe-'));
  const work = join(base, 'kit');
  const tmp = join(base, 'tmp');
  mkdirSync(work);
  mkdirSync(tmp);
  const script = [
    "const fs = require('node:fs');",
    'const out = { uid: process.getuid(), net: Object.keys(require("node:os").networkInterfaces()),',
    "  proc: fs.existsSync('/proc/self'), read: [], write: false };",
    'for (const p of JSON.parse(process.env.PROBE_READ)) {',
    '  try { fs.accessSync(p, fs.constants.R_OK); } catch (e) { out.read.push(p + ": " + e.code); } }',
    "try { fs.writeFileSync(process.env.PROBE_TMP + '/w', 'x'); out.write = true; } catch (e) { out.write = e.code; }",
    // The run starts a process under its peer uid, as the harness does with its peer process.
    'if (process.env.PROBE_PEER) { const [setpriv, uid] = JSON.parse(process.env.PROBE_PEER);',
    "  try { out.peer = Number(require('node:child_process').execFileSync(setpriv, ['--reuid=' + uid,",
    "    '--regid=' + uid, '--clear-groups', '--inh-caps=-all', '--no-new-privs', '--', '/bin/sh', '-c', 'id -u'],",
    "    { encoding: 'utf8' }).trim()); } catch (e) { out.peer = String(e.message).split('\\n')[0]; } }",
    'process.stdout.write(JSON.stringify(out));',
  ].join('\n');
  let confinement: Confinement | null = null;
  try {
    confinement = confine(isolation, {
      command: process.execPath,
      args: ['-e', script],
      cwd: work,
      readOnly: [work, ...readPaths],
      writable: [tmp],
      memoryBytes: 512 * 1024 * 1024,
      base,
      peerUid: true,
    });
    const result = await runChild({
      command: confinement.command,
      args: confinement.args,
      cwd: work,
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        PROBE_READ: JSON.stringify(readPaths),
        PROBE_TMP: tmp,
        ...(confinement.peerUid !== null && {
          PROBE_PEER: JSON.stringify([isolation.setpriv, confinement.peerUid]),
        }),
      },
      limits: {
        timeoutMs: PROBE_TIMEOUT_MS,
        memoryBytes: 1024 * 1024 * 1024,
        outputKeepBytes: 64 * 1024,
        outputFloodBytes: 1024 * 1024,
      },
      confinement,
    });
    const lastLine = result.output.trim().split('\n').pop() ?? '';
    if (result.exitCode !== 0) {
      return `exit code ${result.exitCode}: ${result.output.trim().split('\n')[0] ?? ''}`;
    }
    const seen = JSON.parse(lastLine) as {
      uid: number;
      net: string[];
      proc: boolean;
      read: string[];
      write: boolean | string;
      peer?: number | string;
    };
    if (seen.read.length > 0) return `cannot read ${seen.read.join(', ')}`;
    if (seen.write !== true) return `cannot write its temporary folder (${String(seen.write)})`;
    if (isolation.setpriv !== null && seen.uid !== confinement.uid) {
      return `runs as uid ${seen.uid}, not ${confinement.uid}`;
    }
    if (confinement.peerUid !== null && seen.peer !== confinement.peerUid) {
      return `cannot start a process under its peer uid ${confinement.peerUid} (${String(seen.peer)})`;
    }
    if (isolation.bwrap !== null) {
      if (seen.proc) return '/proc is visible inside the sandbox';
      if (seen.net.some((name) => name !== 'lo')) {
        return `network interfaces ${seen.net.join(', ')} inside the sandbox`;
      }
    }
    return null;
  } catch (error) {
    return (error as Error).message;
  } finally {
    await confinement?.release();
    rmSync(base, { recursive: true, force: true });
  }
}

export interface ConfineRequest {
  readonly command: string;
  readonly args: readonly string[];
  readonly cwd: string;
  /** Files and folders the run reads, mounted read-only where they are. */
  readonly readOnly: readonly string[];
  /** Folders the run writes: a fresh noexec tmpfs at each (with bwrap) or owned by its uid. */
  readonly writable: readonly string[];
  /** The kernel memory limit of the run's cgroup, also the size of each tmpfs. */
  readonly memoryBytes: number;
  /**
   * The run's base folder (parent of the sandbox): a fresh folder only root may write to, which
   * no run's mount namespace shows; confine() puts the seccomp program there for a moment.
   * Without a mount namespace it becomes the run uid's (0700), so that uid can reach the sandbox.
   */
  readonly base: string;
  /**
   * With the run's own uid: take a second uid for the peer processes the run starts, and give
   * the run the capabilities to start them under it (setuid, setgid, and kill to end them), as
   * ambient capabilities, which an exec keeps and the peer's setpriv drops.
   */
  readonly peerUid?: boolean;
}

/** One run's place in the layers: the command line to spawn and what to undo after it. */
export interface Confinement {
  readonly command: string;
  readonly args: readonly string[];
  /** A descriptor the child must get as fd 4 (bwrap reads the seccomp program there). */
  readonly seccompFd: number | null;
  /** The run's own uid, or null without that layer. */
  readonly uid: number | null;
  /** The uid of the run's peer processes (ConfineRequest.peerUid), or null. */
  readonly peerUid: number | null;
  readonly cgroup: RunCgroup | null;
  /** Closes the seccomp descriptor (once the child is spawned, it has its own copy). */
  closeSpawnFds(): void;
  /**
   * Kills whatever is left in the cgroup, removes it and the files the run's uid left outside
   * its sandbox (leftovers.ts), releases the uid; false if a process resisted.
   */
  release(): Promise<boolean>;
  /** What release() removed outside the sandbox; null before it ran or without a run uid. */
  leftovers(): Sweep | null;
}

/** fd of the seccomp program in bwrap: after stdin, stdout, stderr and the channel. */
export const SECCOMP_FD = 4;

/** Joins the run's cgroups, then runs the rest; no core dumps of a crashing run on the host. */
const JOIN_CGROUPS =
  'ulimit -c 0; while [ "$1" != -- ]; do echo $$ > "$1" || exit 125; shift; done; shift; exec "$@"';

/**
 * Inside bwrap, as root still: mounts the run's writable folders noexec, owned by the run's uid
 * and closed to every other (its peer processes' uid included), then runs the rest.
 */
const MOUNT_TMPFS =
  'ulimit -c 0; size=$1; uid=$2; shift 2; while [ "$1" != -- ]; do ' +
  'mount -t tmpfs -o "size=$size,mode=0700,uid=$uid,gid=$uid,noexec,nosuid,nodev" lab9-run "$1" || exit 125; ' +
  'shift; done; shift; exec "$@"';

/** What the run needs to start its peer processes under their own uid, and to end them. */
const PEER_CAPS = '+setuid,+setgid,+kill';

/** Top-level folders of a Linux system a program may need, mounted read-only when present. */
const SYSTEM_DIRS = ['/usr', '/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32'];
const SYSTEM_ETC = [
  '/etc/hosts',
  '/etc/nsswitch.conf',
  '/etc/passwd',
  '/etc/group',
  '/etc/localtime',
  '/etc/ld.so.cache',
  '/etc/ld.so.conf',
  '/etc/ld.so.conf.d',
  '/etc/alternatives',
  '/etc/ssl',
  '/etc/ca-certificates',
];

/** Builds the command line of one run inside `isolation`; takes a uid and makes a cgroup. */
export function confine(isolation: Isolation, request: ConfineRequest): Confinement {
  const held = isolation.setpriv === null ? null : acquireUid();
  let peerHeld: HeldUid | null = null;
  let cgroup: RunCgroup | null = null;
  const hasCgroups =
    isolation.cgroups.v2 !== null ||
    isolation.cgroups.v1Memory !== null ||
    isolation.cgroups.v1Pids !== null ||
    isolation.cgroups.v1Cpu !== null;
  try {
    if (held !== null && request.peerUid === true) peerHeld = acquireUid();
    if (hasCgroups) {
      cgroup = RunCgroup.create(
        isolation.cgroups,
        `${RUN_CGROUP_PREFIX}${process.pid}-${nextId()}`,
        {
          memoryBytes: request.memoryBytes,
          maxTasks: MAX_TASKS,
          cpus: isolation.cpus,
        },
      );
    }
  } catch (error) {
    held?.release();
    peerHeld?.release();
    throw error;
  }

  let seccompFd: number | null = null;
  let line: string[];
  try {
    line = [request.command, ...request.args];
    if (held !== null && isolation.setpriv !== null) {
      const caps =
        peerHeld === null ? [] : [`--inh-caps=${PEER_CAPS}`, `--ambient-caps=${PEER_CAPS}`];
      line = [
        isolation.setpriv,
        `--reuid=${held.uid}`,
        `--regid=${held.uid}`,
        '--clear-groups',
        '--no-new-privs',
        ...caps,
        '--',
        ...line,
      ];
    }
    if (isolation.bwrap !== null) {
      const dropsRoot = held !== null;
      if (dropsRoot) {
        line = [
          '/bin/sh',
          '-c',
          MOUNT_TMPFS,
          'lab9-mount',
          String(request.memoryBytes),
          String(held.uid),
          ...request.writable,
          '--',
          ...line,
        ];
      }
      if (isolation.seccompProgram !== null) {
        seccompFd = unnamedFile(join(request.base, '.seccomp.bpf'), isolation.seccompProgram);
      }
      line = [isolation.bwrap, ...bwrapArgs(request, dropsRoot, seccompFd !== null), '--', ...line];
    } else if (held !== null) {
      // Without a mount namespace the run's uid needs its way to the sandbox and its own temp,
      // and no other run's uid may follow it there (it would read another student's peer.ts).
      chownSync(request.base, held.uid, held.uid);
      chmodSync(request.base, 0o700);
      for (const dir of request.writable) {
        chownSync(dir, held.uid, held.uid);
        chmodSync(dir, 0o700);
      }
    }
    if (cgroup !== null) {
      line = ['/bin/sh', '-c', JOIN_CGROUPS, 'lab9-join', ...cgroup.procsFiles, '--', ...line];
    }
  } catch (error) {
    // Nothing was spawned: give back what this run took, or its uids stay held for ever.
    if (seccompFd !== null) closeSync(seccompFd);
    if (cgroup !== null) void cgroup.remove();
    held?.release();
    peerHeld?.release();
    throw error;
  }
  const [command = request.command, ...args] = line;
  let released = false;
  let swept: Sweep | null = null;
  return {
    command,
    args,
    seccompFd,
    uid: held?.uid ?? null,
    peerUid: peerHeld?.uid ?? null,
    cgroup,
    closeSpawnFds: () => {
      if (seccompFd !== null) closeSync(seccompFd);
      seccompFd = null;
    },
    release: async () => {
      if (released) return true;
      released = true;
      if (seccompFd !== null) closeSync(seccompFd);
      let clean = true;
      if (cgroup !== null) {
        clean = (await cgroup.kill(KILL_DEADLINE_MS)).length === 0;
        clean = (await cgroup.remove()) && clean;
      }
      // Before the uid can go to another run: what this one left must not be found by it.
      // The peer's uid too: its processes may not write, but a sweep costs one walk for both.
      if (held !== null) {
        swept = removeFilesOf(
          peerHeld === null ? [held.uid] : [held.uid, peerHeld.uid],
          undefined,
          [request.base],
        );
      }
      // A uid whose processes may still live is not handed out again.
      if (clean) {
        held?.release();
        peerHeld?.release();
      }
      return clean;
    },
    leftovers: () => swept,
  };
}

/**
 * A descriptor open for reading on `bytes`, written to `path` (root's, 0600) and unlinked at
 * once: bwrap reads the seccomp program from it, and nothing is left to remove or to find.
 */
function unnamedFile(path: string, bytes: Buffer): number {
  writeFileSync(path, bytes, { mode: 0o600, flag: 'wx' });
  let fd: number | null = null;
  try {
    fd = openSync(path, 'r');
    unlinkSync(path);
    return fd;
  } catch (error) {
    if (fd !== null) closeSync(fd);
    rmSync(path, { force: true });
    throw error;
  }
}

let counter = 0;
function nextId(): number {
  counter += 1;
  return counter;
}

/** The folders between `/` and `path`, outermost first, `/` excluded. */
function ancestors(path: string): string[] {
  const parts = resolve(path)
    .split(sep)
    .filter((part) => part !== '');
  return parts.slice(0, -1).map((_, i) => `/${parts.slice(0, i + 1).join('/')}`);
}

function bwrapArgs(request: ConfineRequest, dropsRoot: boolean, seccomp: boolean): string[] {
  const args = [
    '--unshare-pid',
    '--unshare-net',
    '--unshare-ipc',
    '--unshare-uts',
    '--unshare-cgroup-try',
    '--hostname',
    'lab9-grade',
    '--die-with-parent',
    '--new-session',
  ];
  // Without setpriv the run stays uid 0 inside: at least without any capability.
  if (!dropsRoot) args.push('--cap-drop', 'ALL');
  for (const dir of SYSTEM_DIRS) {
    if (!existsSync(dir)) continue;
    if (lstatSync(dir).isSymbolicLink()) args.push('--symlink', readlinkSync(dir), dir);
    else args.push('--ro-bind', dir, dir);
  }
  // bwrap makes missing parent folders 0700, which the run's uid could not cross.
  args.push('--perms', '0755', '--dir', '/etc');
  for (const file of SYSTEM_ETC) args.push('--ro-bind-try', file, file);
  args.push('--dev', '/dev');
  // Node itself, if it is not under /usr (nvm, a tarball in /opt).
  const nodeHome = dirname(dirname(realpathSync(process.execPath)));
  const mounts = new Set<string>();
  const binds: [string, string][] = [];
  const bind = (path: string): void => {
    const target = resolve(path);
    if (mounts.has(target)) return;
    mounts.add(target);
    binds.push([realpathSync(path), target]);
  };
  if (!SYSTEM_DIRS.some((dir) => nodeHome === dir || nodeHome.startsWith(dir + sep))) {
    bind(nodeHome);
  }
  for (const path of request.readOnly) bind(path);
  // Every folder on the way to a mount point is made here, world-traversable (bwrap's own
  // are 0700, which the run's uid could not cross); /tmp is a tmpfs of its own.
  const dirs = new Set<string>();
  for (const target of [
    ...mounts,
    ...request.writable.map((p) => resolve(p)),
    resolve(request.cwd),
  ]) {
    for (const dir of ancestors(target)) {
      if (SYSTEM_DIRS.includes(dir) || dir === '/dev' || dir === '/tmp') continue;
      if ([...mounts].some((m) => dir === m || dir.startsWith(m + sep))) continue;
      dirs.add(dir);
    }
  }
  args.push('--perms', '1777', '--size', String(request.memoryBytes), '--tmpfs', '/tmp');
  for (const dir of [...dirs].sort((a, b) => a.split(sep).length - b.split(sep).length)) {
    args.push('--perms', '0755', '--dir', dir);
  }
  for (const [source, target] of binds) args.push('--ro-bind', source, target);
  for (const dir of request.writable) {
    // With setpriv, the run's noexec tmpfs is mounted by the inner shell; this is its mount point.
    if (dropsRoot) args.push('--perms', '0755', '--dir', resolve(dir));
    else
      args.push('--perms', '1777', '--size', String(request.memoryBytes), '--tmpfs', resolve(dir));
  }
  args.push('--chdir', resolve(request.cwd));
  if (seccomp) args.push('--seccomp', String(SECCOMP_FD));
  return args;
}
