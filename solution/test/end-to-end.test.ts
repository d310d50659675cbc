/**
 * End to end with the reference Peer over real TCP and real files: a tracker, 2 seeders holding
 * different pieces of 2 overlapping swarms (file IDs that clash across swarms, short last pieces,
 * one file only seeder-1 has, seeded from a path), a third peer downloading both swarms at once,
 * then a fourth downloading both after seeder-1 left, so what seeder-1 alone had must come from
 * the third. Every file is compared by SHA-256 with its source, read back from disk.
 */
import { writeFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DownloadSummary } from '../../lab9/src/peer/peer-core';
import { FileManager } from '../../lab9/src/storage/file-manager';
import { sha256 } from '../../lab9/src/storage/piece-hash';
import { Tracker } from '../../lab9/src/tracker/tracker';
import { MiB, patternBytes } from '../../lab9/test/helpers/bytes';
import { useCleanup } from '../../lab9/test/helpers/cleanup';
import { bounded } from '../../lab9/test/helpers/events';
import { describeFile, holdPieces } from '../../lab9/test/helpers/stores';
import { tempDir } from '../../lab9/test/helpers/temp-dir';
import { Peer } from '../peer';
import { scaled } from '../../lab9/src/time-factor';

const defer = useCleanup();

const PIECE_BYTES = 64 * 1024;

interface SourceFile {
  readonly swarmId: string;
  readonly fileId: string;
  readonly data: Buffer;
}

const SOURCES: readonly SourceFile[] = [
  { swarmId: 'lectures', fileId: 'a.bin', data: patternBytes(1.5 * MiB + 1234, 1) },
  { swarmId: 'lectures', fileId: 'docs/readme.txt', data: patternBytes(10_000, 2) },
  { swarmId: 'lectures', fileId: 'video.bin', data: patternBytes(2 * MiB, 3) },
  // Same file IDs as in 'lectures', other bytes and lengths: routes must keep the pairs apart.
  { swarmId: 'datasets', fileId: 'a.bin', data: patternBytes(MiB + 7, 4) },
  { swarmId: 'datasets', fileId: 'docs/readme.txt', data: patternBytes(3 * 1024, 5) },
  { swarmId: 'datasets', fileId: 'train.csv', data: patternBytes(768 * 1024 + 1, 6) },
];
/** Only seeder-1 has it, whole, seeded in place from a file on disk. */
const ONLY_SEEDER_1 = SOURCES[5] as SourceFile;
const SWARMS = ['lectures', 'datasets'];
const TOTAL_BYTES = SOURCES.reduce((sum, s) => sum + s.data.length, 0);
const TOTAL_PIECES = SOURCES.reduce((sum, s) => sum + Math.ceil(s.data.length / PIECE_BYTES), 0);

function hex(data: Buffer): string {
  return sha256(data).toString('hex');
}

/** Compares every source file with what `files` stored on disk; names every difference. */
async function expectAllFiles(name: string, files: FileManager): Promise<void> {
  const differences: string[] = [];
  for (const { swarmId, fileId, data } of SOURCES) {
    const onDisk = await readFile(files.pathOf(swarmId, fileId)).catch(() => Buffer.alloc(0));
    if (hex(onDisk) !== hex(data)) {
      differences.push(
        `${swarmId}/${fileId}: ${onDisk.length} bytes, sha256 ${hex(onDisk).slice(0, 12)}…, ` +
          `expected ${data.length} bytes, sha256 ${hex(data).slice(0, 12)}…`,
      );
    }
  }
  if (differences.length > 0) {
    throw new Error(
      `${name} stored ${differences.length} of ${SOURCES.length} files wrong:\n  ${differences.join('\n  ')}\n` +
        'Likely cause: pieces routed by file ID alone, so the two a.bin (or readme.txt) mixed.',
    );
  }
}

function piecesIn(summaries: DownloadSummary[]): number {
  return summaries.reduce(
    (sum, s) => sum + Object.values(s.piecesFrom).reduce((a, b) => a + b, 0),
    0,
  );
}

describe('end to end', () => {
  it(
    `4 peers, 2 overlapping swarms (${SOURCES.length} files · ${(TOTAL_BYTES / MiB).toFixed(1)} MiB · ` +
      `${TOTAL_PIECES} pieces): a third peer downloads both swarms at once from 2 partial seeders, ` +
      'then a fourth downloads both from seeder-2 and the third after seeder-1 left',
    async () => {
      const dir = await tempDir(defer, 'lab9-e2e-');
      const tracker = new Tracker();
      const store = (name: string): FileManager => {
        const files = new FileManager({ root: join(dir, name) });
        defer(() => files.close());
        return files;
      };
      const peer = async (peerId: string, files: FileManager): Promise<Peer> => {
        const created = new Peer({ tracker, peerId, files });
        defer(() => created.stop());
        await created.start();
        return created;
      };
      /** Downloads every swarm; fails at the first piece `downloader` turns down, saying why. */
      const downloadAll = (downloader: Peer, what: string): Promise<DownloadSummary[]> => {
        const firstRejection = new Promise<never>((_, reject) => {
          downloader.once('rejected', (e) => {
            reject(
              new Error(
                `${what}: ${downloader.peerId} rejected ${e.swarmId}/${e.fileId} piece ${e.index} ` +
                  `from ${e.from} (${e.reason}), but every peer here sends good pieces.\n` +
                  "Likely cause: routed by file ID alone, checked against the other swarm's file.",
              ),
            );
          });
        });
        firstRejection.catch(() => {}); // only the race below reports it
        const downloads = Promise.all(SWARMS.map((swarmId) => downloader.download(swarmId)));
        return bounded(Promise.race([downloads, firstRejection]), what, scaled(15_000));
      };

      // Seeder-1 holds pieces i % 3 != 2 and all of train.csv; seeder-2 holds i % 3 != 0 and no
      // train.csv. Pieces i % 3 == 0 are seeder-1's alone, i % 3 == 2 seeder-2's alone.
      const files1 = store('seeder-1');
      const files2 = store('seeder-2');
      const sourcePath = join(dir, 'train.csv');
      await writeFile(sourcePath, ONLY_SEEDER_1.data);
      for (const source of SOURCES) {
        const info = describeFile(source.fileId, source.data, PIECE_BYTES);
        if (source === ONLY_SEEDER_1) {
          const seeded = await files1.seed(
            source.swarmId,
            source.fileId,
            { path: sourcePath },
            { pieceLength: PIECE_BYTES },
          );
          expect(seeded).toEqual(info);
          continue;
        }
        await holdPieces(files1, source.swarmId, info, source.data, (i) => i % 3 !== 2);
        await holdPieces(files2, source.swarmId, info, source.data, (i) => i % 3 !== 0);
      }
      const seeder1 = await peer('seeder-1', files1);
      const seeder2 = await peer('seeder-2', files2);
      for (const swarmId of SWARMS) {
        await seeder1.seed(swarmId);
        await seeder2.seed(swarmId);
      }

      const thirdFiles = store('third');
      const third = await peer('third', thirdFiles);
      const thirdSummaries = await downloadAll(third, 'the third peer downloading both swarms');
      await expectAllFiles('the third peer', thirdFiles);
      expect(piecesIn(thirdSummaries)).toBe(TOTAL_PIECES);
      for (const summary of thirdSummaries) {
        expect(Object.keys(summary.piecesFrom).sort()).toEqual(['seeder-1', 'seeder-2']);
      }

      await seeder1.stop();
      const fourthFiles = store('fourth');
      const fourth = await peer('fourth', fourthFiles);
      const fourthSummaries = await downloadAll(
        fourth,
        'the fourth peer downloading both swarms after seeder-1 left',
      );
      await expectAllFiles('the fourth peer', fourthFiles);
      expect(piecesIn(fourthSummaries)).toBe(TOTAL_PIECES);
      for (const summary of fourthSummaries) {
        // Pieces i % 3 == 0 were seeder-1's alone: only the third can have served them.
        expect(summary.piecesFrom['third']).toBeGreaterThan(0);
        expect(summary.piecesFrom['seeder-1']).toBeUndefined();
      }
    },
    scaled(30_000),
  );
});
