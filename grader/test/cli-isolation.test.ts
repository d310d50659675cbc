/**
 * The isolation layers (grader/runner/isolation.ts, cgroup.ts, seccomp.ts, uid-pool.ts), each
 * proved from inside a confined run: a small `node -e` script reports what it can see and do,
 * and the test checks it against the layers detected on this machine. Tests of a layer the
 * machine lacks are skipped with their reason (Linux as root with bubblewrap has them all);
 * detection, the environment override, the filter's encoding and the parsers run everywhere.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { main } from '../cli/grade';
import { parseMountinfo, parseProcCgroup } from '../runner/cgroup';
import { runChild } from '../runner/child';
import {
  confine,
  detectIsolation,
  type Isolation,
  type LayerId,
  missingForOfficial,
  STRONG_LAYERS,
} from '../runner/isolation';
import { isDead } from '../runner/process-tree';
import { DENIED_SYSCALLS, ptraceNumber, seccompProgram } from '../runner/seccomp';
import { REPO, tempDir } from './cli-fixtures';
import { scaled } from '../../lab9/src/time-factor';

const LIMITS = {
  timeoutMs: scaled(30_000),
  memoryBytes: 1024 * 1024 * 1024,
  outputKeepBytes: 64 * 1024,
  outputFloodBytes: 1024 * 1024,
};

let isolation: Isolation;
beforeAll(async () => {
  isolation = await detectIsolation({ readPaths: [join(REPO, 'node_modules')] });
}, scaled(60_000));

function layer(id: LayerId): boolean {
  return isolation.layers.find((l) => l.id === id)?.on === true;
}

/** Runs `script` with node inside every layer on this machine, in a fresh sandbox folder. */
async function confined(script: string, env: Record<string, string> = {}, peerUid = false) {
  const tmp = tempDir('isolation');
  try {
    const kit = join(tmp.path, 'kit');
    const scratch = join(tmp.path, 'tmp');
    mkdirSync(kit);
    mkdirSync(scratch);
    writeFileSync(join(kit, 'kit-file.txt'), 'grader file\n');
    const confinement = confine(isolation, {
      command: process.execPath,
      args: ['-e', script],
      cwd: kit,
      readOnly: [kit],
      writable: [scratch],
      memoryBytes: 512 * 1024 * 1024,
      base: tmp.path,
      peerUid,
    });
    const peer: Record<string, string> =
      confinement.peerUid === null
        ? {}
        : { PEER: JSON.stringify([isolation.setpriv, confinement.peerUid, process.execPath]) };
    const result = await runChild({
      command: confinement.command,
      args: confinement.args,
      confinement,
      cwd: kit,
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        KIT: kit,
        SCRATCH: scratch,
        ...peer,
        ...env,
      },
      limits: LIMITS,
    });
    const kitFile = readFileSync(join(kit, 'kit-file.txt'), 'utf8');
    return { result, kitFile, lines: result.output.trim().split('\n') };
  } finally {
    tmp.remove();
  }
}

/** Live processes running as `uid`, from the host's /proc. */
function processesOf(uid: number | null): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .map(Number)
    .filter((pid) => {
      try {
        return statSync(`/proc/${pid}`).uid === uid && !isDead(pid);
      } catch {
        return false;
      }
    });
}

/** `test`, or `test.skip` naming why, when a layer is off here (decided once detection ran). */
function withLayers(
  ids: LayerId[],
  name: string,
  body: () => Promise<void>,
  timeout = scaled(60_000),
) {
  test(
    name,
    async () => {
      const off = ids.filter((id) => !layer(id));
      if (off.length > 0) {
        console.warn(`skipped "${name}": ${off.join(', ')} off on this machine`);
        return;
      }
      await body();
    },
    timeout,
  );
}

describe('the layers found on this machine', () => {
  test('every layer is listed once, the mandatory ones always on', () => {
    const ids = isolation.layers.map((l) => l.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of [
      'fresh-sandbox',
      'wall-clock',
      'tree-kill',
      'output-cap',
      'signed-results',
      'canary',
    ] as const) {
      expect(layer(id)).toBe(true);
    }
    console.info(
      `isolation here: ${isolation.layers.map((l) => `${l.id}=${l.on ? 'on' : 'off'}`).join(' ')}`,
    );
  });

  test(
    `${'LAB9_GRADE_DISABLE'}=strong turns every strong layer off and says so`,
    async () => {
      const weak = await detectIsolation({ readPaths: [], disable: 'strong' });
      expect(missingForOfficial(weak).map((l) => l.id)).toEqual(STRONG_LAYERS);
      for (const off of missingForOfficial(weak)) expect(off.detail).toMatch(/LAB9_GRADE_DISABLE/);
      const noBwrap = await detectIsolation({ readPaths: [], disable: 'bwrap' });
      expect(noBwrap.bwrap).toBeNull();
      expect(missingForOfficial(noBwrap).map((l) => l.id)).toEqual(
        expect.arrayContaining(['pid-namespace', 'net-namespace', 'mount-namespace', 'seccomp']),
      );
    },
    scaled(60_000),
  );

  test(
    '--official refuses to grade without the strong layers, naming what is missing',
    async () => {
      const stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
      const previous = process.env.LAB9_GRADE_DISABLE;
      process.env.LAB9_GRADE_DISABLE = 'bwrap';
      try {
        expect(await main(['--official', join(REPO, 'solution')])).toBe(2);
        const written = stderr.mock.calls.map(([chunk]) => String(chunk)).join('');
        expect(written).toMatch(
          /error: --official needs every isolation layer; missing: .*pid namespace/,
        );
      } finally {
        if (previous === undefined) delete process.env.LAB9_GRADE_DISABLE;
        else process.env.LAB9_GRADE_DISABLE = previous;
        stderr.mockRestore();
      }
    },
    scaled(60_000),
  );
});

describe('inside a confined run', () => {
  withLayers(
    ['run-uid', 'peer-uid'],
    'a process it starts under its peer uid has no capability and cannot read its memory, environment or scratch folder',
    async () => {
      const { lines } = await confined(
        `
      const fs = require('node:fs');
      fs.writeFileSync(process.env.SCRATCH + '/secret', 'run only');
      const [setpriv, uid, node] = JSON.parse(process.env.PEER);
      const probe = [
        "const fs = require('node:fs'); const out = [process.getuid()];",
        "try { out.push((fs.readFileSync('/proc/self/status', 'utf8').match(/CapEff:\\s+(\\w+)/) || [])[1]); } catch { out.push(null); }",
        "for (const p of ['/proc/' + process.ppid + '/environ', '/proc/' + process.ppid + '/mem', process.argv[1] + '/secret']) {",
        "  try { fs.readFileSync(p); out.push('READ ' + p); } catch (e) { out.push(e.code); } }",
        'console.log(JSON.stringify(out));',
      ].join('\\n');
      const run = require('node:child_process').spawnSync(setpriv, ['--reuid=' + uid, '--regid=' + uid,
        '--clear-groups', '--inh-caps=-all', '--no-new-privs', '--', node, '-e', probe, process.env.SCRATCH],
        { encoding: 'utf8' });
      console.log(run.stdout.trim() || run.stderr.trim());`,
        {},
        true,
      );
      const [uid, caps, ...reads] = JSON.parse(lines[0] ?? '[]') as [
        number,
        string | null,
        ...string[],
      ];
      expect(uid).toBeGreaterThanOrEqual(64_000);
      // Without /proc (a pid namespace) the capabilities cannot be read there; none are held.
      if (caps !== null) expect(caps).toBe('0000000000000000');
      for (const read of reads) expect(read).not.toMatch(/^READ/);
      expect(reads).toHaveLength(3);
    },
  );

  withLayers(
    ['run-uid'],
    'it runs as its own uid, not root, and cannot write the sandbox',
    async () => {
      const { lines, kitFile } = await confined(`
      const fs = require('node:fs');
      console.log(process.getuid());
      try { fs.writeFileSync(process.env.KIT + '/kit-file.txt', 'hacked'); console.log('wrote'); }
      catch (e) { console.log(e.code); }
      fs.writeFileSync(process.env.SCRATCH + '/mine', 'ok'); console.log('scratch ok');`);
      expect(Number(lines[0])).toBeGreaterThanOrEqual(64_000);
      expect(lines[1]).toMatch(/^(EROFS|EACCES)$/);
      expect(lines[2]).toBe('scratch ok');
      expect(kitFile).toBe('grader file\n');
    },
  );

  withLayers(
    ['pid-namespace', 'net-namespace', 'mount-namespace'],
    'it sees no /proc, only loopback, none of the repository, and cannot run what it writes',
    async () => {
      const { lines } = await confined(`
        const fs = require('node:fs');
        const { execFileSync } = require('node:child_process');
        console.log(fs.existsSync('/proc/1'));
        console.log(Object.keys(require('node:os').networkInterfaces()).join(','));
        console.log(fs.existsSync(${JSON.stringify(join(REPO, 'solution'))}));
        fs.copyFileSync('/bin/true', process.env.SCRATCH + '/true');
        fs.chmodSync(process.env.SCRATCH + '/true', 0o755);
        try { execFileSync(process.env.SCRATCH + '/true'); console.log('ran'); }
        catch (e) { console.log(e.code); }`);
      expect(lines).toEqual(['false', 'lo', 'false', 'EACCES']);
    },
  );

  withLayers(['seccomp'], 'ptrace is denied (EPERM) by the seccomp filter', async () => {
    const nr = ptraceNumber();
    const perl = spawnSync('perl', ['-e', '1']);
    if (nr === null || perl.status !== 0) {
      console.warn('skipped: no perl or no ptrace number for this architecture');
      return;
    }
    // PTRACE_TRACEME (0) succeeds for any process that the filter does not stop.
    const { lines } = await confined(`
      const out = require('node:child_process').spawnSync('perl',
        ['-e', 'my $r = syscall(${nr}, 0, 0, 0, 0); print $r == -1 ? ($!+0) : "allowed"']);
      console.log(String(out.stdout));`);
    expect(lines).toEqual(['1']);
  });

  withLayers(
    ['cgroup-kill'],
    'a double-forked child with a new session and an empty environment is killed with the run',
    async () => {
      // The escapee: own session (setsid -f forks first), no environment, no output pipes.
      const escape =
        'setsid -f /bin/sh -c \'echo $$ > "$SCRATCH/pid"; exec sleep 1000\' ' +
        '</dev/null >/dev/null 2>&1; sleep 0.5; cat "$SCRATCH/pid"';
      const { lines, result } = await confined(
        `const out = require('node:child_process').spawnSync('/bin/sh', ['-c', process.env.ESCAPE],
          { env: { SCRATCH: process.env.SCRATCH, PATH: process.env.PATH } });
        console.log(String(out.stdout).trim());`,
        { ESCAPE: escape },
      );
      expect(result.cgroup).not.toBeNull();
      const pidInside = Number(lines[0]);
      expect(pidInside).toBeGreaterThan(0);
      // The pid it printed is in its own pid namespace; look for any process of its uid instead.
      expect(processesOf(result.uid)).toEqual([]);
      expect(result.survivors).toEqual([]);
    },
  );

  withLayers(['cgroup-memory'], 'the kernel stops it at its memory limit', async () => {
    const { result } = await confined(
      'const a = []; for (;;) a.push(Buffer.alloc(64 * 1024 * 1024, 1));',
    );
    expect(result.end).toBe('memory-limit');
  });
});

describe('the seccomp program', () => {
  test('is whole sock_filter instructions, denies every listed call, and ends allowing', () => {
    const program = seccompProgram('x64');
    expect(program).not.toBeNull();
    if (program === null) return;
    expect(program.length % 8).toBe(0);
    const instructions = Array.from({ length: program.length / 8 }, (_, i) => ({
      code: program.readUInt16LE(i * 8),
      k: program.readUInt32LE(i * 8 + 4),
    }));
    // First: load the architecture and compare it with x86-64's.
    expect(instructions[0]).toEqual({ code: 0x20, k: 4 });
    expect(instructions[1]).toEqual({ code: 0x15, k: 0xc000_003e });
    const compared = instructions.filter((i) => i.code === 0x15).map((i) => i.k);
    expect(compared).toEqual(expect.arrayContaining([101, 310, 311, 438, 435, 56]));
    expect(DENIED_SYSCALLS).toContain('ptrace');
    expect(instructions.filter((i) => i.code === 0x06).map((i) => i.k)).toEqual(
      expect.arrayContaining([0x7fff_0000, 0x0005_0001, 0x0005_0026]),
    );
    expect(seccompProgram('ia32')).toBeNull();
  });
});

describe('cgroup discovery', () => {
  test('reads mountinfo (escaped paths) and /proc/self/cgroup of a hybrid layout', () => {
    const mounts = parseMountinfo(
      [
        '35 25 0:30 / /sys/fs/cgroup/unified rw,nosuid - cgroup2 cgroup2 rw',
        '36 25 0:31 / /sys/fs/cgroup/memory rw shared:9 - cgroup cgroup rw,memory',
        '40 25 0:32 / /mnt/with\\040space rw - ext4 /dev/vda rw',
      ].join('\n'),
    );
    expect(mounts.map((m) => [m.point, m.type, m.options.includes('memory')])).toEqual([
      ['/sys/fs/cgroup/unified', 'cgroup2', false],
      ['/sys/fs/cgroup/memory', 'cgroup', true],
      ['/mnt/with space', 'ext4', false],
    ]);
    const own = parseProcCgroup('8:pids:/\n4:memory:/grading/box\n1:cpu,cpuacct:/\n0::/\n');
    expect(own.get('memory')).toBe('/grading/box');
    expect(own.get('cpuacct')).toBe('/');
    expect(own.get('')).toBe('/');
  });

  test('isDead is true for a pid that does not exist', () => {
    expect(isDead(2 ** 22 + 7)).toBe(true);
  });
});
