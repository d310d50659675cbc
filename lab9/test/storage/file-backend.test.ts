/**
 * The in-memory backends (storage/file-backend.ts): a seeded Buffer served in place, and a
 * downloaded file kept as the pieces that were written, without copying a piece that owns its
 * memory and without letting a small view pin the larger Buffer behind it.
 */
import { BufferBackend, MemoryBackend } from '../../src/storage/file-backend';
import { patternBytes } from '../helpers/bytes';

describe('BufferBackend: a seeded file served from one Buffer', () => {
  it('serves views of the Buffer it was given, and refuses to be written', async () => {
    const bytes = Buffer.allocUnsafeSlow(3000);
    patternBytes(3000, 1).copy(bytes);
    const backend = new BufferBackend(bytes);
    const piece = await backend.read(1000, 1000);
    expect(piece).toEqual(bytes.subarray(1000, 2000));
    expect(piece.buffer).toBe(bytes.buffer);
    expect(piece.byteOffset).toBe(bytes.byteOffset + 1000);
    await expect(backend.write()).rejects.toThrow(/read-only/);
  });
});

describe('MemoryBackend: a downloaded file kept as its pieces', () => {
  it('keeps a piece that owns its memory as is: the read returns the written Buffer', async () => {
    const backend = new MemoryBackend(2048);
    const piece = Buffer.allocUnsafeSlow(1024);
    patternBytes(1024, 2).copy(piece);
    await backend.write(1024, piece);
    expect(await backend.read(1024, 1024)).toBe(piece);
  });

  it('copies a small view of a larger Buffer into memory of its own, pinning neither that Buffer nor a pool slab', async () => {
    const chunk = Buffer.allocUnsafeSlow(64 * 1024).fill(7);
    const view = chunk.subarray(100, 1100);
    const backend = new MemoryBackend(1000);
    await backend.write(0, view);
    const stored = await backend.read(0, 1000);
    expect(stored).toEqual(view);
    expect(stored.buffer).not.toBe(chunk.buffer);
    expect(stored.buffer.byteLength).toBe(view.length);
  });

  it('refuses a read of bytes that were not written as one piece', async () => {
    const backend = new MemoryBackend(2000);
    await backend.write(0, Buffer.alloc(1000, 1));
    await expect(backend.read(1000, 1000)).rejects.toThrow(
      'bytes 1000..2000 were not written as one piece',
    );
    await expect(backend.read(0, 2000)).rejects.toThrow(RangeError);
  });

  it('refuses a write past the end of the file', async () => {
    const backend = new MemoryBackend(1500);
    await expect(backend.write(1000, Buffer.alloc(1000))).rejects.toThrow(
      'bytes 1000..2000 exceed 1500',
    );
  });
});
