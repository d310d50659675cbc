/**
 * Bounded capture of a child's output: keeps the first and the last bytes of what it wrote and
 * counts the rest, so a flooding submission costs at most `keepBytes` of memory.
 * child.ts feeds it stdout and stderr as they arrive and decides, from `total`, when a run floods.
 */

export class OutputCap {
  readonly #headLimit: number;
  readonly #tailLimit: number;
  readonly #head: Buffer[] = [];
  #headBytes = 0;
  /** Chunks of the tail window; the first may start before the window and is trimmed on read. */
  readonly #tail: Buffer[] = [];
  #tailBytes = 0;
  #total = 0;

  /** @param keepBytes bytes kept in all: half from the start of the output, half from its end. */
  constructor(keepBytes: number) {
    this.#headLimit = Math.floor(keepBytes / 2);
    this.#tailLimit = keepBytes - this.#headLimit;
  }

  /** Bytes written so far, kept or not. */
  get total(): number {
    return this.#total;
  }

  /** Bytes that were not kept. */
  get omitted(): number {
    return this.#total - this.#headBytes - Math.min(this.#tailBytes, this.#tailLimit);
  }

  push(chunk: Buffer): void {
    this.#total += chunk.length;
    let rest = chunk;
    if (this.#headBytes < this.#headLimit) {
      const take = Math.min(this.#headLimit - this.#headBytes, rest.length);
      this.#head.push(rest.subarray(0, take));
      this.#headBytes += take;
      rest = rest.subarray(take);
    }
    if (rest.length === 0 || this.#tailLimit === 0) return;
    // Copy: the caller's buffer may be a slice of a larger pooled one we must not pin.
    this.#tail.push(Buffer.from(rest.subarray(Math.max(0, rest.length - this.#tailLimit))));
    this.#tailBytes += Math.min(rest.length, this.#tailLimit);
    while (
      this.#tail.length > 1 &&
      this.#tailBytes - (this.#tail[0]?.length ?? 0) >= this.#tailLimit
    ) {
      this.#tailBytes -= this.#tail.shift()?.length ?? 0;
    }
  }

  /** The kept output as text, with one line saying how much was left out in the middle. */
  text(): string {
    const head = Buffer.concat(this.#head).toString('utf8');
    const tailAll = Buffer.concat(this.#tail);
    const tail = tailAll.subarray(Math.max(0, tailAll.length - this.#tailLimit)).toString('utf8');
    if (this.omitted === 0) return head + tail;
    return `${head}\n… [${this.omitted} bytes of output omitted] …\n${tail}`;
  }
}
