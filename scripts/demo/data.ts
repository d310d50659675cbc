/**
 * The demo's data: two overlapping swarms of generated files, made from a seeded PRNG so every
 * run (and every machine) moves the same bytes and prints the same SHA-256. Below: node:crypto
 * for hashes only. Above: scripts/demo.ts, which seeds these files and checks every download.
 */
import { createHash } from 'node:crypto';
import { pieceCountOf } from '../../lab9/src/protocol/frame-codec';
import type { FileAnnouncement } from '../../lab9/src/protocol/message-types';
import { sha256 } from '../../lab9/src/storage/piece-hash';

/** Small pieces so a few MiB make enough pieces for the progress bars to move. */
export const DEMO_PIECE_BYTES = 64 * 1024;

const KiB = 1024;
const MiB = 1024 * KiB;

/** One file of one swarm, as the demo plans it. */
export interface DemoFileSpec {
  readonly swarmId: string;
  readonly fileId: string;
  readonly bytes: number;
}

/**
 * Two swarms that share a file ID (`notes.bin`) with different bytes, so a router keyed by file
 * ID alone stores pieces in the wrong file. Most sizes are not multiples of the piece size: their
 * last piece is short.
 */
export const DEMO_FILES: readonly DemoFileSpec[] = [
  { swarmId: 'lectures', fileId: 'intro.bin', bytes: 3 * MiB },
  { swarmId: 'lectures', fileId: 'week-2.bin', bytes: 5 * MiB + 12_345 },
  { swarmId: 'lectures', fileId: 'notes.bin', bytes: 1 * MiB + 100 },
  { swarmId: 'labs', fileId: 'lab9.bin', bytes: 6 * MiB + 4_321 },
  { swarmId: 'labs', fileId: 'dataset.bin', bytes: 8 * MiB },
  { swarmId: 'labs', fileId: 'notes.bin', bytes: 512 * KiB + 7 },
];

/** A generated file: its bytes, its announcement (piece hashes) and its SHA-256. */
export interface DemoFile extends DemoFileSpec {
  readonly data: Buffer;
  readonly info: FileAnnouncement;
  /** SHA-256 of the whole file, hex. */
  readonly sha256: string;
}

/** Generates every file of `specs`; the same specs give the same bytes. */
export function generateFiles(
  specs: readonly DemoFileSpec[] = DEMO_FILES,
  pieceLength = DEMO_PIECE_BYTES,
): DemoFile[] {
  return specs.map((spec) => {
    const data = seededBytes(`${spec.swarmId}\n${spec.fileId}`, spec.bytes);
    const pieceHashes: Buffer[] = [];
    for (let i = 0; i < pieceCountOf(data.length, pieceLength); i++) {
      pieceHashes.push(sha256(data.subarray(i * pieceLength, (i + 1) * pieceLength)));
    }
    return {
      ...spec,
      data,
      info: { fileId: spec.fileId, fileLength: data.length, pieceLength, pieceHashes },
      sha256: createHash('sha256').update(data).digest('hex'),
    };
  });
}

/** `length` pseudo-random bytes determined by `seed` alone (mulberry32 over a 32-bit seed). */
export function seededBytes(seed: string, length: number): Buffer {
  let state = createHash('sha256').update(seed).digest().readUInt32BE(0);
  const words = new Uint32Array(Math.ceil(length / 4));
  for (let i = 0; i < words.length; i++) {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    words[i] = (t ^ (t >>> 14)) >>> 0;
  }
  return Buffer.from(words.buffer, 0, length);
}

export function formatMiB(bytes: number): string {
  return `${(bytes / MiB).toFixed(1)} MiB`;
}
