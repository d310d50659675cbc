/**
 * 9A, one client at a time: what handleClient answers to each request — the greeting, PING,
 * GET_PIECE — and the ERROR for each request it cannot serve, after which the connection must
 * stay usable; and a client that half-closes gets its answers before the peer ends too.
 */
import { encodeFrame } from '../../lab9/src/protocol/frame-codec';
import { MessageType, WireErrorCode } from '../../lab9/src/protocol/message-types';
import { PipeClient, TcpClient } from '../harness/clients';
import { fileSpec, pieceMessage, pieceRef } from '../harness/data';
import { scenario } from '../harness/scenario';
import type { World } from '../harness/world';

const A_BIN = fileSpec('s1', 'a.bin', { pieces: 4, lastPiece: 1000 });
const B_BIN = fileSpec('s1', 'b.bin', { pieces: 2 });
const OTHER_A_BIN = fileSpec('s2', 'a.bin', { pieces: 3 });
const SEEDS = [A_BIN, B_BIN, OTHER_A_BIN];

const SERVES_AGAIN =
  'after answering an ERROR, handleClient must go on reading the same connection: ' +
  'is the ERROR path returning from the data handler, ending or destroying the socket?';

scenario(
  '1 seeder, 1 client: answers HELLO with its HELLO, ANNOUNCE and one BITFIELD per file, in that order',
  async (world) => {
    const seeder = await world.peer('S', { seeds: SEEDS });
    const client = await PipeClient.open(world, 'client A', seeder, { hello: false });
    client.send({ type: MessageType.Hello, peerId: 'client-a' });
    await expectGreeting(
      world,
      client,
      'on HELLO, send every message of this.greeting() in the order it returns them, each with ' +
        'socket.write(encodeFrame(message)).',
    );
  },
);

scenario(
  '1 seeder, 3 clients: greets each client that sends HELLO in full, and greets client A again when A sends HELLO twice',
  async (world) => {
    const seeder = await world.peer('S', { seeds: SEEDS });
    const clients = [];
    for (const name of ['client A', 'client B', 'client C']) {
      clients.push(await PipeClient.open(world, name, seeder, { hello: false }));
    }
    const cause =
      'answer EVERY HELLO with every message of this.greeting(): each client needs its own ' +
      'greeting, and a client may say HELLO again. A flag such as `greeted` kept on the Peer ' +
      '(or on the connection) silences the later ones.';
    for (const client of clients) {
      client.hello();
      await expectGreeting(world, client, cause);
    }
    const [a] = clients as [PipeClient];
    a.hello();
    await expectGreeting(world, a, cause);
  },
);

scenario('1 seeder, 1 client: answers PING with a PONG carrying the same nonce', async (world) => {
  const seeder = await world.peer('S', { seeds: SEEDS });
  const client = await PipeClient.open(world, 'client A', seeder);
  client.send({ type: MessageType.Ping, nonce: 0xc0ffee });
  await client.expect(
    (message) =>
      message.type === MessageType.Pong
        ? message.nonce === 0xc0ffee
          ? { accept: true }
          : { reject: `the PONG carries nonce ${message.nonce}` }
        : undefined,
    {
      what: 'a PONG with nonce 12648430',
      likelyCause: 'answer PING with this.pong(ping): the worked example in the TODO.',
    },
  );
});

scenario(
  '1 seeder, 1 client: answers GET_PIECE with the exact bytes, a short last piece included, without a HELLO first',
  async (world) => {
    const seeder = await world.peer('S', { seeds: SEEDS });
    const client = await TcpClient.connect(world, 'client A', seeder, { hello: false });
    const cause =
      'on GET_PIECE, send { type: PIECE, swarmId, fileId, index, data } with the data of ' +
      'await this.files.readPiece(swarmId, fileId, index), whether or not HELLO came first.';
    client.send({ type: MessageType.GetPiece, ...pieceRef(A_BIN, 0) });
    await client.expectPiece(A_BIN, 0, cause);
    client.send({ type: MessageType.GetPiece, ...pieceRef(A_BIN, 3) });
    await client.expectPiece(A_BIN, 3, cause);
  },
);

scenario(
  '1 seeder, 1 client: answers a GET_PIECE for an unknown swarm with ERROR unknown swarm, then serves the next request',
  async (world) => {
    const seeder = await world.peer('S', { seeds: SEEDS });
    const client = await TcpClient.connect(world, 'client A', seeder);
    const bad = { swarmId: 'no-such-swarm', fileId: 'a.bin', index: 0 };
    client.send({ type: MessageType.GetPiece, ...bad });
    await client.expectError(
      WireErrorCode.UnknownSwarm,
      bad,
      'when readPiece throws, send this.errorReply(error, request): it keeps the error code and names the request.',
    );
    client.send({ type: MessageType.GetPiece, ...pieceRef(A_BIN, 1) });
    await client.expectPiece(A_BIN, 1, SERVES_AGAIN);
  },
);

scenario(
  '1 seeder, 1 client: answers a GET_PIECE for an unknown file with ERROR unknown file, then serves the next request',
  async (world) => {
    const seeder = await world.peer('S', { seeds: SEEDS });
    const client = await TcpClient.connect(world, 'client A', seeder);
    const bad = { swarmId: 's2', fileId: 'b.bin', index: 0 };
    client.send({ type: MessageType.GetPiece, ...bad });
    await client.expectError(
      WireErrorCode.UnknownFile,
      bad,
      'when readPiece throws, send this.errorReply(error, request): it keeps the error code and names the request.',
    );
    client.send({ type: MessageType.GetPiece, ...pieceRef(OTHER_A_BIN, 2) });
    await client.expectPiece(OTHER_A_BIN, 2, SERVES_AGAIN);
  },
);

scenario(
  '1 seeder, 1 client: answers a GET_PIECE past the last piece with ERROR piece out of range, then serves the next request',
  async (world) => {
    const seeder = await world.peer('S', { seeds: SEEDS });
    const client = await TcpClient.connect(world, 'client A', seeder);
    const cause =
      'when readPiece throws, send this.errorReply(error, request): it keeps the error code and names the request.';
    for (const index of [4, 0xffffffff]) {
      const bad = pieceRef(A_BIN, index);
      client.send({ type: MessageType.GetPiece, ...bad });
      await client.expectError(WireErrorCode.PieceOutOfRange, bad, cause);
    }
    client.send({ type: MessageType.GetPiece, ...pieceRef(A_BIN, 2) });
    await client.expectPiece(A_BIN, 2, SERVES_AGAIN);
  },
);

scenario(
  '1 seeder, 1 client: answers a truncated GET_PIECE with ERROR malformed request, then serves the next request',
  async (world) => {
    const seeder = await world.peer('S', { seeds: SEEDS });
    const client = await TcpClient.connect(world, 'client A', seeder);
    // A whole frame whose body stops inside the file ID: the framing is fine, the message is not.
    const whole = encodeFrame({ type: MessageType.GetPiece, ...pieceRef(A_BIN, 0) });
    const truncated = Buffer.from(whole.subarray(0, 4 + 1 + 1 + 2 + 1 + 3));
    truncated.writeUInt32BE(truncated.length - 4, 0);
    client.sendBytes(truncated, 'a GET_PIECE frame whose body stops inside the file ID');
    await client.expectError(
      WireErrorCode.MalformedRequest,
      null,
      'a frame that decodes to { ok: false } is a malformed request: answer ' +
        'this.errorReply(frame.error, null) and keep reading; never throw from the data handler.',
    );
    client.send({ type: MessageType.GetPiece, ...pieceRef(A_BIN, 1) });
    await client.expectPiece(A_BIN, 1, SERVES_AGAIN);
  },
);

scenario(
  '1 seeder, 1 client: answers a PIECE sent by the client with ERROR malformed request, then serves the next request',
  async (world) => {
    const seeder = await world.peer('S', { seeds: SEEDS });
    const client = await TcpClient.connect(world, 'client A', seeder);
    client.send(pieceMessage(B_BIN, 0));
    await client.expectError(
      WireErrorCode.MalformedRequest,
      'any',
      'a client may send HELLO, PING, PONG or GET_PIECE; answer any other message type with an ' +
        'ERROR ERR_MALFORMED_REQUEST (the default branch of your switch).',
    );
    client.send({ type: MessageType.GetPiece, ...pieceRef(B_BIN, 1) });
    await client.expectPiece(B_BIN, 1, SERVES_AGAIN);
  },
);

scenario(
  '1 seeder, 1 client: answers every request of a client that half-closes, and only then ends the connection',
  async (world) => {
    const seeder = await world.peer('S', { seeds: SEEDS });
    await seeder.hold([pieceRef(A_BIN, 0)]);
    const client = await PipeClient.open(world, 'client A', seeder);
    client.send({ type: MessageType.GetPiece, ...pieceRef(A_BIN, 0) });
    client.send({ type: MessageType.GetPiece, ...pieceRef(A_BIN, 1) });
    client.end();
    await seeder.waitForHeld(1, {
      expected: "client A's GET_PIECE #0 to reach this.files.readPiece",
      likelyCause: 'handleClient does not call this.files.readPiece for a GET_PIECE.',
    });
    // The peer has seen the end while the read of #0 is still held: no answer can have left yet.
    await seeder.waitUntilSaw(client.connection, 'end', 'client A');
    await seeder.releaseAll();
    const cause =
      "a client that ends its side still wants its answers: on 'end', do not end or destroy the " +
      'socket while requests are pending; end it when the last one is answered.';
    await client.expectPiece(A_BIN, 0, cause);
    await client.expectPiece(A_BIN, 1, cause);
    await client.expectPeerToFinish(
      "the peer to end its side once both answers are sent (the client's 'end' means: no more requests)",
      "on the socket's 'end' event, call socket.end() once every pending request is answered; " +
        'otherwise the connection stays half-open forever.',
    );
  },
);

/** The 5 frames of the seeder's greeting, in order, as the next frames `client` receives. */
async function expectGreeting(
  world: World,
  client: PipeClient,
  likelyCause: string,
): Promise<void> {
  const names = ['HELLO', 'ANNOUNCE', 'BITFIELD', 'BITFIELD', 'BITFIELD'];
  const types = [
    MessageType.Hello,
    MessageType.Announce,
    MessageType.Bitfield,
    MessageType.Bitfield,
    MessageType.Bitfield,
  ];
  for (const [i, type] of types.entries()) {
    await client.expect(
      (message) =>
        message.type === type
          ? { accept: true }
          : { reject: `frame ${i + 1} of the greeting is not a ${names[i]}` },
      {
        what: `frame ${i + 1} of the greeting: ${names[i]}`,
        expected: `every message of this.greeting(), in order: ${names.join(', ')}`,
        likelyCause,
      },
    );
  }
  world.step(`${client.name} got the whole greeting`);
}
