/**
 * Edges of the contract that mutation testing of the reference (npm run mutation,
 * docs/mutation.md) showed no other scenario checks: each scenario here exists because a
 * one-line change to solution/peer.ts passed every other graded test. Same harness as the
 * other suites: peers in the host thread, clients and routePiece calls from the test.
 */
import type { PieceMessage } from '../../lab9/src/protocol/message-types';
import { fileSpec, pieceBytes, pieceMessage } from '../harness/data';
import { refText } from '../harness/format';
import { scenario } from '../harness/scenario';

const S1_A = fileSpec('s1', 'a.bin', { pieces: 3 });

scenario('1 peer: gives every piece it rejects a reason a person can read', async (world) => {
  const peer = await world.peer('P');
  await peer.learn(['s1'], [S1_A]);
  const genuine = pieceMessage(S1_A, 1);
  // One piece per rejection code. Which code each gets is graded by the routing suites; here
  // only the reason of whatever is rejected counts, so a wrong code costs nothing twice.
  const pieces: { readonly why: string; readonly piece: PieceMessage }[] = [
    { why: 'a swarm never seen', piece: { ...genuine, swarmId: 's9' } },
    { why: 'a file its swarm does not have', piece: { ...genuine, fileId: 'b.bin' } },
    { why: 'an index past the last piece', piece: { ...genuine, index: 3 } },
    { why: 'the bytes of another piece', piece: { ...genuine, data: pieceBytes(S1_A, 2) } },
  ];
  for (const { why, piece } of pieces) {
    const label = `${refText(piece)}, ${why}`;
    const { outcome } = await peer.route(piece, label);
    if (!('resolved' in outcome)) continue;
    const resolved = outcome.resolved as { ok?: unknown; code?: unknown; reason?: unknown };
    if (resolved.ok !== false) continue;
    const { reason } = resolved;
    if (typeof reason !== 'string' || reason.trim() === '') {
      await world.fail({
        summary: `routePiece(${label}) rejected it without a reason.`,
        expected: `{ ok: false, code, reason } where reason says what was wrong, e.g. "piece 3 of a.bin is out of range"`,
        happened: `it resolved ${JSON.stringify(resolved)}`,
        likelyCause:
          'the DownloadManager puts `reason` in its "rejected" event, the only trace a user ' +
          'gets of a bad piece: say what was wrong (no route, which index, which hash), never "".',
      });
    }
    world.step(`the rejection says ${JSON.stringify(reason)}`);
  }
});
