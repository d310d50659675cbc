/**
 * The peer process: runs every Peer under test, each with a store whose pieces live in the
 * harness (remote-store.ts; HeldStore and RecordingStore sit there), a frozen clock and its own
 * tracker, and reports what happens. Plain JavaScript compiled before the run (compile.ts),
 * started by host.ts under Node's permission model (it reads only its compiled folder, starts
 * no process, thread or addon) and, where the grader is root, under a uid of its own.
 * Left: host.ts in the test thread, over stdin/stdout (frames.ts); console output goes to stderr.
 * An uncaught error here is the student's crash: it ends this process, as it would end a peer.
 */
import { tmpdir } from 'node:os';
import type { Socket } from 'node:net';
import { Duplex } from 'node:stream';
import type { Clock } from '../../../lab9/src/peer/clock';
import type { PeerCore } from '../../../lab9/src/peer/peer-core';
import type { RouteResult } from '../../../lab9/src/peer/download-manager';
import { MessageType, type PieceMessage } from '../../../lab9/src/protocol/message-types';
import { FileManager } from '../../../lab9/src/storage/file-manager';
import { Tracker } from '../../../lab9/src/tracker/tracker';
import { announceOf, fileBytes, swarmIdsOf } from '../data';
import { MAX_HOST_MESSAGE_BYTES } from '../bounds';
import { loadPeerClass } from '../implementation';
import { MessageDecoder, encodeMessage } from './frames';
import {
  type ConnectionKey,
  type DownloadOutcome,
  type HarnessMessage,
  type HostMessage,
  type HostOps,
  type HostRequest,
  type PeerEvent,
  type PeerOpName,
  type StoreCallName,
  type StoreOps,
  serializeError,
} from './protocol';
import { RemoteStore, storeError } from './remote-store';

// The pipe to the harness is this process's stdout, taken before any student code loads;
// console output (anything written to process.stdout from now on) goes to stderr instead.
const channel = process.stdout;
const writeChannel = channel.write.bind(channel);
const toStderr: typeof process.stdout.write = process.stderr.write.bind(process.stderr);
process.stdout.write = toStderr;

function send(message: HostMessage): void {
  writeChannel(encodeMessage(message));
}

process.on('uncaughtException', (error) => {
  const { name, code, message, stack } = serializeError(error);
  // What Node would print for an uncaught exception, with the code, to the run's log.
  const frames = (stack ?? '').split('\n').slice(1).join('\n');
  process.stderr.write(
    `peer process: uncaught ${name}${code ? ` [${code}]` : ''}: ${message}\n${frames}\n`,
  );
  send({ kind: 'fatal', error: serializeError(error) });
  process.exit(70);
});

/**
 * Timers that never fire: no request times out, no download stalls, the tracker is asked once.
 * Every scenario then moves only on what peers send, so nothing depends on elapsed time.
 */
const frozenClock: Clock = { setTimeout: () => undefined, clearTimeout: () => undefined };

const peerModule = process.argv[2];
if (peerModule === undefined)
  throw new TypeError('worker.js runs as the peer process, started by host.ts');
const Peer = loadPeerClass(peerModule);

interface Hosted {
  readonly peer: PeerCore;
  readonly store: RemoteStore;
}

/** Store calls sent to the harness and not answered yet: id → settle. */
const storeCalls = new Map<number, { resolve(value: unknown): void; reject(e: Error): void }>();
let nextStoreCall = 1;

function callStore<K extends StoreCallName>(
  call: K,
  args: StoreOps[K]['request'],
): Promise<StoreOps[K]['reply']> {
  const id = nextStoreCall++;
  return new Promise((resolve, reject) => {
    storeCalls.set(id, { resolve: resolve, reject });
    send({ kind: 'store', id, call, ...args } as HostMessage);
  });
}

const peers = new Map<string, Hosted>();
/** pipeId → the peer's end of an in-memory stream. */
const pipes = new Map<number, PipeEnd>();
/** Pipe ends are not sockets: their key for connection events is set here. */
const pipeKeys = new WeakMap<Duplex, ConnectionKey>();
let tracker = new Tracker();

function emit(event: PeerEvent): void {
  send({ kind: 'event', event });
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

function hosted(name: string): Hosted {
  const found = peers.get(name);
  if (!found) throw new TypeError(`no peer named ${name} in the host`);
  return found;
}

type Handlers = {
  [K in PeerOpName]: (request: HostOps[K]['request']) => Promise<HostOps[K]['reply']>;
};

const handlers: Handlers = {
  async startPeer({ name, seeds, keepBuffers = false }) {
    if (peers.has(name)) throw new TypeError(`a peer named ${name} already runs`);
    // The harness seeded its own store for this peer before asking; the mirror starts the same.
    const mirror = new FileManager({ root: tmpdir(), storage: 'memory' });
    for (const spec of seeds) {
      await mirror.seed(spec.swarmId, spec.fileId, fileBytes(spec), {
        pieceLength: spec.pieceLength,
      });
    }
    // Disk or memory is the harness's store's business; the mirror only answers questions.
    const store = new RemoteStore(name, mirror, callStore, keepBuffers);
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
    peers.set(name, { peer, store });
    const address = await peer.start();
    for (const swarmId of swarmIdsOf(seeds)) await peer.seed(swarmId);
    return address;
  },

  async stopPeer({ name }) {
    const { peer } = hosted(name);
    peers.delete(name);
    await peer.stop();
    return null;
  },

  async register({ swarmId, address }) {
    await tracker.register(swarmId, address);
    return null;
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
    const { peer } = hosted(name);
    const piece = {
      type: MessageType.Piece as const,
      ...ref,
      data: Buffer.from(data.buffer, data.byteOffset, data.byteLength),
    };
    let routed: Promise<RouteResult>;
    try {
      routed = peer.routePiece(piece);
    } catch (error) {
      return { threw: serializeError(error), synchronously: true };
    }
    try {
      return { resolved: await routed };
    } catch (error) {
      return { threw: serializeError(error) };
    }
  },

  keptPieces({ name, swarmId, fileId }) {
    return Promise.resolve(hosted(name).store.keptPieces(swarmId, fileId));
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
    return null;
  },

  ping() {
    return Promise.resolve(null);
  },
};

async function serve(request: HostRequest): Promise<void> {
  const { id, op } = request;
  const handler = handlers[op as PeerOpName] as (request: HostRequest) => Promise<unknown>;
  let reply: HostMessage;
  try {
    reply = { kind: 'reply', id, ok: true, value: await handler(request) };
  } catch (error) {
    reply = { kind: 'reply', id, ok: false, error: serializeError(error) };
  }
  send(reply);
}

function receive(message: HarnessMessage): void {
  if (message.kind === 'storeReply') {
    const call = storeCalls.get(message.id);
    storeCalls.delete(message.id);
    if (message.ok) call?.resolve(message.value);
    else call?.reject(storeError(message.error));
    return;
  }
  if (message.op === 'pipeWrite') {
    // Outside serve's try: a 'data' listener that throws must crash this process, as it would
    // crash a peer whose socket delivered the chunk.
    pipes.get(message.pipeId)?.deliver(message.chunk);
    send({ kind: 'reply', id: message.id, ok: true, value: null });
    return;
  }
  void serve(message);
}

// The harness is trusted: its messages are taken as they come, in order.
const decoder = new MessageDecoder(MAX_HOST_MESSAGE_BYTES);
process.stdin.on('data', (chunk: Buffer) => {
  for (const message of decoder.push(chunk)) receive(message as HarnessMessage);
});
// The harness went away: nothing is left to do.
process.stdin.on('end', () => process.exit(0));
