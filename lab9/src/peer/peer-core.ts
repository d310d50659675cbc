/**
 * PeerCore: everything a peer does except the two parts students write. Wires the FileManager,
 * the UploadManager (which hands each accepted socket to `handleClient`), the DownloadManager
 * (which hands each arriving PIECE to `routePiece`), the routing table and the tracker.
 * The subclass `Peer` (peer.ts) implements the two abstract methods. API: docs/peer-api.md.
 */
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { isLab9Error, type Lab9Error, ProtocolError, TransferError } from '../errors';
import {
  type AnnounceMessage,
  type ErrorMessage,
  type Message,
  MessageType,
  type PieceMessage,
  type PieceRef,
  type PingMessage,
  type PongMessage,
  WireErrorCode,
  wireCodeOf,
} from '../protocol/message-types';
import { FileManager, type PieceStore } from '../storage/file-manager';
import type { PeerAddress, TrackerClient } from '../tracker/tracker';
import type { Clock } from './clock';
import {
  DownloadManager,
  type DownloadManagerOptions,
  type DownloadSummary,
  type RouteResult,
} from './download-manager';
import { type FileRoute, RoutingTable } from './routing-table';
import { UploadManager } from './upload-manager';

export interface PeerOptions {
  /** Where this peer finds other members of a swarm. */
  readonly tracker: TrackerClient;
  /** This peer's name on the wire. @default 'peer-' + 8 random hex digits */
  readonly peerId?: string;
  /**
   * Storage for every swarm; inject your own to control reads and writes in tests.
   * @default a FileManager on a fresh temporary folder
   */
  readonly files?: PieceStore;
  /** @default '127.0.0.1' */
  readonly host?: string;
  /** @default 0 (an ephemeral port) */
  readonly port?: number;
  /** @default the real timers */
  readonly clock?: Clock;
  /** Opens a stream to another peer. @default a TCP connection */
  readonly connect?: DownloadManagerOptions['connect'];
  /** GET_PIECE requests outstanding per connection. @default 16 */
  readonly requestsInFlight?: number;
  /** @default 10000 */
  readonly requestTimeoutMs?: number;
  /** @default 30000 */
  readonly stallTimeoutMs?: number;
  /** @default 1000 */
  readonly trackerRefreshMs?: number;
}

export interface PeerEvents {
  /** A piece was stored (after routePiece accepted it). */
  piece: [event: PieceRef & { readonly from: string }];
  /** routePiece rejected a piece; `reason` starts with the error code. */
  rejected: [event: PieceRef & { readonly from: string; readonly reason: string }];
  /** Progress of one file being downloaded. */
  progress: [
    event: { readonly swarmId: string; readonly fileId: string; held: number; total: number },
  ];
  /** handleClient threw or rejected for one client; that client's socket was destroyed. */
  clientError: [error: unknown];
  /** An announcement disagreed with a route already known; the old route was kept. */
  routeConflict: [route: FileRoute];
}

export abstract class PeerCore extends EventEmitter<PeerEvents> {
  readonly peerId: string;
  /** Storage of every swarm this peer seeds or downloads. */
  readonly files: PieceStore;
  /** (swarm ID, file ID) → file, learned from ANNOUNCE messages and from seeding. */
  readonly routes = new RoutingTable();
  readonly #tracker: TrackerClient;
  readonly #upload: UploadManager;
  readonly #download: DownloadManager;
  readonly #ownsFiles: FileManager | undefined;
  readonly #swarms = new Set<string>();
  #state: 'new' | 'starting' | 'running' | 'stopped' = 'new';
  #stopped: Promise<void> | undefined;

  constructor(options: PeerOptions) {
    super();
    this.peerId = options.peerId ?? `peer-${randomBytes(4).toString('hex')}`;
    this.#tracker = options.tracker;
    if (options.files) {
      this.files = options.files;
    } else {
      this.#ownsFiles = new FileManager({ root: mkdtempSync(join(tmpdir(), 'lab9-peer-')) });
      this.files = this.#ownsFiles;
    }
    this.#upload = new UploadManager((socket) => this.handleClient(socket), {
      ...(options.host !== undefined && { host: options.host }),
      ...(options.port !== undefined && { port: options.port }),
    });
    this.#upload.on('handlerError', (error) => this.#reportClientError(error));
    this.#download = new DownloadManager({
      peerId: this.peerId,
      tracker: options.tracker,
      files: this.files,
      router: {
        learnRoutes: (announce) => this.#learnRoutes(announce),
        routesOf: (swarmId) => this.routes.routesOf(swarmId),
        routePiece: (piece) => this.routePiece(piece),
      },
      onPieceStored: (ref, from) => this.#onPieceStored(ref, from),
      onPieceRejected: (ref, from, reason) => this.emit('rejected', { ...ref, from, reason }),
      ...pick(options, [
        'connect',
        'clock',
        'requestsInFlight',
        'requestTimeoutMs',
        'stallTimeoutMs',
        'trackerRefreshMs',
      ]),
    });
  }

  // ------------------------------------------------------------------------------------------
  // The two parts of Lab 9, written in peer.ts

  /** Serves one connected client until it disconnects (TODO 9A). */
  abstract handleClient(socket: Duplex): void;

  /** Routes one arriving piece to its file (TODO 9B). */
  abstract routePiece(piece: PieceMessage): Promise<RouteResult>;

  // ------------------------------------------------------------------------------------------
  // Lifecycle

  /** Starts listening for clients; resolves with this peer's address. */
  async start(): Promise<PeerAddress> {
    if (this.#state !== 'new') throw new TypeError(`cannot start a peer that is ${this.#state}`);
    this.#state = 'starting';
    await this.#upload.listen();
    this.#state = 'running';
    return this.address;
  }

  /** Where this peer listens; valid once `start()` resolved. */
  get address(): PeerAddress {
    return { peerId: this.peerId, host: this.#upload.host, port: this.#upload.port };
  }

  /** Clients currently connected to this peer's server. */
  get clientCount(): number {
    return this.#upload.clientCount;
  }

  /**
   * Stops: leaves every swarm, rejects unfinished downloads with ERR_PEER_STOPPED, closes every
   * connection and the server. Idempotent; resolves when everything is closed.
   */
  stop(): Promise<void> {
    this.#stopped ??= this.#stop();
    return this.#stopped;
  }

  async #stop(): Promise<void> {
    this.#state = 'stopped';
    this.#download.close();
    await Promise.all([...this.#swarms].map((id) => this.#tracker.unregister(id, this.peerId)));
    await this.#upload.close();
    await this.#ownsFiles?.close();
  }

  // ------------------------------------------------------------------------------------------
  // Swarms

  /**
   * Seeds `swarmId`: every file of it must already be in `files` (see FileManager.seed).
   * Registers this peer with the tracker so downloaders find it.
   */
  async seed(swarmId: string): Promise<void> {
    this.#requireRunning('seed');
    const swarm = this.files.swarms().find((s) => s.swarmId === swarmId);
    if (!swarm) throw new TypeError(`cannot seed swarm ${swarmId}: it has no files in storage`);
    for (const file of swarm.files) this.routes.add({ swarmId, ...file });
    await this.#join(swarmId);
  }

  /**
   * Downloads every file of `swarmId` from the peers the tracker lists, learning the files from
   * their ANNOUNCE. Resolves when every file is complete and verified; rejects with a
   * TransferError (ERR_DOWNLOAD_STALLED, ERR_PEER_STOPPED) or the error routePiece threw.
   */
  async download(swarmId: string): Promise<DownloadSummary> {
    this.#requireRunning('download');
    this.routes.join(swarmId);
    await this.#join(swarmId);
    return this.#download.download(swarmId);
  }

  /** Peer IDs this peer is downloading from right now. */
  connectedPeers(): string[] {
    return this.#download.connectedPeers();
  }

  // ------------------------------------------------------------------------------------------
  // Helpers for handleClient and routePiece

  /**
   * What a server sends after a client's HELLO: its own HELLO, an ANNOUNCE of every swarm and
   * file it has, and one BITFIELD per file (which pieces it holds).
   */
  protected greeting(): Message[] {
    const swarms = this.files.swarms();
    const messages: Message[] = [
      { type: MessageType.Hello, peerId: this.peerId },
      { type: MessageType.Announce, swarms },
    ];
    for (const swarm of swarms) {
      for (const file of swarm.files) {
        messages.push({
          type: MessageType.Bitfield,
          swarmId: swarm.swarmId,
          fileId: file.fileId,
          bits: this.files.bitfield(swarm.swarmId, file.fileId),
        });
      }
    }
    return messages;
  }

  /** The worked example: the answer to a PING is a PONG with the same nonce. */
  protected pong(ping: PingMessage): PongMessage {
    return { type: MessageType.Pong, nonce: ping.nonce };
  }

  /**
   * The ERROR message for a failed request: a Lab9Error with a wire code (ERR_UNKNOWN_SWARM...)
   * keeps its code and message; any other ProtocolError (ERR_UNKNOWN_MESSAGE_TYPE...) is the
   * client's bad bytes, ERR_MALFORMED_REQUEST; anything else is ERR_INTERNAL. `request` names the
   * piece asked for, or null when the request could not be decoded.
   */
  protected errorReply(error: unknown, request: PieceRef | null): ErrorMessage {
    const code =
      (isLab9Error(error) && wireCodeOf(error.code)) ||
      (error instanceof ProtocolError ? WireErrorCode.MalformedRequest : WireErrorCode.Internal);
    const message = error instanceof Error ? error.message : String(error);
    const ref = request && {
      swarmId: request.swarmId,
      fileId: request.fileId,
      index: request.index,
    };
    return { type: MessageType.Error, code, message, request: ref };
  }

  // ------------------------------------------------------------------------------------------

  async #join(swarmId: string): Promise<void> {
    this.#swarms.add(swarmId);
    await this.#tracker.register(swarmId, this.address);
  }

  #learnRoutes(announce: AnnounceMessage): void {
    const { added, conflicts } = this.routes.learn(announce);
    for (const route of added) {
      const { swarmId, ...file } = route;
      // A store may refuse synchronously (a hostile ANNOUNCE naming "../x"): that must cost the
      // announcement, not throw out of the connection's 'data' handler and crash the process.
      const report = (error: unknown): void => this.#reportClientError(error);
      try {
        this.files.addFile(swarmId, file).catch(report);
      } catch (error) {
        report(error);
      }
    }
    for (const route of conflicts) this.emit('routeConflict', route);
  }

  #onPieceStored(ref: PieceRef, from: string): void {
    this.emit('piece', { ...ref, from });
    const route = this.routes.lookup(ref.swarmId, ref.fileId);
    // Counting costs a scan of the file with a store that cannot count: only when asked for.
    if (!route || this.listenerCount('progress') === 0) return;
    let held = this.files.heldCount?.(ref.swarmId, ref.fileId);
    if (held === undefined) {
      held = 0;
      for (let i = 0; i < route.pieceHashes.length; i++) {
        if (this.files.hasPiece(ref.swarmId, ref.fileId, i)) held += 1;
      }
    }
    this.emit('progress', {
      swarmId: ref.swarmId,
      fileId: ref.fileId,
      held,
      total: route.pieceHashes.length,
    });
  }

  #reportClientError(error: unknown): void {
    if (this.listenerCount('clientError') > 0) this.emit('clientError', error);
    else if (!isLab9Error(error)) console.error(`[${this.peerId}] client handler failed:`, error);
  }

  #requireRunning(what: string): void {
    if (this.#state !== 'running') {
      throw new TransferError('ERR_PEER_STOPPED', `cannot ${what}: the peer is ${this.#state}`);
    }
  }
}

function pick<T extends object, K extends keyof T>(source: T, keys: readonly K[]): Partial<T> {
  const out: Partial<T> = {};
  for (const key of keys) if (source[key] !== undefined) out[key] = source[key];
  return out;
}

export type { DownloadSummary, Lab9Error, RouteResult };
