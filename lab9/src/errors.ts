/**
 * Typed errors for the whole kit: one base class, a stable `code` per failure, `cause` kept.
 * Codes that can cross the wire map one-to-one onto the ERROR message's numeric codes
 * (`WireErrorCode` in protocol/message-types.ts); docs/protocol.md lists every code.
 */

/** Every code a kit error can carry. Stable: graders and docs match on these strings. */
export type ErrorCodeName =
  // Answered on the wire in an ERROR message:
  | 'ERR_MALFORMED_REQUEST'
  | 'ERR_UNKNOWN_SWARM'
  | 'ERR_UNKNOWN_FILE'
  | 'ERR_PIECE_OUT_OF_RANGE'
  | 'ERR_PIECE_NOT_AVAILABLE'
  | 'ERR_INTERNAL'
  // Framing: the stream is unusable, the connection is closed:
  | 'ERR_FRAME_TOO_LARGE'
  | 'ERR_TRUNCATED_FRAME'
  | 'ERR_UNKNOWN_MESSAGE_TYPE'
  // Storage:
  | 'ERR_HASH_MISMATCH'
  | 'ERR_INVALID_ID'
  | 'ERR_FILE_EXISTS'
  // Transfers and lifecycle:
  | 'ERR_REQUEST_TIMEOUT'
  | 'ERR_CONNECTION_CLOSED'
  | 'ERR_DOWNLOAD_STALLED'
  | 'ERR_PEER_STOPPED'
  | 'ERR_NOT_IMPLEMENTED';

export interface Lab9ErrorOptions {
  readonly cause?: unknown;
}

/** Base class: `instanceof Lab9Error` separates a peer's misbehaviour from a bug (TypeError...). */
export class Lab9Error extends Error {
  readonly code: ErrorCodeName;

  constructor(code: ErrorCodeName, message: string, options: Lab9ErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
  }
}

/** The bytes a remote peer sent cannot be decoded (framing or message layout). */
export class ProtocolError extends Lab9Error {}

/** A request names something this peer does not have (swarm, file, piece) or is not valid. */
export class RequestError extends Lab9Error {}

/** FileManager refused an operation: bad ID, hash mismatch, duplicate file. */
export class StorageError extends Lab9Error {}

/** A transfer could not finish: timeout, closed connection, no peer left to ask. */
export class TransferError extends Lab9Error {}

/** A student TODO that has not been written yet. The message names the part, e.g. "(9A)". */
export class NotImplementedError extends Lab9Error {
  constructor(what: string) {
    super(
      'ERR_NOT_IMPLEMENTED',
      `${what} is not implemented yet: this is your TODO in lab9/src/peer/peer.ts`,
    );
  }
}

/** True for errors caused by a remote peer or by input, false for bugs that must stay loud. */
export function isLab9Error(error: unknown): error is Lab9Error {
  return error instanceof Lab9Error;
}
