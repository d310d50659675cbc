/**
 * DownloadManager (lab9/src/peer/download-manager.ts) against scripted fake seeders over TCP, with
 * the reference Peer as router (or a fake router where the order of requests is the point) and a
 * manual clock: a piece that times out, arrives corrupt, or is lost with a dying seeder comes from
 * another peer; requests go rarest first; a stall fails with ERR_DOWNLOAD_STALLED; stop() rejects
 * an unfinished download; a hostile ANNOUNCE costs the download, never the process.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Lab9Error } from '../../lab9/src/errors';
import { DownloadManager, type DownloadRouter } from '../../lab9/src/peer/download-manager';
import { RoutingTable } from '../../lab9/src/peer/routing-table';
import type { PeerEvents } from '../../lab9/src/peer/peer-core';
import type { GetPieceMessage, PieceRef } from '../../lab9/src/protocol/message-types';
import { FileManager, type PieceStore } from '../../lab9/src/storage/file-manager';
import { sha256, verifyPiece } from '../../lab9/src/storage/piece-hash';
import { Tracker } from '../../lab9/src/tracker/tracker';
import { patternBytes } from '../../lab9/test/helpers/bytes';
import { useCleanup } from '../../lab9/test/helpers/cleanup';
import { bounded, nextEvent } from '../../lab9/test/helpers/events';
import { type Answer, FakeSeeder } from '../../lab9/test/helpers/fake-seeder';
import { ManualClock } from '../../lab9/test/helpers/manual-clock';
import { describeFile, holdPieces, memoryStore } from '../../lab9/test/helpers/stores';
import { tempDir } from '../../lab9/test/helpers/temp-dir';
import { Peer } from '../peer';

const defer = useCleanup();

type Rejected = PeerEvents['rejected'][0];
type Progress = PeerEvents['progress'][0];
const isPiece =
  (index: number) =>
  (request: GetPieceMessage): boolean =>
    request.index === index;

/** Timer delays, all different, so a test fires exactly the kind of timer it means. */
const REQUEST_MS = 1_000;
const STALL_MS = 60_000;
const REFRESH_MS = 100;

const SWARM = 's';
const PIECE_BYTES = 1024;
/** 4.5 pieces: 5 pieces, the last one 512 bytes. */
const DATA = patternBytes(4.5 * PIECE_BYTES, 42);
const FILE = describeFile('f.bin', DATA, PIECE_BYTES);
const PIECES = FILE.pieceHashes.length;

/** A fake seeder of FILE holding the pieces `holds` (default all), answering as `answer` says. */
async function seeder(
  peerId: string,
  {
    answer,
    holds,
  }: { answer?: (request: PieceRef, count: number) => Answer; holds?: number[] } = {},
): Promise<FakeSeeder> {
  const files = memoryStore();
  await holdPieces(files, SWARM, FILE, DATA, (i) => holds?.includes(i) ?? true);
  const fake = new FakeSeeder({ peerId, files, ...(answer && { answer }) });
  defer(() => fake.close());
  await fake.start();
  return fake;
}

/** A FileManager that remembers every writePiece call: index and whether the bytes were right. */
class RecordingStore extends FileManager {
  readonly writes: { index: number; hashOk: boolean }[] = [];

  override writePiece(
    swarmId: string,
    fileId: string,
    index: number,
    data: Buffer,
  ): Promise<boolean> {
    const expected = this.fileInfo(swarmId, fileId)?.pieceHashes[index];
    this.writes.push({ index, hashOk: expected !== undefined && sha256(data).equals(expected) });
    return super.writePiece(swarmId, fileId, index, data);
  }
}

interface Downloader {
  readonly peer: Peer;
  readonly clock: ManualClock;
  readonly files: RecordingStore;
  /** Who sent each stored piece, by index. */
  readonly from: Map<number, string>;
}

async function downloader(tracker: Tracker): Promise<Downloader> {
  const clock = new ManualClock();
  const files = new RecordingStore({ root: '/nonexistent', storage: 'memory' });
  const peer = new Peer({
    tracker,
    peerId: 'downloader',
    files,
    clock,
    requestTimeoutMs: REQUEST_MS,
    stallTimeoutMs: STALL_MS,
    trackerRefreshMs: REFRESH_MS,
  });
  defer(() => peer.stop());
  await peer.start();
  const from = new Map<number, string>();
  peer.on('piece', (event) => from.set(event.index, event.from));
  return { peer, clock, files, from };
}

/** Lets the downloader find a seeder registered after it started: fires the tracker refresh. */
async function introduce(tracker: Tracker, { clock }: Downloader, late: FakeSeeder): Promise<void> {
  await tracker.register(SWARM, late.address);
  const greeted = nextEvent(late, 'greeted', `${late.peerId} being greeted after the refresh`);
  expect(clock.fire(REFRESH_MS)).toBe(1);
  await greeted;
  await late.sync();
}

async function expectWholeFile(files: PieceStore): Promise<void> {
  const store = files as FileManager;
  const got = await store.readFile(SWARM, FILE.fileId);
  if (!got.equals(DATA)) {
    throw new Error(
      `downloaded file differs: sha256 ${sha256(got).toString('hex')}, expected ${sha256(DATA).toString('hex')}`,
    );
  }
}

describe('DownloadManager: a piece that fails comes from another peer', () => {
  it('2 seeders, seeder-1 never answers piece 2: after the request timeout it comes from seeder-2', async () => {
    const tracker = new Tracker();
    const s1 = await seeder('seeder-1', { answer: (r) => (r.index === 2 ? 'ignore' : 'serve') });
    const s2 = await seeder('seeder-2');
    await tracker.register(SWARM, s1.address);
    const d = await downloader(tracker);

    const asked = nextEvent(s1, 'request', 'seeder-1 receiving GET_PIECE 2', isPiece(2));
    const download = d.peer.download(SWARM);
    await asked;
    await introduce(tracker, d, s2);
    expect(d.from.has(2)).toBe(false); // still in flight at seeder-1: nobody else was asked
    expect(d.clock.fire(REQUEST_MS)).toBeGreaterThanOrEqual(1);

    await bounded(download, 'the download completing after piece 2 timed out at seeder-1');
    expect(d.from.get(2)).toBe('seeder-2');
    await expectWholeFile(d.files);
  });

  it('1 seeder that times out piece 2 once is asked again, being the only holder', async () => {
    const tracker = new Tracker();
    let askedFor2 = 0;
    const s1 = await seeder('seeder-1', {
      answer: (r) => (r.index === 2 && ++askedFor2 === 1 ? 'ignore' : 'serve'),
    });
    await tracker.register(SWARM, s1.address);
    const d = await downloader(tracker);

    const asked = nextEvent(s1, 'request', 'seeder-1 receiving GET_PIECE 2', isPiece(2));
    const download = d.peer.download(SWARM);
    await asked;
    const askedAgain = nextEvent(
      s1,
      'request',
      'seeder-1 being asked for piece 2 again',
      isPiece(2),
    );
    expect(d.clock.fire(REQUEST_MS)).toBeGreaterThanOrEqual(1);
    await askedAgain;
    await bounded(download, 'the download completing from the lone seeder');
    expect(askedFor2).toBe(2);
  });

  it('2 seeders, seeder-1 corrupts piece 2: it is rejected, never written, and fetched from seeder-2', async () => {
    const tracker = new Tracker();
    const s1 = await seeder('seeder-1', { answer: (r) => (r.index === 2 ? 'corrupt' : 'serve') });
    const s2 = await seeder('seeder-2');
    await tracker.register(SWARM, s1.address);
    const d = await downloader(tracker);

    const rejected = nextEvent(
      d.peer,
      'rejected',
      'the downloader rejecting corrupt piece 2',
      (e: Rejected) => e.index === 2,
    );
    const download = d.peer.download(SWARM);
    const [rejection] = await rejected;
    expect(rejection).toMatchObject({
      from: 'seeder-1',
      reason: expect.stringMatching(/^ERR_HASH_MISMATCH/) as unknown,
    });
    await introduce(tracker, d, s2);

    await bounded(download, 'the download completing after seeder-1 sent a corrupt piece 2');
    expect(d.from.get(2)).toBe('seeder-2');
    expect(d.files.writes.filter((w) => w.index === 2)).toEqual([{ index: 2, hashOk: true }]);
    await expectWholeFile(d.files);
  });

  it('2 seeders, seeder-1 hangs up at its 3rd request: the download completes from seeder-2', async () => {
    const tracker = new Tracker();
    const s1 = await seeder('seeder-1', {
      answer: (_r, count) => (count >= 3 ? 'hangup' : 'serve'),
    });
    const s2 = await seeder('seeder-2');
    await tracker.register(SWARM, s1.address);
    const d = await downloader(tracker);

    const hungUp = nextEvent(s1, 'hangup', 'seeder-1 hanging up');
    const download = d.peer.download(SWARM);
    await hungUp;
    await introduce(tracker, d, s2);

    const summary = await bounded(download, 'the download completing after seeder-1 died');
    const fromS1 = summary.piecesFrom['seeder-1'] ?? 0;
    expect(fromS1).toBeLessThanOrEqual(2);
    expect(summary.piecesFrom).toEqual({
      ...(fromS1 > 0 && { 'seeder-1': fromS1 }),
      'seeder-2': PIECES - fromS1,
    });
    await expectWholeFile(d.files);
  });
});

describe('DownloadManager: which piece next', () => {
  /** The smallest router: routes from announcements, verify, store; records the order. */
  function fakeRouter(files: FileManager): DownloadRouter & { stored: number[] } {
    const routes = new RoutingTable();
    routes.join(SWARM);
    const stored: number[] = [];
    return {
      stored,
      learnRoutes(announce) {
        for (const route of routes.learn(announce).added) void files.addFile(route.swarmId, route);
      },
      routesOf: (swarmId) => routes.routesOf(swarmId),
      async routePiece(piece) {
        const hash = routes.lookup(piece.swarmId, piece.fileId)?.pieceHashes[piece.index];
        if (!hash || !verifyPiece(piece.data, hash)) {
          return { ok: false, code: 'ERR_HASH_MISMATCH', reason: 'test router: bad piece' };
        }
        stored.push(piece.index);
        return {
          ok: true,
          stored: await files.writePiece(piece.swarmId, piece.fileId, piece.index, piece.data),
        };
      },
    };
  }

  it('3 seeders holding 2, 3 and 6 pieces: the full seeder is asked for the rarest pieces first', async () => {
    const tracker = new Tracker();
    const ignore = (): Answer => 'ignore';
    const six = describeFile('six.bin', DATA.subarray(0, 6 * 100), 100);
    const holding = async (
      peerId: string,
      held: number[],
      answer: () => Answer,
    ): Promise<FakeSeeder> => {
      const files = memoryStore();
      await holdPieces(files, SWARM, six, DATA, (i) => held.includes(i));
      const fake = new FakeSeeder({ peerId, files, answer, holdGreeting: true });
      defer(() => fake.close());
      await tracker.register(SWARM, await fake.start());
      return fake;
    };
    // Availability once all three are greeted: pieces 0, 1 → 3 peers; 2 → 2; 3, 4, 5 → 1.
    const two = await holding('holds-0-1', [0, 1], ignore);
    const three = await holding('holds-0-2', [0, 1, 2], ignore);
    const full = await holding('holds-all', [0, 1, 2, 3, 4, 5], () => 'serve');
    const files = memoryStore();
    const router = fakeRouter(files);
    const manager = new DownloadManager({
      peerId: 'downloader',
      tracker,
      files,
      router,
      clock: new ManualClock(),
      requestsInFlight: 1,
    });
    defer(() => manager.close());
    const download = manager.download(SWARM);
    download.catch(() => {}); // rejected with ERR_PEER_STOPPED by the cleanup

    const steps: string[] = [];
    const greetAndSeeFirstRequest = async (fake: FakeSeeder): Promise<number> => {
      const asked = nextEvent(
        fake,
        'request',
        `${fake.peerId} receiving its first GET_PIECE`,
        (_r: GetPieceMessage) => true,
      );
      fake.releaseGreeting();
      const [request] = await asked;
      steps.push(`${fake.peerId} greeted, asked for ${request.index}`);
      return request.index;
    };
    // One at a time, so each pick sees a known set of peers.
    expect(await greetAndSeeFirstRequest(two)).toBe(0); // alone: ties broken by order
    expect(await greetAndSeeFirstRequest(three)).toBe(2); // 2 is held by 1 peer, 1 by 2
    const fullAsked: number[] = [];
    full.on('request', (request) => fullAsked.push(request.index));
    const fourth = nextEvent(
      full,
      'request',
      'holds-all receiving 4 requests',
      (_r: GetPieceMessage, count: number) => count === 4,
    );
    full.releaseGreeting();
    await fourth;
    expect({ steps, fullAsked, stored: router.stored }).toEqual({
      steps: ['holds-0-1 greeted, asked for 0', 'holds-0-2 greeted, asked for 2'],
      fullAsked: [3, 4, 5, 1], // 0 and 2 are in flight elsewhere; rarest (1 holder) first
      stored: [3, 4, 5],
    });
  });
});

describe('DownloadManager: failing and stopping', () => {
  it('1 seeder holding 2 of 5 pieces: after the stall timeout the download fails naming what is missing', async () => {
    const tracker = new Tracker();
    const s1 = await seeder('seeder-1', { holds: [0, 3] });
    await tracker.register(SWARM, s1.address);
    const d = await downloader(tracker);
    const both = nextEvent(
      d.peer,
      'progress',
      'the 2 pieces seeder-1 has being stored',
      (e: Progress) => e.held === 2,
    );
    const download = d.peer.download(SWARM);
    download.catch(() => {}); // asserted below
    await both;

    expect(d.clock.fire(STALL_MS)).toBe(1); // progress since it was armed: armed again
    expect(d.clock.fire(STALL_MS)).toBe(1); // no progress since: stalled
    const error = await bounded(
      download.then(
        () => undefined,
        (e: unknown) => e,
      ),
      'the download settling',
    );
    expect(error).toBeInstanceOf(Lab9Error);
    expect(error).toMatchObject({
      code: 'ERR_DOWNLOAD_STALLED',
      message: `download of swarm s made no progress for ${STALL_MS} ms: 3 pieces still missing; connected peers: seeder-1`,
    });
  });

  it('no peer in the swarm: the stall timeout fails the download saying nobody announced it', async () => {
    const clock = new ManualClock();
    const files = memoryStore();
    const router: DownloadRouter = {
      learnRoutes: () => {},
      routesOf: () => [],
      routePiece: () => Promise.reject(new Error('no piece can arrive')),
    };
    const manager = new DownloadManager({
      peerId: 'd',
      tracker: new Tracker(),
      files,
      router,
      clock,
      stallTimeoutMs: STALL_MS,
    });
    defer(() => manager.close());
    const download = manager.download(SWARM);
    expect(clock.fire(STALL_MS)).toBe(1);
    await expect(download).rejects.toMatchObject({
      code: 'ERR_DOWNLOAD_STALLED',
      message: `download of swarm s made no progress for ${STALL_MS} ms: no peer announced the swarm; connected peers: none`,
    });
  });

  it('stop() rejects an unfinished download with ERR_PEER_STOPPED, and later downloads too', async () => {
    const tracker = new Tracker();
    const s1 = await seeder('seeder-1', { answer: () => 'ignore' });
    await tracker.register(SWARM, s1.address);
    const d = await downloader(tracker);
    const asked = nextEvent(s1, 'request', 'seeder-1 receiving a GET_PIECE');
    const download = d.peer.download(SWARM);
    await asked;
    await d.peer.stop();
    await expect(download).rejects.toMatchObject({ code: 'ERR_PEER_STOPPED' });
    await expect(d.peer.download('other')).rejects.toMatchObject({ code: 'ERR_PEER_STOPPED' });
  });

  it('a seeder announcing the file "../escape" costs the download, not the process, and writes nothing outside the root', async () => {
    const tracker = new Tracker();
    const piece = Buffer.from('x');
    const hostileInfo = {
      fileId: '../escape',
      fileLength: 1,
      pieceLength: 1,
      pieceHashes: [sha256(piece)],
    };
    const hostile: PieceStore = {
      swarms: () => [{ swarmId: SWARM, files: [hostileInfo] }],
      fileInfo: () => hostileInfo,
      addFile: () => Promise.resolve(),
      readPiece: () => Promise.resolve(piece),
      writePiece: () => Promise.resolve(false),
      hasPiece: () => true,
      bitfield: () => Buffer.from([0x80]),
      isComplete: () => true,
    };
    const fake = new FakeSeeder({ peerId: 'hostile', files: hostile });
    defer(() => fake.close());
    await tracker.register(SWARM, await fake.start());
    const root = join(await tempDir(defer), 'root');
    const files = new FileManager({ root });
    const peer = new Peer({ tracker, files, clock: new ManualClock() });
    defer(() => peer.stop());
    await peer.start();

    const refused = nextEvent(peer, 'clientError', 'the downloader reporting the refused file ID');
    const download = peer.download(SWARM);
    download.catch(() => {}); // how it fails is the router's business; that it does not crash is ours
    const [error] = await refused;
    expect(error).toMatchObject({ code: 'ERR_INVALID_ID' });
    expect(existsSync(join(dirname(root), 'escape'))).toBe(false);
  });
});
