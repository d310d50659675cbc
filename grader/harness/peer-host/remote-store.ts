/**
 * The store a Peer under test gets in the peer process: addFile, readPiece and writePiece go to
 * the harness (store-host.ts), where the test holds reads and sees writes; the synchronous
 * questions (swarms, fileInfo, hasPiece, bitfield...) are answered from a local FileManager, the
 * peer's own view of its store. A piece is written to that mirror at once, as the kit's
 * in-memory store would write it (held a few microtasks later, whatever the harness does), so
 * what the peer sees never depends on how fast the pipe answers; every test asserts what the
 * harness's store holds. Errors come back as the kit's own classes with their codes, so a Peer
 * that checks `instanceof RequestError` behaves as with a local store.
 * Left: worker.ts, which gives it the way to call the harness. Right: the harness's stores.
 */
import { type ErrorCodeName, RequestError, StorageError } from '../../../lab9/src/errors';
import type { FileAnnouncement, SwarmAnnouncement } from '../../../lab9/src/protocol/message-types';
import type { FileManager, PieceStore } from '../../../lab9/src/storage/file-manager';
import type { SerializedError, StoreCallName, StoreOps } from './protocol';

/** Sends one call to the harness's store; settles with its answer. */
export type StoreCaller = <K extends StoreCallName>(
  call: K,
  args: StoreOps[K]['request'],
) => Promise<StoreOps[K]['reply']>;

/** A store error as it crossed the pipe, rebuilt as the class the store threw. */
export function storeError(error: SerializedError): Error {
  const code = error.code as ErrorCodeName;
  if (error.name === 'RequestError' && code !== undefined)
    return new RequestError(code, error.message);
  if (error.name === 'StorageError' && code !== undefined)
    return new StorageError(code, error.message);
  return Object.assign(new Error(error.message), { name: error.name, code: error.code });
}

export class RemoteStore implements PieceStore {
  readonly #peer: string;
  readonly #mirror: FileManager;
  readonly #call: StoreCaller;
  /** With keepBuffers: the very Buffer of each piece written, by file (fileKey), then index. */
  readonly #kept: Map<string, Map<number, Buffer>> | undefined;

  /**
   * @param mirror seeded like the harness's store; each piece is written to it as the peer writes it
   * @param keepBuffers keep the very Buffer of every piece written, as a store that does not
   *   copy would (the kit's in-memory store keeps some): keptPieces tells what they hold now
   */
  constructor(peer: string, mirror: FileManager, call: StoreCaller, keepBuffers = false) {
    this.#peer = peer;
    this.#mirror = mirror;
    this.#call = call;
    this.#kept = keepBuffers ? new Map() : undefined;
  }

  /** What each kept Buffer of the file holds now, by piece index (empty without keepBuffers). */
  keptPieces(swarmId: string, fileId: string): { index: number; data: Uint8Array }[] {
    const kept = this.#kept?.get(fileKey(swarmId, fileId)) ?? new Map<number, Buffer>();
    return [...kept].map(([index, data]) => ({ index, data: Uint8Array.from(data) }));
  }

  swarms(): SwarmAnnouncement[] {
    return this.#mirror.swarms();
  }

  fileInfo(swarmId: string, fileId: string): FileAnnouncement | undefined {
    return this.#mirror.fileInfo(swarmId, fileId);
  }

  async addFile(swarmId: string, file: FileAnnouncement): Promise<void> {
    const { fileId, fileLength, pieceLength, pieceHashes } = file;
    await this.#call('addFile', {
      peer: this.#peer,
      swarmId,
      file: { fileId, fileLength, pieceLength, pieceHashes },
    });
    await this.#mirror.addFile(swarmId, file);
  }

  async readPiece(swarmId: string, fileId: string, index: number): Promise<Buffer> {
    const data = await this.#call('readPiece', {
      peer: this.#peer,
      ref: { swarmId, fileId, index },
    });
    return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  }

  async writePiece(swarmId: string, fileId: string, index: number, data: Buffer): Promise<boolean> {
    const bytes = Uint8Array.from(data);
    // The peer's own view first, as a local in-memory store (errors are the harness's to give).
    const mirrored = this.#mirror
      .writePiece(swarmId, fileId, index, Buffer.from(bytes))
      .catch(() => false);
    const stored = await this.#call('writePiece', {
      peer: this.#peer,
      ref: { swarmId, fileId, index },
      data: bytes,
    });
    await mirrored;
    if (stored && this.#kept !== undefined) {
      const key = fileKey(swarmId, fileId);
      const file = this.#kept.get(key) ?? new Map<number, Buffer>();
      this.#kept.set(key, file.set(index, data));
    }
    return stored;
  }

  hasPiece(swarmId: string, fileId: string, index: number): boolean {
    return this.#mirror.hasPiece(swarmId, fileId, index);
  }

  bitfield(swarmId: string, fileId: string): Buffer {
    return this.#mirror.bitfield(swarmId, fileId);
  }

  isComplete(swarmId: string, fileId: string): boolean {
    return this.#mirror.isComplete(swarmId, fileId);
  }

  heldCount(swarmId: string, fileId: string): number {
    return this.#mirror.heldCount(swarmId, fileId);
  }
}

/** One file's key in #kept; NUL cannot occur in a swarm or file ID. */
function fileKey(swarmId: string, fileId: string): string {
  return `${swarmId}\0${fileId}`;
}
