/**
 * Reference solution of Lab 9: the two methods of lab9/src/peer/peer.ts, filled in.
 * Never shipped to students (npm run export:student refuses to copy it). Everything else is
 * imported from lab9/, so this file stays exactly what a student writes.
 */
import type { Duplex } from 'node:stream';
import { ProtocolError } from '../lab9/src/errors';
import { MAX_QUEUED_REPLY_BYTES } from '../lab9/src/limits';
import { encodeFrameChunks } from '../lab9/src/protocol/frame-codec';
import { type DecodedFrame, FrameDecoder } from '../lab9/src/protocol/frame-decoder';
import {
  type GetPieceMessage,
  type Message,
  MessageType,
  type PieceMessage,
  WireErrorCode,
  messageName,
} from '../lab9/src/protocol/message-types';
import type { RouteResult } from '../lab9/src/peer/download-manager';
import { PeerCore } from '../lab9/src/peer/peer-core';
import { verifyPiece } from '../lab9/src/storage/piece-hash';

export class Peer extends PeerCore {
  handleClient(socket: Duplex): void {
    const decoder = new FrameDecoder();
    /** Requests read but not yet answered: the socket is ended only when this reaches 0. */
    let pending = 0;
    let clientEnded = false;
    let paused = false;

    const send = (message: Message): void => {
      if (socket.destroyed || !socket.writable) return;
      // A PIECE comes as [header, data]: written corked, they leave in one write and the
      // piece is never copied into a frame-sized Buffer (encodeFrame would copy it).
      socket.cork();
      let flushed = true;
      for (const chunk of encodeFrameChunks(message)) flushed = socket.write(chunk);
      socket.uncork();
      if (!flushed && !paused && socket.writableLength > MAX_QUEUED_REPLY_BYTES) {
        // A client that does not read its answers stops being read until it catches up.
        paused = true;
        socket.pause();
        socket.once('drain', () => {
          paused = false;
          socket.resume();
        });
      }
    };
    const endIfDone = (): void => {
      if (clientEnded && pending === 0 && !socket.destroyed) socket.end();
    };

    const serve = async (request: GetPieceMessage): Promise<void> => {
      pending += 1;
      const { swarmId, fileId, index } = request;
      try {
        const data = await this.files.readPiece(swarmId, fileId, index);
        send({ type: MessageType.Piece, swarmId, fileId, index, data });
      } catch (error) {
        send(this.errorReply(error, request));
      } finally {
        pending -= 1;
        endIfDone();
      }
    };

    const onFrame = (frame: DecodedFrame): void => {
      if (!frame.ok) return send(this.errorReply(frame.error, null));
      const message = frame.message;
      switch (message.type) {
        case MessageType.Hello:
          for (const reply of this.greeting()) send(reply);
          return;
        case MessageType.Ping:
          return send(this.pong(message));
        case MessageType.GetPiece:
          void serve(message);
          return;
        case MessageType.Pong:
          return;
        default:
          return send({
            type: MessageType.Error,
            code: WireErrorCode.MalformedRequest,
            message: `unexpected ${messageName(message.type)} from a client: send HELLO, PING or GET_PIECE`,
            request: null,
          });
      }
    };

    socket.on('data', (chunk: Buffer) => {
      let frames: DecodedFrame[];
      try {
        frames = decoder.push(chunk);
      } catch (error) {
        if (!(error instanceof ProtocolError)) throw error;
        send(this.errorReply(error, null));
        socket.destroy();
        return;
      }
      for (const frame of frames) onFrame(frame);
    });
    socket.on('end', () => {
      clientEnded = true;
      endIfDone();
    });
    // A client that resets the connection is not our failure; 'close' follows.
    socket.on('error', () => {});
  }

  routePiece(piece: PieceMessage): Promise<RouteResult> {
    const { swarmId, fileId, index, data } = piece;
    const route = this.routes.lookup(swarmId, fileId);
    if (!route) {
      return Promise.resolve(
        this.routes.knowsSwarm(swarmId)
          ? reject('ERR_UNKNOWN_FILE', `swarm ${swarmId} has no file ${fileId}`)
          : reject('ERR_UNKNOWN_SWARM', `no route for swarm ${swarmId}`),
      );
    }
    const expected = route.pieceHashes[index];
    if (!Number.isInteger(index) || expected === undefined) {
      return Promise.resolve(
        reject('ERR_PIECE_OUT_OF_RANGE', `file ${fileId} has ${route.pieceHashes.length} pieces`),
      );
    }
    if (!verifyPiece(data, expected)) {
      return Promise.resolve(
        reject('ERR_HASH_MISMATCH', `piece ${index} of ${fileId} does not match its SHA-256`),
      );
    }
    return this.files
      .writePiece(swarmId, fileId, index, data)
      .then((stored): RouteResult => ({ ok: true, stored }));
  }
}

function reject(code: Extract<RouteResult, { ok: false }>['code'], reason: string): RouteResult {
  return { ok: false, code, reason };
}
