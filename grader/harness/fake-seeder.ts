/**
 * A scripted seeder in the test thread: a raw TCP server that answers HELLO with a crafted
 * HELLO, ANNOUNCE and BITFIELDs, and GET_PIECE in the order and with the bytes the scenario
 * chooses, so routing is tested without depending on anyone's handleClient. Below: lab9's codec
 * and data.ts. Above: the routing suites; the peer under test connects to it through the tracker.
 */
import { type Server, type Socket, createServer } from 'node:net';
import { ProtocolError } from '../../lab9/src/errors';
import { encodeFrame } from '../../lab9/src/protocol/frame-codec';
import { FrameDecoder } from '../../lab9/src/protocol/frame-decoder';
import {
  type Message,
  MessageType,
  type PieceMessage,
  type PieceRef,
  WireErrorCode,
} from '../../lab9/src/protocol/message-types';
import { TEARDOWN_MS } from './bounds';
import { type FileSpec, announceOf, fullBitfield, pieceCount, pieceMessage, sameRef } from './data';
import { describeMessage, refText } from './format';
import type { Address } from './peer-host/protocol';
import type { World } from './world';

export interface FakeSeederScript {
  /** What it announces and holds, every piece of every file. */
  readonly files: readonly FileSpec[];
  /**
   * Keep answers back until `size` different pieces were asked for, then send them all in ONE
   * write in the order `order` returns; requests after that are answered at once.
   */
  readonly batch?: {
    readonly size: number;
    readonly order: (asked: readonly PieceRef[]) => PieceRef[];
  };
  /** Keep every answer back until the scenario calls `open()`. */
  readonly gated?: boolean;
  /** Sent unasked right after the greeting, in order (pieces a liar pushes). */
  readonly unasked?: readonly PieceMessage[];
  /** Answer every request with bytes that fail the piece's hash. */
  readonly corrupt?: boolean;
}

export class FakeSeeder {
  readonly name: string;
  /** Every GET_PIECE received, in order. */
  readonly asked: PieceRef[] = [];
  readonly #world: World;
  readonly #script: FakeSeederScript;
  readonly #server: Server;
  #port = 0;
  /** True while answers are kept back (a gate not opened yet, a batch not full yet). */
  #holding: boolean;
  readonly #waiting: { ref: PieceRef; socket: Socket }[] = [];
  #connections = 0;
  #hellos = 0;
  #answered = 0;

  private constructor(world: World, name: string, script: FakeSeederScript) {
    this.#world = world;
    this.name = name;
    this.#script = script;
    this.#holding = script.gated === true || script.batch !== undefined;
    const sockets = new Set<Socket>();
    this.#server = createServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      this.#accept(socket);
    });
    world.witness(
      () =>
        `Fake seeder ${name} saw ${this.#connections} connection(s), ${this.#hellos} HELLO(s), ` +
        `${this.asked.length} GET_PIECE(s) (${this.#waiting.length} kept back), and sent ${this.#answered} answer(s).`,
    );
    world.defer(async () => {
      for (const socket of sockets) socket.destroy();
      await world.settle(new Promise((resolve) => this.#server.close(resolve)), TEARDOWN_MS);
    });
  }

  /** Starts listening on 127.0.0.1 port 0 and registers in the tracker for its swarms. */
  static async start(world: World, name: string, script: FakeSeederScript): Promise<FakeSeeder> {
    const seeder = new FakeSeeder(world, name, script);
    await new Promise<void>((resolve) => seeder.#server.listen(0, '127.0.0.1', resolve));
    seeder.#port = (seeder.#server.address() as { port: number }).port;
    await world.register(seeder.address, script.files);
    const kind = script.corrupt ? 'corrupting every piece it sends' : 'honest';
    world.step(
      `fake seeder ${name} (${kind}) listens, announcing ${script.files
        .map((f) => `(${JSON.stringify(f.swarmId)}, ${JSON.stringify(f.fileId)})`)
        .join(', ')}`,
    );
    return seeder;
  }

  get address(): Address {
    return { peerId: this.name, host: '127.0.0.1', port: this.#port };
  }

  #accept(socket: Socket): void {
    this.#connections += 1;
    const decoder = new FrameDecoder();
    // The peer under test may reset; that ends this connection, nothing else.
    socket.on('error', () => {});
    socket.on('data', (chunk: Buffer) => {
      try {
        for (const frame of decoder.push(chunk))
          if (frame.ok) this.#onMessage(socket, frame.message);
      } catch (error) {
        if (!(error instanceof ProtocolError)) throw error;
        socket.destroy();
      }
    });
  }

  #onMessage(socket: Socket, message: Message): void {
    if (message.type === MessageType.Hello) {
      this.#hellos += 1;
      const greeting: Message[] = [
        { type: MessageType.Hello, peerId: this.name },
        announceOf(this.#script.files),
        ...this.#script.files.map((f): Message => ({
          type: MessageType.Bitfield,
          swarmId: f.swarmId,
          fileId: f.fileId,
          bits: fullBitfield(pieceCount(f)),
        })),
        ...(this.#script.unasked ?? []),
      ];
      socket.write(Buffer.concat(greeting.map(encodeFrame)));
      for (const piece of this.#script.unasked ?? []) {
        this.#world.step(`fake seeder ${this.name} pushed, unasked, ${describeMessage(piece)}`);
      }
      return;
    }
    if (message.type !== MessageType.GetPiece) return;
    const ref = { swarmId: message.swarmId, fileId: message.fileId, index: message.index };
    this.asked.push(ref);
    if (!this.#holding) {
      socket.write(encodeFrame(this.#answer(ref)));
      return;
    }
    this.#waiting.push({ ref, socket });
    const batch = this.#script.batch;
    if (batch && this.#waiting.length >= batch.size) {
      this.#answerWaiting(batch.order(this.#waiting.map((w) => w.ref)));
    }
  }

  /** Opens the gate: answers every request kept back, in the order they came, then the rest at once. */
  open(): void {
    this.#world.step(`fake seeder ${this.name} starts answering`);
    this.#answerWaiting(this.#waiting.map((w) => w.ref));
  }

  #answerWaiting(order: readonly PieceRef[]): void {
    this.#holding = false;
    // One write per connection (in scenarios: the one downloader), so the answers arrive together.
    const writes = new Map<Socket, Buffer[]>();
    for (const ref of order) {
      const socket = this.#waiting.find((w) => sameRef(w.ref, ref))?.socket;
      if (!socket) continue;
      writes.set(socket, [...(writes.get(socket) ?? []), encodeFrame(this.#answer(ref))]);
    }
    this.#waiting.length = 0;
    for (const [socket, frames] of writes) socket.write(Buffer.concat(frames));
    if (order.length > 0) {
      this.#world.step(
        `fake seeder ${this.name} answered ${order.length} requests in one write, in this order: ` +
          order.map(refText).join(', '),
      );
    }
  }

  #answer(ref: PieceRef): Message {
    this.#answered += 1;
    const spec = this.#script.files.find(
      (f) => f.swarmId === ref.swarmId && f.fileId === ref.fileId,
    );
    if (!spec || ref.index >= pieceCount(spec)) {
      return {
        type: MessageType.Error,
        code: WireErrorCode.PieceNotAvailable,
        message: 'the fake seeder does not have that piece',
        request: ref,
      };
    }
    const piece = pieceMessage(spec, ref.index);
    if (!this.#script.corrupt) return piece;
    const data = Buffer.from(piece.data);
    data[0] = (data[0] as number) ^ 0xff;
    return { ...piece, data };
  }
}
