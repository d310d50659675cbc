/**
 * Batch hygiene: what one run may do to the rest of its batch. The CPU limit of each run
 * (cgroup.ts), the files a run's uid leaves outside its sandbox (leftovers.ts), and whether a
 * run can read the other submissions and the reports (batch-privacy.ts). Each is proved from
 * inside a confined run where this machine has the layer, and skipped naming the layer where not;
 * the logic beneath (what is removed, what counts as reachable) runs everywhere it can.
 */
import { randomUUID } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  existsSync,
  lchownSync,
  mkdirSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { privacyAtStart, reachableByOthers, withBatchPrivacy } from '../runner/batch-privacy';
import { detectCgroupLayout, RunCgroup, RUN_CGROUP_PREFIX, withoutCpu } from '../runner/cgroup';
import { type ChildResult, runChild } from '../runner/child';
import {
  confine,
  detectIsolation,
  type Isolation,
  type LayerId,
  missingForOfficial,
} from '../runner/isolation';
import { removeFilesOf } from '../runner/leftovers';
import { REPO, tempDir } from './cli-fixtures';

const LIMITS = {
  timeoutMs: 60_000,
  memoryBytes: 1024 * 1024 * 1024,
  outputKeepBytes: 64 * 1024,
  outputFloodBytes: 1024 * 1024,
};

/** A CPU limit small enough that a fraction of a second of work must meet it. */
const TEST_CPUS = 0.2;

const ROOT = process.platform === 'linux' && process.getuid?.() === 0;

let isolation: Isolation;
let withoutBwrap: Isolation;
beforeAll(async () => {
  const readPaths = [join(REPO, 'node_modules')];
  isolation = await detectIsolation({ readPaths, cpus: TEST_CPUS });
  withoutBwrap = await detectIsolation({ readPaths, cpus: TEST_CPUS, disable: 'bwrap' });
}, 120_000);

function on(found: Isolation, id: LayerId): boolean {
  return found.layers.find((l) => l.id === id)?.on === true;
}

/** `test` whose body runs only where `found()` has every layer of `ids`; else says which is off. */
function withLayers(
  ids: LayerId[],
  found: () => Isolation,
  name: string,
  body: () => Promise<void>,
) {
  test(
    name,
    async () => {
      const off = ids.filter((id) => !on(found(), id));
      if (off.length > 0) {
        console.warn(`skipped "${name}": ${off.join(', ')} off on this machine`);
        return;
      }
      await body();
    },
    120_000,
  );
}

/** Runs `script` with node in `found`'s layers, in a fresh sandbox folder. */
async function confined(found: Isolation, script: string): Promise<ChildResult> {
  const tmp = tempDir('batch');
  try {
    const kit = join(tmp.path, 'kit');
    const scratch = join(tmp.path, 'tmp');
    mkdirSync(kit);
    mkdirSync(scratch);
    const confinement = confine(found, {
      command: process.execPath,
      args: ['-e', script],
      cwd: kit,
      readOnly: [kit],
      writable: [scratch],
      memoryBytes: 512 * 1024 * 1024,
      base: tmp.path,
    });
    return await runChild({
      command: confinement.command,
      args: confinement.args,
      confinement,
      cwd: kit,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
      limits: LIMITS,
    });
  } finally {
    tmp.remove();
  }
}

describe('the CPU limit of a run', () => {
  test('is a layer that --official requires, with the quota in its detail', () => {
    const layer = isolation.layers.find((l) => l.id === 'cgroup-cpu');
    expect(layer).toBeDefined();
    if (layer?.on === true) {
      expect(layer.detail).toMatch(/cpu\.(max|cfs_quota_us): 0\.2 CPUs per run/);
      expect(isolation.cpus).toBe(TEST_CPUS);
    } else {
      expect(isolation.cpus).toBeNull();
      expect(missingForOfficial(isolation).map((l) => l.id)).toContain('cgroup-cpu');
    }
  });

  withLayers(
    ['cgroup-cpu'],
    () => isolation,
    'a run that wants more CPU than its quota is held back by the kernel',
    async () => {
      // 300 ms of CPU time under a quota of 20 ms per 100 ms period: the quota must run out in
      // some period, whatever the machine's speed or load.
      const result = await confined(
        isolation,
        'const start = process.cpuUsage(); let x = 0;' +
          'while (true) { for (let i = 0; i < 1e5; i++) x += i;' +
          ' const u = process.cpuUsage(start); if (u.user + u.system > 300000) break; }' +
          'console.log("done", x > 0);',
      );
      expect(result.output).toContain('done true');
      expect(result.cpuThrottledPeriods).toBeGreaterThan(0);
    },
  );

  withLayers(
    ['cgroup-cpu'],
    () => isolation,
    'the run cgroup holds the quota the option asked for',
    async () => {
      const layout = isolation.cgroups;
      const run = RunCgroup.create(layout, `${RUN_CGROUP_PREFIX}${process.pid}-cpu-test`, {
        memoryBytes: 256 * 1024 * 1024,
        maxTasks: 16,
        cpus: 1.5,
      });
      try {
        const text = layout.v2Cpu
          ? readFileSync(join(layout.v2 ?? '', run.name, 'cpu.max'), 'utf8')
          : readFileSync(join(layout.v1Cpu ?? '', run.name, 'cpu.cfs_quota_us'), 'utf8');
        expect(text.trim().split(' ')[0]).toBe('150000');
      } finally {
        await run.remove();
      }
    },
  );

  test('LAB9_GRADE_DISABLE=cpu turns only the CPU limit off, and says so', async () => {
    const noCpu = await detectIsolation({ readPaths: [], disable: 'cpu,bwrap' });
    const cpu = noCpu.layers.find((l) => l.id === 'cgroup-cpu');
    expect(cpu?.on).toBe(false);
    expect(noCpu.cpus).toBeNull();
    if (on(isolation, 'cgroup-memory')) {
      expect(cpu?.detail).toBe('turned off by LAB9_GRADE_DISABLE (cpu)');
      expect(on(noCpu, 'cgroup-memory')).toBe(true);
    }
  }, 60_000);

  test('a layout without a cpu controller makes run cgroups without a quota, not an error', async () => {
    if (!ROOT) return;
    const layout = withoutCpu(detectCgroupLayout());
    if (layout.v1Memory === null && !layout.v2Memory) return;
    const run = RunCgroup.create(layout, `${RUN_CGROUP_PREFIX}${process.pid}-nocpu-test`, {
      memoryBytes: 256 * 1024 * 1024,
      maxTasks: 16,
      cpus: 1,
    });
    try {
      expect(run.cpuThrottled()).toBe(0);
      const cpuDir = detectCgroupLayout().v1Cpu;
      if (cpuDir !== null) expect(existsSync(join(cpuDir, run.name))).toBe(false);
    } finally {
      await run.remove();
    }
  });
});

describe('files a run leaves outside its sandbox', () => {
  const STRANGER = 64_999;
  /** The run's peer uid, swept in the same walk. */
  const PEER_STRANGER = 64_998;

  test('every file the uids could have made goes: in a shared folder they can search, or a folder of theirs; nothing else does', () => {
    if (!ROOT) return;
    const tmp = tempDir('leftovers');
    try {
      const root = tmp.path;
      chmodSync(root, 0o1777);
      const own = (path: string): string => {
        chownSync(path, STRANGER, STRANGER);
        return path;
      };
      const top = join(root, 'left.txt');
      writeFileSync(top, 'x');
      own(top);
      const ownDir = join(root, 'its-folder');
      mkdirSync(join(ownDir, 'deep', 'deeper'), { recursive: true });
      writeFileSync(join(ownDir, 'deep', 'deeper', 'file'), 'x');
      own(ownDir);
      const shared = join(root, 'shared');
      mkdirSync(shared, { mode: 0o1777 });
      chmodSync(shared, 0o1777);
      const inShared = join(shared, 'in-shared');
      writeFileSync(inShared, 'x');
      own(inShared);
      const link = join(root, 'link');
      const target = join(root, 'graders-file');
      writeFileSync(target, 'keep');
      symlinkSync(target, link);
      // The link itself is the stranger's, its target the grader's.
      lchownSync(link, STRANGER, STRANGER);
      const closed = join(root, 'closed');
      mkdirSync(closed, { mode: 0o700 });
      chmodSync(closed, 0o700);
      const unreachable = join(closed, 'unreachable');
      writeFileSync(unreachable, 'x');
      own(unreachable);
      // A folder others may enter but not write to, with a world-writable one inside.
      const readOnly = join(root, 'read-only');
      mkdirSync(join(readOnly, 'open'), { recursive: true });
      chmodSync(readOnly, 0o755);
      chmodSync(join(readOnly, 'open'), 0o1777);
      const notWritable = join(readOnly, 'not-writable-by-it');
      writeFileSync(notWritable, 'x');
      own(notWritable);
      const deepShared = join(readOnly, 'open', 'in-open');
      writeFileSync(deepShared, 'x');
      own(deepShared);
      // A folder of its own stays its own wherever it is: found, and removed whole.
      const ownDirInReadOnly = join(readOnly, 'its-own');
      mkdirSync(join(ownDirInReadOnly, 'inner'), { recursive: true });
      own(ownDirInReadOnly);
      const peers = join(shared, 'of-the-peer');
      writeFileSync(peers, 'x');
      chownSync(peers, PEER_STRANGER, PEER_STRANGER);
      const sandbox = join(root, 'sandbox');
      mkdirSync(sandbox);
      own(sandbox);
      const graders = join(root, 'graders.txt');
      writeFileSync(graders, 'x');

      const sweep = removeFilesOf([STRANGER, PEER_STRANGER], [root], [sandbox]);
      const removed = [inShared, top, ownDir, link, deepShared, ownDirInReadOnly, peers];
      expect([...sweep.removed].sort()).toEqual(removed.sort());
      expect(sweep.failed).toEqual([]);
      for (const gone of removed) expect(existsSync(gone)).toBe(false);
      // The grader's files stay, the target of a link too; the sandbox is its owner's to remove;
      // a folder the uid could not enter, or not write to, could not have been written by it.
      for (const kept of [target, graders, sandbox, unreachable, notWritable])
        expect(existsSync(kept)).toBe(true);
    } finally {
      tmp.remove();
    }
  });

  withLayers(
    ['run-uid'],
    () => withoutBwrap,
    'a run that writes into /tmp, /var/tmp and /dev/shm leaves nothing there after it',
    async () => {
      const marker = `lab9-leftover-${randomUUID()}`;
      const places = ['/tmp', '/var/tmp', '/dev/shm'].filter((dir) => existsSync(dir));
      const script =
        `const fs = require('node:fs'); const written = [];` +
        `for (const dir of ${JSON.stringify(places)}) {` +
        `  try { fs.writeFileSync(dir + '/${marker}', 'x'); written.push(dir); } catch (e) {}` +
        `  try { fs.mkdirSync(dir + '/${marker}.d/a', { recursive: true });` +
        `        fs.writeFileSync(dir + '/${marker}.d/a/f', 'x'); } catch (e) {} }` +
        `console.log('wrote in ' + written.join(','));`;
      const result = await confined(withoutBwrap, script);
      expect(result.output).toContain(`wrote in ${places.join(',')}`);
      for (const dir of places) {
        expect(existsSync(join(dir, marker))).toBe(false);
        expect(existsSync(join(dir, `${marker}.d`))).toBe(false);
      }
      expect(result.leftoversRemoved).toEqual(
        expect.arrayContaining(
          places.flatMap((dir) => [join(dir, marker), join(dir, `${marker}.d`)]),
        ),
      );
    },
  );
});

describe('the rest of the batch, seen from a run', () => {
  test('a path is reachable by others only if every folder on the way is searchable by them', () => {
    const tmp = tempDir('reach');
    try {
      const open = join(tmp.path, 'open');
      mkdirSync(join(open, 'alice'), { recursive: true });
      writeFileSync(join(open, 'alice.zip'), 'zip');
      chmodSync(tmp.path, 0o755);
      chmodSync(open, 0o755);
      chmodSync(join(open, 'alice'), 0o755);
      chmodSync(join(open, 'alice.zip'), 0o644);
      expect(reachableByOthers(join(open, 'alice'))).toBe(true);
      expect(reachableByOthers(join(open, 'alice.zip'))).toBe(true);
      chmodSync(join(open, 'alice.zip'), 0o640);
      expect(reachableByOthers(join(open, 'alice.zip'))).toBe(false);
      chmodSync(open, 0o750);
      expect(reachableByOthers(join(open, 'alice'))).toBe(false);
      expect(reachableByOthers(join(tmp.path, 'missing'))).toBe(true);
    } finally {
      tmp.remove();
    }
  });

  test('without a mount namespace the layer is on only for a batch closed to other users', () => {
    const tmp = tempDir('privacy');
    try {
      const closed = join(tmp.path, 'closed');
      const open = join(tmp.path, 'open');
      mkdirSync(join(closed, 'alice'), { recursive: true });
      mkdirSync(join(open, 'bob'), { recursive: true });
      chmodSync(tmp.path, 0o755);
      chmodSync(closed, 0o700);
      chmodSync(open, 0o755);
      chmodSync(join(open, 'bob'), 0o755);
      const fake: Isolation = {
        ...withoutBwrap,
        bwrap: null,
        setpriv: '/usr/bin/setpriv',
        layers: [privacyAtStart({ bwrap: null, setpriv: '/usr/bin/setpriv' }, 'not installed')],
      };
      const layerOf = (found: Isolation) =>
        found.layers.find((l) => l.id === 'private-submissions');
      expect(layerOf(fake)?.on).toBe(false);
      expect(layerOf(withBatchPrivacy(fake, [join(closed, 'alice')]))?.on).toBe(true);
      const mixed = layerOf(withBatchPrivacy(fake, [join(closed, 'alice'), join(open, 'bob')]));
      expect(mixed?.on).toBe(false);
      expect(mixed?.detail).toContain(join(open, 'bob'));
      expect(mixed?.detail).not.toContain(join(closed, 'alice'));
      // A mount namespace keeps every submission out whatever its permissions.
      const ns = privacyAtStart({ bwrap: '/usr/bin/bwrap', setpriv: '/usr/bin/setpriv' }, '');
      expect(ns.on).toBe(true);
    } finally {
      tmp.remove();
    }
  });

  withLayers(
    ['run-uid'],
    () => withoutBwrap,
    "without a mount namespace a run's uid cannot list or read a submission in a closed folder, and can in an open one",
    async () => {
      const tmp = tempDir('neighbours');
      try {
        chmodSync(tmp.path, 0o755);
        const closed = join(tmp.path, 'closed');
        const open = join(tmp.path, 'open');
        for (const dir of [closed, open]) {
          mkdirSync(join(dir, 'alice'), { recursive: true });
          writeFileSync(join(dir, 'alice', 'peer.ts'), 'alice’s answer');
          chmodSync(join(dir, 'alice'), 0o755);
          chmodSync(join(dir, 'alice', 'peer.ts'), 0o644);
        }
        chmodSync(closed, 0o700);
        chmodSync(open, 0o755);
        const script = (dir: string): string =>
          `const fs = require('node:fs');` +
          `try { console.log('listed ' + fs.readdirSync(${JSON.stringify(dir)}).join(',')); } catch (e) { console.log('list ' + e.code); }` +
          `try { fs.readFileSync(${JSON.stringify(join(dir, 'alice', 'peer.ts'))}); console.log('read it'); } catch (e) { console.log('read ' + e.code); }`;
        const fromClosed = await confined(withoutBwrap, script(closed));
        expect(fromClosed.output).toContain('list EACCES');
        expect(fromClosed.output).toContain('read EACCES');
        const fromOpen = await confined(withoutBwrap, script(open));
        // The control: the same run reads an open folder, which is why the layer checks.
        expect(fromOpen.output).toContain('listed alice');
        expect(fromOpen.output).toContain('read it');
        expect(reachableByOthers(join(open, 'alice'))).toBe(true);
        expect(reachableByOthers(join(closed, 'alice'))).toBe(false);
      } finally {
        tmp.remove();
      }
    },
  );
});
