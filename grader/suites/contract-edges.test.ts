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

scenario(
  '1 peer: gives every rejected piece a reason a person can read, whatever its code',
  async (world) => {
    const peer = await world.peer('P');
    await peer.learn(['s1'], [S1_A]);
    const genuine = pieceMessage(S1_A, 1);
    const cases: { readonly code: string; readonly piece: PieceMessage }[] = [
      { code: 'ERR_UNKNOWN_SWARM', piece: { ...genuine, swarmId: 's9' } },
      { code: 'ERR_UNKNOWN_FILE', piece: { ...genuine, fileId: 'b.bin' } },
      { code: 'ERR_PIECE_OUT_OF_RANGE', piece: { ...genuine, index: 3 } },
      { code: 'ERR_HASH_MISMATCH', piece: { ...genuine, data: pieceBytes(S1_A, 2) } },
    ];
    for (const { code, piece } of cases) {
      const label = `${refText(piece)}, which must be rejected with ${code}`;
      const { outcome } = await peer.route(piece, label);
      const resolved: unknown = 'resolved' in outcome ? outcome.resolved : undefined;
      const reason = (resolved as { reason?: unknown } | undefined)?.reason;
      const rejectedWithCode = (resolved as { code?: unknown } | undefined)?.code === code;
      if (!rejectedWithCode || typeof reason !== 'string' || reason.trim() === '') {
        await world.fail({
          summary: `routePiece(${label}) gave no reason for the rejection.`,
          expected: `{ ok: false, code: '${code}', reason } where reason is a sentence, e.g. "piece 3 of a.bin is out of range"`,
          happened:
            'threw' in outcome
              ? `it threw ${outcome.threw.name}: ${outcome.threw.message}`
              : `it resolved ${JSON.stringify(resolved)}`,
          likelyCause:
            'the DownloadManager shows `reason` in its "rejected" event, the only trace a user ' +
            'gets of a bad piece: say what was wrong (no route, which index, which hash), never "".',
        });
      }
      world.step(`the rejection says: ${JSON.stringify(reason)}`);
    }
  },
);
