/**
 * The messages between the test thread and the peer host thread, where every Peer under test
 * runs (so a peer that loops forever or crashes costs that thread, never Jest's). The test side
 * is host.ts, the peer side worker.ts; both import only these types from each other.
 */
import type { PieceRef } from '../../../lab9/src/protocol/message-types';
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

/** Every operation: what the test thread sends and what the host answers. */
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
    /** `heldWhenSettled`: whether the store held the piece the moment routePiece settled. */
    reply: RouteOutcome & { readonly heldWhenSettled?: boolean };
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

export type HostRequest = {
  [K in OpName]: {
    readonly kind: 'request';
    readonly id: number;
    readonly op: K;
  } & HostOps[K]['request'];
}[OpName];

export type HostReply =
  | { readonly kind: 'reply'; readonly id: number; readonly ok: true; readonly value: unknown }
  | {
      readonly kind: 'reply';
      readonly id: number;
      readonly ok: false;
      readonly error: SerializedError;
    };

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

export type HostMessage = HostReply | { readonly kind: 'event'; readonly event: HostEvent };

/** What the test thread passes to a new host thread. */
export interface HostWorkerData {
  /** tsx's CommonJS register API, resolved by the test thread. */
  readonly tsxApi: string;
  /** This folder's worker.ts. */
  readonly entry: string;
}

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
