/**
 * The messages between the test thread and the peer process, where every Peer under test runs
 * (so a peer that loops forever, crashes or turns hostile costs that process, never Jest's).
 * The test side is host.ts (with store-host.ts, which keeps the peers' stores in the harness),
 * the peer side worker.ts; both import only these types from each other. frames.ts carries
 * them; schemas.ts checks, in the harness, everything the peer process sends.
 */
import type { FileAnnouncement, PieceRef } from '../../../lab9/src/protocol/message-types';
import type { FileSpec } from '../data';
import type { HoldRule } from '../stores';

export interface Address {
  readonly peerId: string;
  readonly host: string;
  readonly port: number;
}

/** An error as it crosses threads: enough to name it in a message. */
export interface SerializedError {
  readonly name: string;
  readonly message: string;
  readonly code?: string;
  readonly stack?: string;
}

/** A connection seen from the peer's side: `tcp:<client's port>` or `pipe:<id>`. */
export type ConnectionKey = `tcp:${number}` | `pipe:${number}`;

/** What routePiece did with one piece: resolved with a RouteResult, or threw. */
export type RouteOutcome =
  | {
      readonly resolved:
        | { readonly ok: true; readonly stored: boolean }
        | { readonly ok: false; readonly code: string; readonly reason: string };
    }
  | {
      readonly threw: SerializedError;
      /** Thrown by the call itself, before any promise was returned. */
      readonly synchronously?: true;
    };

export type DownloadOutcome =
  | { readonly swarmId: string; readonly ok: true; readonly piecesFrom: Record<string, number> }
  | { readonly swarmId: string; readonly ok: false; readonly error: SerializedError };

/** One stored file as the peer holds it: the bytes once complete, else which pieces it has. */
export interface FileState {
  readonly known: boolean;
  readonly held: number[];
  readonly bytes: Uint8Array | undefined;
}

/**
 * Every operation: what the test thread sends and what the host answers. HARNESS_OPS (holding
 * reads and writes, fileState) are answered by the harness itself (store-host.ts): the stores
 * live there, so what a test asserts about stored pieces never comes from the peer process.
 */
export interface HostOps {
  /** Starts a peer of the class under test, seeding `seeds`, on 127.0.0.1 port 0. */
  startPeer: {
    /**
     * `storage`: where downloaded pieces go. @default 'memory' ('disk': a fresh temp folder)
     * `keepBuffers`: the store keeps the very Buffer written. @default false (it keeps a copy)
     */
    request: {
      name: string;
      seeds: FileSpec[];
      storage?: 'memory' | 'disk';
      keepBuffers?: boolean;
    };
    reply: Address;
  };
  stopPeer: { request: { name: string }; reply: null };
  /** Adds an address to the host's tracker (e.g. a fake seeder living in the test thread). */
  register: { request: { swarmId: string; address: Address }; reply: null };
  holdReads: { request: { name: string; rule: HoldRule }; reply: null };
  releaseAll: { request: { name: string }; reply: null };
  /** From now on, writePiece calls matching `rule` finish only once the test releases them. */
  holdWrites: { request: { name: string; rule: HoldRule }; reply: null };
  /** Lets every held write finish, oldest first, and stops holding new ones. */
  releaseWrites: { request: { name: string }; reply: null };
  /** Hands one end of an in-memory stream to the peer's handleClient. */
  openPipe: { request: { name: string; pipeId: number }; reply: null };
  /** Delivers exactly this chunk as one 'data' event on the peer's side. */
  pipeWrite: { request: { pipeId: number; chunk: Uint8Array }; reply: null };
  pipeEnd: { request: { pipeId: number }; reply: null };
  pipeDestroy: { request: { pipeId: number }; reply: null };
  /** Downloads the swarms concurrently; answers once every one settled. */
  download: { request: { name: string; swarmIds: string[] }; reply: DownloadOutcome[] };
  /** Joins swarms and learns the ANNOUNCE of `files`, as a download would. */
  learn: { request: { name: string; join: string[]; files: FileSpec[] }; reply: null };
  route: {
    request: { name: string; ref: PieceRef; data: Uint8Array };
    /**
     * `heldWhenSettled`: whether the harness's store held the piece when the reply arrived, the
     * moment routePiece settled (added by host.ts, never taken from the peer process).
     */
    reply: RouteOutcome & { readonly heldWhenSettled?: boolean };
  };
  /**
   * Of a peer whose store keeps the very Buffers written (keepBuffers): the bytes each of those
   * Buffers of the file holds now. Only ever compared against the harness's own copy, so a lie
   * can only fail the peer, never pass it.
   */
  keptPieces: {
    request: { name: string; swarmId: string; fileId: string };
    reply: { index: number; data: Uint8Array }[];
  };
  fileState: { request: { name: string; swarmId: string; fileId: string }; reply: FileState };
  /** The peer's routing table and the peers it downloads from, for failure messages. */
  routingState: {
    request: { name: string };
    reply: { routes: { swarmId: string; fileId: string; pieces: number }[]; connected: string[] };
  };
  /** Stops every peer and pipe left over and starts a fresh tracker: each scenario starts clean. */
  reset: { request: Record<string, never>; reply: null };
  ping: { request: Record<string, never>; reply: null };
}

export type OpName = keyof HostOps;

/** The operations the harness answers from its own stores, never asking the peer process. */
export const HARNESS_OPS = [
  'holdReads',
  'releaseAll',
  'holdWrites',
  'releaseWrites',
  'fileState',
] as const;
export type HarnessOpName = (typeof HARNESS_OPS)[number];
/** The operations the peer process answers. */
export type PeerOpName = Exclude<OpName, HarnessOpName>;

/**
 * What the peer process asks of its store, which lives in the harness: the peer's FileManager
 * there checks hashes and keeps the bytes, HeldStore holds reads, RecordingStore sees writes.
 */
export interface StoreOps {
  addFile: { request: { peer: string; swarmId: string; file: FileAnnouncement }; reply: null };
  readPiece: { request: { peer: string; ref: PieceRef }; reply: Uint8Array };
  writePiece: { request: { peer: string; ref: PieceRef; data: Uint8Array }; reply: boolean };
}

export type StoreCallName = keyof StoreOps;

export type StoreCall = {
  [K in StoreCallName]: {
    readonly kind: 'store';
    readonly id: number;
    readonly call: K;
  } & StoreOps[K]['request'];
}[StoreCallName];

/** The answer to a call across the pipe, by its id: a value, or the error it threw. */
export type Reply<Kind extends string> =
  | { readonly kind: Kind; readonly id: number; readonly ok: true; readonly value: unknown }
  | {
      readonly kind: Kind;
      readonly id: number;
      readonly ok: false;
      readonly error: SerializedError;
    };

export type StoreReply = Reply<'storeReply'>;

export type HostRequest = {
  [K in OpName]: {
    readonly kind: 'request';
    readonly id: number;
    readonly op: K;
  } & HostOps[K]['request'];
}[OpName];

export type HostReply = Reply<'reply'>;

/** Things that happen in the host without being asked, in the order they happened. */
export type HostEvent =
  | { readonly type: 'clientError'; readonly peer: string; readonly error: SerializedError }
  | {
      readonly type: 'readHeld';
      readonly peer: string;
      readonly readId: number;
      readonly ref: PieceRef;
    }
  | {
      readonly type: 'write';
      readonly peer: string;
      readonly ref: PieceRef;
      readonly length: number;
      /** SHA-256 of the bytes, hex: tells which piece's bytes went where. */
      readonly sha256: string;
    }
  | {
      /** A writePiece call the test holds back (see holdWrites). */
      readonly type: 'writeHeld';
      readonly peer: string;
      readonly ref: PieceRef;
    }
  | {
      /** A writePiece call finished: what it resolved (true: stored), or that it threw. */
      readonly type: 'written';
      readonly peer: string;
      readonly ref: PieceRef;
      readonly stored: boolean | 'threw';
    }
  | {
      /** routePiece settled for a piece (any caller: a download, or the test directly). */
      readonly type: 'routed';
      readonly peer: string;
      readonly ref: PieceRef;
      readonly outcome: RouteOutcome;
    }
  | {
      readonly type: 'rejected';
      readonly peer: string;
      readonly ref: PieceRef;
      readonly from: string;
      readonly reason: string;
    }
  | {
      readonly type: 'connection';
      readonly peer: string;
      readonly connection: ConnectionKey;
      /** open: handed to handleClient; end: the client ended its side; close: gone. */
      readonly what: 'open' | 'end' | 'close';
    }
  | { readonly type: 'pipeData'; readonly pipeId: number; readonly chunk: Uint8Array }
  | { readonly type: 'pipeEnd'; readonly pipeId: number }
  | { readonly type: 'pipeClose'; readonly pipeId: number };

/** The events the harness records itself, from its stores: never accepted from the peer process. */
export type StoreEvent = Extract<
  HostEvent,
  { type: 'readHeld' | 'write' | 'writeHeld' | 'written' }
>;
/** The events the peer process reports. */
export type PeerEvent = Exclude<HostEvent, StoreEvent>;

/** Everything the peer process sends; `fatal` is its uncaught exception, just before it exits. */
export type HostMessage =
  | HostReply
  | { readonly kind: 'event'; readonly event: PeerEvent }
  | StoreCall
  | { readonly kind: 'fatal'; readonly error: SerializedError };

/** Everything the harness sends to the peer process. */
export type HarnessMessage = HostRequest | StoreReply;

export function serializeError(error: unknown): SerializedError {
  // Duck-typed: an error from another realm (a worker, Jest's sandbox) is no `instanceof Error`.
  if (typeof error === 'object' && error !== null && 'message' in error) {
    const { name, message, code, stack } = error as Record<string, unknown>;
    return {
      name: typeof name === 'string' ? name : 'Error',
      message: String(message),
      ...(typeof code === 'string' && { code }),
      ...(typeof stack === 'string' && { stack }),
    };
  }
  return { name: 'thrown value', message: String(error) };
}
