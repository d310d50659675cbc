/**
 * SHA-256 of pieces, and the memory of which piece buffers have already been checked, so that
 * a piece verified by the router is not hashed a second time by the FileManager.
 * Below: node:crypto. Above: FileManager (seeding and writing) and Peer.routePiece.
 *
 * Hashing stays on the receiving thread on purpose: moving it to libuv's pool (WebCrypto) or to a
 * worker thread was measured and lost on two cores, because the copy (WebCrypto) or the shared
 * memory (a worker) each piece then needs costs about as much as the hashing it moves.
 */
import { createHash } from 'node:crypto';

/** Buffers whose hash matched, with the hash they matched; weak so pieces can be collected. */
const verified = new WeakMap<Buffer, Buffer>();

export function sha256(data: Buffer): Buffer {
  return createHash('sha256').update(data).digest();
}

/**
 * True if `data` hashes to `expectedHash`. Remembers a match, so a later check of the same
 * Buffer object against the same hash costs nothing. A piece Buffer must not be changed once
 * checked; nothing in the kit changes one.
 */
export function verifyPiece(data: Buffer, expectedHash: Buffer): boolean {
  if (verified.get(data)?.equals(expectedHash)) return true;
  const ok = sha256(data).equals(expectedHash);
  if (ok) verified.set(data, expectedHash);
  return ok;
}
