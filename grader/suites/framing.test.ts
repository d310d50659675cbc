/**
 * 9A, the byte stream: requests cut anywhere — one byte per chunk, split at every position,
 * chunks straddling frame boundaries, many frames in one chunk — are all answered. The client
 * is in memory, so each write is exactly one 'data' event at the peer: the splits are certain.
 */
import { encodeFrame } from '../../lab9/src/protocol/frame-codec';
import { type Message, MessageType } from '../../lab9/src/protocol/message-types';
import { PipeClient } from '../harness/clients';
import { fileSpec, pieceCount, pieceRef } from '../harness/data';
import { scenario } from '../harness/scenario';

const A_BIN = fileSpec('s1', 'a.bin', { pieces: 6 });
const B_BIN = fileSpec('s1', 'b.bin', { pieces: 4, lastPiece: 10 });

const KEEP_PARTIAL =
  'TCP delivers bytes, not frames: push every chunk into ONE FrameDecoder per client and ' +
  'handle what it returns; never parse a chunk on its own or drop bytes left after a frame.';

function getPiece(index: number): Message {
  return { type: MessageType.GetPiece, ...pieceRef(A_BIN, index % pieceCount(A_BIN)) };
}

scenario(
  '1 seeder, 1 client: answers HELLO and GET_PIECE sent one byte per write',
  async (world) => {
    const seeder = await world.peer('S', { seeds: [A_BIN] });
    const client = await PipeClient.open(world, 'client A', seeder, { hello: false });
    const bytes = Buffer.concat([
      encodeFrame({ type: MessageType.Hello, peerId: 'client-a' }),
      encodeFrame(getPiece(3)),
    ]);
    client.sendChunks(
      [...bytes].map((byte) => Buffer.from([byte])),
      `HELLO and GET_PIECE #3 (${bytes.length} bytes), one byte per write,`,
    );
    await client.expect(
      (message) => (message.type === MessageType.Hello ? { accept: true } : undefined),
      { what: 'the HELLO of the greeting', likelyCause: KEEP_PARTIAL },
    );
    await client.expectPiece(A_BIN, 3, KEEP_PARTIAL);
  },
);

scenario(
  '1 seeder, 1 client: answers a GET_PIECE split in two at every byte position',
  async (world) => {
    const seeder = await world.peer('S', { seeds: [A_BIN] });
    const client = await PipeClient.open(world, 'client A', seeder);
    const length = encodeFrame(getPiece(0)).length;
    for (let cut = 1; cut < length; cut++) {
      const frame = encodeFrame(getPiece(cut));
      client.sendChunks(
        [frame.subarray(0, cut), frame.subarray(cut)],
        `GET_PIECE #${cut % pieceCount(A_BIN)} cut after byte ${cut} of ${length}`,
      );
      await client.expectPiece(A_BIN, cut % pieceCount(A_BIN), KEEP_PARTIAL);
    }
  },
);

scenario(
  '1 seeder, 1 client: answers 12 requests sent in 7-byte chunks that straddle frame boundaries',
  async (world) => {
    const seeder = await world.peer('S', { seeds: [A_BIN] });
    const client = await PipeClient.open(world, 'client A', seeder);
    const stream = Buffer.concat(Array.from({ length: 12 }, (_, i) => encodeFrame(getPiece(i))));
    const chunks: Buffer[] = [];
    for (let at = 0; at < stream.length; at += 7) chunks.push(stream.subarray(at, at + 7));
    client.sendChunks(chunks, `12 GET_PIECEs (${stream.length} bytes) in 7-byte pieces`);
    for (let i = 0; i < 12; i++) {
      await client.expectPiece(
        A_BIN,
        i % pieceCount(A_BIN),
        'a chunk may end one frame and begin the next: keep the bytes after a complete frame ' +
          '(the FrameDecoder does, if every chunk goes through the same one).',
      );
    }
  },
);

scenario(
  '1 seeder, 1 client: answers all 20 requests pipelined in a single write',
  async (world) => {
    const seeder = await world.peer('S', { seeds: [A_BIN, B_BIN] });
    const client = await PipeClient.open(world, 'client A', seeder);
    const requests = [
      ...Array.from({ length: 12 }, (_, i) => getPiece(i)),
      ...Array.from({ length: 8 }, (_, i): Message => ({
        type: MessageType.GetPiece,
        ...pieceRef(B_BIN, i % pieceCount(B_BIN)),
      })),
    ];
    client.sendTogether(requests);
    const cause =
      'one chunk can hold many frames: handle EVERY frame decoder.push(chunk) returns ' +
      '(`const [frame] = decoder.push(chunk)` answers only the first).';
    for (let i = 0; i < 12; i++) await client.expectPiece(A_BIN, i % pieceCount(A_BIN), cause);
    for (let i = 0; i < 8; i++) await client.expectPiece(B_BIN, i % pieceCount(B_BIN), cause);
  },
);
