/**
 * The byte format of the pipe between the harness (host.ts) and the peer process (worker.ts):
 * each message is a 4-byte big-endian length, then that many bytes of JSON, in which binary
 * fields travel as `{"$bytes": "<base64>"}` and numbers JSON has no word for (NaN, ±Infinity: a
 * piece index a scenario sends on purpose) as `{"$number": "NaN"}`. Pure functions and one "need N bytes" decoder, used
 * by both sides; the decoder checks the untrusted length against the bound before buffering.
 * What the JSON may say is schemas.ts's business (harness side), not this file's.
 */

/** The pipe broke its format: the peer process wrote something that is not a message. */
export class FrameError extends Error {
  constructor(
    readonly code: 'ERR_FRAME_TOO_LONG' | 'ERR_FRAME_NOT_JSON',
    message: string,
  ) {
    super(message);
    this.name = 'FrameError';
  }
}

const LENGTH_BYTES = 4;

/** Any Uint8Array (a Buffer too, of any realm), read before JSON.stringify calls Buffer's toJSON. */
function replacer(this: Record<string, unknown>, key: string, value: unknown): unknown {
  const original = this[key];
  if (ArrayBuffer.isView(original) && !(original instanceof DataView)) {
    const view = original as Uint8Array;
    return {
      $bytes: Buffer.from(view.buffer, view.byteOffset, view.byteLength).toString('base64'),
    };
  }
  if (typeof value === 'number' && !Number.isFinite(value)) return { $number: String(value) };
  return value;
}

/** The numbers JSON cannot write, by the names String() gives them. */
const NON_FINITE: Readonly<Record<string, number>> = {
  NaN: Number.NaN,
  Infinity: Number.POSITIVE_INFINITY,
  '-Infinity': Number.NEGATIVE_INFINITY,
};

function reviver(_key: string, value: unknown): unknown {
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const keys = Object.keys(value);
    const bytes = (value as { $bytes?: unknown }).$bytes;
    if (keys.length === 1 && typeof bytes === 'string') {
      return new Uint8Array(Buffer.from(bytes, 'base64'));
    }
    const number = (value as { $number?: unknown }).$number;
    if (keys.length === 1 && typeof number === 'string' && Object.hasOwn(NON_FINITE, number)) {
      return NON_FINITE[number];
    }
  }
  return value;
}

/** One message as it goes on the pipe. */
export function encodeMessage(message: unknown): Buffer {
  const body = Buffer.from(JSON.stringify(message, replacer), 'utf8');
  const header = Buffer.alloc(LENGTH_BYTES);
  header.writeUInt32BE(body.length, 0);
  return Buffer.concat([header, body]);
}

/**
 * Turns the pipe's chunks, however they are split or joined, into messages. After a FrameError
 * the decoder is spent: the pipe has lost its framing and nothing after it can be trusted.
 */
export class MessageDecoder {
  readonly #maxBytes: number;
  #chunks: Buffer[] = [];
  #buffered = 0;
  /** The body length being waited for, once its prefix is read. */
  #need: number | null = null;
  #failed: FrameError | null = null;

  constructor(maxBytes: number) {
    this.#maxBytes = maxBytes;
  }

  /** The messages completed by `chunk`, in order. Throws FrameError, then always the same one. */
  push(chunk: Uint8Array): unknown[] {
    if (this.#failed) throw this.#failed;
    if (chunk.length > 0) {
      this.#chunks.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
      this.#buffered += chunk.length;
    }
    const messages: unknown[] = [];
    for (;;) {
      if (this.#need === null) {
        if (this.#buffered < LENGTH_BYTES) return messages;
        const length = this.#take(LENGTH_BYTES).readUInt32BE(0);
        if (length > this.#maxBytes) {
          this.#failed = new FrameError(
            'ERR_FRAME_TOO_LONG',
            `a message of ${length} bytes announced; at most ${this.#maxBytes} are allowed`,
          );
          throw this.#failed;
        }
        this.#need = length;
      }
      if (this.#buffered < this.#need) return messages;
      const body = this.#take(this.#need);
      this.#need = null;
      try {
        messages.push(JSON.parse(body.toString('utf8'), reviver));
      } catch (error) {
        this.#failed = new FrameError(
          'ERR_FRAME_NOT_JSON',
          `a message of ${body.length} bytes is not JSON (${(error as Error).message})`,
        );
        throw this.#failed;
      }
    }
  }

  /** Removes and returns the first `n` buffered bytes; copies only across chunk boundaries. */
  #take(n: number): Buffer {
    const first = this.#chunks[0];
    if (first !== undefined && first.length >= n) {
      const head = first.subarray(0, n);
      if (first.length === n) this.#chunks.shift();
      else this.#chunks[0] = first.subarray(n);
      this.#buffered -= n;
      return head;
    }
    const all = Buffer.concat(this.#chunks, this.#buffered);
    this.#chunks = all.length > n ? [all.subarray(n)] : [];
    this.#buffered -= n;
    return all.subarray(0, n);
  }
}
