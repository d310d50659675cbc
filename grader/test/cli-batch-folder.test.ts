/**
 * Attacks on the batch that are about the submission folder, not its code, graded end to end
 * with `npm run grade` on a stand-in kit: a FIFO named peer.ts, submissions whose names collide
 * (`alice`, `alice-2`, `alice.zip`), one named `grades.csv`, and a peer whose thrown error
 * carries Markdown, HTML and terminal escapes. The reference solution graded in the same batch
 * still gets full marks.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  type GradeRun,
  makeZip,
  REPO,
  runGrade,
  standInKitBase,
  tempDir,
  writeRoutingSuite,
} from './cli-fixtures';

let tmp: { path: string; remove: () => void };
beforeAll(() => {
  tmp = tempDir('batch-folder');
});
afterAll(() => tmp.remove());

/** The real lab9/src and harness with one suite: routePiece on an unknown swarm. */
function standInKit(root: string): void {
  standInKitBase(root);
  const routing = writeRoutingSuite(root, { points: 3, visibility: 'visible' });
  writeFileSync(
    join(root, 'grader', 'rubric.json'),
    JSON.stringify({ lab: 'Lab 9 (stand-in)', suites: [routing] }),
  );
}

/** A peer whose routePiece throws text made to break out of every place it is quoted. */
const HOSTILE_TEXT =
  '\x1b[2J\x1b]0;owned\x07</pre><img src=x onerror=alert(1)>\n```\n# Hidden suite source\n[click](http://evil)';
/** The reference solution with a routePiece that throws HOSTILE_TEXT and 100 000 more characters. */
function throwingPeer(solution: string): string {
  const signature = 'routePiece(piece: PieceMessage): Promise<RouteResult> {';
  if (!solution.includes(signature)) throw new Error('solution/peer.ts has no routePiece to patch');
  return solution.replace(
    signature,
    `${signature}\n    if (piece.index >= 0) throw new Error(${JSON.stringify(HOSTILE_TEXT)} + 'x'.repeat(100000));`,
  );
}

let result: GradeRun = { code: 0, stdout: '', stderr: '' };
const out = (): string => join(tmp.path, 'out');

beforeAll(async () => {
  const kit = join(tmp.path, 'kit');
  standInKit(kit);
  const solution = readFileSync(join(REPO, 'solution', 'peer.ts'), 'utf8');
  const cls = join(tmp.path, 'class');
  const put = (path: string, data: string | Buffer): void => {
    mkdirSync(join(cls, path, '..'), { recursive: true });
    writeFileSync(join(cls, path), data);
  };
  put('alice/peer.ts', solution);
  put('alice-2/peer.ts', "export const x: number = 'alice-2';\n");
  put('alice.zip', makeZip([{ path: 'peer.ts', data: "export const y: number = 'zip';\n" }]));
  put('grades.csv/peer.ts', solution);
  put('mallory/peer.ts', throwingPeer(solution));
  mkdirSync(join(cls, 'piped', 'lab9', 'src', 'peer'), { recursive: true });
  execFileSync('mkfifo', [join(cls, 'piped', 'lab9', 'src', 'peer', 'peer.ts')]);
  result = await runGrade(['--kit', kit, '--out', out(), '--seed', '7', '--jobs', '2', cls], {
    cwd: tmp.path,
    timeoutMs: 400_000,
  });
}, 420_000);

function csvRows(): string[][] {
  return readFileSync(join(out(), 'grades.csv'), 'utf8')
    .trim()
    .split('\n')
    .map((line) => line.split(','));
}

describe('npm run grade on a hostile submission folder', () => {
  test('grades the whole batch to the end: the FIFO does not hang it, grades.csv does not crash it', () => {
    expect(result.stderr).toMatch(/Grading 6 submissions/);
    expect(result.code).toBe(0);
    expect(statSync(join(out(), 'grades.csv')).isFile()).toBe(true);
    expect(csvRows()).toHaveLength(7);
  });

  test('alice, alice-2, alice.zip and grades.csv each get a folder of their own', () => {
    const names = csvRows()
      .slice(1)
      .map((row) => row[0] ?? '');
    expect(new Set(names).size).toBe(6);
    expect(names).toEqual(expect.arrayContaining(['alice', 'alice-2', 'mallory', 'piped']));
    const zip = names.find((name) => name.startsWith('alice-zip-'));
    const csv = names.find((name) => name.startsWith('grades.csv-dir-'));
    expect(zip).toMatch(/^alice-zip-[0-9a-f]{6}$/);
    expect(csv).toMatch(/^grades\.csv-dir-[0-9a-f]{6}$/);
    const row = (name: string | undefined) => csvRows().find((r) => r[0] === name);
    // Each folder holds its own submission's result, none overwritten by another's.
    expect(row('alice')?.slice(1, 4)).toEqual(['3', '3', 'ok']);
    expect(row(csv)?.slice(1, 4)).toEqual(['3', '3', 'ok']);
    expect(row('alice-2')?.[3]).toBe('compile-error');
    expect(row(zip)?.[3]).toBe('compile-error');
    expect(readFileSync(join(out(), 'alice-2', 'feedback.md'), 'utf8')).toContain('— alice-2\n');
    expect(readFileSync(join(out(), zip ?? '', 'feedback.md'), 'utf8')).toContain(`— ${zip}\n`);
  });

  test('the FIFO named peer.ts is refused as invalid, saying what it is', () => {
    const piped = csvRows().find((r) => r[0] === 'piped');
    expect(piped?.slice(1, 4)).toEqual(['0', '3', 'invalid']);
    expect(readFileSync(join(out(), 'piped', 'results.json'), 'utf8')).toContain(
      'lab9/src/peer/peer.ts is a FIFO (named pipe), not a regular file',
    );
  });

  test("the peer's hostile error text is capped, escaped and fenced wherever it is quoted", () => {
    const feedback = readFileSync(join(out(), 'mallory', 'feedback.md'), 'utf8');
    const results = readFileSync(join(out(), 'mallory', 'results.json'), 'utf8');
    for (const text of [feedback, results, result.stdout]) {
      expect(text).not.toContain('\x1b');
      expect(text).not.toContain('\x07');
      expect(text).not.toContain('x'.repeat(20_000));
    }
    expect(feedback).toContain('<img src=x onerror=alert(1)>');
    // The message's ``` cannot close the fence around it: the fence is longer.
    const fences = feedback.split('\n').filter((line) => /^`{3,}/.test(line));
    expect(fences.length).toBeGreaterThan(0);
    const opening = fences.find(
      (line) => line.endsWith('text') && feedback.includes(`${line}\nError:`),
    );
    expect(opening).toBe('````text');
  });

  test('the reference solution graded in the same batch gets full marks', () => {
    expect(result.stdout).toMatch(/^alice +3 +3 +ok +–$/m);
  });
});
