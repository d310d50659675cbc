/**
 * The messages peers exchange, named once. Each message is a variant of the `Message`
 * discriminated union, so every `switch (message.type)` can be checked for exhaustiveness.
 * Below: frame-codec.ts turns these into bytes and back; docs/protocol.md shows each layout.
 */

/** The first byte of every frame body. Values are part of the wire format: never renumber. */
export enum MessageType {
  Hello = 1,
  Announce = 2,
  Bitfield = 3,
  Have = 4,
  GetPiece = 5,
  Piece = 6,
  Error = 7,
  Ping = 8,
  Pong = 9,
}

/** Numeric codes carried by ERROR messages. Values are part of the wire format. */
export enum WireErrorCode {
  MalformedRequest = 1,
  UnknownSwarm = 2,
  UnknownFile = 3,
  PieceOutOfRange = 4,
  PieceNotAvailable = 5,
  Internal = 6,
}

/** Identifies one piece of one file of one swarm: what GET_PIECE asks for and PIECE carries. */
export interface PieceRef {
  readonly swarmId: string;
  readonly fileId: string;
  /** Zero-based piece index within the file. */
  readonly index: number;
}

/** First message on every connection, both ways: who is speaking. */
export interface HelloMessage {
  readonly type: MessageType.Hello;
  readonly peerId: string;
}

/** One file as an existing peer describes it to a newcomer: enough to route and verify pieces. */
export interface FileAnnouncement {
  readonly fileId: string;
  /** Bytes in the whole file; the last piece holds the remainder and may be short. */
  readonly fileLength: number;
  /** Bytes per piece, except possibly the last. */
  readonly pieceLength: number;
  /** SHA-256 of every piece, in index order: `pieceHashes.length` is the piece count. */
  readonly pieceHashes: readonly Buffer[];
}

export interface SwarmAnnouncement {
  readonly swarmId: string;
  readonly files: readonly FileAnnouncement[];
}

/** Sent by an existing peer to a peer that has just joined: the swarms and files it serves. */
export interface AnnounceMessage {
  readonly type: MessageType.Announce;
  readonly swarms: readonly SwarmAnnouncement[];
}

/** Which pieces of one file the sender holds: bit i (most significant bit first) is piece i. */
export interface BitfieldMessage {
  readonly type: MessageType.Bitfield;
  readonly swarmId: string;
  readonly fileId: string;
  readonly bits: Buffer;
}

/** The sender has just stored one more piece. */
export interface HaveMessage extends PieceRef {
  readonly type: MessageType.Have;
}

/** Please send this piece. Answered by PIECE or by ERROR naming the same piece. */
export interface GetPieceMessage extends PieceRef {
  readonly type: MessageType.GetPiece;
}

/** One piece's bytes. `data` may be a view into a larger buffer: copy it if you keep it long. */
export interface PieceMessage extends PieceRef {
  readonly type: MessageType.Piece;
  readonly data: Buffer;
}

/** A request could not be answered. `request` names the piece asked for, when there was one. */
export interface ErrorMessage {
  readonly type: MessageType.Error;
  readonly code: WireErrorCode;
  readonly message: string;
  readonly request: PieceRef | null;
}

/** Liveness check; the receiver answers PONG with the same nonce. */
export interface PingMessage {
  readonly type: MessageType.Ping;
  readonly nonce: number;
}

export interface PongMessage {
  readonly type: MessageType.Pong;
  readonly nonce: number;
}

export type Message =
  | HelloMessage
  | AnnounceMessage
  | BitfieldMessage
  | HaveMessage
  | GetPieceMessage
  | PieceMessage
  | ErrorMessage
  | PingMessage
  | PongMessage;

/** Upper-case wire names, as the handout and error messages spell them. */
export const MESSAGE_NAMES: Readonly<Record<MessageType, string>> = {
  [MessageType.Hello]: 'HELLO',
  [MessageType.Announce]: 'ANNOUNCE',
  [MessageType.Bitfield]: 'BITFIELD',
  [MessageType.Have]: 'HAVE',
  [MessageType.GetPiece]: 'GET_PIECE',
  [MessageType.Piece]: 'PIECE',
  [MessageType.Error]: 'ERROR',
  [MessageType.Ping]: 'PING',
  [MessageType.Pong]: 'PONG',
};

/** The name of a message type byte, or `type 0xNN` for bytes no message uses. */
export function messageName(type: number): string {
  return (MESSAGE_NAMES as Partial<Record<number, string>>)[type] ?? `type 0x${hex2(type)}`;
}

function hex2(n: number): string {
  return n.toString(16).padStart(2, '0');
}

/** The string error code matching each wire code: one table, used both ways. */
export const WIRE_ERROR_CODES = {
  [WireErrorCode.MalformedRequest]: 'ERR_MALFORMED_REQUEST',
  [WireErrorCode.UnknownSwarm]: 'ERR_UNKNOWN_SWARM',
  [WireErrorCode.UnknownFile]: 'ERR_UNKNOWN_FILE',
  [WireErrorCode.PieceOutOfRange]: 'ERR_PIECE_OUT_OF_RANGE',
  [WireErrorCode.PieceNotAvailable]: 'ERR_PIECE_NOT_AVAILABLE',
  [WireErrorCode.Internal]: 'ERR_INTERNAL',
} as const satisfies Record<WireErrorCode, string>;

export type WireErrorCodeName = (typeof WIRE_ERROR_CODES)[WireErrorCode];

/** The wire code for an error code name, or `undefined` if that error never crosses the wire. */
export function wireCodeOf(code: string): WireErrorCode | undefined {
  for (const [wire, name] of Object.entries(WIRE_ERROR_CODES)) {
    if (name === code) return Number(wire);
  }
  return undefined;
}
