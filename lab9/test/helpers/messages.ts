/**
 * One or more examples of every message type, shared by the codec and the stream decoder tests:
 * unicode IDs, an ANNOUNCE of several swarms with a short last piece, an empty BITFIELD, ERROR
 * with and without the request it answers.
 */
import { type Message, MessageType, WireErrorCode } from '../../src/protocol/message-types';
import { sha256 } from '../../src/storage/piece-hash';
import { patternBytes } from './bytes';

/** A 32-byte SHA-256, different for each `n`. */
export function hashOf(n: number): Buffer {
  return sha256(Buffer.from(`piece ${n}`));
}

export interface Sample {
  /** Says what the sample shows, for test names. */
  readonly name: string;
  readonly message: Message;
}

export const SAMPLES: readonly Sample[] = [
  { name: 'HELLO', message: { type: MessageType.Hello, peerId: 'peer-1' } },
  {
    name: 'HELLO with a unicode peer ID',
    message: { type: MessageType.Hello, peerId: 'pär-🚀-ß' },
  },
  { name: 'ANNOUNCE of no swarm', message: { type: MessageType.Announce, swarms: [] } },
  {
    name: 'ANNOUNCE of 2 swarms with several files and a short last piece',
    message: {
      type: MessageType.Announce,
      swarms: [
        {
          swarmId: 'lectures',
          files: [
            // 2.5 pieces: the last piece holds 50 bytes.
            {
              fileId: 'a.bin',
              fileLength: 250,
              pieceLength: 100,
              pieceHashes: [1, 2, 3].map(hashOf),
            },
            { fileId: 'docs/ünï.txt', fileLength: 100, pieceLength: 100, pieceHashes: [hashOf(4)] },
            { fileId: 'empty', fileLength: 0, pieceLength: 100, pieceHashes: [] },
          ],
        },
        { swarmId: 'no-files-yet', files: [] },
        {
          swarmId: '数据',
          files: [{ fileId: 'a.bin', fileLength: 1, pieceLength: 4096, pieceHashes: [hashOf(5)] }],
        },
      ],
    },
  },
  {
    name: 'BITFIELD',
    message: {
      type: MessageType.Bitfield,
      swarmId: 's',
      fileId: 'f',
      bits: Buffer.from([0b1010_0000, 0xff]),
    },
  },
  {
    name: 'empty BITFIELD',
    message: { type: MessageType.Bitfield, swarmId: 's', fileId: 'f', bits: Buffer.alloc(0) },
  },
  { name: 'HAVE', message: { type: MessageType.Have, swarmId: 's', fileId: 'f', index: 7 } },
  {
    name: 'GET_PIECE of the largest index',
    message: { type: MessageType.GetPiece, swarmId: '1', fileId: '12', index: 0xffff_ffff },
  },
  {
    name: 'PIECE',
    message: {
      type: MessageType.Piece,
      swarmId: 'lectures',
      fileId: 'docs/a.txt',
      index: 3,
      data: patternBytes(1000, 1),
    },
  },
  {
    name: 'PIECE with no bytes',
    message: {
      type: MessageType.Piece,
      swarmId: 's',
      fileId: 'f',
      index: 0,
      data: Buffer.alloc(0),
    },
  },
  {
    name: 'ERROR answering a request',
    message: {
      type: MessageType.Error,
      code: WireErrorCode.PieceNotAvailable,
      message: 'piece 3 of file f in swarm s is not held yet',
      request: { swarmId: 's', fileId: 'f', index: 3 },
    },
  },
  {
    name: 'ERROR without a request and a unicode message',
    message: {
      type: MessageType.Error,
      code: WireErrorCode.MalformedRequest,
      message: 'malformed — ✗',
      request: null,
    },
  },
  { name: 'PING', message: { type: MessageType.Ping, nonce: 0 } },
  { name: 'PONG', message: { type: MessageType.Pong, nonce: 0xffff_ffff } },
];

/** Every sample message type is covered: a new MessageType without a sample fails this. */
export function missingSampleTypes(): string[] {
  const covered = new Set(SAMPLES.map((sample) => sample.message.type));
  return Object.values(MessageType)
    .filter((value): value is MessageType => typeof value === 'number' && !covered.has(value))
    .map((value) => MessageType[value]);
}
