/**
 * FileManager: the files of every swarm a peer seeds or downloads, as fixed-size pieces.
 * Knows which pieces it holds, reads them for uploads, and stores a downloaded piece only after
 * its SHA-256 matches the announced hash. Below: FileBackend (disk or memory). Above: the Peer,
 * which depends only on the `PieceStore` interface so tests can inject their own.
 */
import { open } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import { RequestError, StorageError } from '../errors';
import { DEFAULT_PIECE_BYTES, MAX_PIECE_BYTES, MAX_PIECES_PER_FILE } from '../limits';
import { HASH_BYTES, pieceCountOf } from '../protocol/frame-codec';
import type { FileAnnouncement, SwarmAnnouncement } from '../protocol/message-types';
import { BufferBackend, DiskBackend, type FileBackend, MemoryBackend } from './file-backend';
import { checkFileId, checkSwarmId } from './ids';
import { sha256, verifyPiece } from './piece-hash';

/**
 * What a Peer needs from storage. `FileManager` is the real one; graders inject wrappers that
 * hold reads back or record writes. Errors are RequestError/StorageError with stable codes.
 */
export interface PieceStore {
  /** Every swarm and its files, as an ANNOUNCE describes them. */
  swarms(): SwarmAnnouncement[];
  /** The file's description, or undefined if this store does not know it. */
  fileInfo(swarmId: string, fileId: string): FileAnnouncement | undefined;
  /** Registers a file to download; all its pieces start missing. Same file twice is a no-op. */
  addFile(swarmId: string, file: FileAnnouncement): Promise<void>;
  /**
   * One piece's bytes. Throws RequestError ERR_UNKNOWN_SWARM, ERR_UNKNOWN_FILE,
   * ERR_PIECE_OUT_OF_RANGE or ERR_PIECE_NOT_AVAILABLE.
   */
  readPiece(swarmId: string, fileId: string, index: number): Promise<Buffer>;
  /**
   * Stores one piece after checking its hash. Resolves true if stored, false if already held.
   * The store may keep `data` itself rather than a copy (the in-memory FileManager does): do not
   * change a piece Buffer after writing it.
   * Throws StorageError ERR_HASH_MISMATCH, or the RequestErrors of `readPiece` but the last.
   */
  writePiece(swarmId: string, fileId: string, index: number, data: Buffer): Promise<boolean>;
  hasPiece(swarmId: string, fileId: string, index: number): boolean;
  /** Pieces held, one bit each, most significant bit first, as in BITFIELD. */
  bitfield(swarmId: string, fileId: string): Buffer;
  isComplete(swarmId: string, fileId: string): boolean;
  /**
   * Pieces held of one file (0 if unknown). Optional: a store that can count without a scan
   * says so; without it, progress is counted with `hasPiece` over every piece.
   */
  heldCount?(swarmId: string, fileId: string): number;
}

export interface FileManagerOptions {
  /** Folder that holds downloaded files, as `<root>/<swarmId>/<fileId>`. */
  readonly root: string;
  /**
   * Keep piece bytes on disk or in memory (memory: benchmarks and tests, nothing touches disk).
   * @default 'disk'
   */
  readonly storage?: 'disk' | 'memory';
}

export interface SeedOptions {
  /** @default DEFAULT_PIECE_BYTES (256 KiB) */
  readonly pieceLength?: number;
}

/** A source to seed from: bytes in memory, or a file on disk that is read in place. */
export type SeedSource = Buffer | { readonly path: string };

interface StoredFile {
  readonly info: FileAnnouncement;
  readonly backend: FileBackend;
  /** One byte per piece: 1 held, 0 missing. Invariant: heldCount = number of 1s. */
  readonly held: Uint8Array;
  heldCount: number;
  /** Pieces being written right now: a second write of one of them is a no-op. */
  readonly writing: Set<number>;
}

export class FileManager implements PieceStore {
  readonly root: string;
  readonly #storage: 'disk' | 'memory';
  /** swarmId → fileId → file; Map keys keep the two IDs apart, no string joining. */
  readonly #swarms = new Map<string, Map<string, StoredFile>>();

  constructor(options: FileManagerOptions) {
    this.root = resolve(options.root);
    this.#storage = options.storage ?? 'disk';
  }

  /**
   * Adds a complete file to seed and returns its announcement (with piece hashes).
   * A path source is hashed by streaming and served in place, never copied.
   */
  async seed(
    swarmId: string,
    fileId: string,
    source: SeedSource,
    options: SeedOptions = {},
  ): Promise<FileAnnouncement> {
    checkSwarmId(swarmId);
    checkFileId(fileId);
    const pieceLength = options.pieceLength ?? DEFAULT_PIECE_BYTES;
    checkPieceLength(pieceLength);
    this.#refuseDuplicate(swarmId, fileId);
    const { fileLength, pieceHashes, backend } = Buffer.isBuffer(source)
      ? hashBuffer(source, pieceLength)
      : await hashFile(source.path, pieceLength);
    const info: FileAnnouncement = { fileId, fileLength, pieceLength, pieceHashes };
    checkPieceCount(info);
    this.#refuseDuplicate(swarmId, fileId);
    const held = new Uint8Array(pieceHashes.length).fill(1);
    this.#insert(swarmId, { info, backend, held, heldCount: held.length, writing: new Set() });
    return info;
  }

  addFile(swarmId: string, file: FileAnnouncement): Promise<void> {
    checkSwarmId(swarmId);
    checkFileId(file.fileId);
    checkPieceLength(file.pieceLength);
    checkPieceCount(file);
    const existing = this.#swarms.get(swarmId)?.get(file.fileId);
    if (existing) {
      if (sameFile(existing.info, file)) return Promise.resolve();
      throw new StorageError(
        'ERR_FILE_EXISTS',
        `file ${file.fileId} of swarm ${swarmId} is already registered with other hashes`,
      );
    }
    const backend: FileBackend =
      this.#storage === 'memory'
        ? new MemoryBackend(file.fileLength)
        : new DiskBackend(this.pathOf(swarmId, file.fileId), file.fileLength, true);
    const held = new Uint8Array(file.pieceHashes.length);
    this.#insert(swarmId, { info: file, backend, held, heldCount: 0, writing: new Set() });
    return Promise.resolve();
  }

  /** Where a downloaded file is stored: `<root>/<swarmId>/<fileId>`, checked to stay in root. */
  pathOf(swarmId: string, fileId: string): string {
    checkSwarmId(swarmId);
    checkFileId(fileId);
    const path = resolve(join(this.root, swarmId, ...fileId.split('/')));
    if (!path.startsWith(this.root + sep)) {
      throw new StorageError(
        'ERR_INVALID_ID',
        `file ${fileId} of swarm ${swarmId} escapes the root`,
      );
    }
    return path;
  }

  swarms(): SwarmAnnouncement[] {
    return [...this.#swarms].map(([swarmId, files]) => ({
      swarmId,
      files: [...files.values()].map((file) => file.info),
    }));
  }

  fileInfo(swarmId: string, fileId: string): FileAnnouncement | undefined {
    return this.#swarms.get(swarmId)?.get(fileId)?.info;
  }

  async readPiece(swarmId: string, fileId: string, index: number): Promise<Buffer> {
    const file = this.#lookup(swarmId, fileId, index);
    if (file.held[index] !== 1) {
      throw new RequestError(
        'ERR_PIECE_NOT_AVAILABLE',
        `piece ${index} of file ${fileId} in swarm ${swarmId} is not held yet`,
      );
    }
    const { offset, length } = pieceSpan(file.info, index);
    return file.backend.read(offset, length);
  }

  async writePiece(swarmId: string, fileId: string, index: number, data: Buffer): Promise<boolean> {
    const file = this.#lookup(swarmId, fileId, index);
    if (file.held[index] === 1 || file.writing.has(index)) return false;
    const { offset, length } = pieceSpan(file.info, index);
    const expected = file.info.pieceHashes[index] as Buffer;
    if (data.length !== length || !verifyPiece(data, expected)) {
      throw new StorageError(
        'ERR_HASH_MISMATCH',
        `piece ${index} of file ${fileId} in swarm ${swarmId} does not match its SHA-256 ` +
          `(got ${data.length} bytes, expected ${length})`,
      );
    }
    file.writing.add(index);
    try {
      await file.backend.write(offset, data);
      file.held[index] = 1;
      file.heldCount += 1;
      return true;
    } finally {
      file.writing.delete(index);
    }
  }

  hasPiece(swarmId: string, fileId: string, index: number): boolean {
    return this.#swarms.get(swarmId)?.get(fileId)?.held[index] === 1;
  }

  bitfield(swarmId: string, fileId: string): Buffer {
    const file = this.#lookup(swarmId, fileId, 0, false);
    const bits = Buffer.alloc(Math.ceil(file.held.length / 8));
    file.held.forEach((isHeld, i) => {
      if (isHeld === 1) bits[i >> 3] = (bits[i >> 3] as number) | (0x80 >> (i & 7));
    });
    return bits;
  }

  isComplete(swarmId: string, fileId: string): boolean {
    const file = this.#swarms.get(swarmId)?.get(fileId);
    return file !== undefined && file.heldCount === file.held.length;
  }

  heldCount(swarmId: string, fileId: string): number {
    return this.#swarms.get(swarmId)?.get(fileId)?.heldCount ?? 0;
  }

  /** The whole file, for checks after a download; every piece must be held. */
  async readFile(swarmId: string, fileId: string): Promise<Buffer> {
    const file = this.#lookup(swarmId, fileId, 0, false);
    const parts: Buffer[] = [];
    for (let i = 0; i < file.held.length; i++) parts.push(await this.readPiece(swarmId, fileId, i));
    return Buffer.concat(parts, file.info.fileLength);
  }

  /** Closes every open file. The manager must not be used afterwards. */
  async close(): Promise<void> {
    const files = [...this.#swarms.values()].flatMap((swarm) => [...swarm.values()]);
    await Promise.all(files.map((file) => file.backend.close()));
  }

  #insert(swarmId: string, file: StoredFile): void {
    let swarm = this.#swarms.get(swarmId);
    if (!swarm) this.#swarms.set(swarmId, (swarm = new Map<string, StoredFile>()));
    swarm.set(file.info.fileId, file);
  }

  #refuseDuplicate(swarmId: string, fileId: string): void {
    if (this.#swarms.get(swarmId)?.has(fileId)) {
      throw new StorageError(
        'ERR_FILE_EXISTS',
        `file ${fileId} of swarm ${swarmId} already exists`,
      );
    }
  }

  #lookup(swarmId: string, fileId: string, index: number, checkIndex = true): StoredFile {
    const swarm = this.#swarms.get(swarmId);
    if (!swarm)
      throw new RequestError('ERR_UNKNOWN_SWARM', `unknown swarm ${JSON.stringify(swarmId)}`);
    const file = swarm.get(fileId);
    if (!file) {
      throw new RequestError(
        'ERR_UNKNOWN_FILE',
        `unknown file ${JSON.stringify(fileId)} in swarm ${JSON.stringify(swarmId)}`,
      );
    }
    if (checkIndex && !(Number.isInteger(index) && index >= 0 && index < file.held.length)) {
      throw new RequestError(
        'ERR_PIECE_OUT_OF_RANGE',
        `piece ${index} is out of range: file ${fileId} has pieces 0..${file.held.length - 1}`,
      );
    }
    return file;
  }
}

/** Byte offset and length of piece `index`; the last piece holds the remainder. */
export function pieceSpan(
  info: Pick<FileAnnouncement, 'fileLength' | 'pieceLength'>,
  index: number,
): { offset: number; length: number } {
  const offset = index * info.pieceLength;
  return { offset, length: Math.min(info.pieceLength, info.fileLength - offset) };
}

function checkPieceLength(pieceLength: number): void {
  if (!Number.isInteger(pieceLength) || pieceLength < 1 || pieceLength > MAX_PIECE_BYTES) {
    throw new TypeError(
      `pieceLength must be an integer in 1..${MAX_PIECE_BYTES}, got ${pieceLength}`,
    );
  }
}

function checkPieceCount(info: FileAnnouncement): void {
  const count = pieceCountOf(info.fileLength, info.pieceLength);
  if (count > MAX_PIECES_PER_FILE) {
    throw new TypeError(
      `file ${info.fileId} would have ${count} pieces, max ${MAX_PIECES_PER_FILE}`,
    );
  }
  if (info.pieceHashes.length !== count || info.pieceHashes.some((h) => h.length !== HASH_BYTES)) {
    throw new TypeError(`file ${info.fileId} needs ${count} SHA-256 piece hashes`);
  }
}

function sameFile(a: FileAnnouncement, b: FileAnnouncement): boolean {
  return (
    a.fileLength === b.fileLength &&
    a.pieceLength === b.pieceLength &&
    a.pieceHashes.every((hash, i) => hash.equals(b.pieceHashes[i] as Buffer))
  );
}

function hashBuffer(data: Buffer, pieceLength: number) {
  const pieceHashes: Buffer[] = [];
  for (let offset = 0; offset < data.length; offset += pieceLength) {
    pieceHashes.push(sha256(data.subarray(offset, offset + pieceLength)));
  }
  return { fileLength: data.length, pieceHashes, backend: new BufferBackend(data) };
}

async function hashFile(path: string, pieceLength: number) {
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    const pieceHashes: Buffer[] = [];
    const buffer = Buffer.allocUnsafe(pieceLength);
    for (let offset = 0; offset < size; offset += pieceLength) {
      const length = Math.min(pieceLength, size - offset);
      const { bytesRead } = await handle.read(buffer, 0, length, offset);
      if (bytesRead !== length) throw new Error(`${path} changed while it was being hashed`);
      pieceHashes.push(sha256(buffer.subarray(0, length)));
    }
    return { fileLength: size, pieceHashes, backend: new DiskBackend(path, size, false) };
  } finally {
    await handle.close();
  }
}
