/**
 * FileManager (storage/file-manager.ts), on disk and in memory: seeding from a Buffer and from a
 * path, piece hashes and the short last piece, every readPiece error, writePiece's hash check,
 * the BITFIELD layout, completion, IDs that would escape the root, duplicate files, close().
 */
import { existsSync } from 'node:fs';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Lab9Error } from '../../src/errors';
import { DEFAULT_PIECE_BYTES } from '../../src/limits';
import type { FileAnnouncement } from '../../src/protocol/message-types';
import { FileManager } from '../../src/storage/file-manager';
import { sha256 } from '../../src/storage/piece-hash';
import { patternBytes } from '../helpers/bytes';
import { useCleanup } from '../helpers/cleanup';
import { tempDir } from '../helpers/temp-dir';

const defer = useCleanup();

/** 2.5 pieces of 1000 bytes: the last piece holds 500. */
const DATA = patternBytes(2500, 7);
const PIECE = 1000;

function slice(index: number): Buffer {
  return DATA.subarray(index * PIECE, (index + 1) * PIECE);
}

async function manager(storage: 'disk' | 'memory'): Promise<FileManager> {
  const files = new FileManager({ root: await tempDir(defer), storage });
  defer(() => files.close());
  return files;
}

/** What FileManager announces for DATA, computed here independently. */
const INFO: FileAnnouncement = {
  fileId: 'a.bin',
  fileLength: DATA.length,
  pieceLength: PIECE,
  pieceHashes: [0, 1, 2].map((i) => sha256(slice(i))),
};

/** The Lab9Error `promise` rejects with (or `action` throws); fails the test if it succeeds. */
async function failureOf(action: () => unknown): Promise<Lab9Error> {
  try {
    await action();
  } catch (error) {
    if (error instanceof Lab9Error) return error;
    throw error;
  }
  throw new Error('expected a Lab9Error, but the call succeeded');
}

describe('FileManager: seeding', () => {
  it('seeds a Buffer: one SHA-256 per piece, the last piece short', async () => {
    const files = await manager('memory');
    expect(await files.seed('s', 'a.bin', DATA, { pieceLength: PIECE })).toEqual(INFO);
    expect(files.fileInfo('s', 'a.bin')).toEqual(INFO);
    expect(files.swarms()).toEqual([{ swarmId: 's', files: [INFO] }]);
    expect((await files.readPiece('s', 'a.bin', 2)).length).toBe(500);
    expect(files.isComplete('s', 'a.bin')).toBe(true);
  });

  it('cuts seeded files into DEFAULT_PIECE_BYTES pieces unless told otherwise', async () => {
    const files = await manager('memory');
    const info = await files.seed('s', 'f', Buffer.alloc(DEFAULT_PIECE_BYTES + 1));
    expect({ pieceLength: info.pieceLength, pieces: info.pieceHashes.length }).toEqual({
      pieceLength: DEFAULT_PIECE_BYTES,
      pieces: 2,
    });
  });

  it('seeds from a path with the same hashes as from a Buffer, and serves its bytes', async () => {
    const dir = await tempDir(defer);
    const path = join(dir, 'source.bin');
    await writeFile(path, DATA);
    const files = await manager('disk');
    expect(await files.seed('s', 'a.bin', { path }, { pieceLength: PIECE })).toEqual(INFO);
    expect(await files.readPiece('s', 'a.bin', 1)).toEqual(slice(1));
    expect((await files.readFile('s', 'a.bin')).equals(DATA)).toBe(true);
  });

  it('refuses to seed a file it already has, and a pieceLength out of range', async () => {
    const files = await manager('memory');
    await files.seed('s', 'a.bin', DATA);
    expect((await failureOf(() => files.seed('s', 'a.bin', DATA))).code).toBe('ERR_FILE_EXISTS');
    await expect(files.seed('s', 'b', DATA, { pieceLength: 0 })).rejects.toThrow(TypeError);
  });
});

describe.each(['disk', 'memory'] as const)(
  'FileManager (%s): reading and writing pieces',
  (storage) => {
    it.each([
      ['an unknown swarm', 'x', 'a.bin', 0, 'ERR_UNKNOWN_SWARM', 'unknown swarm "x"'],
      ['an unknown file', 's', 'b.bin', 0, 'ERR_UNKNOWN_FILE', 'unknown file "b.bin" in swarm "s"'],
      [
        'piece -1',
        's',
        'a.bin',
        -1,
        'ERR_PIECE_OUT_OF_RANGE',
        'piece -1 is out of range: file a.bin has pieces 0..2',
      ],
      ['piece 1.5', 's', 'a.bin', 1.5, 'ERR_PIECE_OUT_OF_RANGE', 'piece 1.5 is out of range'],
      ['piece NaN', 's', 'a.bin', NaN, 'ERR_PIECE_OUT_OF_RANGE', 'piece NaN is out of range'],
      [
        'the piece past the last',
        's',
        'a.bin',
        3,
        'ERR_PIECE_OUT_OF_RANGE',
        'piece 3 is out of range',
      ],
      [
        'a piece not downloaded yet',
        's',
        'a.bin',
        1,
        'ERR_PIECE_NOT_AVAILABLE',
        'piece 1 of file a.bin in swarm s is not held yet',
      ],
    ])('readPiece refuses %s', async (_name, swarmId, fileId, index, code, message) => {
      const files = await manager(storage);
      await files.addFile('s', INFO);
      await files.writePiece('s', 'a.bin', 0, slice(0));
      const error = await failureOf(() => files.readPiece(swarmId, fileId, index));
      expect(error.code).toBe(code);
      expect(error.message).toContain(message);
    });

    it('stores a piece only if its hash matches, and then serves it', async () => {
      const files = await manager(storage);
      await files.addFile('s', INFO);
      const corrupt = Buffer.from(slice(1));
      corrupt[0] = (corrupt[0] ?? 0) ^ 1;
      const error = await failureOf(() => files.writePiece('s', 'a.bin', 1, corrupt));
      expect(error.code).toBe('ERR_HASH_MISMATCH');
      expect(files.hasPiece('s', 'a.bin', 1)).toBe(false);
      expect(await files.writePiece('s', 'a.bin', 1, slice(1))).toBe(true);
      expect((await files.readPiece('s', 'a.bin', 1)).equals(slice(1))).toBe(true);
    });

    it('refuses a piece of the wrong length, saying both lengths', async () => {
      const files = await manager(storage);
      await files.addFile('s', INFO);
      const tooLong = Buffer.concat([slice(2), Buffer.from([0])]);
      const error = await failureOf(() => files.writePiece('s', 'a.bin', 2, tooLong));
      expect(error.code).toBe('ERR_HASH_MISMATCH');
      expect(error.message).toContain('(got 501 bytes, expected 500)');
    });

    it('refuses writes to unknown files and out-of-range pieces with the readPiece codes', async () => {
      const files = await manager(storage);
      await files.addFile('s', INFO);
      expect((await failureOf(() => files.writePiece('t', 'a.bin', 0, slice(0)))).code).toBe(
        'ERR_UNKNOWN_SWARM',
      );
      expect((await failureOf(() => files.writePiece('s', 'a.bin', 3, slice(0)))).code).toBe(
        'ERR_PIECE_OUT_OF_RANGE',
      );
    });

    it('resolves false for a piece already held, and for the second of two simultaneous writes', async () => {
      const files = await manager(storage);
      await files.addFile('s', INFO);
      expect(
        await Promise.all([0, 0].map(() => files.writePiece('s', 'a.bin', 0, slice(0)))),
      ).toEqual([true, false]);
      expect(await files.writePiece('s', 'a.bin', 0, slice(0))).toBe(false);
    });

    it('lays the bitfield out most significant bit first, one bit per piece', async () => {
      const files = await manager(storage);
      const bytes = patternBytes(10, 3);
      const info: FileAnnouncement = {
        fileId: 'ten',
        fileLength: 10,
        pieceLength: 1,
        pieceHashes: [...bytes].map((_, i) => sha256(bytes.subarray(i, i + 1))),
      };
      await files.addFile('s', info);
      expect(files.bitfield('s', 'ten')).toEqual(Buffer.from([0, 0]));
      for (const i of [0, 7, 8, 9]) await files.writePiece('s', 'ten', i, bytes.subarray(i, i + 1));
      expect(files.bitfield('s', 'ten')).toEqual(Buffer.from([0b1000_0001, 0b1100_0000]));
    });

    it('is complete only once every piece is held, and then reads the whole file back', async () => {
      const files = await manager(storage);
      expect(files.isComplete('s', 'a.bin')).toBe(false);
      await files.addFile('s', INFO);
      for (const i of [2, 0]) await files.writePiece('s', 'a.bin', i, slice(i));
      expect(files.isComplete('s', 'a.bin')).toBe(false);
      await files.writePiece('s', 'a.bin', 1, slice(1));
      expect(files.isComplete('s', 'a.bin')).toBe(true);
      expect((await files.readFile('s', 'a.bin')).equals(DATA)).toBe(true);
    });

    it('accepts the same file twice and refuses one with other hashes with ERR_FILE_EXISTS', async () => {
      const files = await manager(storage);
      await files.addFile('s', INFO);
      await expect(files.addFile('s', { ...INFO })).resolves.toBeUndefined();
      const other = { ...INFO, pieceHashes: [...INFO.pieceHashes].reverse() };
      expect((await failureOf(() => files.addFile('s', other))).code).toBe('ERR_FILE_EXISTS');
      expect((await failureOf(() => files.addFile('s', { ...INFO, fileLength: 2501 }))).code).toBe(
        'ERR_FILE_EXISTS',
      );
    });

    it('refuses to add a file whose hashes do not match its piece count', () => {
      return manager(storage).then((files) => {
        expect(() =>
          files.addFile('s', { ...INFO, pieceHashes: INFO.pieceHashes.slice(1) }),
        ).toThrow(/needs 3 SHA-256 piece hashes/);
      });
    });
  },
);

describe('FileManager: where files go', () => {
  it('writes a downloaded file to <root>/<swarmId>/<fileId>, sub-folders included', async () => {
    const files = await manager('disk');
    const nested = { ...INFO, fileId: 'docs/a.txt' };
    await files.addFile('s', nested);
    for (const i of [0, 1, 2]) await files.writePiece('s', 'docs/a.txt', i, slice(i));
    const path = join(files.root, 's', 'docs', 'a.txt');
    expect(files.pathOf('s', 'docs/a.txt')).toBe(path);
    expect((await readFile(path)).equals(DATA)).toBe(true);
  });

  it('keeps memory storage off the disk', async () => {
    const files = await manager('memory');
    await files.addFile('s', INFO);
    await files.writePiece('s', 'a.bin', 0, slice(0));
    expect(await readdir(files.root)).toEqual([]);
  });

  it.each([
    ['file', '../x'],
    ['file', '/etc/passwd'],
    ['file', 'a/../../b'],
    ['file', 'a/./b'],
    ['file', 'a//b'],
    ['file', 'dir\\..\\x'],
    ['file', 'a\0b'],
    ['file', 'C:x'],
    ['file', ''],
    ['file', 'é'.repeat(128)],
    ['swarm', '..'],
    ['swarm', '.'],
    ['swarm', 'a/b'],
    ['swarm', '/abs'],
  ])('refuses the %s ID %j with ERR_INVALID_ID, creating nothing', async (kind, id) => {
    const files = await manager('disk');
    const [swarmId, fileId] = kind === 'file' ? ['s', id] : [id, 'a.bin'];
    expect((await failureOf(() => files.pathOf(swarmId, fileId))).code).toBe('ERR_INVALID_ID');
    expect((await failureOf(() => files.addFile(swarmId, { ...INFO, fileId }))).code).toBe(
      'ERR_INVALID_ID',
    );
    expect((await failureOf(() => files.seed(swarmId, fileId, DATA))).code).toBe('ERR_INVALID_ID');
    expect(await readdir(files.root)).toEqual([]);
  });

  it('closes its open files, and can be closed twice', async () => {
    const files = await manager('disk');
    await files.addFile('s', INFO);
    await files.writePiece('s', 'a.bin', 0, slice(0));
    await files.close();
    await files.close();
    expect(existsSync(files.pathOf('s', 'a.bin'))).toBe(true);
  });
});
