/**
 * The files scenarios share: each is described by a small FileSpec and its bytes come from a
 * PRNG seeded by its (swarm ID, file ID), so the test thread and the peer thread build the same
 * bytes without sending them, and "a.bin" of one swarm never equals "a.bin" of another.
 * Below: lab9's hashing and codec helpers. Above: the peer host, the fake seeder and the suites.
 */
import { pieceCountOf } from '../../lab9/src/protocol/frame-codec';
import {
  type AnnounceMessage,
  type FileAnnouncement,
  type PieceMessage,
  MessageType,
  type PieceRef,
} from '../../lab9/src/protocol/message-types';
import { pieceSpan } from '../../lab9/src/storage/file-manager';
import { sha256 } from '../../lab9/src/storage/piece-hash';

/** One file of one swarm, as plain data that crosses threads. */
export interface FileSpec {
  readonly swarmId: string;
  readonly fileId: string;
  readonly fileLength: number;
  readonly pieceLength: number;
}

export interface FileShape {
  /** Pieces in the file. */
  readonly pieces: number;
  /** @default 4096: small pieces keep scenarios fast while still spanning many frames */
  readonly pieceLength?: number;
  /** Bytes of the last piece, to test a short one. @default pieceLength */
  readonly lastPiece?: number;
}

export function fileSpec(swarmId: string, fileId: string, shape: FileShape): FileSpec {
  const pieceLength = shape.pieceLength ?? 4096;
  const lastPiece = shape.lastPiece ?? pieceLength;
  return { swarmId, fileId, fileLength: (shape.pieces - 1) * pieceLength + lastPiece, pieceLength };
}

/** Memoised: scenarios ask for the same files many times. Keyed by the JSON of the spec. */
const bytesCache = new Map<string, Buffer>();

/** The whole file: deterministic bytes seeded by the spec's swarm and file IDs. */
export function fileBytes(spec: FileSpec): Buffer {
  const key = JSON.stringify([spec.swarmId, spec.fileId, spec.fileLength]);
  let bytes = bytesCache.get(key);
  if (!bytes) {
    bytes = prngBytes(seedOf(JSON.stringify([spec.swarmId, spec.fileId])), spec.fileLength);
    bytesCache.set(key, bytes);
  }
  return bytes;
}

export function pieceCount(spec: FileSpec): number {
  return pieceCountOf(spec.fileLength, spec.pieceLength);
}

export function pieceBytes(spec: FileSpec, index: number): Buffer {
  const { offset, length } = pieceSpan(spec, index);
  return fileBytes(spec).subarray(offset, offset + length);
}

/** Memoised: failure messages look pieces up by hash, over and over. */
const digestCache = new Map<string, string>();

/** SHA-256 of one piece, hex: what the recording store reports for every write. */
export function pieceDigest(spec: FileSpec, index: number): string {
  const key = JSON.stringify([spec.swarmId, spec.fileId, spec.fileLength, spec.pieceLength, index]);
  let digest = digestCache.get(key);
  if (digest === undefined) {
    digest = sha256(pieceBytes(spec, index)).toString('hex');
    digestCache.set(key, digest);
  }
  return digest;
}

export function pieceRef(spec: FileSpec, index: number): PieceRef {
  return { swarmId: spec.swarmId, fileId: spec.fileId, index };
}

export function sameRef(a: PieceRef, b: PieceRef): boolean {
  return a.swarmId === b.swarmId && a.fileId === b.fileId && a.index === b.index;
}

/** A genuine PIECE message of the spec's file. */
export function pieceMessage(spec: FileSpec, index: number): PieceMessage {
  return { type: MessageType.Piece, ...pieceRef(spec, index), data: pieceBytes(spec, index) };
}

export function fileAnnouncement(spec: FileSpec): FileAnnouncement {
  const pieceHashes: Buffer[] = [];
  for (let i = 0; i < pieceCount(spec); i++) pieceHashes.push(sha256(pieceBytes(spec, i)));
  return {
    fileId: spec.fileId,
    fileLength: spec.fileLength,
    pieceLength: spec.pieceLength,
    pieceHashes,
  };
}

/** The ANNOUNCE a peer holding `specs` sends: swarms in order of first appearance. */
export function announceOf(specs: readonly FileSpec[]): AnnounceMessage {
  const swarms = new Map<string, FileAnnouncement[]>();
  for (const spec of specs) {
    let files = swarms.get(spec.swarmId);
    if (!files) swarms.set(spec.swarmId, (files = []));
    files.push(fileAnnouncement(spec));
  }
  return {
    type: MessageType.Announce,
    swarms: [...swarms].map(([swarmId, files]) => ({ swarmId, files })),
  };
}

/** Swarm IDs of `specs`, each once, in order of first appearance. */
export function swarmIdsOf(specs: readonly FileSpec[]): string[] {
  return [...new Set(specs.map((spec) => spec.swarmId))];
}

/** A BITFIELD payload saying every one of `count` pieces is held. */
export function fullBitfield(count: number): Buffer {
  const bits = Buffer.alloc(Math.ceil(count / 8));
  for (let i = 0; i < count; i++) bits[i >> 3] = (bits[i >> 3] as number) | (0x80 >> (i & 7));
  return bits;
}

/** FNV-1a: a stable 32-bit seed from a string. */
function seedOf(text: string): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(text, 'utf8')) hash = Math.imul(hash ^ byte, 0x01000193);
  return hash >>> 0;
}

/** mulberry32: small, fast, and the same sequence on every machine. */
function prngBytes(seed: number, length: number): Buffer {
  const out = Buffer.allocUnsafe(length);
  let state = seed;
  for (let i = 0; i < length; i += 4) {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    const word = (t ^ (t >>> 14)) >>> 0;
    for (let b = 0; b < 4 && i + b < length; b++) out[i + b] = (word >>> (8 * b)) & 0xff;
  }
  return out;
}
