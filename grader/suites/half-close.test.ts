/**
 * 9A, clients that end their side (half-close) while other things are going on: another
 * client's read held back, an ERROR just answered, a read that failed, a last request that
 * rides with the FIN. Each ending client gets every answer, then the peer ends that connection
 * and no other. Reads are held in the store and released by the test, never timed.
 */
import { encodeFrame } from '../../lab9/src/protocol/frame-codec';
import { MessageType, WireErrorCode } from '../../lab9/src/protocol/message-types';
import { PipeClient, TcpClient } from '../harness/clients';
import { fileSpec, pieceRef } from '../harness/data';
import { scenario } from '../harness/scenario';

const FILE = fileSpec('s1', 'data.bin', { pieces: 4 });

const END_WHEN_ANSWERED =
  "on the socket's 'end', end your side once every request of THAT client is answered: keep the " +
  "count of pending requests and the 'ended' flag in handleClient's closure, and check them " +
  'again each time a request of that client finishes, whether it was answered with a PIECE or an ERROR.';

scenario(
  "1 seeder, 2 clients: ends client B's connection once B half-closes and has its answer, while client A's read is still held back",
  async (world) => {
    const seeder = await world.peer('S', { seeds: [FILE] });
    await seeder.hold([pieceRef(FILE, 0)]);
    const a = await PipeClient.open(world, 'client A', seeder);
    a.send({ type: MessageType.GetPiece, ...pieceRef(FILE, 0) });
    await seeder.waitForHeld(1, {
      expected: "client A's GET_PIECE #0 to reach this.files.readPiece",
      likelyCause: 'handleClient does not call this.files.readPiece for a GET_PIECE.',
    });
    const b = await PipeClient.open(world, 'client B', seeder);
    b.send({ type: MessageType.GetPiece, ...pieceRef(FILE, 1) });
    b.end();
    await b.expectPiece(FILE, 1, END_WHEN_ANSWERED);
    await b.expectPeerToFinish(
      "the peer to end client B's connection: B ended its side and has its only answer, while A's read is held",
      `${END_WHEN_ANSWERED} Client A's pending read is not client B's: is the count of pending requests kept on the Peer, shared by all clients?`,
    );
    await seeder.releaseAll();
    await a.expectPiece(
      FILE,
      0,
      "client B's end must not touch client A's connection: per-client state belongs in handleClient's closure.",
    );
    a.end();
    await a.expectPeerToFinish(
      "the peer to end client A's connection once A ended its side and has its answer",
      END_WHEN_ANSWERED,
    );
  },
);

scenario(
  '1 seeder, 2 clients: ends the connection of client A, which half-closes after an ERROR for a malformed frame, and of client B, which half-closes after a failed read',
  async (world) => {
    const seeder = await world.peer('S', { seeds: [FILE] });
    const a = await PipeClient.open(world, 'client A', seeder);
    const whole = encodeFrame({ type: MessageType.GetPiece, ...pieceRef(FILE, 0) });
    const truncated = Buffer.from(whole.subarray(0, 4 + 1 + 1 + 2 + 1));
    truncated.writeUInt32BE(truncated.length - 4, 0);
    a.sendBytes(truncated, 'a GET_PIECE frame whose body stops inside the swarm ID');
    await a.expectError(
      WireErrorCode.MalformedRequest,
      null,
      'a frame that decodes to { ok: false } is answered with this.errorReply(frame.error, null).',
    );
    a.end();
    await a.expectPeerToFinish(
      "the peer to end client A's connection: A ended its side and nothing it asked is pending",
      `${END_WHEN_ANSWERED} A malformed frame is no pending request.`,
    );
    const b = await PipeClient.open(world, 'client B', seeder);
    const missing = { swarmId: 's1', fileId: 'nope.bin', index: 0 };
    b.send({ type: MessageType.GetPiece, ...missing });
    await b.expectError(
      WireErrorCode.UnknownFile,
      missing,
      'when readPiece throws, send this.errorReply(error, request).',
    );
    b.end();
    await b.expectPeerToFinish(
      "the peer to end client B's connection: B ended its side and its one request was answered with an ERROR",
      `${END_WHEN_ANSWERED} A read that throws still finishes its request: count it down in a finally block.`,
    );
  },
);

scenario(
  '1 seeder, 1 client over TCP: answers the 2 GET_PIECEs that arrive with the FIN while an earlier read is held back, then ends',
  async (world) => {
    const seeder = await world.peer('S', { seeds: [FILE] });
    await seeder.hold([pieceRef(FILE, 0)]);
    const a = await TcpClient.connect(world, 'client A', seeder);
    a.send({ type: MessageType.GetPiece, ...pieceRef(FILE, 0) });
    await seeder.waitForHeld(1, {
      expected: "client A's GET_PIECE #0 to reach this.files.readPiece",
      likelyCause: 'handleClient does not call this.files.readPiece for a GET_PIECE.',
    });
    a.endWith(
      Buffer.concat(
        [2, 3].map((i) => encodeFrame({ type: MessageType.GetPiece, ...pieceRef(FILE, i) })),
      ),
      'GET_PIECE #2 and #3 in one write',
    );
    const cause =
      "requests that arrive together with the client's end are requests like any other: answer " +
      "them, and end your side only when they and the held one are answered (not at 'end', not " +
      'when the first read finishes).';
    await a.expectPiece(FILE, 2, cause);
    await a.expectPiece(FILE, 3, cause);
    await seeder.waitUntilSaw(a.connection, 'end', 'client A');
    await seeder.releaseAll();
    await a.expectPiece(FILE, 0, cause);
    await a.expectPeerToFinish(
      'the peer to end its side once the 3 answers are sent',
      END_WHEN_ANSWERED,
    );
  },
);
