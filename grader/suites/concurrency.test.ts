/**
 * 9A, several clients at once: a client that stalls mid-frame, or whose piece read is held back
 * by the test, must not delay anyone else, and forty clients are served at the same time.
 * Proven by construction: reads are held in the store and released by the test, never timed.
 */
import { encodeFrame } from '../../lab9/src/protocol/frame-codec';
import { MessageType } from '../../lab9/src/protocol/message-types';
import { PipeClient, TcpClient, fetchWholeFile } from '../harness/clients';
import { fileSpec, pieceCount, pieceRef } from '../harness/data';
import { scenario } from '../harness/scenario';

const FILE = fileSpec('s1', 'movie.bin', { pieces: 8 });

const ONE_AT_A_TIME =
  "client B waited while client A's read was held back: your handleClient seems to serve one " +
  'client at a time (a queue, lock or promise chain shared by all clients?). Start each ' +
  "client's reads without waiting for another client's.";

scenario(
  '1 seeder, 2 clients: serves client B while client A has sent half a frame and stalled, then answers A when the rest comes',
  async (world) => {
    const seeder = await world.peer('S', { seeds: [FILE] });
    const a = await PipeClient.open(world, 'client A', seeder);
    const second = encodeFrame({ type: MessageType.GetPiece, ...pieceRef(FILE, 1) });
    a.sendBytes(
      Buffer.concat([
        encodeFrame({ type: MessageType.GetPiece, ...pieceRef(FILE, 0) }),
        second.subarray(0, 9),
      ]),
      'a whole GET_PIECE #0 and the first 9 bytes of GET_PIECE #1, in one chunk',
    );
    // The answer to #0 proves the peer has read the chunk, half frame included.
    await a.expectPiece(
      FILE,
      0,
      'handle every complete frame of a chunk and keep the incomplete rest buffered for the next one.',
    );
    const b = await TcpClient.connect(world, 'client B', seeder);
    b.send({ type: MessageType.GetPiece, ...pieceRef(FILE, 2) });
    await b.expectPiece(
      FILE,
      2,
      "client B was not served while client A's frame was incomplete: each client needs its own " +
        'FrameDecoder (one per handleClient call, not one per peer), and a half frame must make ' +
        "handleClient return and wait for the next 'data' event, never loop or wait for it.",
      `a PIECE for ("s1", "movie.bin") #2 while client A is still in the middle of a frame`,
    );
    a.sendBytes(second.subarray(9), 'the remaining bytes of GET_PIECE #1');
    await a.expectPiece(
      FILE,
      1,
      "bytes of an incomplete frame must be kept until the rest arrives: feed every chunk to the same client's FrameDecoder.",
    );
  },
);

scenario(
  "1 seeder, 2 clients: serves client B while client A's piece read is held back, then answers A once it is released",
  async (world) => {
    const seeder = await world.peer('S', { seeds: [FILE] });
    await seeder.hold([pieceRef(FILE, 0)]);
    const a = await TcpClient.connect(world, 'client A', seeder);
    a.send({ type: MessageType.GetPiece, ...pieceRef(FILE, 0) });
    await seeder.waitForHeld(1, {
      expected: "client A's GET_PIECE to reach this.files.readPiece",
      likelyCause:
        'handleClient must call this.files.readPiece(swarmId, fileId, index) for each GET_PIECE.',
    });
    const b = await TcpClient.connect(world, 'client B', seeder);
    b.send({ type: MessageType.GetPiece, ...pieceRef(FILE, 1) });
    await b.expectPiece(
      FILE,
      1,
      ONE_AT_A_TIME,
      `a PIECE for ("s1", "movie.bin") #1 while client A's read is still held back`,
    );
    await seeder.releaseAll();
    await a.expectPiece(
      FILE,
      0,
      'once readPiece resolves, send the PIECE to the client that asked for it (keep the socket in the closure of that request).',
    );
  },
);

scenario(
  "1 seeder, 1 client: answers the 2nd and 3rd GET_PIECE of one write while the 1st one's read is held back",
  async (world) => {
    const seeder = await world.peer('S', { seeds: [FILE] });
    await seeder.hold([pieceRef(FILE, 0)]);
    const a = await PipeClient.open(world, 'client A', seeder);
    a.sendTogether([0, 1, 2].map((i) => ({ type: MessageType.GetPiece, ...pieceRef(FILE, i) })));
    await seeder.waitForHeld(1, {
      expected: "client A's GET_PIECE #0 to reach this.files.readPiece",
      likelyCause: 'handleClient must call this.files.readPiece for each GET_PIECE.',
    });
    const serial =
      "client A's later requests waited for its first read: are one client's requests served " +
      'one after another (a promise chain or queue per client, or `await` inside the loop over ' +
      "frames)? Start each GET_PIECE's read at once; answers may leave in any order.";
    await a.expectPiece(
      FILE,
      1,
      serial,
      `a PIECE for ("s1", "movie.bin") #1 while #0's read is held back`,
    );
    await a.expectPiece(
      FILE,
      2,
      serial,
      `a PIECE for ("s1", "movie.bin") #2 while #0's read is held back`,
    );
    await seeder.releaseAll();
    await a.expectPiece(
      FILE,
      0,
      'once readPiece resolves, send the PIECE to the client that asked for it.',
    );
  },
);

scenario(
  '1 seeder, 40 clients: has a read in progress for all 40 at once, then each downloads the whole file byte for byte',
  async (world) => {
    const CLIENTS = 40;
    const seeder = await world.peer('S', { seeds: [FILE] });
    await seeder.hold('all');
    const clients = await Promise.all(
      Array.from({ length: CLIENTS }, (_, i) =>
        TcpClient.connect(world, `client ${i + 1}`, seeder),
      ),
    );
    clients.forEach((client, i) => {
      client.quiet = true;
      client.send({ type: MessageType.GetPiece, ...pieceRef(FILE, i % pieceCount(FILE)) });
    });
    world.step(`each of the ${CLIENTS} clients sent one GET_PIECE`);
    await seeder.waitForHeld(CLIENTS, {
      expected: `a read in progress for each of the ${CLIENTS} clients at the same time`,
      likelyCause: ONE_AT_A_TIME.replace('client B waited', 'the other clients waited'),
    });
    await seeder.releaseAll();
    const cause = 'every client must get every piece it asks for, with the bytes of that piece.';
    await Promise.all(
      clients.map(async (client, i) => {
        await client.expectPiece(FILE, i % pieceCount(FILE), cause);
        await fetchWholeFile(client, FILE, cause);
      }),
    );
    world.step(`all ${CLIENTS} clients downloaded all ${pieceCount(FILE)} pieces`);
  },
);
