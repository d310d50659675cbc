/**
 * DownloadManager: the client side. Connects to the peers the tracker lists, sends HELLO, learns
 * swarms from their ANNOUNCE and pieces from their BITFIELD/HAVE, keeps several GET_PIECE
 * requests in flight per connection (rarest first), and passes every arriving PIECE to the
 * router (the Peer's `routePiece`). A timeout, an ERROR, a bad hash or a lost connection sends
 * the piece to another peer. One connection per remote peer carries every swarm it shares.
 */
import { connect as netConnect } from 'node:net';
import type { Duplex } from 'node:stream';
import { NotImplementedError, TransferError, isLab9Error } from '../errors';
import {
  DEFAULT_REQUEST_TIMEOUT_MS,
  DEFAULT_REQUESTS_IN_FLIGHT,
  DEFAULT_STALL_TIMEOUT_MS,
  DEFAULT_TRACKER_REFRESH_MS,
  MAX_CORRUPT_PIECES_PER_PEER,
} from '../limits';
import { Connection } from '../protocol/connection';
import type { DecodedFrame } from '../protocol/frame-decoder';
import {
  type AnnounceMessage,
  type Message,
  MessageType,
  type PieceMessage,
  type PieceRef,
} from '../protocol/message-types';
import type { PieceStore } from '../storage/file-manager';
import type { PeerAddress, TrackerClient } from '../tracker/tracker';
import { type Clock, systemClock } from './clock';
import { PieceBook } from './piece-picker';
import { type FileRoute, routeKey } from './routing-table';

/** What routePiece answers: stored (or already held), or rejected with the reason. */
export type RouteResult =
  | { readonly ok: true; readonly stored: boolean }
  | {
      readonly ok: false;
      readonly code:
        'ERR_UNKNOWN_SWARM' | 'ERR_UNKNOWN_FILE' | 'ERR_PIECE_OUT_OF_RANGE' | 'ERR_HASH_MISMATCH';
      readonly reason: string;
    };

/** The Peer, as the DownloadManager sees it. */
export interface DownloadRouter {
  /** An ANNOUNCE arrived: learn routes; returns the routes of joined swarms now known. */
  learnRoutes(announce: AnnounceMessage): void;
  /** Every route of a swarm (files to download). */
  routesOf(swarmId: string): FileRoute[];
  /** Route one arriving piece to its file (the student's TODO 9B). */
  routePiece(piece: PieceMessage): Promise<RouteResult>;
}

export interface DownloadManagerOptions {
  readonly peerId: string;
  readonly tracker: TrackerClient;
  readonly files: PieceStore;
  readonly router: DownloadRouter;
  /** Opens a stream to a peer. @default a TCP connection to address.host:address.port */
  readonly connect?: (address: PeerAddress) => Duplex;
  /** @default systemClock */
  readonly clock?: Clock;
  /**
   * Most GET_PIECE requests outstanding per connection; refilled once half are answered.
   * @default DEFAULT_REQUESTS_IN_FLIGHT
   */
  readonly requestsInFlight?: number;
  /** @default DEFAULT_REQUEST_TIMEOUT_MS */
  readonly requestTimeoutMs?: number;
  /** @default DEFAULT_STALL_TIMEOUT_MS */
  readonly stallTimeoutMs?: number;
  /** @default DEFAULT_TRACKER_REFRESH_MS */
  readonly trackerRefreshMs?: number;
  /** Called for every piece stored, with the peer it came from. */
  readonly onPieceStored?: (ref: PieceRef, fromPeerId: string) => void;
  /** Called for every piece routePiece rejected or failed to store. */
  readonly onPieceRejected?: (ref: PieceRef, fromPeerId: string, reason: string) => void;
}

export interface DownloadSummary {
  readonly swarmId: string;
  readonly files: { readonly fileId: string; readonly bytes: number }[];
  readonly bytes: number;
  /** Pieces stored per remote peer ID. */
  readonly piecesFrom: Readonly<Record<string, number>>;
}

/** A remote peer we are connected to. */
interface Remote {
  readonly address: PeerAddress;
  readonly connection: Connection;
  /**
   * Set by the remote's HELLO; requests are sent only after it. From then until its connection
   * closes, its `holds` count in the availability of every PieceBook.
   */
  helloReceived: boolean;
  /** The remote's ANNOUNCE, kept so swarms joined later can learn from it. */
  announce: AnnounceMessage | undefined;
  /** routeKey → one byte per piece, 1 if the remote holds it. */
  readonly holds: Map<string, Uint8Array>;
  /** pieceKey → outstanding request to this remote. */
  readonly inFlight: Map<string, Request>;
  corruptPieces: number;
}

interface Request {
  readonly ref: PieceRef;
  readonly remote: Remote;
  timer: unknown;
  /**
   * The PIECE arrived and is being routed. It keeps its slot in the remote's window until then,
   * so pieces waiting to be checked and written count against requestsInFlight: memory stays
   * bounded by the window even when storage is slower than the network.
   */
  delivered: boolean;
}

/** One swarm being downloaded. */
interface SwarmDownload {
  readonly swarmId: string;
  /** pieceKey → peer IDs that failed it (timeout, ERROR, bad hash, closed mid-request). */
  readonly failures: Map<string, Set<string>>;
  /**
   * pieceKey → times routePiece answered ok while the store still lacked the piece. Once may be
   * a concurrent write of the same piece finishing; twice is a router that claims pieces it
   * put elsewhere, and ends the download with a clear error instead of re-asking forever.
   */
  readonly okButMissing: Map<string, number>;
  readonly piecesFrom: Record<string, number>;
  announced: boolean;
  lastProgress: number;
  stallTimer: unknown;
  refreshTimer: unknown;
  settled: boolean;
  /** routePiece calls not settled yet: completion waits for them, so the summary counts all. */
  routing: number;
  resolve(summary: DownloadSummary): void;
  reject(error: Error): void;
}

/** The one way to key a piece: JSON keeps the three parts apart. */
export function pieceKey(ref: PieceRef): string {
  return JSON.stringify([ref.swarmId, ref.fileId, ref.index]);
}

export class DownloadManager {
  readonly #options: DownloadManagerOptions;
  readonly #clock: Clock;
  readonly #requestsInFlight: number;
  readonly #requestTimeoutMs: number;
  readonly #stallTimeoutMs: number;
  readonly #trackerRefreshMs: number;
  /** address key (host:port) → remote; at most one connection per listening address. */
  readonly #remotes = new Map<string, Remote>();
  /** swarmId → active download. */
  readonly #downloads = new Map<string, SwarmDownload>();
  /** pieceKey → request, across all remotes: a piece is requested from one peer at a time. */
  readonly #requested = new Map<string, Request>();
  /** routeKey → what is held, busy and available of each file of an active download. */
  readonly #books = new Map<string, PieceBook>();
  #closed = false;
  /** Monotonic counter standing in for time in stall detection, advanced by the clock. */
  #ticks = 0;

  constructor(options: DownloadManagerOptions) {
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    this.#requestsInFlight = options.requestsInFlight ?? DEFAULT_REQUESTS_IN_FLIGHT;
    this.#requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    this.#stallTimeoutMs = options.stallTimeoutMs ?? DEFAULT_STALL_TIMEOUT_MS;
    this.#trackerRefreshMs = options.trackerRefreshMs ?? DEFAULT_TRACKER_REFRESH_MS;
  }

  /** Peer IDs (from HELLO) of connected remotes. */
  connectedPeers(): string[] {
    return [...this.#remotes.values()]
      .filter((remote) => remote.helloReceived)
      .map((remote) => remote.address.peerId);
  }

  /**
   * Downloads every file of `swarmId` that connected peers announce. Resolves when all are
   * complete; rejects with TransferError ERR_DOWNLOAD_STALLED if no piece arrives for
   * `stallTimeoutMs`, ERR_PEER_STOPPED on close, or the router's error if routePiece throws.
   */
  download(swarmId: string): Promise<DownloadSummary> {
    if (this.#closed) {
      return Promise.reject(new TransferError('ERR_PEER_STOPPED', 'the peer is stopped'));
    }
    const existing = this.#downloads.get(swarmId);
    if (existing) {
      return Promise.reject(new TypeError(`swarm ${swarmId} is already being downloaded`));
    }
    return new Promise<DownloadSummary>((resolve, reject) => {
      const download: SwarmDownload = {
        swarmId,
        failures: new Map(),
        okButMissing: new Map(),
        piecesFrom: {},
        announced: false,
        lastProgress: this.#ticks,
        stallTimer: undefined,
        refreshTimer: undefined,
        settled: false,
        routing: 0,
        resolve,
        reject,
      };
      this.#downloads.set(swarmId, download);
      for (const remote of this.#remotes.values()) {
        if (remote.announce) this.#learn(remote.announce);
      }
      this.#armStallTimer(download);
      void this.#refreshPeers(download);
      this.#checkComplete(download);
      this.#scheduleAll();
    });
  }

  /** Destroys every connection and rejects unfinished downloads with ERR_PEER_STOPPED. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const download of this.#downloads.values()) {
      this.#settle(download, new TransferError('ERR_PEER_STOPPED', 'the peer stopped'));
    }
    for (const remote of this.#remotes.values()) remote.connection.destroy();
    this.#remotes.clear();
  }

  // ------------------------------------------------------------------------------------------
  // Peers and connections

  async #refreshPeers(download: SwarmDownload): Promise<void> {
    if (download.settled || this.#closed) return;
    let peers: PeerAddress[] = [];
    try {
      peers = await this.#options.tracker.peers(download.swarmId, this.#options.peerId);
    } catch {
      // An unreachable tracker is retried at the next refresh; the stall timer bounds it.
    }
    if (download.settled || this.#closed) return;
    for (const address of peers) this.#connect(address);
    download.refreshTimer = this.#clock.setTimeout(() => {
      void this.#refreshPeers(download);
    }, this.#trackerRefreshMs);
  }

  #connect(address: PeerAddress): void {
    const key = `${address.host}:${address.port}`;
    if (this.#remotes.has(key)) return;
    const socket = this.#options.connect
      ? this.#options.connect(address)
      : netConnect({ host: address.host, port: address.port, noDelay: true });
    const connection = new Connection(socket);
    const remote: Remote = {
      address,
      connection,
      helloReceived: false,
      announce: undefined,
      holds: new Map(),
      inFlight: new Map(),
      corruptPieces: 0,
    };
    this.#remotes.set(key, remote);
    connection.on('frame', (frame) => this.#onFrame(remote, frame));
    connection.on('close', () => this.#onClose(key, remote));
    connection.send({ type: MessageType.Hello, peerId: this.#options.peerId });
  }

  #onClose(key: string, remote: Remote): void {
    if (this.#remotes.get(key) === remote) this.#remotes.delete(key);
    if (remote.helloReceived) {
      for (const [route, book] of this.#books) {
        const holds = remote.holds.get(route);
        if (holds) book.removeHolder(holds);
      }
    }
    for (const request of [...remote.inFlight.values()]) {
      if (!request.delivered) this.#fail(request);
    }
    this.#scheduleAll();
  }

  #onFrame(remote: Remote, frame: DecodedFrame): void {
    if (!frame.ok) {
      remote.connection.destroy(frame.error);
      return;
    }
    const message: Message = frame.message;
    switch (message.type) {
      case MessageType.Hello:
        if (remote.helloReceived) break;
        remote.helloReceived = true;
        for (const [route, book] of this.#books) {
          const holds = remote.holds.get(route);
          if (holds) book.addHolder(holds);
        }
        break;
      case MessageType.Announce:
        remote.announce = message;
        this.#learn(message);
        break;
      case MessageType.Bitfield:
        this.#setHolds(remote, routeKey(message.swarmId, message.fileId), unpackBits(message.bits));
        break;
      case MessageType.Have:
        this.#markHeld(remote, message);
        break;
      case MessageType.Piece:
        void this.#onPiece(remote, message);
        return;
      case MessageType.Error:
        if (message.request) {
          const request = remote.inFlight.get(pieceKey(message.request));
          if (request && !request.delivered) {
            this.#fail(request);
          }
        }
        break;
      case MessageType.Ping:
        remote.connection.send({ type: MessageType.Pong, nonce: message.nonce });
        return;
      case MessageType.Pong:
      case MessageType.GetPiece:
        return;
      default:
        return assertNever(message);
    }
    this.#scheduleAll();
  }

  #learn(announce: AnnounceMessage): void {
    this.#options.router.learnRoutes(announce);
    for (const swarm of announce.swarms) {
      const download = this.#downloads.get(swarm.swarmId);
      if (download && swarm.files.length > 0) download.announced = true;
    }
  }

  /** A BITFIELD: `holds` replaces what the remote held of that file. */
  #setHolds(remote: Remote, key: string, holds: Uint8Array): void {
    const book = this.#books.get(key);
    const old = remote.holds.get(key);
    if (book && remote.helloReceived) {
      if (old) book.removeHolder(old);
      book.addHolder(holds);
    }
    remote.holds.set(key, holds);
  }

  /** A HAVE: the remote holds one more piece. */
  #markHeld(remote: Remote, ref: PieceRef): void {
    const key = routeKey(ref.swarmId, ref.fileId);
    let held = remote.holds.get(key);
    const route = this.#options.router.routesOf(ref.swarmId).find((r) => r.fileId === ref.fileId);
    if (!held && route) remote.holds.set(key, (held = new Uint8Array(route.pieceHashes.length)));
    if (!held || ref.index >= held.length || held[ref.index] === 1) return;
    held[ref.index] = 1;
    if (remote.helloReceived) this.#books.get(key)?.addHolding(ref.index);
  }

  // ------------------------------------------------------------------------------------------
  // Requests

  /** `afterPiece`: a PIECE was just routed, so windows are topped up only once half empty. */
  #scheduleAll(afterPiece = false): void {
    if (this.#closed) return;
    for (const remote of this.#remotes.values()) this.#schedule(remote, afterPiece);
    for (const download of this.#downloads.values()) this.#checkComplete(download);
  }

  /**
   * Fills `remote`'s window of requests, sending the new ones as one write. After a PIECE the
   * window is topped up only once half empty: one write per half window, not one per piece.
   * Any other event (HELLO, BITFIELD, HAVE, a failure) fills it at once.
   */
  #schedule(remote: Remote, afterPiece: boolean): void {
    if (!remote.helloReceived || remote.connection.closed) return;
    if (afterPiece && remote.inFlight.size > this.#requestsInFlight / 2) return;
    const batch: Message[] = [];
    while (remote.inFlight.size < this.#requestsInFlight) {
      const picked = this.#pick(remote);
      if (!picked) break;
      const { ref, book } = picked;
      book.markBusy(ref.index);
      const request: Request = { ref, remote, timer: undefined, delivered: false };
      const key = pieceKey(ref);
      remote.inFlight.set(key, request);
      this.#requested.set(key, request);
      request.timer = this.#clock.setTimeout(() => this.#fail(request), this.#requestTimeoutMs);
      batch.push({ type: MessageType.GetPiece, ...ref });
    }
    if (batch.length > 0) remote.connection.sendAll(batch);
  }

  /**
   * The next piece to ask `remote` for, over every active download, rarest first: the piece
   * `pickRarest` would choose among all candidates, found through each file's PieceBook.
   */
  #pick(remote: Remote): { ref: PieceRef; book: PieceBook } | undefined {
    for (;;) {
      const best = this.#rarest(remote);
      if (!best) return undefined;
      const { route, book, index } = best;
      if (!this.#options.files.hasPiece(route.swarmId, route.fileId, index)) {
        return { ref: { swarmId: route.swarmId, fileId: route.fileId, index }, book };
      }
      // The store held it already (seeded, or stored before this download): never ask again.
      book.markHeld(index);
    }
  }

  #rarest(remote: Remote): { route: FileRoute; book: PieceBook; index: number } | undefined {
    const files: {
      route: FileRoute;
      book: PieceBook;
      holds: Uint8Array;
      download: SwarmDownload;
    }[] = [];
    // No candidate of any file can be rarer than the rarest open piece of all of them.
    let floor = Infinity;
    for (const download of this.#downloads.values()) {
      if (download.settled) continue;
      for (const route of this.#options.router.routesOf(download.swarmId)) {
        const key = routeKey(route.swarmId, route.fileId);
        const book = this.#bookOf(key, route);
        floor = Math.min(floor, book.lowestAvailability());
        const holds = remote.holds.get(key);
        if (holds) files.push({ route, book, holds, download });
      }
    }
    let best:
      { route: FileRoute; book: PieceBook; index: number; availability: number } | undefined;
    for (const { route, book, holds, download } of files) {
      const found = book.rarest(holds, floor, (index) =>
        this.#retryElsewhere(remote, download, route, index),
      );
      if (!found || (best && best.availability <= found.availability)) continue;
      best = { route, book, ...found };
      if (found.availability <= floor) break;
    }
    return best;
  }

  /** pickRarest's rule: a remote that failed a piece is asked again only if no holder is left. */
  #retryElsewhere(
    remote: Remote,
    download: SwarmDownload,
    route: FileRoute,
    index: number,
  ): boolean {
    const failed = download.failures.get(pieceKey({ ...route, index }));
    if (!failed?.has(remote.address.peerId)) return false;
    const key = routeKey(route.swarmId, route.fileId);
    for (const other of this.#remotes.values()) {
      if (other === remote || !other.helloReceived) continue;
      if (other.holds.get(key)?.[index] === 1 && !failed.has(other.address.peerId)) return true;
    }
    return false;
  }

  /** The PieceBook of a file, made on first use from what connected remotes hold. */
  #bookOf(key: string, route: FileRoute): PieceBook {
    let book = this.#books.get(key);
    if (!book) {
      this.#books.set(key, (book = new PieceBook(route.pieceHashes.length)));
      for (const remote of this.#remotes.values()) {
        const holds = remote.holds.get(key);
        if (remote.helloReceived && holds) book.addHolder(holds);
      }
    }
    return book;
  }

  async #onPiece(remote: Remote, piece: PieceMessage): Promise<void> {
    const key = pieceKey(piece);
    const found = remote.inFlight.get(key);
    // Until routed, the request keeps its slot (see Request.delivered) and the piece stays busy
    // in its PieceBook, so no one is asked for it again while it is being checked and written.
    const request = found && !found.delivered ? found : undefined;
    if (request) {
      request.delivered = true;
      this.#clock.clearTimeout(request.timer);
    }
    const from = remote.address.peerId;
    const routing = this.#downloads.get(piece.swarmId);
    if (routing) routing.routing += 1;
    let result: RouteResult;
    try {
      result = await this.#options.router.routePiece(piece);
    } catch (error) {
      this.#routerFailed(error, piece);
      return;
    } finally {
      if (routing) routing.routing -= 1;
      if (request) this.#finishRequest(request);
    }
    const download = this.#downloads.get(piece.swarmId);
    const book = this.#books.get(routeKey(piece.swarmId, piece.fileId));
    if (result.ok) {
      // Progress only if the piece is really held: a router that answers ok without storing
      // must end in ERR_DOWNLOAD_STALLED, not re-request the piece forever.
      const held = this.#options.files.hasPiece(piece.swarmId, piece.fileId, piece.index);
      if (!held && download && this.#claimedButMissing(download, piece)) return;
      if (held) book?.markHeld(piece.index);
      else if (request) book?.markOpen(piece.index);
      if (download) {
        if (held) download.lastProgress = ++this.#ticks;
        if (result.stored) download.piecesFrom[from] = (download.piecesFrom[from] ?? 0) + 1;
      }
      if (result.stored) this.#options.onPieceStored?.(piece, from);
    } else {
      this.#options.onPieceRejected?.(piece, from, `${result.code}: ${result.reason}`);
      if (download) this.#addFailure(download, piece, from);
      if (request) book?.markOpen(piece.index);
      if (result.code === 'ERR_HASH_MISMATCH') {
        remote.corruptPieces += 1;
        if (remote.corruptPieces >= MAX_CORRUPT_PIECES_PER_PEER) {
          remote.connection.destroy(
            new TransferError(
              'ERR_CONNECTION_CLOSED',
              `peer ${from} sent ${remote.corruptPieces} pieces that failed their hash`,
            ),
          );
        }
      }
    }
    this.#scheduleAll(result.ok);
  }

  /**
   * routePiece answered ok but the store lacks the piece. Returns true (and fails the download)
   * the second time for the same piece: the router stores pieces somewhere else, a bug.
   */
  #claimedButMissing(download: SwarmDownload, piece: PieceRef): boolean {
    const key = pieceKey(piece);
    const times = (download.okButMissing.get(key) ?? 0) + 1;
    download.okButMissing.set(key, times);
    if (times < 2) return false;
    this.#settle(
      download,
      new TransferError(
        'ERR_INTERNAL',
        `routePiece answered { ok: true } twice for piece ${piece.index} of file ${piece.fileId} ` +
          `in swarm ${piece.swarmId}, but the store does not hold that piece: answer ok only ` +
          `after this.files.writePiece stored it in the file of (swarmId, fileId)`,
      ),
    );
    return true;
  }

  /** routePiece threw: a missing TODO or a bug. Fail every download loudly with that error. */
  #routerFailed(error: unknown, piece: PieceRef): void {
    const reason =
      error instanceof NotImplementedError
        ? error
        : new TransferError(
            isLab9Error(error) ? error.code : 'ERR_INTERNAL',
            `routePiece threw for piece ${piece.index} of file ${piece.fileId} in swarm ` +
              `${piece.swarmId}: ${error instanceof Error ? error.message : String(error)}`,
            { cause: error },
          );
    for (const download of this.#downloads.values()) this.#settle(download, reason);
  }

  #fail(request: Request): void {
    this.#finishRequest(request);
    const download = this.#downloads.get(request.ref.swarmId);
    if (download) this.#addFailure(download, request.ref, request.remote.address.peerId);
    this.#books.get(routeKey(request.ref.swarmId, request.ref.fileId))?.markOpen(request.ref.index);
    this.#scheduleAll();
  }

  /** Remembers that `peerId` failed the piece, for pickRarest's retry rule. */
  #addFailure(download: SwarmDownload, ref: PieceRef, peerId: string): void {
    const key = pieceKey(ref);
    let failed = download.failures.get(key);
    if (!failed) download.failures.set(key, (failed = new Set()));
    failed.add(peerId);
    this.#books.get(routeKey(ref.swarmId, ref.fileId))?.markFailed(ref.index);
  }

  #finishRequest(request: Request): void {
    const key = pieceKey(request.ref);
    this.#clock.clearTimeout(request.timer);
    if (request.remote.inFlight.get(key) === request) request.remote.inFlight.delete(key);
    if (this.#requested.get(key) === request) this.#requested.delete(key);
  }

  // ------------------------------------------------------------------------------------------
  // Completion

  #checkComplete(download: SwarmDownload): void {
    if (download.settled || !download.announced || download.routing > 0) return;
    const routes = this.#options.router.routesOf(download.swarmId);
    const { files } = this.#options;
    if (!routes.every((route) => files.isComplete(route.swarmId, route.fileId))) return;
    const summary: DownloadSummary = {
      swarmId: download.swarmId,
      files: routes.map((route) => ({ fileId: route.fileId, bytes: route.fileLength })),
      bytes: routes.reduce((sum, route) => sum + route.fileLength, 0),
      piecesFrom: download.piecesFrom,
    };
    this.#settle(download, summary);
  }

  #armStallTimer(download: SwarmDownload): void {
    const seen = download.lastProgress;
    download.stallTimer = this.#clock.setTimeout(() => {
      if (download.settled) return;
      if (download.lastProgress !== seen) return this.#armStallTimer(download);
      this.#settle(download, this.#stalledError(download));
    }, this.#stallTimeoutMs);
  }

  #stalledError(download: SwarmDownload): TransferError {
    const routes = this.#options.router.routesOf(download.swarmId);
    const missing = routes.reduce((sum, route) => {
      let count = 0;
      for (let i = 0; i < route.pieceHashes.length; i++) {
        if (!this.#options.files.hasPiece(route.swarmId, route.fileId, i)) count += 1;
      }
      return sum + count;
    }, 0);
    const peers = this.connectedPeers();
    const what = download.announced
      ? `${missing} pieces still missing`
      : 'no peer announced the swarm';
    return new TransferError(
      'ERR_DOWNLOAD_STALLED',
      `download of swarm ${download.swarmId} made no progress for ${this.#stallTimeoutMs} ms: ` +
        `${what}; connected peers: ${peers.length > 0 ? peers.join(', ') : 'none'}`,
    );
  }

  #settle(download: SwarmDownload, outcome: DownloadSummary | Error): void {
    if (download.settled) return;
    download.settled = true;
    this.#clock.clearTimeout(download.stallTimer);
    this.#clock.clearTimeout(download.refreshTimer);
    if (this.#downloads.get(download.swarmId) === download)
      this.#downloads.delete(download.swarmId);
    for (const request of [...this.#requested.values()]) {
      if (request.ref.swarmId === download.swarmId) this.#finishRequest(request);
    }
    for (const route of this.#options.router.routesOf(download.swarmId)) {
      this.#books.delete(routeKey(route.swarmId, route.fileId));
    }
    if (outcome instanceof Error) download.reject(outcome);
    else download.resolve(outcome);
  }
}

/** BITFIELD bytes (most significant bit first) to one byte per piece. */
export function unpackBits(bits: Buffer): Uint8Array {
  const held = new Uint8Array(bits.length * 8);
  for (let i = 0; i < held.length; i++) held[i] = ((bits[i >> 3] as number) >> (7 - (i & 7))) & 1;
  return held;
}

function assertNever(value: never): never {
  throw new TypeError(`unhandled message ${JSON.stringify(value)}`);
}
