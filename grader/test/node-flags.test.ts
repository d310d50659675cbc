/**
 * grader/runner/node-flags.ts: the permission-model flags for each supported Node's accepted
 * flags (the sets below are what `process.allowedNodeEnvironmentFlags` lists on those versions),
 * and, on whatever Node runs this test, a child started with those flags that can write only
 * where it was granted and reaches loopback only when granted.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  permissionFlags,
  permissionFlagsFor,
  permissionModel,
  permissionModelOf,
  quietPermissionFlags,
} from '../runner/node-flags';

/** The permission flags each Node line accepts (checked with node -p on each). */
const ACCEPTED: Record<string, readonly string[]> = {
  '18.20': [],
  '20.11': ['--experimental-permission', '--allow-child-process', '--allow-worker'],
  '20.20': ['--experimental-permission', '--allow-addons', '--allow-worker'],
  '22.23': ['--permission', '--experimental-permission', '--allow-addons', '--allow-worker'],
  '24.22': ['--permission', '--allow-addons', '--allow-worker'],
  '26.12': ['--permission', '--allow-addons', '--allow-worker', '--allow-net'],
};

const model = (version: string) => permissionModelOf(new Set(ACCEPTED[version]));
const EVERYTHING = {
  read: ['*'],
  write: ['/w'],
  worker: true,
  childProcess: true,
  addons: true,
  net: true,
};

describe('permission flags chosen from the flags the running Node accepts', () => {
  it('has no model, and so no flags, on a Node without a permission model', () => {
    expect(model('18.20')).toBeNull();
    expect(permissionFlagsFor(model('18.20'), EVERYTHING)).toBeNull();
  });

  it('uses --experimental-permission on Node 20 and --permission where Node accepts it', () => {
    expect(model('20.11')?.flag).toBe('--experimental-permission');
    expect(model('20.20')?.flag).toBe('--experimental-permission');
    expect(model('22.23')?.flag).toBe('--permission');
    expect(model('24.22')?.flag).toBe('--permission');
    expect(model('26.12')?.flag).toBe('--permission');
  });

  it('leaves out --allow-addons on Node 20.11, which would refuse to start with it', () => {
    expect(permissionFlagsFor(model('20.11'), EVERYTHING)).not.toContain('--allow-addons');
    expect(permissionFlagsFor(model('20.20'), EVERYTHING)).toContain('--allow-addons');
    expect(permissionFlagsFor(model('24.22'), EVERYTHING)).toContain('--allow-addons');
  });

  it('grants sockets with --allow-net on Node 26, and only when asked', () => {
    expect(permissionFlagsFor(model('26.12'), EVERYTHING)).toContain('--allow-net');
    expect(permissionFlagsFor(model('26.12'), { read: ['*'], write: [] })).not.toContain(
      '--allow-net',
    );
    expect(permissionFlagsFor(model('24.22'), EVERYTHING)).not.toContain('--allow-net');
  });

  it('gives one --allow-fs-* flag per path and grants nothing that was not asked for', () => {
    expect(permissionFlagsFor(model('24.22'), { read: ['/a', '/b'], write: ['/c', '/d'] })).toEqual(
      [
        '--permission',
        '--allow-fs-read=/a',
        '--allow-fs-read=/b',
        '--allow-fs-write=/c',
        '--allow-fs-write=/d',
      ],
    );
    expect(permissionFlagsFor(model('24.22'), EVERYTHING)).toEqual([
      '--permission',
      '--allow-fs-read=*',
      '--allow-fs-write=/w',
      '--allow-worker',
      '--allow-child-process',
      '--allow-addons',
    ]);
  });
});

/**
 * Runs `script` in a Node started with `flags`; returns its stdout. The script prints one
 * JSON line. The bound only stops a child that hangs.
 */
function runWith(flags: readonly string[], script: string, dirs: readonly string[]): unknown {
  const result = spawnSync(process.execPath, [...flags, '-e', script], {
    env: { ...process.env, DIRS: JSON.stringify(dirs) },
    encoding: 'utf8',
    timeout: 30_000,
  });
  if (result.status !== 0) {
    throw new Error(`node ${flags.join(' ')} exited ${result.status}: ${result.stderr}`);
  }
  return JSON.parse(result.stdout.trim().split('\n').pop() ?? 'null') as unknown;
}

/** Writes into each of `dirs` and round-trips a byte over loopback; prints what worked. */
const PROBE = `
const fs = require('node:fs');
const net = require('node:net');
const out = { writes: {}, net: null };
for (const dir of JSON.parse(process.env.DIRS)) {
  try { fs.writeFileSync(dir + '/probe', 'x'); out.writes[dir] = 'ok'; } catch (e) { out.writes[dir] = e.code; }
}
const done = (result) => { out.net = result; console.log(JSON.stringify(out)); process.exit(0); };
// Node 26 throws the denial from inside listen's next tick.
process.on('uncaughtException', (e) => done(e.code ?? String(e)));
try {
  const server = net.createServer((socket) => socket.end('y'));
  server.on('error', (e) => done(e.code));
  server.listen(0, '127.0.0.1', () => {
    const client = net.connect(server.address().port, '127.0.0.1');
    client.on('data', (d) => done(String(d) === 'y' ? 'ok' : 'wrong bytes'));
    client.on('error', (e) => done(e.code));
  });
} catch (e) { done(e.code ?? String(e)); }
`;

describe(`the flags on this Node (${process.version})`, () => {
  let granted: string;
  let other: string;
  beforeAll(() => {
    granted = mkdtempSync(join(tmpdir(), 'lab9-flags-granted-'));
    other = mkdtempSync(join(tmpdir(), 'lab9-flags-other-'));
  });
  afterAll(() => {
    rmSync(granted, { recursive: true, force: true });
    rmSync(other, { recursive: true, force: true });
  });

  const probe = (net: boolean): { writes: Record<string, string>; net: string } => {
    const flags = permissionFlags({ read: ['*'], write: [granted], net });
    if (flags === null) throw new Error('no permission model');
    return runWith([...flags, ...quietPermissionFlags()], PROBE, [granted, other]) as {
      writes: Record<string, string>;
      net: string;
    };
  };

  it('has a permission model exactly when Node accepts one of its switches', () => {
    const accepted = process.allowedNodeEnvironmentFlags;
    const has = accepted.has('--permission') || accepted.has('--experimental-permission');
    expect(permissionModel() !== null).toBe(has);
    expect(permissionFlags({ read: ['*'], write: [] }) !== null).toBe(has);
  });

  it('starts a Node that writes only where granted and reaches loopback when granted', () => {
    if (permissionModel() === null) return; // the test above proves there is nothing to start
    const seen = probe(true);
    expect(seen.writes).toEqual({ [granted]: 'ok', [other]: 'ERR_ACCESS_DENIED' });
    expect(seen.net).toBe('ok');
  });

  it('denies sockets without the grant where this Node can, and leaves them alone where not', () => {
    const running = permissionModel();
    if (running === null) return;
    expect(probe(false).net).toBe(running.restrictsNet ? 'ERR_ACCESS_DENIED' : 'ok');
  });
});
