/**
 * The stores of the peers under test, kept in the harness, not in the peer process: each peer's
 * FileManager (memory) wrapped in a HeldStore and a RecordingStore, exactly as before, but on
 * this side of the pipe. The peer process's store forwards addFile, readPiece and writePiece
 * here (remote-store.ts), so held reads, recorded writes and every file's state are seen by the
 * harness itself: a peer process that forges a reply cannot make a piece look stored.
 * Left: host.ts, which routes store calls and the harness's own operations here.
 */
import { tmpdir } from 'node:os';
import { FileManager } from '../../../lab9/src/storage/file-manager';
import { sha256 } from '../../../lab9/src/storage/piece-hash';
import { type FileSpec, fileBytes } from '../data';
import { type HoldRule, HeldStore, RecordingStore } from '../stores';
import type { FileState, StoreCall, StoreEvent } from './protocol';

interface PeerStore {
  readonly files: FileManager;
  readonly held: HeldStore;
  readonly store: RecordingStore;
}

export class StoreHost {
  readonly #stores = new Map<string, PeerStore>();
  readonly #emit: (event: StoreEvent) => void;

  /** @param emit told of every held read and every write, before storage sees the write */
  constructor(emit: (event: StoreEvent) => void) {
    this.#emit = emit;
  }

  /** A store for a new peer, seeding `seeds`; replaces one left by a peer of the same name. */
  async add(name: string, seeds: readonly FileSpec[]): Promise<void> {
    const files = new FileManager({ root: tmpdir(), storage: 'memory' });
    for (const spec of seeds) {
      await files.seed(spec.swarmId, spec.fileId, fileBytes(spec), {
        pieceLength: spec.pieceLength,
      });
    }
    const held = new HeldStore(files, (readId, ref) =>
      this.#emit({ type: 'readHeld', peer: name, readId, ref }),
    );
    const store = new RecordingStore(held, (ref, data) =>
      this.#emit({
        type: 'write',
        peer: name,
        ref,
        length: data.length,
        sha256: sha256(data).toString('hex'),
      }),
    );
    this.#stores.set(name, { files, held, store });
  }

  remove(name: string): void {
    this.#stores.get(name)?.held.releaseAll();
    this.#stores.delete(name);
  }

  clear(): void {
    for (const name of [...this.#stores.keys()]) this.remove(name);
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
