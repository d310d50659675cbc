/**
 * 9B, routePiece: each piece goes to the file of its (swarm ID, file ID) pair — also when two
 * swarms share a file ID, or when joining the IDs would make them collide — only after its hash
 * matched; unknown swarms, unknown files, out-of-range indices and bad hashes are rejected with
 * their code and never reach writePiece. Most checks call routePiece directly on a peer whose
 * routes were learned from an ANNOUNCE; the last one downloads from a scripted fake seeder.
 */
import { type PieceMessage, type PieceRef } from '../../lab9/src/protocol/message-types';
import { FakeSeeder } from '../harness/fake-seeder';
import { type FileSpec, fileSpec, pieceBytes, pieceCount, pieceMessage } from '../harness/data';
import { refText } from '../harness/format';
import { scenario } from '../harness/scenario';

const S1_A = fileSpec('s1', 'a.bin', { pieces: 3 });
const S2_A = fileSpec('s2', 'a.bin', { pieces: 3 });
const ONE_12 = fileSpec('1', '12', { pieces: 3 });
const ELEVEN_2 = fileSpec('11', '2', { pieces: 3 });
const SHORT = fileSpec('s1', 'short.bin', { pieces: 3, lastPiece: 100 });

const BY_PAIR =
  'route by the PAIR: this.routes.lookup(piece.swarmId, piece.fileId), then ' +
  'this.files.writePiece(piece.swarmId, piece.fileId, piece.index, piece.data). A file ID or ' +
  'an index alone names many files.';
const NO_CONCAT =
  'a key built as `${swarmId}${fileId}` makes ("1", "12") and ("11", "2") the same file: use ' +
  'this.routes.lookup(swarmId, fileId), or routeKey(swarmId, fileId) for a Map of your own.';

/** `piece` claiming to be `ref`, with whatever bytes it carries. */
function claiming(ref: PieceRef, data: Buffer): PieceMessage {
  return { ...pieceMessage(S1_A, 0), ...ref, data };
}

/** Indices 0..n-1 of each file, taken in turn from each: the pieces of several files interleaved. */
function interleaved(files: readonly FileSpec[]): [FileSpec, number][] {
  const order: [FileSpec, number][] = [];
  const most = Math.max(...files.map(pieceCount));
  for (let i = 0; i < most; i++) {
    for (const [f, spec] of files.entries()) {
      const index = f % 2 === 0 ? i : pieceCount(spec) - 1 - i;
      if (index >= 0 && index < pieceCount(spec)) order.push([spec, index]);
    }
  }
  return order;
}

scenario(
  '1 peer in 2 swarms that both have a.bin: routes each piece to the a.bin of its own swarm',
  async (world) => {
    const peer = await world.peer('P');
    await peer.learn(['s1', 's2'], [S1_A, S2_A]);
    for (const [spec, index] of interleaved([S1_A, S2_A]))
      await peer.expectStored(spec, index, BY_PAIR);
    await peer.expectFiles([S1_A, S2_A], BY_PAIR);
  },
);

scenario(
  '1 peer in swarms "1" and "11": keeps file "12" of swarm "1" apart from file "2" of swarm "11"',
  async (world) => {
    const peer = await world.peer('P');
    await peer.learn(['1', '11'], [ONE_12, ELEVEN_2]);
    for (const [spec, index] of interleaved([ONE_12, ELEVEN_2]))
      await peer.expectStored(spec, index, NO_CONCAT);
    await peer.expectFiles([ONE_12, ELEVEN_2], NO_CONCAT);
  },
);

scenario(
  '1 peer: rejects pieces of a swarm it has not joined with ERR_UNKNOWN_SWARM and writes nothing',
  async (world) => {
    const peer = await world.peer('P');
    // s2 is announced but not joined: the routing table ignores it, so its pieces are unknown too.
    await peer.learn(['s1'], [S1_A, S2_A]);
    const cause =
      'no route and no route of that swarm at all (!this.routes.knowsSwarm(swarmId)) means ' +
      "{ ok: false, code: 'ERR_UNKNOWN_SWARM', reason }, with nothing written.";
    for (const ref of [
      { swarmId: 's9', fileId: 'a.bin', index: 0 },
      { swarmId: 's2', fileId: 'a.bin', index: 0 },
    ]) {
      await peer.expectRejected(
        claiming(ref, pieceBytes(S2_A, 0)),
        refText(ref),
        'ERR_UNKNOWN_SWARM',
        [S1_A, S2_A],
        cause,
      );
    }
  },
);

scenario(
  '1 peer: rejects pieces of an unknown file in a known swarm with ERR_UNKNOWN_FILE and writes nothing',
  async (world) => {
    const peer = await world.peer('P');
    await peer.learn(['s1', 's2'], [S1_A, SHORT]);
    const cause =
      'no route although the swarm is known (this.routes.knowsSwarm(swarmId)) means ' +
      "{ ok: false, code: 'ERR_UNKNOWN_FILE', reason }, with nothing written.";
    for (const ref of [
      { swarmId: 's1', fileId: 'b.bin', index: 0 },
      { swarmId: 's1', fileId: 'A.BIN', index: 1 },
    ]) {
      await peer.expectRejected(
        claiming(ref, pieceBytes(S1_A, ref.index)),
        refText(ref),
        'ERR_UNKNOWN_FILE',
        [S1_A],
        cause,
      );
    }
  },
);

scenario(
  '1 peer: rejects piece indices past the last piece with ERR_PIECE_OUT_OF_RANGE and writes nothing',
  async (world) => {
    const peer = await world.peer('P');
    await peer.learn(['s1'], [S1_A]);
    const cause =
      "an index outside 0..pieceHashes.length-1 means { ok: false, code: 'ERR_PIECE_OUT_OF_RANGE' }; " +
      'check it before reading route.pieceHashes[index] (which is undefined there).';
    for (const index of [3, 4, 0xffffffff]) {
      const ref = { swarmId: 's1', fileId: 'a.bin', index };
      await peer.expectRejected(
        claiming(ref, pieceBytes(S1_A, 2)),
        refText(ref),
        'ERR_PIECE_OUT_OF_RANGE',
        [S1_A],
        cause,
      );
    }
  },
);

scenario(
  '1 peer: rejects pieces whose bytes fail their hash with ERR_HASH_MISMATCH before writePiece, then stores the genuine ones',
  async (world) => {
    const peer = await world.peer('P');
    await peer.learn(['s1', 's2'], [S1_A, S2_A]);
    const cause =
      'check verifyPiece(data, route.pieceHashes[index]) BEFORE this.files.writePiece: a store ' +
      "need not check hashes for you. On a mismatch resolve { ok: false, code: 'ERR_HASH_MISMATCH' }.";
    const flipped = Buffer.from(pieceBytes(S1_A, 1));
    flipped[100] = (flipped[100] as number) ^ 0x01;
    const fakes: [PieceMessage, string][] = [
      [
        claiming({ swarmId: 's1', fileId: 'a.bin', index: 1 }, flipped),
        '("s1", "a.bin") #1 with one bit flipped',
      ],
      [
        claiming({ swarmId: 's1', fileId: 'a.bin', index: 2 }, pieceBytes(S1_A, 0)),
        '("s1", "a.bin") #2 carrying the bytes of #0',
      ],
      [
        claiming({ swarmId: 's1', fileId: 'a.bin', index: 0 }, pieceBytes(S2_A, 0)),
        '("s1", "a.bin") #0 carrying the bytes of ("s2", "a.bin") #0',
      ],
    ];
    for (const [piece, label] of fakes)
      await peer.expectRejected(piece, label, 'ERR_HASH_MISMATCH', [S1_A, S2_A], cause);
    const afterwards =
      'a rejected piece must leave no trace: the genuine piece with the same index is stored when it comes.';
    for (const index of [1, 2, 0]) await peer.expectStored(S1_A, index, afterwards);
  },
);

scenario(
  '1 peer: stores a short last piece checked against its own hash, and rejects it padded to full length',
  async (world) => {
    const peer = await world.peer('P');
    await peer.learn(['s1'], [SHORT]);
    const padded = Buffer.alloc(SHORT.pieceLength);
    pieceBytes(SHORT, 2).copy(padded);
    await peer.expectRejected(
      claiming({ swarmId: 's1', fileId: 'short.bin', index: 2 }, padded),
      '("s1", "short.bin") #2 padded with zeros to 4096 bytes',
      'ERR_HASH_MISMATCH',
      [SHORT],
      'the last piece is shorter than pieceLength; its hash covers only its own bytes, so the padded copy must fail verifyPiece.',
    );
    await peer.expectStored(
      SHORT,
      2,
      'a short last piece is valid: verify it with verifyPiece(data, route.pieceHashes[index]) rather than comparing its length with pieceLength.',
    );
  },
);

scenario(
  '1 peer, 1 fake seeder, 2 swarms with clashing IDs: routes the pieces of both swarms arriving interleaved on one connection',
  async (world) => {
    const files = [
      fileSpec('1', '12', { pieces: 3 }),
      fileSpec('1', 'a.bin', { pieces: 3, lastPiece: 700 }),
      fileSpec('11', '2', { pieces: 3 }),
      fileSpec('11', 'a.bin', { pieces: 3 }),
    ];
    const total = files.reduce((sum, f) => sum + pieceCount(f), 0);
    await FakeSeeder.start(world, 'F', {
      files,
      // Every request kept until all are in, then answered in one write, swarms alternating.
      batch: {
        size: total,
        order: (asked) => {
          const byFile = files.map((f) =>
            asked.filter((r) => r.swarmId === f.swarmId && r.fileId === f.fileId).reverse(),
          );
          const order: PieceRef[] = [];
          while (byFile.some((list) => list.length > 0)) {
            for (const list of [byFile[2], byFile[0], byFile[3], byFile[1]]) {
              const next = list?.shift();
              if (next) order.push(next);
            }
          }
          return order;
        },
      },
    });
    const peer = await world.peer('D');
    await peer.expectDownload(
      ['1', '11'],
      files,
      `${BY_PAIR} Pieces of several swarms arrive interleaved on one connection, and several routePiece calls run at once: keep no "current file" state between them.`,
    );
  },
);
