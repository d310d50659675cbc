/**
 * Which Peer the grader suites test. `LAB9_PEER_MODULE` names a module exporting `Peer`
 * (absolute, or relative to the repository root); by default the student's own
 * lab9/src/peer/peer.ts. The kit's own tests point it at solution/peer.ts.
 */
import { isAbsolute, join } from 'node:path';
import type { PeerCore, PeerOptions } from '../../lab9/src/peer/peer-core';

export type PeerClass = new (options: PeerOptions) => PeerCore;

export const REPO_ROOT = join(__dirname, '..', '..');

export function peerModulePath(): string {
  const chosen = process.env.LAB9_PEER_MODULE ?? 'lab9/src/peer/peer';
  return isAbsolute(chosen) ? chosen : join(REPO_ROOT, chosen);
}

/**
 * Loads the Peer class under test from `path` (the peer process passes its compiled module).
 * Import errors propagate: they are the student's to see.
 */
export function loadPeerClass(path: string = peerModulePath()): PeerClass {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const loaded = require(path) as { Peer?: PeerClass };
  if (typeof loaded.Peer !== 'function') {
    throw new TypeError(`${path} does not export a class named Peer`);
  }
  return loaded.Peer;
}
