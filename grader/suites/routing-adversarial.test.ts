/**
 * 9B against hostile input (hidden suite): a seeder that pushes pieces of unknown swarms and
 * files, out-of-range pieces and corrupted pieces, while an honest one holds the real data;
 * IDs that collide under any one-character separator; and pieces that name one file but carry
 * the genuine bytes of another. Nothing wrong may ever reach writePiece.
 */
import type { PieceMessage } from '../../lab9/src/protocol/message-types';
import { FakeSeeder } from '../harness/fake-seeder';
import { type FileSpec, fileSpec, pieceBytes, pieceMessage, pieceRef } from '../harness/data';
import { refText } from '../harness/format';
import { scenario } from '../harness/scenario';

const NEVER_WRITE =
  'routePiece must reject every piece it cannot place and verify the hash of every other one ' +
  'BEFORE this.files.writePiece; a rejected piece is asked again from another peer.';

scenario(
  '1 peer, 2 fake seeders, one lying: never writes the pushed pieces of unknown swarms, unknown files, out-of-range indices or bad hashes, and completes from the honest one',
  async (world) => {
    const files = [fileSpec('s1', 'a.bin', { pieces: 6 }), fileSpec('s1', 'b.bin', { pieces: 4 })];
    const [aBin, bBin] = files as [FileSpec, FileSpec];
    const lie = (
      ref: { swarmId: string; fileId: string; index: number },
      data: Buffer,
    ): PieceMessage => ({
      ...pieceMessage(aBin, 0),
      ...ref,
      data,
    });
    const flipped = Buffer.from(pieceBytes(bBin, 3));
    flipped[0] = (flipped[0] as number) ^ 0x80;
    const pushed = [
      lie({ swarmId: 's9', fileId: 'a.bin', index: 0 }, pieceBytes(aBin, 0)),
      lie({ swarmId: 's1', fileId: 'c.bin', index: 0 }, pieceBytes(aBin, 0)),
      lie({ swarmId: 's1', fileId: 'a.bin', index: 6 }, pieceBytes(aBin, 5)),
      lie({ swarmId: 's1', fileId: 'b.bin', index: 3 }, flipped),
      lie({ swarmId: 's1', fileId: 'b.bin', index: 1 }, pieceBytes(aBin, 1)),
    ];
    await FakeSeeder.start(world, 'LIAR', { files, corrupt: true, unasked: pushed });
    const honest = await FakeSeeder.start(world, 'HONEST', { files, gated: true });
    const peer = await world.peer('D');
    const download = peer.startDownload(['s1']);
    await peer.expectPushedRejected(pushed, download, files, NEVER_WRITE);
    honest.open();
    await peer.expectDownloaded(download, files, NEVER_WRITE);
  },
);

scenario(
  '1 peer in 7 swarms whose IDs collide when joined, with or without a separator character: routes every piece to its own file',
  async (world) => {
    // ("swxy", "f") and ("sw", "xyf") are one key for `${swarmId}${fileId}`, ("sw:xy", "f") and
    // ("sw", "xy:f") one key for `${swarmId}:${fileId}`, and so on for each separator.
    const files: FileSpec[] = [
      fileSpec('swxy', 'f', { pieces: 2 }),
      fileSpec('sw', 'xyf', { pieces: 2 }),
    ];
    for (const sep of [':', '|', '-', ' ', ',']) {
      files.push(
        fileSpec(`sw${sep}xy`, 'f', { pieces: 2 }),
        fileSpec('sw', `xy${sep}f`, { pieces: 2 }),
      );
    }
    const peer = await world.peer('P');
    await peer.learn([...new Set(files.map((f) => f.swarmId))], files);
    const cause =
      'a key joined with a separator — `${swarmId}:${fileId}` — collides as soon as an ID contains ' +
      'the separator: ("sw:xy", "f") and ("sw", "xy:f"). Use this.routes.lookup(swarmId, fileId) or routeKey().';
    for (const index of [0, 1]) {
      for (const spec of files) await peer.expectStored(spec, index, cause);
    }
    await peer.expectFiles(files, cause);
  },
);

scenario(
  '1 peer in 2 swarms: rejects pieces that name one file but carry the genuine bytes of another',
  async (world) => {
    const small = fileSpec('s1', 'a.bin', { pieces: 3 });
    const large = fileSpec('s2', 'a.bin', { pieces: 6 });
    const peer = await world.peer('P');
    await peer.learn(['s1', 's2'], [small, large]);
    const cause =
      "the piece says which file it is for; its bytes must match THAT file's hash at THAT index. " +
      'Do not look for a file whose hash happens to match, nor for one with the same file ID.';
    const claim = (index: number, from: FileSpec, fromIndex: number): PieceMessage => ({
      ...pieceMessage(small, 0),
      index,
      data: pieceBytes(from, fromIndex),
    });
    await peer.expectRejected(
      claim(1, large, 1),
      `${refText(pieceRef(small, 1))} carrying the bytes of ${refText(pieceRef(large, 1))}`,
      'ERR_HASH_MISMATCH',
      [small, large],
      cause,
    );
    await peer.expectRejected(
      claim(4, large, 4),
      `${refText(pieceRef(small, 4))} carrying the bytes of ${refText(pieceRef(large, 4))}`,
      'ERR_PIECE_OUT_OF_RANGE',
      [small, large],
      cause,
    );
    await peer.expectRejected(
      claim(0, small, 2),
      `${refText(pieceRef(small, 0))} carrying the bytes of ${refText(pieceRef(small, 2))}`,
      'ERR_HASH_MISMATCH',
      [small, large],
      cause,
    );
  },
);
