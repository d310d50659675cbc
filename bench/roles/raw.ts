/**
 * The physical limit: a raw Node TCP stream over loopback, no protocol at all. The sink counts
 * bytes; the source writes large chunks as fast as backpressure allows. Both run as separate
 * processes, like a seeder and a downloader, so the figure is what the peers could reach at best.
 */
import { type AddressInfo, type Server, type Socket, connect, createServer } from 'node:net';
import type { RoleSpec } from '../harness/messages';
import { now, runRole } from './child-io';

export function runRawSink(spec: Extract<RoleSpec, { role: 'raw-sink' }>): Promise<void> {
  let received = 0;
  let finish: (endedAt: number) => void = () => undefined;
  const finished = new Promise<number>((resolve) => (finish = resolve));
  return runRole<Server>({
    async setup() {
      const server = createServer((socket) => {
        socket.on('data', (chunk: Buffer) => {
          received += chunk.length;
          if (received >= spec.bytes) finish(now());
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
      return { startedAt, endedAt, bytes: received };
    },
    cleanup: (server) => new Promise((resolve) => server.close(() => resolve())),
  });
}

export function runRawSource(spec: Extract<RoleSpec, { role: 'raw-source' }>): Promise<void> {
  // Filled before 'go', like a seeder's file: the clock measures sending only.
  const source = Buffer.alloc(spec.distinctBytes ?? spec.chunkBytes, 0x5a);
  return runRole<Socket>({
    async setup() {
      const socket = connect({ host: '127.0.0.1', port: spec.port, noDelay: true });
      await new Promise<void>((resolve, reject) => {
        socket.once('connect', resolve);
        socket.once('error', reject);
      });
      return { ready: { kind: 'ready' }, state: socket };
    },
    async work(socket) {
      let sent = 0;
      while (sent < spec.bytes) {
        const offset = sent % source.length;
        const length = Math.min(spec.chunkBytes, source.length - offset, spec.bytes - sent);
        sent += length;
        if (!socket.write(source.subarray(offset, offset + length))) {
          await new Promise((resolve) => socket.once('drain', resolve));
        }
      }
      return undefined;
    },
    cleanup: (socket) => new Promise((resolve) => socket.end(resolve)),
  });
}
