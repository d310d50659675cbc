/**
 * FrameDecoder (protocol/frame-decoder.ts), the fragmentation matrix: a stream of every sample
 * message arrives whole, split at every byte, one byte per write, in chunks that straddle frame
 * boundaries, and all frames in one write; an over-limit length prefix is refused before a byte
 * of body is buffered; a stream that ends inside a frame is reported; a malformed body costs that
 * frame only; a PIECE inside one chunk is decoded as a view, not a copy.
 */
import { isDeepStrictEqual } from 'node:util';
import { ProtocolError } from '../../src/errors';
import { MAX_FRAME_BYTES } from '../../src/limits';
import { encodeFrame } from '../../src/protocol/frame-codec';
import { type DecodedFrame, FrameDecoder } from '../../src/protocol/frame-decoder';
import { type Message, MessageType } from '../../src/protocol/message-types';
import { hexPreview } from '../helpers/bytes';
import { SAMPLES } from '../helpers/messages';

const frames = SAMPLES.map((sample) => encodeFrame(sample.message));
const stream = Buffer.concat(frames);
/** Byte offset where each frame starts in `stream`. */
const starts = frames.map((_, i) => frames.slice(0, i).reduce((sum, f) => sum + f.length, 0));

function frameAt(offset: number): string {
  let i = 0;
  while ((starts[i + 1] ?? Infinity) <= offset) i += 1;
  return `frame ${i} (${SAMPLES[i]?.name ?? '?'}) at byte ${offset - (starts[i] ?? 0)}`;
}

/** Messages readable in failure output: Buffers shown as \xNN. */
function show(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && 'type' in v && v.type === 'Buffer' && 'data' in v
      ? hexPreview(Buffer.from(v.data as number[]))
      : v,
  );
}

/**
 * Feeds `chunks` to one decoder and checks it yields exactly the sample messages, in order.
 * `how` names the chunking for the failure message.
 */
function expectSamplesFrom(chunks: readonly Buffer[], how: string): void {
  const decoder = new FrameDecoder();
  const got: Message[] = [];
  const fail = (detail: string): never => {
    throw new Error(
      `${how}: ${detail}\n  frames decoded before: ${got.length} of ${SAMPLES.length}\n` +
        'Likely cause: the decoder loses or misplaces bytes when a frame spans chunks.',
    );
  };
  chunks.forEach((chunk, c) => {
    let decoded: DecodedFrame[] = [];
    try {
      decoded = decoder.push(chunk);
    } catch (error) {
      fail(`push of chunk ${c} threw ${String(error)}`);
    }
    for (const frame of decoded) {
      if (!frame.ok) fail(`frame ${got.length} failed to decode: ${frame.error.message}`);
      else got.push(frame.message);
    }
  });
  try {
    decoder.end();
  } catch (error) {
    fail(`end() threw ${String(error)}`);
  }
  const firstBad = SAMPLES.findIndex((sample, i) => !isDeepStrictEqual(got[i], sample.message));
  if (got.length !== SAMPLES.length || firstBad >= 0) {
    const i = firstBad >= 0 ? firstBad : got.length;
    fail(
      `frame ${i} (${SAMPLES[i]?.name ?? 'none'})\n  expected ${show(SAMPLES[i]?.message)}\n` +
        `  actual   ${show(got[i])}`,
    );
  }
}

/** `stream` cut into chunks whose sizes cycle through `sizes`. */
function chunked(sizes: readonly number[]): Buffer[] {
  const chunks: Buffer[] = [];
  for (let at = 0, i = 0; at < stream.length; i++) {
    const size = sizes[i % sizes.length] as number;
    chunks.push(stream.subarray(at, at + size));
    at += size;
  }
  return chunks;
}

function thrownBy(action: () => unknown): ProtocolError {
  try {
    action();
  } catch (error) {
    if (error instanceof ProtocolError) return error;
    throw error;
  }
  throw new Error('expected a ProtocolError, but nothing was thrown');
}

describe('FrameDecoder: the fragmentation matrix', () => {
  it(`decodes ${SAMPLES.length} frames (${stream.length} bytes) written all at once`, () => {
    expectSamplesFrom([stream], 'one write');
  });

  it('decodes each frame written whole, one write per frame', () => {
    expectSamplesFrom(frames, 'one write per frame');
  });

  it(`decodes the stream split in two at every one of its ${stream.length - 1} inner bytes`, () => {
    for (let at = 1; at < stream.length; at++) {
      expectSamplesFrom(
        [stream.subarray(0, at), stream.subarray(at)],
        `split at byte ${at} of ${stream.length}, inside ${frameAt(at)}`,
      );
    }
  });

  it('decodes the stream written one byte at a time', () => {
    expectSamplesFrom(chunked([1]), '1-byte writes');
  });

  it.each([[[2]], [[3, 5]], [[7, 1, 13]], [[64]], [[4, 0, 9]]])(
    'decodes frames that straddle chunks of sizes %j',
    (sizes) => {
      expectSamplesFrom(chunked(sizes), `chunks of sizes ${sizes.join(', ')} (cycling)`);
    },
  );

  it('holds a partial frame without returning it, counting the body bytes it holds', () => {
    const decoder = new FrameDecoder();
    const first = frames[0] as Buffer;
    expect(decoder.push(first.subarray(0, 3))).toEqual([]);
    expect(decoder.bufferedBytes).toBe(3);
    expect(decoder.push(first.subarray(3, 6))).toEqual([]);
    expect(decoder.bufferedBytes).toBe(2); // the 4-byte prefix is read, 2 body bytes held
    expect(decoder.push(first.subarray(6))).toHaveLength(1);
    expect(decoder.bufferedBytes).toBe(0);
  });
});

describe('FrameDecoder: limits and errors', () => {
  afterEach(() => jest.restoreAllMocks());

  it('refuses a 4 GB length prefix at once, before any body arrives and without allocating', () => {
    const allocations = [
      jest.spyOn(Buffer, 'alloc'),
      jest.spyOn(Buffer, 'allocUnsafe'),
      jest.spyOn(Buffer, 'allocUnsafeSlow'),
    ];
    const decoder = new FrameDecoder();
    const error = thrownBy(() => decoder.push(Buffer.from([0xff, 0xff, 0xff, 0xff])));
    expect({ code: error.code, message: error.message }).toEqual({
      code: 'ERR_FRAME_TOO_LARGE',
      message: `frame length prefix says 4294967295 bytes, more than the limit of ${MAX_FRAME_BYTES}`,
    });
    for (const allocate of allocations) expect(allocate).not.toHaveBeenCalled();
  });

  it('refuses an over-limit prefix that arrives one byte at a time on its fourth byte', () => {
    const decoder = new FrameDecoder({ maxFrameBytes: 10 });
    const prefix = Buffer.from([0, 0, 0, 11]);
    for (let i = 0; i < 3; i++) expect(decoder.push(prefix.subarray(i, i + 1))).toEqual([]);
    expect(thrownBy(() => decoder.push(prefix.subarray(3))).code).toBe('ERR_FRAME_TOO_LARGE');
  });

  it('accepts a frame exactly at the limit', () => {
    const frame = encodeFrame({ type: MessageType.Hello, peerId: 'x'.repeat(8) });
    const decoder = new FrameDecoder({ maxFrameBytes: frame.length - 4 });
    expect(decoder.push(frame)).toEqual([
      { ok: true, message: { type: MessageType.Hello, peerId: 'xxxxxxxx' } },
    ]);
  });

  it('reports a stream that ends inside a frame body as ERR_TRUNCATED_FRAME', () => {
    const decoder = new FrameDecoder();
    decoder.push(encodeFrame({ type: MessageType.Ping, nonce: 1 }).subarray(0, 7));
    const error = thrownBy(() => decoder.end());
    expect({ code: error.code, message: error.message }).toEqual({
      code: 'ERR_TRUNCATED_FRAME',
      message: 'stream ended inside a frame: have 3 bytes of a 5-byte frame body',
    });
  });

  it('reports a stream that ends inside a length prefix as ERR_TRUNCATED_FRAME', () => {
    const decoder = new FrameDecoder();
    decoder.push(Buffer.from([0, 0]));
    expect(thrownBy(() => decoder.end()).message).toBe(
      'stream ended inside a frame: have 2 bytes of a 4-byte length prefix',
    );
  });

  it('ends quietly at a frame boundary', () => {
    const decoder = new FrameDecoder();
    decoder.push(stream);
    expect(() => decoder.end()).not.toThrow();
  });

  it('yields { ok: false } for a malformed body and still decodes the next frame', () => {
    const bad = Buffer.from([0, 0, 0, 3, 0x2a, 1, 2]);
    const empty = Buffer.from([0, 0, 0, 0]);
    const ping = encodeFrame({ type: MessageType.Ping, nonce: 7 });
    const got: DecodedFrame[] = new FrameDecoder().push(Buffer.concat([bad, empty, ping]));
    expect(got.map((f) => (f.ok ? f.message : { code: f.error.code, body: f.body }))).toEqual([
      { code: 'ERR_UNKNOWN_MESSAGE_TYPE', body: Buffer.from([0x2a, 1, 2]) },
      { code: 'ERR_MALFORMED_REQUEST', body: Buffer.alloc(0) },
      { type: MessageType.Ping, nonce: 7 },
    ]);
  });
});

describe('FrameDecoder: copies only across chunk boundaries', () => {
  const piece = encodeFrame({
    type: MessageType.Piece,
    swarmId: 's',
    fileId: 'f',
    index: 0,
    data: Buffer.from('piece bytes'),
  });
  const ping = encodeFrame({ type: MessageType.Ping, nonce: 1 });

  function pieceData(frames: DecodedFrame[]): Buffer {
    const found = frames.find((f) => f.ok && f.message.type === MessageType.Piece);
    if (!found?.ok || found.message.type !== MessageType.Piece) throw new Error('no PIECE decoded');
    return found.message.data;
  }

  it("decodes a PIECE that sits inside one chunk with its data as a view of that chunk's memory", () => {
    const chunk = Buffer.concat([ping, piece, ping.subarray(0, 3)]);
    const data = pieceData(new FrameDecoder().push(chunk));
    expect(data.toString()).toBe('piece bytes');
    expect(data.buffer).toBe(chunk.buffer);
    expect(data.byteOffset).toBe(chunk.byteOffset + ping.length + piece.length - data.length);
  });

  it('decodes a PIECE split over two chunks into one new buffer, whole', () => {
    const decoder = new FrameDecoder();
    const head = Buffer.from(piece.subarray(0, 10));
    const tail = Buffer.from(piece.subarray(10));
    expect(decoder.push(head)).toEqual([]);
    const data = pieceData(decoder.push(tail));
    head.fill(0);
    tail.fill(0);
    expect(data.toString()).toBe('piece bytes');
  });
});
