/**
 * The ceiling of a downloader, step by step: a source sends PIECE frames (header and data in one
 * corked write, as the reference seeder does) and the sink does only part of a download's work:
 * count bytes, or also cut frames (FrameDecoder), or also SHA-256 each piece, or also keep it, as
 * an in-memory file does. No peer logic, so the gap to the peer rows is the cost of the peer itself.
 */
import { type AddressInfo, type Server, type Socket, connect, createServer } from 'node:net';
import { encodeFrameChunks } from '../../lab9/src/protocol/frame-codec';
import { FrameDecoder } from '../../lab9/src/protocol/frame-decoder';
import { MessageType } from '../../lab9/src/protocol/message-types';
import { sha256 } from '../../lab9/src/storage/piece-hash';
import type { RoleSpec } from '../harness/messages';
import { now, runRole } from './child-io';

export function runFramesSink(spec: Extract<RoleSpec, { role: 'frames-sink' }>): Promise<void> {
  let received = 0;
  let finish: (endedAt: number) => void = () => undefined;
  const finished = new Promise<number>((resolve) => (finish = resolve));
  // 'store' keeps every piece as it arrived, as the in-memory FileManager does (MemoryBackend).
  const kept: Buffer[] | undefined = spec.work === 'store' ? [] : undefined;
  const onFrames = (decoder: FrameDecoder, chunk: Buffer): void => {
    for (const frame of decoder.push(chunk)) {
      if (!frame.ok || frame.message.type !== MessageType.Piece) throw new Error('bad frame');
      if (spec.work === 'decode') continue;
      const { data } = frame.message;
      sha256(data);
      kept?.push(data);
    }
  };
  return runRole<Server>({
    async setup() {
      const server = createServer((socket) => {
        const decoder = new FrameDecoder();
        socket.on('data', (chunk: Buffer) => {
          received += chunk.length;
          if (spec.work !== 'receive') onFrames(decoder, chunk);
          if (received >= spec.wireBytes) finish(now());
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
      return { startedAt, endedAt, bytes: spec.bytes };
    },
    cleanup: (server) => new Promise((resolve) => server.close(() => resolve())),
  });
}

export function runFramesSource(spec: Extract<RoleSpec, { role: 'frames-source' }>): Promise<void> {
  const data = Buffer.alloc(spec.bytes, 0x5a);
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
      for (let offset = 0, index = 0; offset < spec.bytes; offset += spec.pieceBytes, index++) {
        const piece = data.subarray(offset, offset + spec.pieceBytes);
        socket.cork();
        let flushed = true;
        for (const chunk of encodeFrameChunks(framed(index, piece))) flushed = socket.write(chunk);
        socket.uncork();
        if (!flushed) await new Promise((resolve) => socket.once('drain', resolve));
      }
      return undefined;
    },
    cleanup: (socket) => new Promise((resolve) => socket.end(resolve)),
  });
}

function framed(index: number, data: Buffer) {
  return { type: MessageType.Piece, swarmId: 'bench', fileId: 'file.bin', index, data } as const;
}

/** Bytes on the wire for `bytes` of data cut into `pieceBytes` pieces, headers included. */
export function wireBytesOf(bytes: number, pieceBytes: number): number {
  let total = 0;
  for (let offset = 0, index = 0; offset < bytes; offset += pieceBytes, index++) {
    const piece = Buffer.alloc(0);
    const head = encodeFrameChunks(framed(index, piece))[0] as Buffer;
    total += head.length + Math.min(pieceBytes, bytes - offset);
  }
  return total;
}
