/**
 * 9A, clients that misbehave (hidden suite): one that vanishes while its read is held back, one
 * that sends a stream of malformed frames, one that announces a frame larger than the protocol
 * allows. Each may cost its own connection, never the peer or the other clients.
 */
import { encodeFrame } from '../../lab9/src/protocol/frame-codec';
import { MessageType } from '../../lab9/src/protocol/message-types';
import { PipeClient, TcpClient } from '../harness/clients';
import { fileSpec, pieceRef } from '../harness/data';
import { scenario } from '../harness/scenario';

const FILE = fileSpec('s1', 'data.bin', { pieces: 4 });

const OTHERS_STILL_SERVED =
  'one client misbehaving must cost that client at most: keep every piece of per-client state ' +
  "in handleClient's closure and never let an error escape a socket's event handler.";

/** Frames whose length prefix is right but whose body is not a valid request. */
function malformedFrames(): { bytes: Buffer; what: string }[] {
  const frame = (body: Buffer): Buffer => {
    const prefix = Buffer.alloc(4);
    prefix.writeUInt32BE(body.length, 0);
    return Buffer.concat([prefix, body]);
  };
  const getPiece = encodeFrame({ type: MessageType.GetPiece, ...pieceRef(FILE, 0) }).subarray(4);
  const badUtf8 = Buffer.from(getPiece);
  badUtf8[3] = 0xff; // inside the swarm ID "s1"
  return [
    { bytes: frame(Buffer.alloc(0)), what: 'an empty frame' },
    { bytes: frame(Buffer.from([0x00, 1, 2, 3])), what: 'a frame of type 0x00' },
    { bytes: frame(Buffer.from([0xee])), what: 'a frame of type 0xee' },
    {
      bytes: frame(Buffer.from([MessageType.GetPiece, 0])),
      what: 'a GET_PIECE with an empty swarm ID',
    },
    { bytes: frame(badUtf8), what: 'a GET_PIECE whose swarm ID is not UTF-8' },
    {
      bytes: frame(
        Buffer.concat([
          encodeFrame({ type: MessageType.Hello, peerId: 'x' }).subarray(4),
          Buffer.from([7, 7]),
        ]),
      ),
      what: 'a HELLO with 2 bytes too many',
    },
    { bytes: frame(Buffer.from([MessageType.Ping, 1, 2])), what: 'a PING with a 2-byte nonce' },
  ];
}

scenario(
  "1 seeder, 2 clients: keeps serving client B after client A resets its connection while A's read is held back",
  async (world) => {
    const seeder = await world.peer('S', { seeds: [FILE] });
    await seeder.hold([pieceRef(FILE, 0)]);
    const a = await TcpClient.connect(world, 'client A', seeder);
    a.send({ type: MessageType.GetPiece, ...pieceRef(FILE, 0) });
    await seeder.waitForHeld(1, {
      expected: "client A's GET_PIECE to reach this.files.readPiece",
      likelyCause: 'handleClient must call this.files.readPiece for each GET_PIECE.',
    });
    a.reset();
    await seeder.waitUntilSaw(a.connection, 'close', 'client A');
    await seeder.releaseAll();
    const b = await TcpClient.connect(world, 'client B', seeder);
    b.send({ type: MessageType.GetPiece, ...pieceRef(FILE, 1) });
    await b.expectPiece(
      FILE,
      1,
      "a client may vanish while its read is pending: give the socket an 'error' listener (a reset " +
        'emits one), and when the read resolves, do not write to a socket that is destroyed.',
    );
  },
);

scenario(
  '1 seeder, 2 clients: answers each of 7 malformed frames from client A with an ERROR, then serves A and B',
  async (world) => {
    const seeder = await world.peer('S', { seeds: [FILE] });
    const a = await PipeClient.open(world, 'client A', seeder);
    const frames = malformedFrames();
    for (const frame of frames) a.sendBytes(frame.bytes, frame.what);
    for (let i = 0; i < frames.length; i++) {
      await a.expect(
        (message) =>
          message.type === MessageType.Error && message.request === null
            ? { accept: true }
            : undefined,
        {
          what: `an ERROR (with no request) for malformed frame ${i + 1} of ${frames.length}`,
          expected:
            'one ERROR per malformed frame: this.errorReply(frame.error, null) for each { ok: false } frame',
          likelyCause:
            'a frame that decodes to { ok: false } must be answered with an ERROR and the ' +
            'connection kept; an unknown message type is such a frame too.',
        },
      );
    }
    a.send({ type: MessageType.GetPiece, ...pieceRef(FILE, 2) });
    await a.expectPiece(
      FILE,
      2,
      'after answering malformed frames, keep reading the same connection.',
    );
    const b = await TcpClient.connect(world, 'client B', seeder);
    b.send({ type: MessageType.GetPiece, ...pieceRef(FILE, 3) });
    await b.expectPiece(FILE, 3, OTHERS_STILL_SERVED);
  },
);

scenario(
  "1 seeder, 2 clients: closes client A's connection when A announces a 2 GiB frame, and keeps serving client B",
  async (world) => {
    const seeder = await world.peer('S', { seeds: [FILE] });
    const a = await TcpClient.connect(world, 'client A', seeder);
    a.sendBytes(
      Buffer.from([0x7f, 0xff, 0xff, 0xff, MessageType.GetPiece, 2, 0x73, 0x31]),
      'a length prefix of 2147483647 bytes and the start of a body',
    );
    await a.expectPeerToFinish(
      "the peer to close client A's connection: after a length prefix over the limit the stream cannot be framed again",
      "when decoder.push(chunk) throws (ERR_FRAME_TOO_LARGE), catch it in that socket's data " +
        'handler and destroy that socket only (an ERROR first is allowed).',
    );
    const b = await TcpClient.connect(world, 'client B', seeder);
    b.send({ type: MessageType.GetPiece, ...pieceRef(FILE, 1) });
    await b.expectPiece(FILE, 1, OTHERS_STILL_SERVED);
  },
);
