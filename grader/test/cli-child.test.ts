/**
 * Limits on an untrusted run (grader/runner/child.ts, process-tree.ts, output-cap.ts): the
 * whole process tree is gone after a timeout and after a clean exit, detached grandchildren
 * included; memory and output floods are stopped; output keeps its head and tail.
 * The children are small Node scripts, not Jest: each test takes well under a second.
 */
import { runChild, type ChildLimits } from '../runner/child';
import { OutputCap } from '../runner/output-cap';
import { isDead, parseStat } from '../runner/process-tree';
import { scaled } from '../../lab9/src/time-factor';

const GENEROUS: ChildLimits = {
  timeoutMs: scaled(60_000),
  memoryBytes: 2048 * 1024 * 1024,
  outputKeepBytes: 64 * 1024,
  outputFloodBytes: 1024 * 1024,
};

function run(script: string, limits: Partial<ChildLimits> = {}) {
  return runChild({
    command: process.execPath,
    args: ['-e', script],
    cwd: __dirname,
    env: { PATH: process.env.PATH ?? '' },
    limits: { ...GENEROUS, ...limits },
  });
}

/**
 * A child that starts two grandchildren that would live forever, one of them in its own
 * session (as a daemon would), prints the three pids, then does `then`.
 */
const FAMILY = (then: string): string => `
  const { spawn } = require('node:child_process');
  const forever = ['-e', 'setInterval(() => {}, 1000)'];
  const kept = spawn(process.execPath, forever, { stdio: 'ignore' });
  const daemon = spawn(process.execPath, forever, { stdio: 'ignore', detached: true });
  daemon.unref();
  console.log(JSON.stringify([process.pid, kept.pid, daemon.pid]));
  ${then}
`;

function pidsOf(output: string): number[] {
  const line = output.split('\n').find((l) => l.startsWith('['));
  return line === undefined ? [] : (JSON.parse(line) as number[]);
}

describe('runChild', () => {
  test('a timeout kills the child and every grandchild, the detached one too', async () => {
    const result = await run(FAMILY('setInterval(() => {}, 1000);'), { timeoutMs: 1500 });
    expect(result.end).toBe('timeout');
    const pids = pidsOf(result.output);
    expect(pids).toHaveLength(3);
    expect(pids.filter((pid) => !isDead(pid))).toEqual([]);
    expect(result.survivors).toEqual([]);
  });

  test('after a clean exit, what the child left running is killed too', async () => {
    const result = await run(FAMILY('process.exit(0);'));
    expect(result.end).toBe('exited');
    expect(result.exitCode).toBe(0);
    const pids = pidsOf(result.output);
    expect(pids).toHaveLength(3);
    expect(pids.filter((pid) => !isDead(pid))).toEqual([]);
  });

  test('a tree above its memory limit is stopped', async () => {
    const result = await run(
      'const hog = Buffer.alloc(256 * 1024 * 1024, 1); setInterval(() => hog.length, 1000);',
      { memoryBytes: 128 * 1024 * 1024, timeoutMs: 30_000 },
    );
    expect(result.end).toBe('memory-limit');
    expect(result.peakRssBytes).toBeGreaterThan(128 * 1024 * 1024);
  });

  test('a flood of output is stopped, keeping its first and last bytes', async () => {
    const result = await run(
      "process.stdout.write('FIRST'); setInterval(() => process.stdout.write('x'.repeat(65536)), 0);",
      { outputKeepBytes: 1024, outputFloodBytes: 256 * 1024, timeoutMs: 30_000 },
    );
    expect(result.end).toBe('output-limit');
    expect(result.outputBytes).toBeGreaterThan(256 * 1024);
    expect(result.output).toMatch(/^FIRSTx+\n… \[\d+ bytes of output omitted\] …\nx+$/);
    expect(result.output.replace(/\n….*…\n/, '')).toHaveLength(1024);
  });

  test('only the listed environment reaches the child', async () => {
    process.env.LAB9_TEST_SECRET = 'do not pass';
    try {
      const result = await run('console.log(JSON.stringify(Object.keys(process.env).sort()))');
      expect(JSON.parse(result.output) as string[]).toEqual(['LAB9_GRADE_RUN', 'PATH']);
    } finally {
      delete process.env.LAB9_TEST_SECRET;
    }
  });

  test('a run that said it is done but does not exit is stopped after the grace period', async () => {
    const result = await runChild({
      command: process.execPath,
      args: ['-e', "require('node:fs').writeSync(3, 'x DONE'); setInterval(() => {}, 1000);"],
      cwd: __dirname,
      env: {},
      limits: GENEROUS,
      channelKey: Buffer.alloc(32),
      completionMarker: 'DONE',
      exitGraceMs: 50,
    });
    expect(result.end).toBe('lingered');
    expect(result.channel.toString()).toBe('x DONE');
  });

  test('a command that cannot start is reported, not thrown', async () => {
    const result = await runChild({
      command: '/nonexistent/node',
      args: [],
      cwd: __dirname,
      env: {},
      limits: GENEROUS,
    });
    expect(result.spawnError).toMatch(/ENOENT/);
  });
});

describe('OutputCap', () => {
  test('keeps everything under the cap', () => {
    const cap = new OutputCap(10);
    cap.push(Buffer.from('hello'));
    expect(cap.text()).toBe('hello');
    expect(cap.omitted).toBe(0);
  });

  test('keeps the first and last halves across many chunks and says how much it dropped', () => {
    const cap = new OutputCap(8);
    for (const chunk of ['abc', 'def', 'ghi', 'jkl', 'mno']) cap.push(Buffer.from(chunk));
    expect(cap.total).toBe(15);
    expect(cap.omitted).toBe(7);
    expect(cap.text()).toBe('abcd\n… [7 bytes of output omitted] …\nlmno');
  });
});

describe('parseStat', () => {
  test('reads fields after a command name with spaces and parentheses', () => {
    const fields = Array.from({ length: 50 }, (_, i) => String(i + 3));
    fields[0] = 'S';
    const stat = parseStat(`42 (a (weird) name) ${fields.join(' ')}`);
    expect(stat).toEqual({ pid: 42, state: 'S', ppid: 4, pgrp: 5, session: 6, startTime: '22' });
  });
});
