/**
 * The ceiling of a downloader, step by step: a source sends PIECE frames (header and data in one
 * corked write, as the reference seeder does) and the sink does only part of a download's work:
 * count bytes, or also cut frames (FrameDecoder), or also SHA-256 each piece, or also keep it, as
 * an in-memory file does. No peer logic, so the gap to the peer rows is the cost of the peer itself.
 */
import { encodeFrameChunks } from '../../lab9/src/protocol/frame-codec';
import { FrameDecoder } from '../../lab9/src/protocol/frame-decoder';
import { MessageType } from '../../lab9/src/protocol/message-types';
import { sha256 } from '../../lab9/src/storage/piece-hash';
import type { RoleSpec } from '../harness/messages';
import { runCountingSink, runSinkSource } from './raw';

export function runFramesSink(spec: Extract<RoleSpec, { role: 'frames-sink' }>): Promise<void> {
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
  return runCountingSink({
    wireBytes: spec.wireBytes,
    deliveredBytes: spec.bytes,
    perConnection:
      spec.work === 'receive'
        ? undefined
        : () => {
            const decoder = new FrameDecoder();
            return (chunk) => onFrames(decoder, chunk);
          },
  });
}

export function runFramesSource(spec: Extract<RoleSpec, { role: 'frames-source' }>): Promise<void> {
  const data = Buffer.alloc(spec.bytes, 0x5a);
  return runSinkSource(spec.port, async (socket) => {
    for (let offset = 0, index = 0; offset < spec.bytes; offset += spec.pieceBytes, index++) {
      const piece = data.subarray(offset, offset + spec.pieceBytes);
      socket.cork();
      let flushed = true;
      for (const chunk of encodeFrameChunks(framed(index, piece))) flushed = socket.write(chunk);
      socket.uncork();
      if (!flushed) await new Promise((resolve) => socket.once('drain', resolve));
    }
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
