/**
 * Raw clients that talk to a Peer under test byte by byte: they send frames (encoded by lab9's
 * codec) or any bytes, split as the scenario says, and collect what comes back decoded by lab9's
 * FrameDecoder. TcpClient uses a real socket; PipeClient an in-memory stream in the peer host
 * thread, where each write arrives as exactly one chunk. Each `expect...` fails with a teaching
 * message. Below: world.ts and the host. Above: the suites.
 */
import { type Socket, connect } from 'node:net';
import { ProtocolError } from '../../lab9/src/errors';
import { encodeFrame } from '../../lab9/src/protocol/frame-codec';
import { type DecodedFrame, FrameDecoder } from '../../lab9/src/protocol/frame-decoder';
import {
  type Message,
  MessageType,
  type PieceRef,
  WIRE_ERROR_CODES,
  type WireErrorCode,
} from '../../lab9/src/protocol/message-types';
import { ANSWER_MS, TEARDOWN_MS } from './bounds';
import { type FileSpec, pieceBytes, pieceCount, pieceRef, sameRef } from './data';

/** A piece ref as a Map key that keeps the IDs apart. */
function refKey(ref: PieceRef): string {
  return JSON.stringify([ref.swarmId, ref.fileId, ref.index]);
}
import { describeFrames, describeMessage, firstDifference, hex, refText } from './format';
import type { HostedPeer } from './hosted-peer';
import type { ConnectionKey } from './peer-host/protocol';
import { Watch } from './watch';
import type { World } from './world';

/** What a frame means to a wait: the value waited for, a wrong answer, or not this one. */
export type Judgement<T> = { readonly accept: T } | { readonly reject: string } | undefined;

export interface Expectation {
  /** What the client waits for, e.g. `a PIECE for ("s1", "a.bin") #1`. */
  readonly what: string;
  /** The "Expected:" sentence. @default `what` */
  readonly expected?: string;
  readonly likelyCause: string;
}

/** How a client opens its connection. */
export interface ClientOptions {
  /**
   * Send HELLO first, as every downloader does, and ignore the greeting. Scenarios that are not
   * about HELLO keep it on, so a peer that wrongly waits for HELLO loses only the HELLO checks.
   * @default true
   */
  readonly hello?: boolean;
}

/** A PIECE the client got that no correct peer sends: why, and what to look at. */
interface Violation {
  readonly summary: string;
  readonly happened: string;
  readonly likelyCause: string;
}

export abstract class Client {
  /** `client A`. */
  readonly name: string;
  readonly watch = new Watch();
  /** Every frame received, in order. */
  readonly frames: DecodedFrame[] = [];
  /** When true, sends and answers are not written into the story (scenarios with 40 clients). */
  quiet = false;
  protected readonly world: World;
  readonly #decoder = new FrameDecoder();
  /** Indices in `frames` that an earlier expectation already matched. */
  readonly #matched = new Set<number>();
  #ended = false;
  #closed = false;
  /** Set when the peer's bytes could not even be framed; nothing more is read then. */
  #brokenStream: string | undefined;
  /** The client's own bytes, decoded to know which pieces it asked for. */
  readonly #sentDecoder = new FrameDecoder();
  /** JSON of a piece ref → GET_PIECEs for it not answered by a PIECE yet. */
  readonly #asked = new Map<string, number>();
  /** Set when the client sent bytes that cannot be framed: what it asked is unknown from then. */
  #askedUnknown = false;
  /** The first PIECE received that no correct peer sends; fails every later expectation. */
  #violation: Violation | undefined;

  constructor(name: string, world: World) {
    this.name = name;
    this.world = world;
  }

  /** This connection as the peer under test knows it (for its open/end/close events). */
  abstract readonly connection: ConnectionKey;
  protected abstract write(chunk: Buffer): void;

  /** Every byte the client sends goes through here: written, and its GET_PIECEs noted. */
  #out(chunk: Buffer): void {
    this.#track(chunk);
    this.write(chunk);
  }

  #track(chunk: Buffer): void {
    if (!this.#askedUnknown) {
      try {
        for (const frame of this.#sentDecoder.push(chunk)) {
          if (frame.ok && frame.message.type === MessageType.GetPiece) {
            const key = refKey(frame.message);
            this.#asked.set(key, (this.#asked.get(key) ?? 0) + 1);
          }
        }
      } catch (error) {
        if (!(error instanceof ProtocolError)) throw error;
        this.#askedUnknown = true;
      }
    }
  }

  /** Sends HELLO; the greeting that answers it is ignored by every later expectation. */
  hello(): void {
    const peerId = this.name.toLowerCase().replace(/[^a-z0-9]+/g, '-');
    this.world.noteHello();
    this.send({ type: MessageType.Hello, peerId });
  }
  protected abstract endWrites(): void;
  protected abstract writeAndEnd(chunk: Buffer): void;
  protected abstract abort(): void;

  /** True once the peer ended its side (or the stream closed). */
  get endedByPeer(): boolean {
    return this.#ended || this.#closed;
  }

  // ------------------------------------------------------------------------------------------
  // Sending

  send(message: Message): void {
    if (!this.quiet) this.world.step(`${this.name} sent ${describeMessage(message)}`);
    this.#out(encodeFrame(message));
  }

  /** Every message in ONE write: the peer receives them as a single chunk (on a pipe). */
  sendTogether(messages: readonly Message[]): void {
    this.world.step(
      `${this.name} sent ${messages.length} frames in one write: ` +
        `${messages.slice(0, 3).map(describeMessage).join(', ')}${messages.length > 3 ? ', ...' : ''}`,
    );
    this.#out(Buffer.concat(messages.map(encodeFrame)));
  }

  /** Arbitrary bytes in one write. */
  sendBytes(bytes: Buffer, what: string): void {
    this.world.step(`${this.name} sent ${what}: ${hex(bytes)}`);
    this.#out(bytes);
  }

  /** Each chunk is its own write (its own 'data' event on a pipe). */
  sendChunks(chunks: readonly Buffer[], what: string): void {
    this.world.step(`${this.name} sent ${what} in ${chunks.length} separate writes`);
    for (const chunk of chunks) this.#out(chunk);
  }

  /** Half-close: no more requests, but the answers to the sent ones are still wanted. */
  end(): void {
    this.world.step(`${this.name} ended its side of the connection (half-close)`);
    this.endWrites();
  }

  /**
   * Waits for the HELLO that starts the peer's greeting. A peer that ignores HELLO is not what
   * the scenario checks: after the bound (or at once, if another client of this scenario saw
   * no greeting either) the scenario goes on without it.
   */
  async greeted(): Promise<void> {
    if (this.world.helloIgnored) return;
    const outcome = await this.world.waitFor(this.watch, () =>
      this.frames.some((f) => f.ok && f.message.type === MessageType.Hello)
        ? { ok: true, value: true }
        : undefined,
    );
    if (outcome.ok) return;
    this.world.helloIgnored = true;
    this.world.step(
      `the peer did not answer ${this.name}'s HELLO; the scenario goes on without it`,
    );
  }

  /** Sends `bytes` and ends its side in the same call: on TCP the FIN rides with them. */
  endWith(bytes: Buffer, what: string): void {
    this.world.step(`${this.name} sent ${what} and ended its side of the connection with it`);
    this.#track(bytes);
    this.writeAndEnd(bytes);
  }

  /** Vanishes: the connection is reset, with no goodbye. */
  reset(): void {
    this.world.step(`${this.name} reset its connection and vanished`);
    this.abort();
  }

  // ------------------------------------------------------------------------------------------
  // Receiving

  protected received(chunk: Buffer): void {
    this.world.noteBytesToClient(chunk.length);
    if (this.#brokenStream) return;
    try {
      const frames = this.#decoder.push(chunk);
      this.frames.push(...frames);
      for (const frame of frames) this.#check(frame);
    } catch (error) {
      if (!(error instanceof ProtocolError)) throw error;
      this.#brokenStream = `the peer's bytes broke the framing (${error.message})`;
    }
    this.watch.notify();
  }

  /** Notes the first PIECE that names a piece never asked for, or carries other bytes. */
  #check(frame: DecodedFrame): void {
    if (this.#violation || !frame.ok || frame.message.type !== MessageType.Piece) return;
    const piece = frame.message;
    const key = refKey(piece);
    const open = this.#asked.get(key) ?? 0;
    if (open > 0) this.#asked.set(key, open - 1);
    else if (!this.#askedUnknown) {
      this.#violation = {
        summary: `${this.name} received a PIECE it never asked for: ${refText(piece)}.`,
        happened: `the peer sent ${describeMessage(piece)}; ${this.name} asked for ${
          [...this.#asked.keys()].length > 0 ? 'other pieces' : 'no other piece'
        } (every GET_PIECE it sent was already answered or named another piece)`,
        likelyCause:
          'a PIECE answers exactly one GET_PIECE, on the connection it came from, with that ' +
          "request's swarmId, fileId and index: is the answer built from another request's " +
          "fields, sent twice, or written to another client's socket?",
      };
      return;
    }
    const spec = this.world.seededFile(piece.swarmId, piece.fileId);
    if (!spec || !Number.isInteger(piece.index) || piece.index >= pieceCount(spec)) return;
    const diff = firstDifference(piece.data, pieceBytes(spec, piece.index));
    if (diff === undefined) return;
    this.#violation = {
      summary: `${this.name} received a PIECE whose bytes are not those of the piece it names: ${refText(piece)}.`,
      happened: `the PIECE for ${refText(piece)} carried other bytes: ${diff}`,
      likelyCause:
        'send the bytes readPiece resolved for THIS request (swarmId, fileId, index), unchanged: ' +
        'is a variable shared between requests (the last data read, a reused Buffer) sent instead?',
    };
  }

  protected receivedEnd(): void {
    this.#ended = true;
    this.watch.notify();
  }

  protected receivedClose(): void {
    this.#closed = true;
    this.watch.notify();
  }

  /** `client B received 2 frames: ...; its connection is open`. */
  describe(): string {
    const state = this.#closed
      ? 'its connection is closed'
      : this.#ended
        ? 'the peer ended the connection'
        : 'its connection is still open';
    const broken = this.#brokenStream ? `; ${this.#brokenStream}` : '';
    return `${this.name} received ${describeFrames(this.frames)}\n  and ${state}${broken}`;
  }

  // ------------------------------------------------------------------------------------------
  // Expectations

  /**
   * Waits for a frame not matched before that `judge` accepts. A frame it rejects, or a stream
   * that closes first, fails at once; nothing at all fails after the bound.
   */
  async expect<T>(judge: (message: Message) => Judgement<T>, expectation: Expectation): Promise<T> {
    let rejected: string | undefined;
    const outcome = await this.world.waitFor(
      this.watch,
      () => {
        if (this.#violation) return { ok: false, why: this.#violation.happened };
        for (let i = 0; i < this.frames.length; i++) {
          const frame = this.frames[i] as DecodedFrame;
          if (this.#matched.has(i) || !frame.ok) continue;
          const verdict = judge(frame.message);
          if (verdict === undefined) continue;
          this.#matched.add(i);
          if ('accept' in verdict) return { ok: true, value: verdict.accept };
          rejected = verdict.reject;
          return { ok: false, why: verdict.reject };
        }
        if (this.#brokenStream) return { ok: false, why: this.#brokenStream };
        if (this.#closed) return { ok: false, why: `${this.name}'s connection closed first` };
        if (this.#ended) return { ok: false, why: 'the peer ended the connection first' };
        return undefined;
      },
      ANSWER_MS,
    );
    if (outcome.ok) return outcome.value;
    const violation = this.#violation;
    if (violation) {
      return this.world.fail({
        summary: violation.summary,
        expected: `${expectation.expected ?? expectation.what}, and every PIECE to answer a GET_PIECE with the bytes of the piece it names`,
        happened: `${violation.happened}.\n  ${this.describe()}`,
        likelyCause: violation.likelyCause,
      });
    }
    return this.world.fail({
      summary: rejected
        ? `${this.name} got a wrong answer while waiting for ${expectation.what}.`
        : `${this.name} did not get ${expectation.what}.`,
      expected: expectation.expected ?? expectation.what,
      happened: `${outcome.why}.\n  ${this.describe()}`,
      likelyCause: expectation.likelyCause,
    });
  }

  /** A PIECE for piece `index` of `spec` with exactly its bytes. */
  async expectPiece(
    spec: FileSpec,
    index: number,
    likelyCause: string,
    expected?: string,
  ): Promise<void> {
    const ref = pieceRef(spec, index);
    const bytes = pieceBytes(spec, index);
    await this.expect(
      (message): Judgement<true> => {
        if (message.type === MessageType.Piece && sameRef(message, ref)) {
          const diff = firstDifference(message.data, bytes);
          return diff === undefined
            ? { accept: true }
            : { reject: `the PIECE for ${refText(ref)} carried the wrong bytes: ${diff}` };
        }
        if (
          message.type === MessageType.Error &&
          message.request &&
          sameRef(message.request, ref)
        ) {
          return { reject: `the peer answered ${describeMessage(message)}` };
        }
        return undefined;
      },
      {
        what: `a PIECE for ${refText(ref)}`,
        expected: expected ?? `a PIECE for ${refText(ref)} with the file's ${bytes.length} bytes`,
        likelyCause,
      },
    );
    if (!this.quiet) this.world.step(`${this.name} got the PIECE for ${refText(ref)}`);
  }

  /**
   * An ERROR with `code` that names `request`: a piece, `null` (no request), or `'any'` when
   * the contract leaves it open.
   */
  async expectError(
    code: WireErrorCode,
    request: PieceRef | null | 'any',
    likelyCause: string,
  ): Promise<void> {
    const name = WIRE_ERROR_CODES[code];
    const about =
      request === 'any'
        ? ''
        : request === null
          ? ' with no request (request: null)'
          : ` naming ${refText(request)}`;
    const answersThis = (ref: PieceRef | null): boolean =>
      request === 'any' || (request === null ? ref === null : !!ref && sameRef(ref, request));
    await this.expect(
      (message): Judgement<true> => {
        if (message.type === MessageType.Error) {
          if (!answersThis(message.request)) {
            // An ERROR for something else is the answer to another request, unless there is none.
            return request !== null && message.request === null
              ? { reject: `the ERROR does not name the request: ${describeMessage(message)}` }
              : undefined;
          }
          return message.code === code
            ? { accept: true }
            : { reject: `the ERROR has the wrong code: ${describeMessage(message)}` };
        }
        if (request && request !== 'any' && message.type === MessageType.Piece) {
          return sameRef(message, request)
            ? { reject: `the peer answered with ${describeMessage(message)}` }
            : undefined;
        }
        return undefined;
      },
      { what: `an ERROR ${name}${about}`, likelyCause },
    );
    this.world.step(`${this.name} got an ERROR ${name}${about}`);
  }

  /** The peer ends (or closes) this connection. */
  async expectPeerToFinish(expected: string, likelyCause: string): Promise<void> {
    const outcome = await this.world.waitFor(this.watch, () =>
      this.endedByPeer ? { ok: true, value: true } : undefined,
    );
    if (outcome.ok) {
      this.world.step(`the peer ${this.#closed ? 'closed' : 'ended'} ${this.name}'s connection`);
      return;
    }
    await this.world.fail({
      summary: `The peer did not end or close ${this.name}'s connection.`,
      expected,
      happened: `${outcome.why}.\n  ${this.describe()}`,
      likelyCause,
    });
  }
}

/** A client on a real TCP socket to the peer's listening port. */
export class TcpClient extends Client {
  readonly #socket: Socket;
  readonly #localPort: number;

  private constructor(name: string, world: World, socket: Socket) {
    super(name, world);
    this.#socket = socket;
    this.#localPort = socket.localPort ?? 0;
    socket.on('data', (chunk: Buffer) => this.received(chunk));
    socket.on('end', () => this.receivedEnd());
    socket.on('close', () => this.receivedClose());
  }

  static async connect(
    world: World,
    name: string,
    peer: HostedPeer,
    options: ClientOptions = {},
  ): Promise<TcpClient> {
    const { host, port } = peer.address;
    // allowHalfOpen: the peer ending its side must not end ours; the scenario decides that.
    const socket = connect({ host, port, noDelay: true, allowHalfOpen: true });
    // A reset by the peer is an outcome the scenario observes ('close'), not a crash of the grader.
    socket.on('error', () => {});
    world.defer(() => {
      socket.destroy();
    });
    const connected = await world.settle(
      new Promise<void>((resolve, reject) => {
        socket.once('connect', resolve);
        socket.once('close', () => reject(new Error('the connection closed before it opened')));
      }),
      TEARDOWN_MS,
      false,
    );
    if (!connected.ok) {
      return world.fail({
        summary: `${name} could not connect to peer ${peer.name} at ${host}:${port}.`,
        expected: 'the peer to accept TCP connections once start() resolved',
        happened: connected.why,
        likelyCause: 'the peer is not listening; this is the kit, not your TODO: please report it.',
      });
    }
    world.step(`${name} connected to peer ${peer.name} over TCP`);
    const client = new TcpClient(name, world, socket);
    if (options.hello ?? true) {
      client.hello();
      // TCP may merge the HELLO and the next request into one chunk; once the peer answered
      // the HELLO it has read it, so the next write is a chunk of its own, as on a pipe.
      await client.greeted();
    }
    return client;
  }

  get connection(): ConnectionKey {
    return `tcp:${this.#localPort}`;
  }

  protected write(chunk: Buffer): void {
    this.#socket.write(chunk);
  }

  protected endWrites(): void {
    this.#socket.end();
  }

  protected writeAndEnd(chunk: Buffer): void {
    this.#socket.end(chunk);
  }

  protected abort(): void {
    this.#socket.resetAndDestroy();
  }
}

let nextPipeId = 1;

/**
 * A client on an in-memory stream handed straight to the peer's handleClient: each write
 * becomes exactly one 'data' event there, so splits and coalesced frames are by construction.
 */
export class PipeClient extends Client {
  readonly #pipeId: number;

  private constructor(name: string, world: World, pipeId: number) {
    super(name, world);
    this.#pipeId = pipeId;
    const unsubscribe = world.host.subscribe((event) => {
      if (!('pipeId' in event) || event.pipeId !== pipeId) return;
      if (event.type === 'pipeData') {
        this.received(
          Buffer.from(event.chunk.buffer, event.chunk.byteOffset, event.chunk.byteLength),
        );
      } else if (event.type === 'pipeEnd') {
        this.receivedEnd();
      } else {
        this.receivedClose();
      }
    });
    world.defer(() => {
      unsubscribe();
      world.host.send('pipeDestroy', { pipeId });
    });
  }

  static async open(
    world: World,
    name: string,
    peer: HostedPeer,
    options: ClientOptions = {},
  ): Promise<PipeClient> {
    const pipeId = nextPipeId++;
    const client = new PipeClient(name, world, pipeId);
    await world.ask(
      'openPipe',
      { name: peer.name, pipeId },
      `connect ${name} to peer ${peer.name}`,
    );
    world.step(`${name} connected to peer ${peer.name} (in memory: each write is one chunk)`);
    if (options.hello ?? true) client.hello();
    return client;
  }

  get connection(): ConnectionKey {
    return `pipe:${this.#pipeId}`;
  }

  protected write(chunk: Buffer): void {
    this.world.host.send('pipeWrite', { pipeId: this.#pipeId, chunk: Uint8Array.from(chunk) });
  }

  protected endWrites(): void {
    this.world.host.send('pipeEnd', { pipeId: this.#pipeId });
  }

  protected writeAndEnd(chunk: Buffer): void {
    this.write(chunk);
    this.endWrites();
  }

  protected abort(): void {
    this.world.host.send('pipeDestroy', { pipeId: this.#pipeId });
  }
}

/** Every piece of `spec`, fetched one request at a time (never two frames in one chunk). */
export async function fetchWholeFile(
  client: Client,
  spec: FileSpec,
  likelyCause: string,
): Promise<void> {
  for (let index = 0; index < pieceCount(spec); index++) {
    client.send({ type: MessageType.GetPiece, ...pieceRef(spec, index) });
    await client.expectPiece(spec, index, likelyCause);
  }
}
