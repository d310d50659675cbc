/**
 * Reference peers (solution/peer.ts) as bench processes: a seeder serving one file, and a process
 * hosting one or more downloaders of it. Peers find each other without a networked tracker: the
 * parent passes the seeders' addresses (from their 'ready') to the downloaders, which register
 * them in process-local Trackers. Downloaded bytes are checked against the source's SHA-256.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FileManager } from '../../lab9/src/storage/file-manager';
import { Tracker } from '../../lab9/src/tracker/tracker';
import { Peer } from '../../solution/peer';
import type { RoleSpec } from '../harness/messages';
import { now, runRole } from './child-io';

interface Running {
  readonly peers: Peer[];
  readonly files: FileManager[];
}

/** A FileManager that counts the pieces read for uploads: requests the seeder answered. */
class CountingFileManager extends FileManager {
  served = 0;

  override readPiece(swarmId: string, fileId: string, index: number): Promise<Buffer> {
    this.served += 1;
    return super.readPiece(swarmId, fileId, index);
  }
}

async function stopAll({ peers, files }: Running): Promise<void> {
  await Promise.all(peers.map((peer) => peer.stop()));
  await Promise.all(files.map((manager) => manager.close()));
}

export function runSeeder(spec: Extract<RoleSpec, { role: 'seeder' }>): Promise<void> {
  return runRole<Running>({
    async setup() {
      const files = new CountingFileManager({ root: spec.root, storage: spec.storage });
      const source =
        spec.storage === 'memory' ? await readFile(spec.source.path) : { path: spec.source.path };
      await files.seed(spec.swarmId, spec.fileId, source);
      const peer = new Peer({ tracker: new Tracker(), files, peerId: `seeder-${process.pid}` });
      const address = await peer.start();
      await peer.seed(spec.swarmId);
      return { ready: { kind: 'ready', address }, state: { peers: [peer], files: [files] } };
    },
    work: () => Promise.resolve(undefined),
    notes: ({ files }) => ({ piecesServed: (files[0] as CountingFileManager).served }),
    cleanup: stopAll,
  });
}

export function runDownloaders(spec: Extract<RoleSpec, { role: 'downloaders' }>): Promise<void> {
  return runRole<Running>({
    async setup() {
      const running: Running = { peers: [], files: [] };
      for (let i = 0; i < spec.count; i++) {
        // A tracker per downloader, listing only the seeders: N clients of one server, not a
        // mesh of N peers (roles/swarm.ts measures the mesh).
        const tracker = new Tracker();
        for (const seeder of spec.seeders) await tracker.register(spec.swarmId, seeder);
        const files = new FileManager({ root: join(spec.root, `d${i}`), storage: spec.storage });
        const peerId = `downloader-${process.pid}-${i}`;
        running.files.push(files);
        running.peers.push(new Peer({ tracker, files, peerId }));
      }
      await Promise.all(running.peers.map((peer) => peer.start()));
      return { ready: { kind: 'ready' }, state: running };
    },
    async work({ peers }) {
      const startedAt = now();
      const summaries = await Promise.all(peers.map((peer) => peer.download(spec.swarmId)));
      const endedAt = now();
      const piecesFrom: Record<string, number> = {};
      for (const summary of summaries) {
        for (const [from, count] of Object.entries(summary.piecesFrom)) {
          piecesFrom[from] = (piecesFrom[from] ?? 0) + count;
        }
      }
      return { startedAt, endedAt, bytes: spec.source.bytes * peers.length, piecesFrom };
    },
    async verify({ files }) {
      for (const manager of files) await checkDownload(manager, spec);
    },
    cleanup: stopAll,
  });
}

/** Hashes the downloaded file piece by piece (no whole-file copy) against the source's hash. */
async function checkDownload(
  files: FileManager,
  spec: Extract<RoleSpec, { role: 'downloaders' }>,
): Promise<void> {
  const info = files.fileInfo(spec.swarmId, spec.fileId);
  if (!info) throw new Error(`downloader has no file ${spec.fileId}`);
  const hash = createHash('sha256');
  for (let i = 0; i < info.pieceHashes.length; i++) {
    hash.update(await files.readPiece(spec.swarmId, spec.fileId, i));
  }
  const got = hash.digest('hex');
  if (info.fileLength !== spec.source.bytes || got !== spec.source.sha256) {
    throw new Error(
      `downloaded ${info.fileLength} bytes with SHA-256 ${got.slice(0, 16)}…, expected ` +
        `${spec.source.bytes} bytes with ${spec.source.sha256.slice(0, 16)}…`,
    );
  }
}
