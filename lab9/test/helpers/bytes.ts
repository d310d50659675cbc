/**
 * Bytes for tests: deterministic pseudo-random content (so a failing run can be replayed) and a
 * short printable form for failure messages (`\xNN`, cut at 32 bytes).
 */

/** `length` bytes from a xorshift32 stream seeded with `seed`: same seed, same bytes. */
export function patternBytes(length: number, seed: number): Buffer {
  const out = Buffer.allocUnsafe(length);
  let x = seed >>> 0 || 0x9e3779b9;
  let i = 0;
  for (; i + 4 <= length; i += 4) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out.writeUInt32LE(x >>> 0, i);
  }
  for (; i < length; i++) out[i] = (x >>> (8 * (i & 3))) & 0xff;
  return out;
}

/** `\x00\x01...` for the first 32 bytes, then how many more. */
export function hexPreview(bytes: Uint8Array, max = 32): string {
  const shown = [...bytes.subarray(0, max)]
    .map((b) => `\\x${b.toString(16).padStart(2, '0')}`)
    .join('');
  return bytes.length > max ? `${shown}... (${bytes.length} bytes)` : shown;
}

export const MiB = 1024 * 1024;
