/**
 * Lab 9 — handling clients and routing data. THIS IS THE FILE YOU EDIT.
 *
 * `Peer` is a complete peer-to-peer node except for two methods: `handleClient` (9A, the server
 * side) and `routePiece` (9B, the client side). Everything they need is provided: the codec in
 * ../protocol/, storage in `this.files`, the routing table in `this.routes`, and the helpers of
 * PeerCore (peer-core.ts). Self-check with `npm test`; the handout is docs/handout.md.
 */
import type { Duplex } from 'node:stream';
import { NotImplementedError } from '../errors';
import type { PieceMessage } from '../protocol/message-types';
import type { RouteResult } from './download-manager';
import { PeerCore } from './peer-core';

export class Peer extends PeerCore {
  // You may add private fields here (per-client state belongs in handleClient's closure).

  // TODO(9A): handleClient — serve one connected client.
  //
  // Receives: `socket`, a byte stream to one client, already connected. The UploadManager calls
  // you once per client and does not wait for you: return as soon as the socket is wired up.
  //
  // Must guarantee:
  // - Framing: the bytes arrive in arbitrary chunks. Feed every chunk to ONE `FrameDecoder`
  //   (../protocol/frame-decoder.ts) per client and handle EVERY frame `push()` returns: a chunk
  //   may hold half a frame, or ten. Reply with `socket.write(encodeFrame(message))`.
  // - HELLO → send every message of `this.greeting()` (your HELLO, ANNOUNCE, BITFIELDs), in order.
  //   PING → send `this.pong(ping)` (the worked example of an answer).
  //   GET_PIECE → `await this.files.readPiece(swarmId, fileId, index)` and send a PIECE with the
  //   same swarmId, fileId, index and the bytes, or, if it throws, `this.errorReply(error, request)`.
  //   Answer GET_PIECE whether or not HELLO came first; answers may leave in any order.
  // - Concurrency: many clients at once, and several requests per client. A client that stalls
  //   mid-frame, or whose readPiece takes long, must not delay any other client. Never make one
  //   client's work wait for another's (no shared queue, lock or loop over clients).
  //
  // Errors (answer and keep serving, unless said otherwise):
  // - a frame that decodes to `{ ok: false }` (a malformed request): ERROR with
  //   `this.errorReply(frame.error, null)`;
  // - any other message type from a client (PIECE, ANNOUNCE...): ERROR ERR_MALFORMED_REQUEST;
  //   PONG may be ignored;
  // - `push()` THROWS (ERR_FRAME_TOO_LARGE): the stream is unusable; destroy this socket only;
  // - the client vanishes (socket 'error' or 'close', even while a read is pending): stop
  //   writing to it and never crash; a socket 'error' without a listener crashes the process.
  // - the client ends its side ('end'): finish answering what it asked, then `socket.end()`.
  //
  // Hint: the classic bug is `const [frame] = decoder.push(chunk)`, which drops every frame
  // but the first of a chunk. The second is `await`ing a read inside the 'data' handler of a
  // shared queue, which serves the class one client at a time.
  handleClient(socket: Duplex): void {
    void socket;
    throw new NotImplementedError('Peer.handleClient (9A)');
  }

  // TODO(9B): routePiece — put one arriving piece in the right file.
  //
  // Receives: a PIECE message (swarmId, fileId, index, data) from any connected peer. Pieces of
  // several swarms arrive interleaved, on one connection and from several peers at once. The
  // DownloadManager calls you for each and, if you reject it, asks another peer for that piece.
  //
  // Must guarantee:
  // - Route by the PAIR (swarmId, fileId): `this.routes.lookup(swarmId, fileId)`. Two swarms may
  //   both have a file "a.bin", and piece 3 exists in many files. The routing table is filled
  //   from the ANNOUNCE messages peers send when you connect (see RoutingTable.learn).
  // - Never store a piece that fails its hash: check `verifyPiece(data, route.pieceHashes[index])`
  //   (../storage/piece-hash.ts) BEFORE `this.files.writePiece(...)`. Pass `data` on as it is
  //   and never change it afterwards: the store may keep that very Buffer.
  // - Resolve `{ ok: true, stored }` where `stored` is what `writePiece` resolved (false if the
  //   piece was already held), or `{ ok: false, code, reason }` for a rejected piece. Do not throw
  //   for a bad piece: throwing means "bug" and stops the download.
  //
  // Errors, as `{ ok: false }`, with nothing written:
  // - no route and no route of that swarm at all (`!this.routes.knowsSwarm(swarmId)`):
  //   ERR_UNKNOWN_SWARM; no route but the swarm is known: ERR_UNKNOWN_FILE;
  // - index not an integer in 0..pieceHashes.length-1: ERR_PIECE_OUT_OF_RANGE;
  // - hash mismatch (a short last piece is still checked against its own hash): ERR_HASH_MISMATCH.
  //
  // Hint: a Map keyed by `${swarmId}${fileId}` sends ("1", "12") and ("11", "2") to the same
  // file. `this.routes` already keys pairs safely; if you keep your own map, use `routeKey`.
  routePiece(piece: PieceMessage): Promise<RouteResult> {
    void piece;
    return Promise.reject(new NotImplementedError('Peer.routePiece (9B)'));
  }
}
