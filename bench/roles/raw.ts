/**
 * The physical limit: a raw Node TCP stream over loopback, no protocol at all. The sink counts
 * bytes; the source writes large chunks as fast as backpressure allows. Both run as separate
 * processes, like a seeder and a downloader, so the figure is what the peers could reach at best.
 * The counting sink and the source's connection also serve the downloader ceiling (frames.ts).
 */
import { type AddressInfo, type Server, type Socket, connect, createServer } from 'node:net';
import type { RoleSpec } from '../harness/messages';
import { now, runRole } from './child-io';

export interface CountingSink {
  /** Bytes to receive (over all connections) before the clock stops. */
  readonly wireBytes: number;
  /** Bytes the run reports as delivered. */
  readonly deliveredBytes: number;
  /** Work done on each chunk of one connection before it is counted as arrived, if any. */
  readonly perConnection?: () => (chunk: Buffer) => void;
}

/** Listens on 127.0.0.1:0 and counts bytes until `wireBytes` arrived. */
export function runCountingSink(sink: CountingSink): Promise<void> {
  let received = 0;
  let finish: (endedAt: number) => void = () => undefined;
  const finished = new Promise<number>((resolve) => (finish = resolve));
  return runRole<Server>({
    async setup() {
      const server = createServer((socket) => {
        const work = sink.perConnection?.();
        socket.on('data', (chunk: Buffer) => {
          received += chunk.length;
          work?.(chunk);
          if (received >= sink.wireBytes) finish(now());
        });
        socket.on('error', () => undefined);
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const { port } = server.address() as AddressInfo;
      return { ready: { kind: 'ready', port }, state: server };
    },
    async work() {
      const startedAt = now();
      const endedAt = await finished;
      return { startedAt, endedAt, bytes: sink.deliveredBytes };
    },
    cleanup: (server) => new Promise((resolve) => server.close(() => resolve())),
  });
}

/** A source's role: connect to the sink at `port`, then `send` on 'go'. */
export function runSinkSource(
  port: number,
  send: (socket: Socket) => Promise<void>,
): Promise<void> {
  return runRole<Socket>({
    async setup() {
      const socket = connect({ host: '127.0.0.1', port, noDelay: true });
      await new Promise<void>((resolve, reject) => {
        socket.once('connect', resolve);
        socket.once('error', reject);
      });
      return { ready: { kind: 'ready' }, state: socket };
    },
    async work(socket) {
      await send(socket);
      return undefined;
    },
    cleanup: (socket) => new Promise((resolve) => socket.end(resolve)),
  });
}

export function runRawSink(spec: Extract<RoleSpec, { role: 'raw-sink' }>): Promise<void> {
  return runCountingSink({ wireBytes: spec.bytes, deliveredBytes: spec.bytes });
}

export function runRawSource(spec: Extract<RoleSpec, { role: 'raw-source' }>): Promise<void> {
  // Filled before 'go', like a seeder's file: the clock measures sending only.
  const source = Buffer.alloc(spec.distinctBytes ?? spec.chunkBytes, 0x5a);
  return runSinkSource(spec.port, async (socket) => {
    let sent = 0;
    while (sent < spec.bytes) {
      const offset = sent % source.length;
      const length = Math.min(spec.chunkBytes, source.length - offset, spec.bytes - sent);
      sent += length;
      if (!socket.write(source.subarray(offset, offset + length))) {
        await new Promise((resolve) => socket.once('drain', resolve));
      }
    }
  });
}
