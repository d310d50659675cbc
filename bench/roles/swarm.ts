/**
 * Many reference peers in one process exchanging one multi-file swarm over loopback TCP, with
 * the in-process Tracker. Two seeders hold half the files each; the other peers join in waves
 * that double the swarm (2, 4, 8, ... downloaders), so later waves fetch mostly from peers that
 * were downloaders themselves. Every peer's files are checked against the seeded bytes.
 */
import { createHash, randomFillSync } from 'node:crypto';
import { join } from 'node:path';
import { FileManager } from '../../lab9/src/storage/file-manager';
import { Tracker } from '../../lab9/src/tracker/tracker';
import { Peer } from '../../solution/peer';
import type { RoleSpec } from '../harness/messages';
import { now, runRole } from './child-io';

const SWARM = 'bench-swarm';
const SEEDERS = 2;

interface SwarmState {
  readonly tracker: Tracker;
  readonly peers: Peer[];
  readonly files: FileManager[];
  /** fileId → SHA-256 (hex) of the seeded bytes. */
  readonly expected: Map<string, string>;
}

export function runSwarm(spec: Extract<RoleSpec, { role: 'swarm' }>): Promise<void> {
  const newPeer = (state: SwarmState, name: string): { peer: Peer; files: FileManager } => {
    const files = new FileManager({ root: join(spec.root, name), storage: 'memory' });
    const peer = new Peer({ tracker: state.tracker, files, peerId: name });
    state.peers.push(peer);
    state.files.push(files);
    return { peer, files };
  };

  return runRole<SwarmState>({
    async setup() {
      const state: SwarmState = {
        tracker: new Tracker(),
        peers: [],
        files: [],
        expected: new Map(),
      };
      const seeders = [...Array(SEEDERS).keys()].map((i) => newPeer(state, `seeder-${i}`));
      for (let f = 0; f < spec.files; f++) {
        const bytes = randomFillSync(Buffer.allocUnsafe(spec.fileBytes));
        const fileId = `file-${f}.bin`;
        state.expected.set(fileId, createHash('sha256').update(bytes).digest('hex'));
        await (seeders[f % SEEDERS] as (typeof seeders)[number]).files.seed(SWARM, fileId, bytes);
      }
      for (const { peer } of seeders) {
        await peer.start();
        await peer.seed(SWARM);
      }
      return { ready: { kind: 'ready' }, state };
    },
    async work(state) {
      const startedAt = now();
      const piecesFrom: Record<string, number> = {};
      let waves = 0;
      while (state.peers.length < spec.peers) {
        const size = Math.min(
          state.peers.length - SEEDERS || SEEDERS,
          spec.peers - state.peers.length,
        );
        const wave = [...Array(size).keys()].map((i) => newPeer(state, `w${waves}-p${i}`).peer);
        await Promise.all(wave.map((peer) => peer.start()));
        const summaries = await Promise.all(wave.map((peer) => peer.download(SWARM)));
        for (const summary of summaries) {
          for (const [from, count] of Object.entries(summary.piecesFrom)) {
            piecesFrom[from] = (piecesFrom[from] ?? 0) + count;
          }
        }
        waves += 1;
      }
      const endedAt = now();
      const downloaders = spec.peers - SEEDERS;
      let fromSeeders = 0;
      let total = 0;
      for (const [from, count] of Object.entries(piecesFrom)) {
        total += count;
        if (from.startsWith('seeder-')) fromSeeders += count;
      }
      return {
        startedAt,
        endedAt,
        bytes: downloaders * spec.files * spec.fileBytes,
        piecesFrom,
        notes: { waves, peerShare: total === 0 ? 0 : 1 - fromSeeders / total },
      };
    },
    async verify(state) {
      for (const files of state.files.slice(SEEDERS)) {
        for (const [fileId, sha256] of state.expected) {
          const got = createHash('sha256');
          const info = files.fileInfo(SWARM, fileId);
          if (!info) throw new Error(`a peer of the swarm has no ${fileId}`);
          for (let i = 0; i < info.pieceHashes.length; i++) {
            got.update(await files.readPiece(SWARM, fileId, i));
          }
          if (got.digest('hex') !== sha256) throw new Error(`a peer's ${fileId} differs`);
        }
      }
    },
    async cleanup(state) {
      await Promise.all(state.peers.map((peer) => peer.stop()));
    },
  });
}
