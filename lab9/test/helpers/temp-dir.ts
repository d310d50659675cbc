/** A fresh folder under the OS temp dir, removed (with everything in it) by the test's cleanup. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Defer } from './cleanup';

export async function tempDir(defer: Defer, prefix = 'lab9-test-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  defer(() => rm(dir, { recursive: true, force: true }));
  return dir;
}
