/**
 * What a submission is (grader/runner/submission.ts, archive.ts): where its peer.ts is found,
 * how arguments expand, how kit imports are rewritten, and which archives are refused whole.
 * No Jest run, no type check: these are the cheap checks in front of grading.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { refusalReason, scanArchive } from '../runner/archive';
import { MAX_PEER_FILE_BYTES } from '../runner/limits';
import { isReservedName, uniqueNames } from '../runner/output-names';
import {
  choosePeerPath,
  expandSubmissions,
  readPeerFile,
  rewriteKitImports,
  sandboxSpecifier,
  type Submission,
  submissionName,
  UsageError,
} from '../runner/submission';
import { REPO, makeTarGz, makeZip, tempDir } from './cli-fixtures';

const PEER = 'export class Peer {}\n';

let tmp: { path: string; remove: () => void };
beforeEach(() => {
  tmp = tempDir('submission');
});
afterEach(() => tmp.remove());

function write(relPath: string, data: string | Buffer = PEER): string {
  const path = join(tmp.path, relPath);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, data);
  return path;
}

function archive(name: string, data: Buffer): Submission {
  return { name: 'x', path: write(name, data), kind: 'archive' };
}

describe('choosePeerPath', () => {
  test('prefers lab9/src/peer/peer.ts, then src/peer/peer.ts, then peer.ts at the top', () => {
    expect(choosePeerPath(['peer.ts', 'src/peer/peer.ts', 'lab9/src/peer/peer.ts'])).toBe(
      'lab9/src/peer/peer.ts',
    );
    expect(choosePeerPath(['peer.ts', 'src/peer/peer.ts'])).toBe('src/peer/peer.ts');
    expect(choosePeerPath(['README.md', 'peer.ts'])).toBe('peer.ts');
  });

  test('looks inside one wrapping folder, ignoring __MACOSX and dot folders', () => {
    expect(
      choosePeerPath([
        '__MACOSX/lab9-alice/peer.ts',
        '.git/peer.ts',
        'lab9-alice/lab9/src/peer/peer.ts',
      ]),
    ).toBe('lab9-alice/lab9/src/peer/peer.ts');
  });

  test('finds nothing deeper than one folder, or when two folders each hold one', () => {
    expect(choosePeerPath(['a/b/lab9/src/peer/peer.ts'])).toBeNull();
    expect(choosePeerPath(['alice/peer.ts', 'bob/peer.ts'])).toBeNull();
    expect(choosePeerPath(['lab9/src/peer/other.ts'])).toBeNull();
  });
});

describe('kit imports', () => {
  test('a specifier through lab9/src/ is rewritten relative to lab9/src/peer/peer.ts', () => {
    expect(sandboxSpecifier('../lab9/src/errors')).toBe('../errors');
    expect(sandboxSpecifier('../lab9/src/peer/peer-core')).toBe('./peer-core');
    expect(sandboxSpecifier('../../lab9/src/protocol/frame-codec')).toBe('../protocol/frame-codec');
    expect(sandboxSpecifier('./peer-core')).toBeNull();
    expect(sandboxSpecifier('node:stream')).toBeNull();
  });

  test('every import form is rewritten, and nothing else, keeping line numbers', () => {
    const source = [
      "import { a } from '../lab9/src/errors';",
      'export * from "../lab9/src/limits";',
      "import type { B } from '../lab9/src/peer/peer-core';",
      "const c = require('../lab9/src/storage/ids');",
      "void import('../lab9/src/protocol/frame-codec');",
      "import d = require('../lab9/src/tracker/tracker');",
      "type E = import('../lab9/src/peer/clock').Clock;",
      "const text = '../lab9/src/errors';",
      "import { f } from './helper';",
    ].join('\n');
    const { text, rewritten } = rewriteKitImports(source);
    expect(rewritten).toBe(7);
    expect(text.split('\n')).toEqual([
      "import { a } from '../errors';",
      'export * from "../limits";',
      "import type { B } from './peer-core';",
      "const c = require('../storage/ids');",
      "void import('../protocol/frame-codec');",
      "import d = require('../tracker/tracker');",
      "type E = import('./clock').Clock;",
      "const text = '../lab9/src/errors';",
      "import { f } from './helper';",
    ]);
  });

  test("solution/peer.ts keeps no import of the kit's layout after rewriting", () => {
    const { text, rewritten } = rewriteKitImports(
      readFileSync(join(REPO, 'solution', 'peer.ts'), 'utf8'),
    );
    expect(rewritten).toBeGreaterThan(0);
    expect(text).not.toMatch(/from '[^']*lab9\/src\//);
  });
});

describe('readPeerFile: folders', () => {
  test('reads a wrapped repository and names the file as in the submission', async () => {
    write('alice/lab9-alice/lab9/src/peer/peer.ts', 'export const who = "alice";\n');
    const peer = await readPeerFile({
      name: 'alice',
      path: join(tmp.path, 'alice'),
      kind: 'folder',
    });
    expect(peer).toEqual({
      ok: true,
      relPath: 'lab9-alice/lab9/src/peer/peer.ts',
      source: 'export const who = "alice";\n',
    });
  });

  test('refuses a peer.ts reached through a symbolic link', async () => {
    const secret = write('secret.ts', 'the TA’s file');
    mkdirSync(join(tmp.path, 'mallory'));
    symlinkSync(secret, join(tmp.path, 'mallory', 'peer.ts'));
    const peer = await readPeerFile({ name: 'm', path: join(tmp.path, 'mallory'), kind: 'folder' });
    expect(peer).toEqual({ ok: false, reason: 'peer.ts goes through a symbolic link' });
  });

  test('a FIFO named peer.ts is refused before it is opened, so it cannot block the batch', async () => {
    mkdirSync(join(tmp.path, 'piped', 'lab9', 'src', 'peer'), { recursive: true });
    // Nobody ever writes to it: a read would wait for ever, and Jest's timeout would say so.
    execFileSync('mkfifo', [join(tmp.path, 'piped', 'lab9', 'src', 'peer', 'peer.ts')]);
    const peer = await readPeerFile({ name: 'p', path: join(tmp.path, 'piped'), kind: 'folder' });
    expect(peer).toEqual({
      ok: false,
      reason: 'lab9/src/peer/peer.ts is a FIFO (named pipe), not a regular file',
    });
  }, 10_000);

  test('a FIFO named like an archive is refused, not opened', async () => {
    execFileSync('mkfifo', [join(tmp.path, 'piped.zip')]);
    const peer = await readPeerFile({
      name: 'p',
      path: join(tmp.path, 'piped.zip'),
      kind: 'archive',
    });
    expect(peer).toEqual({
      ok: false,
      reason: 'archive refused: the archive is not a regular file',
    });
  }, 10_000);

  test('a peer.ts larger than the limit is refused from its size, before it is read', async () => {
    write('big/peer.ts', Buffer.alloc(MAX_PEER_FILE_BYTES + 1, 0x20));
    const peer = await readPeerFile({ name: 'b', path: join(tmp.path, 'big'), kind: 'folder' });
    expect(peer).toEqual({
      ok: false,
      reason: `peer.ts is ${MAX_PEER_FILE_BYTES + 1} bytes, more than ${MAX_PEER_FILE_BYTES}`,
    });
  });

  test('a folder named peer.ts is refused with what it is', async () => {
    mkdirSync(join(tmp.path, 'odd', 'peer.ts'), { recursive: true });
    const peer = await readPeerFile({ name: 'o', path: join(tmp.path, 'odd'), kind: 'folder' });
    expect(peer).toEqual({ ok: false, reason: 'peer.ts is a folder, not a regular file' });
  });

  test('says where it looked when there is no peer.ts', async () => {
    write('empty/README.md', 'hello');
    const peer = await readPeerFile({ name: 'e', path: join(tmp.path, 'empty'), kind: 'folder' });
    expect(peer.ok).toBe(false);
    expect(!peer.ok && peer.reason).toMatch(
      /no peer\.ts found \(looked for lab9\/src\/peer\/peer\.ts/,
    );
  });
});

describe('readPeerFile: archives', () => {
  const good = [
    { path: 'lab9-bob/' },
    { path: 'lab9-bob/lab9/src/peer/peer.ts', data: 'export const who = "bob";\n' },
    { path: 'lab9-bob/README.md', data: '# bob' },
  ];

  test.each([
    ['zip', 'bob.zip', makeZip],
    ['tar.gz', 'bob.tar.gz', makeTarGz],
  ])('takes peer.ts out of a %s with a wrapping folder', async (_kind, name, make) => {
    const peer = await readPeerFile(archive(name, make(good)));
    expect(peer).toEqual({
      ok: true,
      relPath: 'lab9-bob/lab9/src/peer/peer.ts',
      source: 'export const who = "bob";\n',
    });
  });

  const hostile: [string, { path: string; data?: string; symlink?: boolean }, RegExp][] = [
    [
      'a .. entry',
      { path: 'lab9/../../evil.ts', data: 'x' },
      /"lab9\/\.\.\/\.\.\/evil\.ts" climbs out of the archive with '\.\.'/,
    ],
    [
      'an absolute entry',
      { path: '/etc/cron.d/evil', data: 'x' },
      /"\/etc\/cron\.d\/evil" has an absolute path/,
    ],
    [
      'a symbolic link',
      { path: 'lab9/src/peer/peer.ts', data: '/etc/passwd', symlink: true },
      /"lab9\/src\/peer\/peer\.ts" is a symbolic link/,
    ],
  ];
  for (const [format, name, make] of [
    ['zip', 'evil.zip', makeZip],
    ['tar.gz', 'evil.tar.gz', makeTarGz],
  ] as const) {
    test.each(hostile)(
      `refuses a ${format} holding %s, whole and with a clear message`,
      async (_what, entry, message) => {
        const peer = await readPeerFile(
          archive(name, make([{ path: 'peer.ts', data: PEER }, entry])),
        );
        expect(peer.ok).toBe(false);
        expect(!peer.ok && peer.reason).toMatch(/^archive refused: /);
        expect(!peer.ok && peer.reason).toMatch(message);
      },
    );
  }

  test('a Windows-style entry name is checked after its backslashes become slashes', async () => {
    const peer = await readPeerFile(
      archive('win.zip', makeZip([{ path: '..\\..\\evil.ts', data: 'x' }])),
    );
    expect(!peer.ok && peer.reason).toMatch(/climbs out of the archive/);
  });

  test('a damaged archive is refused, not a crash', async () => {
    const peer = await readPeerFile(archive('broken.zip', Buffer.from('not a zip at all')));
    expect(!peer.ok && peer.reason).toMatch(/^archive refused: not a readable zip archive/);
    await expect(scanArchive(write('broken.tgz', 'nope'), () => true)).rejects.toThrow(
      /tar archive/,
    );
  });

  test('refusalReason accepts ordinary files and folders', () => {
    expect(refusalReason({ path: 'lab9/src/peer/peer.ts', type: 'file' })).toBeNull();
    expect(refusalReason({ path: './lab9/', type: 'directory' })).toBeNull();
    expect(refusalReason({ path: 'C:/Windows/x', type: 'file' })).toMatch(/absolute/);
  });
});

describe('expandSubmissions', () => {
  test('a submission folder, a folder of submissions, archives and a glob, in a stable order', () => {
    write('class/zoe/peer.ts');
    write('class/adam/src/peer/peer.ts');
    write('class/carl.zip', 'zip');
    write('class/notes.txt', 'ignored');
    write('single/lab9/src/peer/peer.ts');
    write('more/x1.tar.gz', 'tgz');
    write('more/x2.tgz', 'tgz');
    const found = expandSubmissions(['single', 'class', 'more/*.t*gz'], tmp.path);
    expect(found.map((s) => [s.name, s.kind])).toEqual([
      ['single', 'folder'],
      ['adam', 'folder'],
      ['carl', 'archive'],
      ['zoe', 'folder'],
      ['x1', 'archive'],
      ['x2', 'archive'],
    ]);
  });

  test('two folders of the same name in different places get distinct names from their paths', () => {
    write('a/alice/peer.ts');
    write('b/alice/peer.ts');
    const names = expandSubmissions(['a/alice', 'b/alice'], tmp.path).map((s) => s.name);
    expect(names).toEqual([expect.stringMatching(/^alice-dir-[0-9a-f]{6}$/), expect.any(String)]);
    expect(names[1]).toMatch(/^alice-dir-[0-9a-f]{6}$/);
    expect(names[0]).not.toBe(names[1]);
  });

  test('alice, alice-2 and alice.zip each get their own folder, in any argument order', () => {
    write('class/alice/peer.ts');
    write('class/alice-2/peer.ts');
    write('class/alice.zip', makeZip([{ path: 'peer.ts', data: PEER }]));
    const named = (args: string[]): Map<string, string> =>
      new Map(expandSubmissions(args, tmp.path).map((s) => [s.path, s.name]));
    const forward = named(['class/alice', 'class/alice-2', 'class/alice.zip']);
    const backward = named(['class/alice.zip', 'class/alice-2', 'class/alice']);
    expect(new Set(forward.values()).size).toBe(3);
    expect(backward).toEqual(forward);
    expect(forward.get(join(tmp.path, 'class', 'alice'))).toBe('alice');
    expect(forward.get(join(tmp.path, 'class', 'alice-2'))).toBe('alice-2');
    expect(forward.get(join(tmp.path, 'class', 'alice.zip'))).toMatch(/^alice-zip-[0-9a-f]{6}$/);
    // The folder of submissions gives the same names as the paths one by one.
    expect(named(['class'])).toEqual(forward);
  });

  test('a told-apart name is the same in every batch where the name is shared', () => {
    const zip = { path: '/x/class/alice.zip', kind: 'archive' as const };
    const [alone] = uniqueNames([{ path: '/x/class/alice', kind: 'folder' }, zip]).slice(1);
    const [withMore] = uniqueNames([
      { path: '/x/class/bob', kind: 'folder' },
      zip,
      { path: '/x/class/alice.tgz', kind: 'archive' },
      { path: '/x/class/alice', kind: 'folder' },
    ]).slice(1);
    expect(withMore).toBe(alone);
  });

  test('Alice and alice are told apart: case-insensitive file systems would merge them', () => {
    const names = uniqueNames([
      { path: '/x/Alice', kind: 'folder' },
      { path: '/x/alice', kind: 'folder' },
    ]);
    expect(names[0]?.toLowerCase()).not.toBe(names[1]?.toLowerCase());
  });

  test('a submission named grades.csv, or like any output file, gets a folder of another name', () => {
    expect(isReservedName('grades.csv')).toBe(true);
    expect(isReservedName('GRADES.CSV')).toBe(true);
    expect(isReservedName('roster.json')).toBe(true);
    expect(isReservedName('alice')).toBe(false);
    const [name] = uniqueNames([{ path: '/x/grades.csv', kind: 'folder' }]);
    expect(name).toMatch(/^grades\.csv-dir-[0-9a-f]{6}$/);
  });

  test('the same path given twice is graded once', () => {
    write('class/alice/peer.ts');
    expect(expandSubmissions(['class/alice', 'class/*'], tmp.path).map((s) => s.name)).toEqual([
      'alice',
    ]);
  });

  test('names a bare peer.ts after its folder, an archive without its suffix', () => {
    expect(submissionName('/x/solution/peer.ts')).toBe('solution');
    expect(submissionName('/x/lab9 (Alice).tar.gz')).toBe('lab9_Alice_');
  });

  test('a missing path, an unmatched glob or an empty folder is a usage error', () => {
    write('empty/README.md', 'x');
    expect(() => expandSubmissions(['nope'], tmp.path)).toThrow(UsageError);
    expect(() => expandSubmissions(['nothing-*'], tmp.path)).toThrow(/no file matches/);
    expect(() => expandSubmissions(['empty'], tmp.path)).toThrow(/holds no submission/);
  });
});
