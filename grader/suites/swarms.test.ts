/**
 * 9A and 9B together: real peers of your class seed and download from each other over TCP.
 * A peer that joins last learns every route from the ANNOUNCE of the peers already there and
 * downloads two overlapping swarms from two seeders at once; a downloaded file is served on.
 */
import { fileSpec } from '../harness/data';
import { scenario } from '../harness/scenario';

const ONE_12 = fileSpec('1', '12', { pieces: 8 });
const ONE_A = fileSpec('1', 'a.bin', { pieces: 8, lastPiece: 333 });
const ELEVEN_2 = fileSpec('11', '2', { pieces: 8 });
const ELEVEN_A = fileSpec('11', 'a.bin', { pieces: 8 });

const BOTH_PARTS =
  'this checks both TODOs at once: the seeders run your handleClient (every request of a ' +
  'chunk answered, many in flight), the downloader your routePiece (by the pair, hash first). ' +
  'The checks of each part above say which one fails.';

scenario(
  '3 peers, 2 overlapping swarms: the peer that joins last downloads both swarms from 2 seeders at once, byte for byte',
  async (world) => {
    await world.peer('A', { seeds: [ONE_12, ONE_A, ELEVEN_A] });
    await world.peer('B', { seeds: [ELEVEN_2, ELEVEN_A, ONE_A] });
    const c = await world.peer('C');
    await c.expectDownload(['1', '11'], [ONE_12, ONE_A, ELEVEN_2, ELEVEN_A], BOTH_PARTS);
  },
);

scenario(
  '3 peers in a chain: B downloads from A, then C downloads from B after A has left',
  async (world) => {
    const a = await world.peer('A', { seeds: [ONE_12, ONE_A] });
    const b = await world.peer('B');
    await b.expectDownload(['1'], [ONE_12, ONE_A], BOTH_PARTS);
    await a.stop();
    const c = await world.peer('C');
    await c.expectDownload(
      ['1'],
      [ONE_12, ONE_A],
      `${BOTH_PARTS} Here B serves pieces it downloaded itself: readPiece works the same for them.`,
    );
  },
);

scenario(
  '3 peers, 2 overlapping swarms that both hold notes.bin, as in npm run demo: 2 downloaders storing on disk fetch both swarms at once from 1 seeder, every byte checked',
  async (world) => {
    const files = [
      fileSpec('lectures', 'notes.bin', { pieces: 12, lastPiece: 1234 }),
      fileSpec('lectures', 'slides.bin', { pieces: 9 }),
      fileSpec('labs', 'notes.bin', { pieces: 10, lastPiece: 77 }),
      fileSpec('labs', 'lab9.bin', { pieces: 14 }),
    ];
    await world.peer('seed', { seeds: files });
    const first = await world.peer('dl-1', { storage: 'disk' });
    const second = await world.peer('dl-2', { storage: 'disk' });
    const downloads = [first, second].map((peer) => ({
      peer,
      download: peer.startDownload(['lectures', 'labs']),
    }));
    const cause =
      `${BOTH_PARTS} Here the downloaders store on disk, where a write finishes later than ` +
      'routePiece is called: resolve only after `await this.files.writePiece(...)`.';
    for (const { peer, download } of downloads) await peer.expectDownloaded(download, files, cause);
  },
);
