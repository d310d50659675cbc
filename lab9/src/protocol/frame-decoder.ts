/**
 * Cuts a TCP byte stream into frames: a small "need N bytes, then do this" state machine.
 * Below: socket chunks of any size (split frames, many frames per chunk). Above: the result of
 * `decodeMessage` for every complete frame. Copies only when a frame spans chunks, and checks the
 * untrusted length prefix against the limit before buffering a single byte of the body.
 */
import { ProtocolError } from '../errors';
import { MAX_FRAME_BYTES } from '../limits';
import { LENGTH_PREFIX_BYTES, decodeMessage } from './frame-codec';
import type { Message } from './message-types';

/**
 * One complete frame: its message, or why its body could not be decoded. A bad body does not
 * break the framing, so the connection can answer ERROR and go on reading.
 */
export type DecodedFrame =
  | { readonly ok: true; readonly message: Message }
  | { readonly ok: false; readonly error: ProtocolError; readonly body: Buffer };

export interface FrameDecoderOptions {
  /**
   * Largest frame body accepted; a longer length prefix throws `ERR_FRAME_TOO_LARGE`.
   * @default MAX_FRAME_BYTES
   */
  readonly maxFrameBytes?: number;
}

export class FrameDecoder {
  readonly #maxFrameBytes: number;
  /** Received bytes not yet consumed, oldest first. Invariant: #buffered = sum of lengths. */
  #chunks: Buffer[] = [];
  #buffered = 0;
  /** Body length of the frame being read, or -1 while waiting for a length prefix. */
  #bodyLength = -1;

  constructor(options: FrameDecoderOptions = {}) {
    this.#maxFrameBytes = options.maxFrameBytes ?? MAX_FRAME_BYTES;
  }

  /** Bytes held for the next frame: the body so far once its length prefix is read. */
  get bufferedBytes(): number {
    return this.#buffered;
  }

  /**
   * Feeds the next chunk of the stream and returns every frame it completes, in order.
   * Throws ProtocolError `ERR_FRAME_TOO_LARGE` when a length prefix exceeds the limit: the stream
   * cannot be resynchronised, so the caller must close the connection.
   */
  push(chunk: Buffer): DecodedFrame[] {
    if (chunk.length > 0) {
      this.#chunks.push(chunk);
      this.#buffered += chunk.length;
    }
    const frames: DecodedFrame[] = [];
    for (;;) {
      if (this.#bodyLength < 0) {
        if (this.#buffered < LENGTH_PREFIX_BYTES) return frames;
        const length = this.#take(LENGTH_PREFIX_BYTES).readUInt32BE(0);
        if (length > this.#maxFrameBytes) {
          throw new ProtocolError(
            'ERR_FRAME_TOO_LARGE',
            `frame length prefix says ${length} bytes, more than the limit of ${this.#maxFrameBytes}`,
          );
        }
        this.#bodyLength = length;
      }
      if (this.#buffered < this.#bodyLength) return frames;
      const body = this.#take(this.#bodyLength);
      this.#bodyLength = -1;
      frames.push(decodeFrameBody(body));
    }
  }

  /**
   * Call when the stream ends. Throws ProtocolError `ERR_TRUNCATED_FRAME` if it ended inside
   * a frame; does nothing at a frame boundary.
   */
  end(): void {
    if (this.#buffered === 0 && this.#bodyLength < 0) return;
    const expected =
      this.#bodyLength < 0
        ? `${LENGTH_PREFIX_BYTES}-byte length prefix`
        : `${this.#bodyLength}-byte frame body`;
    throw new ProtocolError(
      'ERR_TRUNCATED_FRAME',
      `stream ended inside a frame: have ${this.#buffered} bytes of a ${expected}`,
    );
  }

  /** Removes and returns the next `n` buffered bytes; the caller checked they are there. */
  #take(n: number): Buffer {
    // An empty frame body may end the buffered bytes: there is no chunk left to cut it from.
    if (n === 0) return Buffer.alloc(0);
    this.#buffered -= n;
    const first = this.#chunks[0] as Buffer;
    if (first.length > n) {
      this.#chunks[0] = first.subarray(n);
      return first.subarray(0, n);
    }
    if (first.length === n) {
      this.#chunks.shift();
      return first;
    }
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const head = this.#chunks[0] as Buffer;
      const used = Math.min(head.length, n - filled);
      head.copy(out, filled, 0, used);
      filled += used;
      if (used === head.length) this.#chunks.shift();
      else this.#chunks[0] = head.subarray(used);
    }
    return out;
  }
}

/** Decodes one frame body into a result: a ProtocolError becomes `{ ok: false }`, bugs throw. */
export function decodeFrameBody(body: Buffer): DecodedFrame {
  try {
    return { ok: true, message: decodeMessage(body) };
  } catch (error) {
    if (error instanceof ProtocolError) return { ok: false, error, body };
    throw error;
  }
}
