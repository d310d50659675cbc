/**
 * Builders for the grading tool's tests (grader/test/*.test.ts): tiny .zip and .tar.gz
 * archives written byte by byte, so a test can make entries no archiver would (`../x`,
 * absolute paths, symbolic links), temporary folders removed after each test, a stand-in kit to
 * grade against with the one scenario most of them need, the grading CLI run as a TA runs it, and
 * the platforms' grading scripts run as Gradescope and PrairieLearn run them.
 */
import { execFile, spawn } from 'node:child_process';
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { crc32, gzipSync } from 'node:zlib';
import type { z } from 'zod';
import type { RubricSuite, RubricTest } from '../rubric';

export const REPO = join(__dirname, '..', '..');
/** Runs the grading CLI the way `npm run grade` does: `node TSX GRADE ...`. */
export const TSX = join(REPO, 'node_modules', 'tsx', 'dist', 'cli.mjs');
export const GRADE = join(REPO, 'grader', 'cli', 'grade.ts');

export interface FixtureEntry {
  readonly path: string;
  /** File contents, or a symbolic link's target with `symlink`. Absent for a folder. */
  readonly data?: string;
  readonly symlink?: boolean;
}

/** A stored (uncompressed) zip; symbolic links carry Unix mode 0120777 as Info-ZIP writes. */
export function makeZip(entries: readonly FixtureEntry[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const entry of entries) {
    const name = Buffer.from(entry.path, 'utf8');
    const data = Buffer.from(entry.data ?? '', 'utf8');
    const crc = crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(0x800, 6);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(name.length, 26);
    const mode = entry.symlink === true ? 0o120777 : entry.data === undefined ? 0o040755 : 0o100644;
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE((3 << 8) | 20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0x800, 8);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(data.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE((mode << 16) >>> 0, 38);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, data);
    centrals.push(central, name);
    offset += local.length + name.length + data.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}

function tarHeader(entry: FixtureEntry, size: number): Buffer {
  const header = Buffer.alloc(512);
  const put = (text: string, at: number, length: number): void => {
    header.write(text.slice(0, length), at, length, 'utf8');
  };
  const octal = (value: number, length: number): string =>
    `${value.toString(8).padStart(length - 1, '0')}\0`;
  put(entry.path, 0, 100);
  put(octal(entry.data === undefined ? 0o755 : 0o644, 8), 100, 8);
  put(octal(0, 8), 108, 8);
  put(octal(0, 8), 116, 8);
  put(octal(size, 12), 124, 12);
  put(octal(0, 12), 136, 12);
  put(' '.repeat(8), 148, 8);
  put(entry.symlink === true ? '2' : entry.data === undefined ? '5' : '0', 156, 1);
  if (entry.symlink === true) put(entry.data ?? '', 157, 100);
  put('ustar\0', 257, 6);
  put('00', 263, 2);
  const sum = header.reduce((total, byte) => total + byte, 0);
  put(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8);
  return header;
}

/** A gzipped ustar archive (names up to 100 bytes, which is all the tests need). */
export function makeTarGz(entries: readonly FixtureEntry[]): Buffer {
  const blocks: Buffer[] = [];
  for (const entry of entries) {
    const data =
      entry.symlink === true || entry.data === undefined
        ? Buffer.alloc(0)
        : Buffer.from(entry.data);
    blocks.push(
      tarHeader(entry, data.length),
      data,
      Buffer.alloc((512 - (data.length % 512)) % 512),
    );
  }
  blocks.push(Buffer.alloc(1024));
  return gzipSync(Buffer.concat(blocks));
}

/** A fresh temporary folder; the returned function removes it (register it in afterEach). */
export function tempDir(prefix: string): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), `lab9-${prefix}-`));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/**
 * A kit to grade against with `--kit`: the real lab9/src, harness, rubric schema and Jest config,
 * node_modules linked, and an empty grader/suites for the test to fill, with a rubric of its own.
 */
export function standInKitBase(kit: string): void {
  for (const part of [
    'lab9/src',
    'grader/harness',
    'grader/rubric.ts',
    'grader/jest.config.js',
    'tsconfig.json',
    'package.json',
  ]) {
    cpSync(join(REPO, part), join(kit, part), { recursive: true });
  }
  symlinkSync(join(REPO, 'node_modules'), join(kit, 'node_modules'), 'dir');
  mkdirSync(join(kit, 'grader', 'suites'));
}

/** The Jest full name (describe title, a space, test title) of the test writeRoutingSuite writes. */
export const ROUTING_TEST = '1 peer, no routes routePiece rejects a piece of an unknown swarm';

/**
 * Writes grader/suites/routing.test.ts into a kit from standInKitBase and returns its rubric
 * entry, `routing.unknown-swarm` (part 9B), with the points and visibility the caller gives. Its
 * one scenario takes seconds, the reference passes it and the template fails it, so a stand-in
 * batch still tells a good submission from a bad one.
 */
export function writeRoutingSuite(
  kit: string,
  grading: { readonly points: number; readonly visibility: RubricSuite['visibility'] },
): RubricSuite {
  writeFileSync(
    join(kit, 'grader', 'suites', 'routing.test.ts'),
    `import { MessageType } from '../../lab9/src/protocol/message-types';
import { Tracker } from '../../lab9/src/tracker/tracker';
import { loadPeerClass } from '../harness/implementation';
describe('1 peer, no routes', () => {
  test('routePiece rejects a piece of an unknown swarm', async () => {
    const peer = new (loadPeerClass())({ tracker: new Tracker() });
    try {
      const piece = { type: MessageType.Piece, swarmId: 's', fileId: 'f', index: 0, data: Buffer.alloc(1) } as const;
      await expect(peer.routePiece(piece)).resolves.toMatchObject({ ok: false, code: 'ERR_UNKNOWN_SWARM' });
    } finally {
      await peer.stop();
    }
  });
});
`,
  );
  return {
    file: 'grader/suites/routing.test.ts',
    visibility: grading.visibility,
    tests: [
      { id: 'routing.unknown-swarm', name: ROUTING_TEST, points: grading.points, part: '9B' },
    ],
  };
}

/** How a run of the grading CLI ended: its exit code (-1 if it had none) and all it printed. */
export interface GradeRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs the grading CLI as `npm run grade` does, in `cwd`, and resolves however it exits: the
 * tests assert on the failures (exit codes 2 and 4, what stderr says) as much as on the grades.
 * `timeoutMs` kills it (0: never), for a batch that must not hang the test run.
 */
export async function runGrade(
  args: readonly string[],
  options: { readonly cwd: string; readonly timeoutMs?: number },
): Promise<GradeRun> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [TSX, GRADE, ...args], {
      cwd: options.cwd,
      maxBuffer: 16 * 1024 * 1024,
      timeout: options.timeoutMs ?? 0,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? -1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
}

/**
 * Echoes the grading CLI's progress lines (`[3/14] name: 92/100 ok (31.0 s)`, the preflight's)
 * from `stream` to this process's stderr as they come, so a long test shows it is moving.
 */
export function forwardProgress(label: string, stream: NodeJS.ReadableStream | null): void {
  let pending = '';
  stream?.on('data', (chunk: Buffer | string) => {
    pending += chunk.toString();
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      if (/^(\[\d+\/\d+\] |Preflight|Grading )/.test(line)) {
        process.stderr.write(`  ${label}: ${line}\n`);
      }
    }
  });
}

/** How a platform's grading script ended: exit code, all it printed, its parsed results.json. */
export interface PlatformRun<T> {
  readonly code: number | null;
  readonly log: string;
  readonly results: T;
}

/**
 * Runs a platform's grading script with bash (Gradescope's run_autograder, PrairieLearn's
 * grade.sh), `env` added to this process's, and parses with `schema` the results/results.json both
 * platforms expect it to leave under `root`. `log` is stdout and stderr interleaved, as the
 * platform shows instructors. When that file is missing or does not fit the schema, rejects with
 * the log, the only clue to what went wrong.
 */
export function runPlatformScript<T>(
  script: string,
  options: { readonly root: string; readonly env: Record<string, string>; readonly cwd?: string },
  schema: z.ZodType<T>,
): Promise<PlatformRun<T>> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [script], {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
    });
    let log = '';
    child.stdout.on('data', (chunk: Buffer) => (log += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (log += chunk.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => {
      try {
        const json: unknown = JSON.parse(
          readFileSync(join(options.root, 'results', 'results.json'), 'utf8'),
        );
        resolve({ code, log, results: schema.parse(json) });
      } catch (error) {
        reject(new Error(`no valid results.json: ${String(error)}\n${log}`));
      }
    });
  });
}

/** A two-test rubric for the report writers' tests: one public 9A test, one hidden 9B test. */
export const TWO_TESTS: readonly RubricTest[] = [
  {
    id: 'a.one',
    name: 'a one',
    points: 2,
    part: '9A',
    file: 'grader/suites/a.test.ts',
    visibility: 'visible',
  },
  {
    id: 'b.one',
    name: 'b one',
    points: 3,
    part: '9B',
    file: 'grader/suites/b.test.ts',
    visibility: 'hidden',
  },
];
