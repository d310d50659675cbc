/**
 * 9B, the details of the contract of routePiece beyond picking the file: what `stored` says,
 * when the promise may resolve (a store whose writes the test holds back, as a disk takes its
 * time), indices that are no piece (-1, 1.5, NaN, the piece count), routes learned while
 * routing, the error code of a joined swarm with no route, and Buffers left as written.
 */
import type { PieceMessage, PieceRef } from '../../lab9/src/protocol/message-types';
import { fileSpec, pieceBytes, pieceMessage, pieceRef } from '../harness/data';
import { refText } from '../harness/format';
import { scenario } from '../harness/scenario';

const S1_A = fileSpec('s1', 'a.bin', { pieces: 3 });
const S1_LATE = fileSpec('s1', 'late.bin', { pieces: 2 });
const S2_B = fileSpec('s2', 'b.bin', { pieces: 2 });

/** `piece` claiming to be `ref`, with whatever bytes it carries. */
function claiming(ref: PieceRef, data: Buffer): PieceMessage {
  return { ...pieceMessage(S1_A, 0), ...ref, data };
}

scenario(
  '1 peer: resolves stored: true for a new piece and stored: false when the same piece comes again, as writePiece said',
  async (world) => {
    const peer = await world.peer('P');
    await peer.learn(['s1'], [S1_A]);
    const cause =
      'resolve { ok: true, stored } with the boolean `await this.files.writePiece(...)` resolved: ' +
      'false means the store already held the piece (a duplicate from a second peer). Do not ' +
      'hard-code true, nor compute it apart from the write.';
    await peer.expectStoredFlag(S1_A, 0, true, cause);
    await peer.expectStoredFlag(S1_A, 0, false, cause);
    await peer.expectStoredFlag(S1_A, 1, true, cause);
    await peer.expectStoredFlag(S1_A, 1, false, cause);
  },
);

scenario(
  '1 peer whose store writes slowly, as a disk does: resolves routePiece only once writePiece has finished',
  async (world) => {
    const peer = await world.peer('P');
    await peer.learn(['s1'], [S1_A]);
    await peer.holdWrites('all');
    const piece = pieceMessage(S1_A, 1);
    const label = `the genuine ${refText(piece)}`;
    const started = peer.startRoute(piece);
    const cause =
      'await this.files.writePiece(...) and resolve only after it: the DownloadManager checks ' +
      'hasPiece the moment routePiece resolves, and a disk store finishes writing later. A ' +
      'write started and not awaited (or `.then` without returning it) resolves too early.';
    await peer.waitForHeldWrite(pieceRef(S1_A, 1), {
      expected: `routePiece(${label}) to call this.files.writePiece for it`,
      likelyCause: cause,
    });
    // One round trip to the host: whatever routePiece does without the write has happened by now.
    await world.ask('ping', {}, 'reach the peer host');
    const early = world
      .events()
      .flatMap((e) => (e.type === 'routed' && e.peer === 'P' && e.ref.index === 1 ? [e] : []))
      .at(0);
    if (early || started.settled) {
      await world.fail({
        summary: `routePiece(${label}) resolved while its writePiece was still in progress.`,
        expected: 'routePiece to stay pending until the writePiece it started has finished',
        happened:
          'the test held writePiece back; routePiece settled anyway' +
          (early && 'resolved' in early.outcome
            ? ` with ${JSON.stringify(early.outcome.resolved)}`
            : ''),
        likelyCause: cause,
      });
    }
    world.step(`routePiece(${label}) is still pending while its write is held: as it must be`);
    await peer.releaseWrites();
    const { outcome, heldWhenSettled } = await peer.routeSettled(started, piece, label);
    if (!('resolved' in outcome) || !outcome.resolved.ok || !heldWhenSettled) {
      await world.fail({
        summary: `routePiece(${label}) did not resolve { ok: true } with the piece stored.`,
        expected:
          'routePiece to resolve { ok: true, stored: true } once the write finished, the piece then held',
        happened: `${'resolved' in outcome ? `it resolved ${JSON.stringify(outcome.resolved)}` : `it threw ${outcome.threw.message}`}; the store ${heldWhenSettled ? 'held' : 'did not hold'} the piece then`,
        likelyCause: cause,
      });
    }
  },
);

scenario(
  '1 peer: rejects piece indices -1, 1.5, NaN and the piece count with ERR_PIECE_OUT_OF_RANGE and writes nothing',
  async (world) => {
    const peer = await world.peer('P');
    await peer.learn(['s1'], [S1_A]);
    const cause =
      'an index must be an integer in 0..pieceHashes.length-1: check Number.isInteger(index) and ' +
      'both bounds (or that route.pieceHashes[index] exists, which is undefined for -1, 1.5 and NaN), ' +
      "and resolve { ok: false, code: 'ERR_PIECE_OUT_OF_RANGE' }. Beware .at(-1): it is the last hash.";
    const claims: [number, Buffer][] = [
      [-1, pieceBytes(S1_A, 2)],
      [1.5, pieceBytes(S1_A, 1)],
      [Number.NaN, pieceBytes(S1_A, 0)],
      [3, pieceBytes(S1_A, 2)],
    ];
    for (const [index, data] of claims) {
      const ref = { swarmId: 's1', fileId: 'a.bin', index };
      await peer.expectRejected(
        claiming(ref, data),
        refText(ref),
        'ERR_PIECE_OUT_OF_RANGE',
        [S1_A],
        cause,
      );
    }
  },
);

scenario(
  '1 peer: stores the pieces of a swarm and of a file announced after routing began, at once',
  async (world) => {
    const peer = await world.peer('P');
    await peer.learn(['s1'], [S1_A]);
    const cause =
      'the routing table grows while pieces arrive (each new peer sends its ANNOUNCE): look the ' +
      'route up in this.routes for every piece. A copy taken once, or a cache that remembers ' +
      '"no route", misses every route learned after it.';
    await peer.expectStored(S1_A, 0, cause);
    const early = pieceMessage(S2_B, 0);
    await peer.expectRejected(
      early,
      `${refText(early)}, before any ANNOUNCE of "s2"`,
      'ERR_UNKNOWN_SWARM',
      [S2_B],
      cause,
    );
    await peer.learn(['s2'], [S2_B]);
    await peer.expectStored(S2_B, 0, cause);
    await peer.expectStored(S2_B, 1, cause);
    const late = pieceMessage(S1_LATE, 1);
    await peer.expectRejected(
      late,
      `${refText(late)}, before any ANNOUNCE of it`,
      'ERR_UNKNOWN_FILE',
      [S1_LATE],
      cause,
    );
    await peer.learn([], [S1_LATE]);
    await peer.expectStored(S1_LATE, 1, cause);
    await peer.expectStored(S1_A, 1, cause);
  },
);

scenario(
  '1 peer that joined swarm "s3" but learned none of its files: rejects its pieces with ERR_UNKNOWN_SWARM, and an unknown file of a swarm with routes with ERR_UNKNOWN_FILE',
  async (world) => {
    const peer = await world.peer('P');
    await peer.learn(['s1', 's3'], [S1_A]);
    const cause =
      'the contract decides by this.routes.knowsSwarm(swarmId), true once a file of the swarm has ' +
      'a route: no route at all in the swarm is ERR_UNKNOWN_SWARM (joined or not), a swarm with ' +
      'routes but not this file is ERR_UNKNOWN_FILE. hasJoined() is not the test.';
    const cases: [PieceRef, string][] = [
      [{ swarmId: 's3', fileId: 'a.bin', index: 0 }, 'ERR_UNKNOWN_SWARM'],
      [{ swarmId: 's4', fileId: 'a.bin', index: 0 }, 'ERR_UNKNOWN_SWARM'],
      [{ swarmId: 's1', fileId: 'b.bin', index: 0 }, 'ERR_UNKNOWN_FILE'],
    ];
    for (const [ref, code] of cases) {
      const label = `${refText(ref)}${ref.swarmId === 's3' ? ' (swarm joined, no file known)' : ''}`;
      await peer.expectRejected(claiming(ref, pieceBytes(S1_A, 0)), label, code, [S1_A], cause);
    }
  },
);

scenario(
  '1 peer whose store keeps the very Buffers written: still holds the genuine bytes of every piece after routePiece resolved',
  async (world) => {
    const peer = await world.peer('P', { keepBuffers: true });
    await peer.learn(['s1'], [S1_A]);
    const cause = 'the store may keep the Buffer passed to writePiece: never change it afterwards.';
    for (const index of [0, 1, 2]) await peer.expectStored(S1_A, index, cause);
    await peer.expectFiles([S1_A], cause);
  },
);
