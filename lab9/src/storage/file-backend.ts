/**
 * Where a file's bytes live: on disk (one file per swarm file, written piece by piece at its
 * offset) or in memory (benchmarks, tests). Below: node:fs or a Buffer. Above: FileManager,
 * which owns piece bookkeeping and hashing; a backend only moves bytes at offsets.
 */
import { mkdir, open, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * Bytes at offsets. FileManager only ever reads the span of a piece it wrote (or seeded), so a
 * backend may refuse any other span (MemoryBackend does).
 */
export interface FileBackend {
  read(offset: number, length: number): Promise<Buffer>;
  write(offset: number, data: Buffer): Promise<void>;
  close(): Promise<void>;
}

/**
 * A seeded file served from one Buffer in place. Reads are views of it; never written.
 */
export class BufferBackend implements FileBackend {
  readonly #bytes: Buffer;

  constructor(bytes: Buffer) {
    this.#bytes = bytes;
  }

  read(offset: number, length: number): Promise<Buffer> {
    return Promise.resolve(this.#bytes.subarray(offset, offset + length));
  }

  write(): Promise<void> {
    return Promise.reject(new TypeError('a file seeded from a Buffer is read-only'));
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

/**
 * A downloaded file kept in memory, as the pieces that were written. A piece Buffer that owns
 * most of its memory (as a piece FrameDecoder assembled from several socket chunks does) is kept
 * as is, not copied: copying 256 MiB into a fresh file-sized Buffer costs a page fault per 4 KiB.
 * A small view of a larger Buffer is copied, so it does not pin the rest. Reads must ask for the
 * span of one write.
 */
export class MemoryBackend implements FileBackend {
  readonly #length: number;
  /** offset → the bytes written there. */
  readonly #spans = new Map<number, Buffer>();

  constructor(length: number) {
    this.#length = length;
  }

  read(offset: number, length: number): Promise<Buffer> {
    const span = this.#spans.get(offset);
    if (span === undefined || span.length < length) {
      return Promise.reject(
        new RangeError(`bytes ${offset}..${offset + length} were not written as one piece`),
      );
    }
    return Promise.resolve(span.length === length ? span : span.subarray(0, length));
  }

  write(offset: number, data: Buffer): Promise<void> {
    if (offset < 0 || offset + data.length > this.#length) {
      return Promise.reject(
        new RangeError(`bytes ${offset}..${offset + data.length} exceed ${this.#length}`),
      );
    }
    const ownsItsMemory = data.byteLength * 2 >= data.buffer.byteLength;
    this.#spans.set(offset, ownsItsMemory ? data : ownCopy(data));
    return Promise.resolve();
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

/**
 * A copy in memory of its own. Not Buffer.from(data): a copy smaller than half of
 * Buffer.poolSize comes from the shared pool, so it would pin a whole pool slab (8 KiB on Node
 * 20 and 22, 64 KiB from Node 24) for as long as the piece is kept.
 */
function ownCopy(data: Buffer): Buffer {
  const copy = Buffer.allocUnsafeSlow(data.length);
  data.copy(copy);
  return copy;
}

export class DiskBackend implements FileBackend {
  readonly #path: string;
  readonly #writable: boolean;
  readonly #length: number;
  #handle: Promise<FileHandle> | undefined;

  /**
   * @param path file to read, or to create and fill when `writable`
   * @param length the file's final length; a writable file is created sparse at this size
   */
  constructor(path: string, length: number, writable: boolean) {
    this.#path = path;
    this.#length = length;
    this.#writable = writable;
  }

  async read(offset: number, length: number): Promise<Buffer> {
    const handle = await this.#open();
    const buffer = Buffer.allocUnsafe(length);
    let filled = 0;
    while (filled < length) {
      const { bytesRead } = await handle.read(buffer, filled, length - filled, offset + filled);
      if (bytesRead === 0) throw new Error(`${this.#path} ended at byte ${offset + filled}`);
      filled += bytesRead;
    }
    return buffer;
  }

  async write(offset: number, data: Buffer): Promise<void> {
    if (!this.#writable) throw new TypeError(`${this.#path} is seeded read-only`);
    const handle = await this.#open();
    let written = 0;
    while (written < data.length) {
      const { bytesWritten } = await handle.write(
        data,
        written,
        data.length - written,
        offset + written,
      );
      written += bytesWritten;
    }
  }

  async close(): Promise<void> {
    const handle = this.#handle;
    this.#handle = undefined;
    if (handle) await (await handle).close();
  }

  #open(): Promise<FileHandle> {
    this.#handle ??= this.#writable ? this.#create() : open(this.#path, 'r');
    return this.#handle;
  }

  async #create(): Promise<FileHandle> {
    await mkdir(dirname(this.#path), { recursive: true });
    const handle = await open(this.#path, 'w+');
    await handle.truncate(this.#length);
    return handle;
  }
}
