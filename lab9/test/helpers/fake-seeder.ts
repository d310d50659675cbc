/**
 * A scripted seeder over real TCP: speaks the protocol like a Peer's server side (greeting, PING,
 * GET_PIECE) but lets a test decide, per request, to serve, ignore, corrupt or hang up, and to
 * hold its greeting back. Events say what it received, so tests wait on them, never on time.
 * Built from the kit's own Connection and PieceStore; it does not depend on any handleClient.
 */
import { EventEmitter, once } from 'node:events';
import { type AddressInfo, type Server, type Socket, createServer } from 'node:net';
import { isLab9Error } from '../../src/errors';
import { Connection } from '../../src/protocol/connection';
import type { DecodedFrame } from '../../src/protocol/frame-decoder';
import {
  type GetPieceMessage,
  type Message,
  MessageType,
  WireErrorCode,
  wireCodeOf,
} from '../../src/protocol/message-types';
import type { PieceStore } from '../../src/storage/file-manager';
import type { PeerAddress } from '../../src/tracker/tracker';
import { bounded } from './events';

/**
 * - `serve`: PIECE with the stored bytes;
 * - `ignore`: no answer at all (the downloader's request timer must notice);
 * - `corrupt`: PIECE whose first byte is flipped (fails its hash);
 * - `hangup`: the seeder dies: every client socket destroyed, server closed.
 */
export type Answer = 'serve' | 'ignore' | 'corrupt' | 'hangup';

export interface FakeSeederOptions {
  readonly peerId: string;
  /** What the seeder announces and serves. */
  readonly files: PieceStore;
  /**
   * How to answer each GET_PIECE; `count` is 1 for the first request this seeder receives.
   * @default always 'serve'
   */
  readonly answer?: (request: GetPieceMessage, count: number) => Answer;
  /** Hold the greeting (HELLO, ANNOUNCE, BITFIELDs) back until `releaseGreeting()`. */
  readonly holdGreeting?: boolean;
}

export interface FakeSeederEvents {
  /** A client said HELLO and was sent the greeting. */
  greeted: [clientId: string];
  /** A GET_PIECE arrived, before it is answered. */
  request: [request: GetPieceMessage, count: number];
  /** The seeder hung up (an `answer` said 'hangup'), after sending every earlier answer. */
  hangup: [];
}

export class FakeSeeder extends EventEmitter<FakeSeederEvents> {
  readonly peerId: string;
  readonly #options: FakeSeederOptions;
  readonly #server: Server;
  readonly #connections = new Set<Connection>();
  /** Clients whose HELLO came while the greeting was held. */
  readonly #waiting: Connection[] = [];
  /** The peer ID each client gave in its HELLO. */
  readonly #clientIds = new Map<Connection, string>();
  #greetingHeld: boolean;
  #requests = 0;
  /** The last answer queued; never rejects. */
  #answered: Promise<void> = Promise.resolve();
  #nonce = 0;
  #closed: Promise<void> | undefined;

  constructor(options: FakeSeederOptions) {
    super();
    this.peerId = options.peerId;
    this.#options = options;
    this.#greetingHeld = options.holdGreeting ?? false;
    this.#server = createServer({ noDelay: true }, (socket) => this.#accept(socket));
  }

  async start(): Promise<PeerAddress> {
    this.#server.listen(0, '127.0.0.1');
    await once(this.#server, 'listening');
    return this.address;
  }

  get address(): PeerAddress {
    const { port } = this.#server.address() as AddressInfo;
    return { peerId: this.peerId, host: '127.0.0.1', port };
  }

  /** Sends the greeting to every client that said HELLO while it was held, and to later ones. */
  releaseGreeting(): void {
    this.#greetingHeld = false;
    for (const connection of this.#waiting.splice(0)) this.#greet(connection);
  }

  /**
   * A barrier: PING on every open connection, resolved when every PONG is back. A downloader
   * handles frames in order, so everything this seeder sent before has then been processed.
   */
  async sync(): Promise<void> {
    const open = [...this.#connections].filter((connection) => !connection.closed);
    if (open.length === 0) throw new Error(`${this.peerId} has no open connection to sync`);
    await Promise.all(open.map((connection) => this.#ping(connection)));
  }

  /** Destroys every client connection and stops listening. Idempotent. */
  close(): Promise<void> {
    this.#closed ??= new Promise<void>((resolve) => {
      for (const connection of this.#connections) connection.destroy();
      this.#server.close(() => resolve());
    });
    return this.#closed;
  }

  #accept(socket: Socket): void {
    const connection = new Connection(socket);
    this.#connections.add(connection);
    connection.on('close', () => this.#connections.delete(connection));
    connection.on('frame', (frame) => {
      if (!frame.ok) return connection.destroy(frame.error);
      this.#onMessage(connection, frame.message);
    });
  }

  #onMessage(connection: Connection, message: Message): void {
    switch (message.type) {
      case MessageType.Hello:
        this.#clientIds.set(connection, message.peerId);
        if (this.#greetingHeld) this.#waiting.push(connection);
        else this.#greet(connection);
        return;
      case MessageType.GetPiece: {
        const count = ++this.#requests;
        this.emit('request', message, count);
        const answer = this.#options.answer?.(message, count) ?? 'serve';
        // Answers leave in request order: "hang up at the 3rd request" means after 2 were sent.
        this.#answered = this.#answered.then(() => this.#answer(connection, message, answer));
        return;
      }
      case MessageType.Ping:
        connection.send({ type: MessageType.Pong, nonce: message.nonce });
        return;
      default:
        return;
    }
  }

  #greet(connection: Connection): void {
    const { files } = this.#options;
    const swarms = files.swarms();
    connection.send({ type: MessageType.Hello, peerId: this.peerId });
    connection.send({ type: MessageType.Announce, swarms });
    for (const swarm of swarms) {
      for (const file of swarm.files) {
        const bits = files.bitfield(swarm.swarmId, file.fileId);
        const { swarmId } = swarm;
        connection.send({ type: MessageType.Bitfield, swarmId, fileId: file.fileId, bits });
      }
    }
    this.emit('greeted', this.#clientIds.get(connection) ?? '?');
  }

  async #answer(connection: Connection, request: GetPieceMessage, answer: Answer): Promise<void> {
    if (answer === 'ignore') return;
    if (answer === 'hangup') {
      const first = this.#closed === undefined;
      await this.close();
      if (first) this.emit('hangup');
      return;
    }
    const { swarmId, fileId, index } = request;
    let data: Buffer;
    try {
      data = await this.#options.files.readPiece(swarmId, fileId, index);
    } catch (error) {
      const code = (isLab9Error(error) && wireCodeOf(error.code)) || WireErrorCode.Internal;
      const message = error instanceof Error ? error.message : String(error);
      connection.send({
        type: MessageType.Error,
        code,
        message,
        request: { swarmId, fileId, index },
      });
      return;
    }
    if (answer === 'corrupt') {
      data = Buffer.from(data);
      data[0] = (data[0] ?? 0) ^ 0xff;
    }
    connection.send({ type: MessageType.Piece, swarmId, fileId, index, data });
  }

  #ping(connection: Connection): Promise<void> {
    const nonce = ++this.#nonce;
    const pong = new Promise<void>((resolve) => {
      const onFrame = (frame: DecodedFrame): void => {
        if (frame.ok && frame.message.type === MessageType.Pong && frame.message.nonce === nonce) {
          connection.off('frame', onFrame);
          resolve();
        }
      };
      connection.on('frame', onFrame);
    });
    connection.send({ type: MessageType.Ping, nonce });
    return bounded(pong, `${this.peerId} getting PONG ${nonce} back`);
  }
}
