/**
 * A message-level view of one stream (a TCP socket or any Duplex): send messages, receive
 * decoded frames. Below: the socket and FrameDecoder. Above: DownloadManager (client side) and
 * anything else that speaks the protocol. A framing error costs this connection, never the
 * process; errors that are bugs (TypeError...) are rethrown.
 */
import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import { Lab9Error, ProtocolError, TransferError } from '../errors';
import { encodeFrameChunks } from './frame-codec';
import { type DecodedFrame, FrameDecoder, type FrameDecoderOptions } from './frame-decoder';
import type { Message } from './message-types';

export interface ConnectionEvents {
  /** Every complete frame, decoded or not, in arrival order. */
  frame: [frame: DecodedFrame];
  /** The connection is gone; `error` says why when it was not a clean end. Emitted once. */
  close: [error: Lab9Error | undefined];
}

export class Connection extends EventEmitter<ConnectionEvents> {
  readonly #socket: Duplex;
  readonly #decoder: FrameDecoder;
  #closed = false;

  constructor(socket: Duplex, options: FrameDecoderOptions = {}) {
    super();
    this.#socket = socket;
    this.#decoder = new FrameDecoder(options);
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('end', () => this.#onEnd());
    socket.on('error', (cause: Error) =>
      this.destroy(
        new TransferError('ERR_CONNECTION_CLOSED', `connection failed: ${cause.message}`, {
          cause,
        }),
      ),
    );
    socket.on('close', () => this.#finish(undefined));
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Queues a message. Returns false if the socket's buffer is full (see `drained()`). */
  send(message: Message): boolean {
    if (this.#closed) return false;
    const chunks = encodeFrameChunks(message);
    if (chunks.length === 1) return this.#socket.write(chunks[0]);
    this.#socket.cork();
    let ok = true;
    for (const chunk of chunks) ok = this.#socket.write(chunk);
    this.#socket.uncork();
    return ok;
  }

  /** Queues several messages as one write (corked). Returns false if the buffer is full. */
  sendAll(messages: readonly Message[]): boolean {
    if (this.#closed) return false;
    this.#socket.cork();
    let ok = true;
    for (const message of messages) ok = this.send(message);
    this.#socket.uncork();
    return ok;
  }

  /** Resolves when the socket's write buffer has drained (or the connection closed). */
  drained(): Promise<void> {
    if (this.#closed || !this.#socket.writableNeedDrain) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        this.#socket.off('drain', done);
        this.off('close', done);
        resolve();
      };
      this.#socket.on('drain', done);
      this.on('close', done);
    });
  }

  /** Ends our side after queued writes are flushed. Idempotent. */
  end(): void {
    if (!this.#closed) this.#socket.end();
  }

  /** Aborts the connection now, reporting `error` to 'close' listeners. Idempotent. */
  destroy(error?: Lab9Error): void {
    if (this.#closed) return;
    this.#socket.destroy();
    this.#finish(error);
  }

  #onData(chunk: Buffer): void {
    if (this.#closed) return;
    let frames: DecodedFrame[];
    try {
      frames = this.#decoder.push(chunk);
    } catch (error) {
      if (error instanceof ProtocolError) return this.destroy(error);
      throw error;
    }
    for (const frame of frames) {
      if (this.#closed) return;
      this.emit('frame', frame);
    }
  }

  #onEnd(): void {
    try {
      this.#decoder.end();
      this.#socket.end();
    } catch (error) {
      if (error instanceof ProtocolError) return this.destroy(error);
      throw error;
    }
  }

  #finish(error: Lab9Error | undefined): void {
    if (this.#closed) return;
    this.#closed = true;
    this.emit('close', error);
  }
}
