/**
 * The bench's files on disk: one scratch folder per run (removed at the end), random source
 * files made once per size and hashed while written, and a fresh folder per measured run so
 * no download finds the previous one's pieces.
 */
import { createHash, randomFillSync } from 'node:crypto';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SourceFile } from './messages';

const WRITE_CHUNK_BYTES = 1024 * 1024;

export class Scratch {
  readonly #root: string;
  readonly #sources = new Map<number, Promise<SourceFile>>();
  #runs = 0;

  private constructor(root: string) {
    this.#root = root;
  }

  static async create(): Promise<Scratch> {
    return new Scratch(await mkdtemp(join(tmpdir(), 'lab9-bench-')));
  }

  /** A random file of `bytes` bytes, made on first use and shared by later scenarios. */
  source(bytes: number): Promise<SourceFile> {
    let source = this.#sources.get(bytes);
    if (!source) this.#sources.set(bytes, (source = writeRandomFile(this.#root, bytes)));
    return source;
  }

  /** A new empty folder name for one measured run's peers. */
  runFolder(): string {
    this.#runs += 1;
    return join(this.#root, `run-${this.#runs}`);
  }

  /** Removes one run's folder (downloaded files) once its figures are taken. */
  async clear(folder: string): Promise<void> {
    await rm(folder, { recursive: true, force: true });
  }

  async remove(): Promise<void> {
    await rm(this.#root, { recursive: true, force: true });
  }
}

async function writeRandomFile(root: string, bytes: number): Promise<SourceFile> {
  const path = join(root, `source-${bytes}.bin`);
  const hash = createHash('sha256');
  const chunk = Buffer.allocUnsafe(WRITE_CHUNK_BYTES);
  const handle = await open(path, 'w');
  try {
    for (let written = 0; written < bytes;) {
      const part = randomFillSync(chunk.subarray(0, Math.min(chunk.length, bytes - written)));
      hash.update(part);
      await handle.write(part, 0, part.length, written);
      written += part.length;
    }
  } finally {
    await handle.close();
  }
  return { path, bytes, sha256: hash.digest('hex') };
}
