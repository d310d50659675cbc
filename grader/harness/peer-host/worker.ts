/**
 * The peer host thread: runs every Peer under test, with a memory FileManager wrapped in a
 * HeldStore and a RecordingStore, a frozen clock and its own tracker, and reports what happens.
 * Left: host.ts in the test thread, which sends HostOps and receives replies and HostEvents.
 * An uncaught error here is the student's crash: it ends this thread, as it would end a peer.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Socket } from 'node:net';
import { Duplex } from 'node:stream';
import { type MessagePort, parentPort } from 'node:worker_threads';
import type { Clock } from '../../../lab9/src/peer/clock';
import type { PeerCore } from '../../../lab9/src/peer/peer-core';
import type { RouteResult } from '../../../lab9/src/peer/download-manager';
import { MessageType, type PieceMessage } from '../../../lab9/src/protocol/message-types';
import { FileManager } from '../../../lab9/src/storage/file-manager';
import { sha256 } from '../../../lab9/src/storage/piece-hash';
import { Tracker } from '../../../lab9/src/tracker/tracker';
import { announceOf, fileBytes, swarmIdsOf } from '../data';
import { loadPeerClass } from '../implementation';
import { HeldStore, HeldWriteStore, RecordingStore } from '../stores';
import {
  type ConnectionKey,
  type DownloadOutcome,
  type FileState,
  type HostEvent,
  type HostMessage,
  type HostOps,
  type HostRequest,
  type OpName,
  serializeError,
} from './protocol';

const port: MessagePort = parentPortOrThrow();

/**
 * Timers that never fire: no request times out, no download stalls, the tracker is asked once.
 * Every scenario then moves only on what peers send, so nothing depends on elapsed time.
 */
const frozenClock: Clock = { setTimeout: () => undefined, clearTimeout: () => undefined };

const Peer = loadPeerClass();

interface Hosted {
  readonly peer: PeerCore;
  readonly files: FileManager;
  readonly held: HeldStore;
  readonly writes: HeldWriteStore;
  /** The temp folder of a peer that stores on disk, removed when it stops. */
  readonly root: string | undefined;
}

const peers = new Map<string, Hosted>();
/** pipeId → the peer's end of an in-memory stream. */
const pipes = new Map<number, PipeEnd>();
/** Pipe ends are not sockets: their key for connection events is set here. */
const pipeKeys = new WeakMap<Duplex, ConnectionKey>();
let tracker = new Tracker();

function emit(event: HostEvent): void {
  port.postMessage({ kind: 'event', event } satisfies HostMessage);
}

/**
 * The peer's end of an in-memory stream to a client in the test thread. Each chunk the client
 * writes becomes exactly one 'data' event here, so a split is what the test says it is.
 */
class PipeEnd extends Duplex {
  readonly #pipeId: number;
  #clientEnded = false;

  constructor(pipeId: number) {
    super({ allowHalfOpen: true });
    this.#pipeId = pipeId;
  }

  deliver(chunk: Uint8Array): void {
    if (!this.#clientEnded && !this.destroyed) this.push(Buffer.from(chunk));
  }

  endFromClient(): void {
    if (this.#clientEnded || this.destroyed) return;
    this.#clientEnded = true;
    this.push(null);
  }

  override _read(): void {}

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: () => void): void {
    emit({ type: 'pipeData', pipeId: this.#pipeId, chunk: Uint8Array.from(chunk) });
    callback();
  }

  override _final(callback: () => void): void {
    emit({ type: 'pipeEnd', pipeId: this.#pipeId });
    callback();
  }

  override _destroy(error: Error | null, callback: (error: Error | null) => void): void {
    emit({ type: 'pipeClose', pipeId: this.#pipeId });
    callback(error);
  }
}

/**
 * Wraps the two methods under test, as own properties of the instance (which is where PeerCore
 * looks them up): each connection's open, end and close, and each routePiece's outcome, are
 * reported. Listeners for 'end' and 'close' change nothing; no 'error' listener is added.
 */
function instrument(name: string, peer: PeerCore): void {
  const handleClient = peer.handleClient.bind(peer);
  peer.handleClient = (socket: Duplex): void => {
    const connection =
      pipeKeys.get(socket) ?? (`tcp:${(socket as Socket).remotePort ?? 0}` as const);
    const report = (what: 'open' | 'end' | 'close'): void =>
      emit({ type: 'connection', peer: name, connection, what });
    report('open');
    socket.once('end', () => report('end'));
    socket.once('close', () => report('close'));
    return handleClient(socket);
  };
  const routePiece = peer.routePiece.bind(peer);
  peer.routePiece = (piece: PieceMessage): Promise<RouteResult> => {
    const ref = { swarmId: piece.swarmId, fileId: piece.fileId, index: piece.index };
    let routed: Promise<RouteResult>;
    try {
      routed = routePiece(piece);
    } catch (error) {
      const threw = serializeError(error);
      emit({ type: 'routed', peer: name, ref, outcome: { threw, synchronously: true } });
      throw error;
    }
    Promise.resolve(routed).then(
      (resolved) => emit({ type: 'routed', peer: name, ref, outcome: { resolved } }),
      (error: unknown) =>
        emit({ type: 'routed', peer: name, ref, outcome: { threw: serializeError(error) } }),
    );
    return routed;
  };
}

/** Closes a disk peer's files and removes its temp folder; nothing for a memory peer. */
async function removeStorage(files: FileManager, root: string | undefined): Promise<void> {
  if (root === undefined) return;
  await files.close();
  rmSync(root, { recursive: true, force: true });
}

function hosted(name: string): Hosted {
  const found = peers.get(name);
  if (!found) throw new TypeError(`no peer named ${name} in the host`);
  return found;
}

type Handlers = {
  [K in OpName]: (request: HostOps[K]['request']) => Promise<HostOps[K]['reply']>;
};

const handlers: Handlers = {
  async startPeer({ name, seeds, storage = 'memory', keepBuffers = false }) {
    if (peers.has(name)) throw new TypeError(`a peer named ${name} already runs`);
    const root = storage === 'disk' ? mkdtempSync(join(tmpdir(), 'lab9-peer-')) : undefined;
    const files = new FileManager({ root: root ?? tmpdir(), storage });
    for (const spec of seeds) {
      await files.seed(spec.swarmId, spec.fileId, fileBytes(spec), {
        pieceLength: spec.pieceLength,
      });
    }
    const held = new HeldStore(files, (readId, ref) =>
      emit({ type: 'readHeld', peer: name, readId, ref }),
    );
    const writes = new HeldWriteStore(
      held,
      (ref) => emit({ type: 'writeHeld', peer: name, ref }),
      (ref, stored) => emit({ type: 'written', peer: name, ref, stored }),
      keepBuffers,
    );
    const store = new RecordingStore(writes, (ref, data) =>
      emit({
        type: 'write',
        peer: name,
        ref,
        length: data.length,
        sha256: sha256(data).toString('hex'),
      }),
    );
    const peer = new Peer({
      tracker,
      files: store,
      peerId: name,
      clock: frozenClock,
    });
    peer.on('clientError', (error) =>
      emit({ type: 'clientError', peer: name, error: serializeError(error) }),
    );
    peer.on('rejected', ({ swarmId, fileId, index, from, reason }) =>
      emit({ type: 'rejected', peer: name, ref: { swarmId, fileId, index }, from, reason }),
    );
    instrument(name, peer);
    peers.set(name, { peer, files, held, writes, root });
    const address = await peer.start();
    for (const swarmId of swarmIdsOf(seeds)) await peer.seed(swarmId);
    return address;
  },

  async stopPeer({ name }) {
    const { peer, files, root } = hosted(name);
    peers.delete(name);
    await peer.stop();
    await removeStorage(files, root);
    return null;
  },

  async register({ swarmId, address }) {
    await tracker.register(swarmId, address);
    return null;
  },

  holdReads({ name, rule }) {
    hosted(name).held.hold(rule);
    return Promise.resolve(null);
  },

  releaseAll({ name }) {
    const { held } = hosted(name);
    held.hold('none');
    held.releaseAll();
    return Promise.resolve(null);
  },

  holdWrites({ name, rule }) {
    hosted(name).writes.hold(rule);
    return Promise.resolve(null);
  },

  releaseWrites({ name }) {
    const { writes } = hosted(name);
    writes.hold('none');
    writes.releaseAll();
    return Promise.resolve(null);
  },

  openPipe({ name, pipeId }) {
    const { peer } = hosted(name);
    const pipe = new PipeEnd(pipeId);
    pipes.set(pipeId, pipe);
    pipeKeys.set(pipe, `pipe:${pipeId}`);
    // What UploadManager does with a socket: a handler that throws costs its stream only.
    const fail = (error: unknown): void => {
      pipe.destroy();
      emit({ type: 'clientError', peer: name, error: serializeError(error) });
    };
    try {
      const result: unknown = peer.handleClient(pipe);
      if (result instanceof Promise) result.catch(fail);
    } catch (error) {
      fail(error);
    }
    return Promise.resolve(null);
  },

  pipeWrite() {
    throw new TypeError('pipeWrite is delivered by the message listener, outside any catch');
  },

  pipeEnd({ pipeId }) {
    pipes.get(pipeId)?.endFromClient();
    return Promise.resolve(null);
  },

  pipeDestroy({ pipeId }) {
    pipes.get(pipeId)?.destroy();
    return Promise.resolve(null);
  },

  async download({ name, swarmIds }) {
    const { peer } = hosted(name);
    const settled = await Promise.allSettled(swarmIds.map((swarmId) => peer.download(swarmId)));
    return settled.map((result, i): DownloadOutcome =>
      result.status === 'fulfilled'
        ? { swarmId: swarmIds[i] as string, ok: true, piecesFrom: { ...result.value.piecesFrom } }
        : { swarmId: swarmIds[i] as string, ok: false, error: serializeError(result.reason) },
    );
  },

  async learn({ name, join, files }) {
    const { peer } = hosted(name);
    for (const swarmId of join) peer.routes.join(swarmId);
    // What PeerCore does with an arriving ANNOUNCE: learn the routes, register the new files.
    const { added } = peer.routes.learn(announceOf(files));
    for (const { swarmId, ...file } of added) await peer.files.addFile(swarmId, file);
    return null;
  },

  async route({ name, ref, data }) {
    const { peer, files } = hosted(name);
    const piece = {
      type: MessageType.Piece as const,
      ...ref,
      data: Buffer.from(data.buffer, data.byteOffset, data.byteLength),
    };
    const held = (): boolean => files.hasPiece(ref.swarmId, ref.fileId, ref.index);
    let routed: Promise<RouteResult>;
    try {
      routed = peer.routePiece(piece);
    } catch (error) {
      return { threw: serializeError(error), synchronously: true, heldWhenSettled: held() };
    }
    try {
      const resolved = await routed;
      return { resolved, heldWhenSettled: held() };
    } catch (error) {
      return { threw: serializeError(error), heldWhenSettled: held() };
    }
  },

  async fileState({ name, swarmId, fileId }): Promise<FileState> {
    const { files } = hosted(name);
    const info = files.fileInfo(swarmId, fileId);
    if (!info) return { known: false, held: [], bytes: undefined };
    const held: number[] = [];
    for (let i = 0; i < info.pieceHashes.length; i++) {
      if (files.hasPiece(swarmId, fileId, i)) held.push(i);
    }
    const complete = held.length === info.pieceHashes.length;
    const bytes = complete ? Uint8Array.from(await files.readFile(swarmId, fileId)) : undefined;
    return { known: true, held, bytes };
  },

  routingState({ name }) {
    const { peer } = hosted(name);
    const routes = peer.routes
      .all()
      .map(({ swarmId, fileId, pieceHashes }) => ({ swarmId, fileId, pieces: pieceHashes.length }));
    return Promise.resolve({ routes, connected: peer.connectedPeers() });
  },

  async reset() {
    const left = [...peers.values()];
    peers.clear();
    for (const pipe of pipes.values()) pipe.destroy();
    pipes.clear();
    tracker = new Tracker();
    await Promise.all(left.map(({ peer }) => peer.stop()));
    await Promise.all(left.map(({ files, root }) => removeStorage(files, root)));
    return null;
  },

  ping() {
    return Promise.resolve(null);
  },
};

async function serve(request: HostRequest): Promise<void> {
  const { id, op } = request;
  const handler = handlers[op] as (request: HostRequest) => Promise<unknown>;
  let reply: HostMessage;
  try {
    reply = { kind: 'reply', id, ok: true, value: await handler(request) };
  } catch (error) {
    reply = { kind: 'reply', id, ok: false, error: serializeError(error) };
  }
  port.postMessage(reply);
}

port.on('message', (request: HostRequest) => {
  if (request.op === 'pipeWrite') {
    // Outside serve's try: a 'data' listener that throws must crash this thread, as it would
    // crash a peer whose socket delivered the chunk.
    pipes.get(request.pipeId)?.deliver(request.chunk);
    port.postMessage({
      kind: 'reply',
      id: request.id,
      ok: true,
      value: null,
    } satisfies HostMessage);
    return;
  }
  void serve(request);
});

function parentPortOrThrow(): MessagePort {
  if (!parentPort)
    throw new TypeError('worker.ts runs as the peer host thread, started by host.ts');
  return parentPort;
}
