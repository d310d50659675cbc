/**
 * Connection (protocol/connection.ts) over a real TCP pair on 127.0.0.1: messages sent on one end
 * arrive decoded on the other, PIECE data included; a hostile length prefix or a stream that ends
 * inside a frame closes that connection with a coded error; close is reported once.
 */
import { once } from 'node:events';
import type { Lab9Error } from '../../src/errors';
import { MAX_FRAME_BYTES } from '../../src/limits';
import { Connection } from '../../src/protocol/connection';
import { encodeFrame } from '../../src/protocol/frame-codec';
import type { DecodedFrame } from '../../src/protocol/frame-decoder';
import { type Message, MessageType } from '../../src/protocol/message-types';
import { sha256 } from '../../src/storage/piece-hash';
import { patternBytes } from '../helpers/bytes';
import { useCleanup } from '../helpers/cleanup';
import { bounded } from '../helpers/events';
import { closed, tcpPair } from '../helpers/sockets';

const defer = useCleanup();

/** Resolves with the next `count` frames `connection` emits. */
function framesFrom(connection: Connection, count: number): Promise<DecodedFrame[]> {
  const frames: DecodedFrame[] = [];
  return bounded(
    new Promise((resolve) => {
      connection.on('frame', (frame) => {
        frames.push(frame);
        if (frames.length === count) resolve(frames);
      });
    }),
    `${count} frames arriving (got ${frames.length})`,
  );
}

function closeError(connection: Connection): Promise<Lab9Error | undefined> {
  return bounded(
    once(connection, 'close').then(([error]) => error as Lab9Error | undefined),
    'the connection closing',
  );
}

describe('Connection', () => {
  it('delivers messages sent on one end, decoded and in order, on the other', async () => {
    const { client, server } = await tcpPair(defer);
    const sender = new Connection(client);
    const receiver = new Connection(server);
    const messages: Message[] = [
      { type: MessageType.Hello, peerId: 'a' },
      { type: MessageType.GetPiece, swarmId: 's', fileId: 'f', index: 2 },
      {
        type: MessageType.Piece,
        swarmId: 's',
        fileId: 'f',
        index: 2,
        data: patternBytes(300_000, 2),
      },
      { type: MessageType.Ping, nonce: 9 },
    ];
    const arriving = framesFrom(receiver, messages.length);
    for (const message of messages) sender.send(message);
    // PIECE data compared by hash: jest compares a 300 KB Buffer byte by byte, slowly.
    const summary = (message: Message): unknown =>
      message.type === MessageType.Piece
        ? { ...message, data: sha256(message.data).toString('hex') }
        : message;
    const got = (await arriving).map((frame) => (frame.ok ? summary(frame.message) : frame.error));
    expect(got).toEqual(messages.map(summary));
  });

  it('closes with ERR_FRAME_TOO_LARGE when the peer sends an oversized length prefix', async () => {
    const { client, server } = await tcpPair(defer);
    const receiver = new Connection(server);
    const closing = closeError(receiver);
    const prefix = Buffer.alloc(4);
    prefix.writeUInt32BE(MAX_FRAME_BYTES + 1);
    client.write(prefix);
    expect((await closing)?.code).toBe('ERR_FRAME_TOO_LARGE');
    expect(receiver.closed).toBe(true);
    await bounded(closed(client), 'the sender seeing its connection closed');
  });

  it('closes with ERR_TRUNCATED_FRAME when the stream ends inside a frame', async () => {
    const { client, server } = await tcpPair(defer);
    const receiver = new Connection(server);
    const closing = closeError(receiver);
    client.end(encodeFrame({ type: MessageType.Ping, nonce: 1 }).subarray(0, 6));
    expect((await closing)?.code).toBe('ERR_TRUNCATED_FRAME');
  });

  it('reports a clean end once, without an error, and sends nothing after it', async () => {
    const { client, server } = await tcpPair(defer);
    const receiver = new Connection(server);
    const closes: unknown[] = [];
    receiver.on('close', (error) => closes.push(error));
    const closing = once(receiver, 'close');
    client.end();
    await bounded(closing, 'the receiver closing after the sender ended');
    receiver.destroy();
    expect(closes).toEqual([undefined]);
    expect(receiver.send({ type: MessageType.Ping, nonce: 1 })).toBe(false);
  });

  it('emits a malformed frame as { ok: false } and keeps the connection open', async () => {
    const { client, server } = await tcpPair(defer);
    const receiver = new Connection(server);
    const arriving = framesFrom(receiver, 2);
    client.write(Buffer.from([0, 0, 0, 1, 0x2a]));
    client.write(encodeFrame({ type: MessageType.Ping, nonce: 3 }));
    const [bad, good] = await arriving;
    expect(bad?.ok === false && bad.error.code).toBe('ERR_UNKNOWN_MESSAGE_TYPE');
    expect(good?.ok && good.message).toEqual({ type: MessageType.Ping, nonce: 3 });
    expect(receiver.closed).toBe(false);
  });
});
