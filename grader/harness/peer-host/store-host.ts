/**
 * The stores of the peers under test, kept in the harness, not in the peer process: each peer's
 * FileManager (in memory, or on disk in a temp folder of its own) wrapped in a HeldStore (reads
 * the test holds), a HeldWriteStore (writes the test holds, and what each resolved) and a
 * RecordingStore (every write's bytes). The peer process's store forwards addFile, readPiece
 * and writePiece here (remote-store.ts), so held reads and writes, recorded writes and every
 * file's state are seen by the harness itself: a peer process that forges a reply cannot make a
 * piece look stored.
 * Left: host.ts, which routes store calls and the harness's own operations here.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PieceRef } from '../../../lab9/src/protocol/message-types';
import { FileManager } from '../../../lab9/src/storage/file-manager';
import { sha256 } from '../../../lab9/src/storage/piece-hash';
import { type FileSpec, fileBytes } from '../data';
import { type HoldRule, HeldStore, HeldWriteStore, RecordingStore } from '../stores';
import type { FileState, StoreCall, StoreEvent } from './protocol';

export interface StoreOptions {
  /** Where downloaded pieces go. @default 'memory' */
  readonly storage?: 'memory' | 'disk';
  /** The peer's own store keeps the very Buffers written (see keptPieces). @default false */
  readonly keepBuffers?: boolean;
}

interface PeerStore {
  readonly files: FileManager;
  readonly held: HeldStore;
  readonly writes: HeldWriteStore;
  readonly store: RecordingStore;
  /** The temp folder of a store on disk, removed with the store. */
  readonly root: string | undefined;
  readonly keepBuffers: boolean;
}

export class StoreHost {
  readonly #stores = new Map<string, PeerStore>();
  readonly #emit: (event: StoreEvent) => void;

  /** @param emit told of every held read and write, every write before storage sees it, and how each write ended */
  constructor(emit: (event: StoreEvent) => void) {
    this.#emit = emit;
  }

  /** A store for a new peer, seeding `seeds`; replaces one left by a peer of the same name. */
  async add(name: string, seeds: readonly FileSpec[], options: StoreOptions = {}): Promise<void> {
    await this.remove(name);
    const storage = options.storage ?? 'memory';
    const root = storage === 'disk' ? mkdtempSync(join(tmpdir(), 'lab9-peer-')) : undefined;
    const files = new FileManager({ root: root ?? tmpdir(), storage });
    for (const spec of seeds) {
      await files.seed(spec.swarmId, spec.fileId, fileBytes(spec), {
        pieceLength: spec.pieceLength,
      });
    }
    const held = new HeldStore(files, (readId, ref) =>
      this.#emit({ type: 'readHeld', peer: name, readId, ref }),
    );
    // The bytes arrive here as a fresh copy off the pipe: keeping them changes nothing.
    const writes = new HeldWriteStore(
      held,
      (ref) => this.#emit({ type: 'writeHeld', peer: name, ref }),
      (ref, stored) => this.#emit({ type: 'written', peer: name, ref, stored }),
    );
    const store = new RecordingStore(writes, (ref, data) =>
      this.#emit({
        type: 'write',
        peer: name,
        ref,
        length: data.length,
        sha256: sha256(data).toString('hex'),
      }),
    );
    const keepBuffers = options.keepBuffers ?? false;
    this.#stores.set(name, { files, held, writes, store, root, keepBuffers });
  }

  /** Lets held reads and writes go, closes the store's files and removes its temp folder. */
  async remove(name: string): Promise<void> {
    const found = this.#stores.get(name);
    if (!found) return;
    this.#stores.delete(name);
    found.held.releaseAll();
    found.writes.releaseAll();
    if (found.root !== undefined) {
      await found.files.close().catch(() => undefined);
      rmSync(found.root, { recursive: true, force: true });
    }
  }

  async clear(): Promise<void> {
    await Promise.all([...this.#stores.keys()].map((name) => this.remove(name)));
  }

  holdReads(name: string, rule: HoldRule): null {
    this.#get(name).held.hold(rule);
    return null;
  }

  releaseAll(name: string): null {
    const { held } = this.#get(name);
    held.hold('none');
    held.releaseAll();
    return null;
  }

  holdWrites(name: string, rule: HoldRule): null {
    this.#get(name).writes.hold(rule);
    return null;
  }

  releaseWrites(name: string): null {
    const { writes } = this.#get(name);
    writes.hold('none');
    writes.releaseAll();
    return null;
  }

  /** Whether the peer's store holds the piece now; false for a peer it does not know. */
  holds(name: string, ref: PieceRef): boolean {
    const found = this.#stores.get(name);
    return found?.files.hasPiece(ref.swarmId, ref.fileId, ref.index) ?? false;
  }

  /** Whether the peer's own store keeps the very Buffers it writes (keptPieces applies). */
  keepsBuffers(name: string): boolean {
    return this.#stores.get(name)?.keepBuffers ?? false;
  }

  async fileState(name: string, swarmId: string, fileId: string): Promise<FileState> {
    const { files } = this.#get(name);
    const info = files.fileInfo(swarmId, fileId);
    if (!info) return { known: false, held: [], bytes: undefined };
    const held: number[] = [];
    for (let i = 0; i < info.pieceHashes.length; i++) {
      if (files.hasPiece(swarmId, fileId, i)) held.push(i);
    }
    const complete = held.length === info.pieceHashes.length;
    const bytes = complete ? Uint8Array.from(await files.readFile(swarmId, fileId)) : undefined;
    return { known: true, held, bytes };
  }

  /** The piece length of a file the peer's store knows, for placing a piece in its bytes. */
  pieceLength(name: string, swarmId: string, fileId: string): number | undefined {
    return this.#stores.get(name)?.files.fileInfo(swarmId, fileId)?.pieceLength;
  }

  /** Answers one call of the peer process on its store; rejects as the store would. */
  async serve(call: StoreCall): Promise<unknown> {
    const { store } = this.#get(call.peer);
    switch (call.call) {
      case 'addFile': {
        const { file } = call;
        await store.addFile(call.swarmId, {
          ...file,
          pieceHashes: file.pieceHashes.map((hash) => Buffer.from(hash)),
        });
        return null;
      }
      case 'readPiece': {
        const { swarmId, fileId, index } = call.ref;
        return Uint8Array.from(await store.readPiece(swarmId, fileId, index));
      }
      case 'writePiece': {
        const { swarmId, fileId, index } = call.ref;
        const data = Buffer.from(call.data.buffer, call.data.byteOffset, call.data.byteLength);
        return store.writePiece(swarmId, fileId, index, data);
      }
    }
  }

  #get(name: string): PeerStore {
    const found = this.#stores.get(name);
    if (!found) throw new TypeError(`no peer named ${name} in the host`);
    return found;
  }
}
