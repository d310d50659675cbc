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
