/**
 * Filling PieceStores for tests: the announcement of a byte string, and a FileManager that holds
 * only some pieces of a file (a partial seeder, or a downloader halfway through).
 */
import { tmpdir } from 'node:os';
import { pieceCountOf } from '../../src/protocol/frame-codec';
import type { FileAnnouncement } from '../../src/protocol/message-types';
import { FileManager, pieceSpan } from '../../src/storage/file-manager';
import { sha256 } from '../../src/storage/piece-hash';

/** What an ANNOUNCE says about `data` cut into `pieceLength`-byte pieces. */
export function describeFile(fileId: string, data: Buffer, pieceLength: number): FileAnnouncement {
  const count = pieceCountOf(data.length, pieceLength);
  const pieceHashes = Array.from({ length: count }, (_, i) =>
    sha256(pieceOf(data, pieceLength, i)),
  );
  return { fileId, fileLength: data.length, pieceLength, pieceHashes };
}

/** Bytes of piece `index` of `data`. */
export function pieceOf(data: Buffer, pieceLength: number, index: number): Buffer {
  const { offset, length } = pieceSpan({ fileLength: data.length, pieceLength }, index);
  return data.subarray(offset, offset + length);
}

/** Registers the file in `store` and writes the pieces `holds` accepts; returns their indexes. */
export async function holdPieces(
  store: FileManager,
  swarmId: string,
  info: FileAnnouncement,
  data: Buffer,
  holds: (index: number) => boolean,
): Promise<number[]> {
  await store.addFile(swarmId, info);
  const held: number[] = [];
  for (let i = 0; i < info.pieceHashes.length; i++) {
    if (!holds(i)) continue;
    await store.writePiece(swarmId, info.fileId, i, pieceOf(data, info.pieceLength, i));
    held.push(i);
  }
  return held;
}

/** A FileManager that keeps everything in memory (its root is never touched). */
export function memoryStore(): FileManager {
  return new FileManager({ root: tmpdir(), storage: 'memory' });
}
