/**
 * UploadManager: the server side's transport. Listens on 127.0.0.1 (port 0: the OS picks),
 * accepts connections and hands each socket to a handler (the Peer's `handleClient`), without
 * waiting for it: what happens on a socket after that is the handler's business. Tracks open
 * sockets so `close()` can end them. A handler that throws costs its socket only.
 */
import { EventEmitter } from 'node:events';
import { type AddressInfo, type Server, type Socket, createServer } from 'node:net';
import { isLab9Error } from '../errors';

export interface UploadManagerOptions {
  /** @default '127.0.0.1' */
  readonly host?: string;
  /** @default 0 (an ephemeral port) */
  readonly port?: number;
}

export interface UploadManagerEvents {
  /** The handler threw (or its promise rejected) for this socket; the socket was destroyed. */
  handlerError: [error: unknown, socket: Socket];
}

export type ClientHandler = (socket: Socket) => unknown;

export class UploadManager extends EventEmitter<UploadManagerEvents> {
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  readonly #host: string;
  readonly #port: number;
  #state: 'new' | 'listening' | 'closing' | 'closed' = 'new';
  #closed: Promise<void> | undefined;

  constructor(handler: ClientHandler, options: UploadManagerOptions = {}) {
    super();
    this.#host = options.host ?? '127.0.0.1';
    this.#port = options.port ?? 0;
    // allowHalfOpen: a client that ends its side still gets the answers to what it asked.
    this.#server = createServer({ allowHalfOpen: true, noDelay: true }, (socket) =>
      this.#accept(socket, handler),
    );
  }

  /** Starts listening; resolves with the port the OS chose. */
  listen(): Promise<number> {
    if (this.#state !== 'new')
      throw new TypeError(`cannot listen: upload manager is ${this.#state}`);
    this.#state = 'listening';
    return new Promise((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(this.#port, this.#host, () => {
        this.#server.off('error', reject);
        resolve(this.port);
      });
    });
  }

  get port(): number {
    const address = this.#server.address() as AddressInfo | null;
    if (!address) throw new TypeError('upload manager is not listening');
    return address.port;
  }

  get host(): string {
    return this.#host;
  }

  /** Sockets accepted and not yet closed. */
  get clientCount(): number {
    return this.#sockets.size;
  }

  /** Stops accepting, destroys every open client socket, resolves once all are closed. Idempotent. */
  close(): Promise<void> {
    this.#closed ??= new Promise<void>((resolve) => {
      const wasListening = this.#state === 'listening';
      this.#state = 'closing';
      // The server's close callback can run before the sockets' 'close' events: wait for both,
      // so clientCount is 0 once close() resolves.
      const socketsClosed = [...this.#sockets].map((socket) => {
        const gone = new Promise<void>((done) => {
          if (socket.closed) done();
          else socket.once('close', () => done());
        });
        socket.destroy();
        return gone;
      });
      const serverClosed = new Promise<void>((done) => {
        if (wasListening) this.#server.close(() => done());
        else done();
      });
      void Promise.all([serverClosed, ...socketsClosed]).then(() => {
        this.#state = 'closed';
        resolve();
      });
    });
    return this.#closed;
  }

  #accept(socket: Socket, handler: ClientHandler): void {
    if (this.#state !== 'listening') {
      socket.destroy();
      return;
    }
    this.#sockets.add(socket);
    socket.once('close', () => this.#sockets.delete(socket));
    const fail = (error: unknown): void => {
      socket.destroy();
      if (this.listenerCount('handlerError') > 0) this.emit('handlerError', error, socket);
      else if (!isLab9Error(error)) throw error;
    };
    try {
      const result = handler(socket);
      if (result instanceof Promise) result.catch(fail);
    } catch (error) {
      fail(error);
    }
  }
}
