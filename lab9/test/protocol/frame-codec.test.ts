/**
 * The codec (protocol/frame-codec.ts) as pure functions over Buffers: every message type
 * round-trips encodeFrame → decodeMessage; each malformed body is rejected with a ProtocolError
 * whose code and message say what is wrong and where; the encoder refuses, with a TypeError,
 * messages that would break the protocol's limits (a bug in the sender, not a hostile peer).
 */
import { ProtocolError } from '../../src/errors';
import { MAX_ERROR_MESSAGE_BYTES, MAX_FRAME_BYTES, MAX_PIECES_PER_FILE } from '../../src/limits';
import {
  LENGTH_PREFIX_BYTES,
  decodeMessage,
  encodeFrame,
  encodeFrameChunks,
} from '../../src/protocol/frame-codec';
import {
  type AnnounceMessage,
  type Message,
  MessageType,
  WireErrorCode,
} from '../../src/protocol/message-types';
import { hexPreview } from '../helpers/bytes';
import { SAMPLES, hashOf, missingSampleTypes } from '../helpers/messages';

/** The frame body (type byte + payload) of a message, as the stream decoder hands it over. */
function bodyOf(message: Message): Buffer {
  return encodeFrame(message).subarray(LENGTH_PREFIX_BYTES);
}

/** The ProtocolError decodeMessage throws for `body`; fails the test if it decodes. */
function rejectionOf(body: Buffer): ProtocolError {
  try {
    const message = decodeMessage(body);
    throw new Error(
      `decodeMessage accepted ${hexPreview(body)} as ${JSON.stringify(message)}: ` +
        'a malformed body must throw a ProtocolError',
    );
  } catch (error) {
    if (error instanceof ProtocolError) return error;
    throw error;
  }
}

const getPiece: Message = { type: MessageType.GetPiece, swarmId: 's', fileId: 'f', index: 1 };
/** 05 | 01 73 | 01 66 | 00 00 00 01: 9 bytes, `index` at offset 5. */
const getPieceBody = bodyOf(getPiece);

const oneFileAnnounce: AnnounceMessage = {
  type: MessageType.Announce,
  swarms: [
    {
      swarmId: 's',
      files: [{ fileId: 'f', fileLength: 10, pieceLength: 10, pieceHashes: [hashOf(0)] }],
    },
  ],
};
/** type 1 | swarm count 2 | swarm ID 1+1 | file count 2 | file ID 1+1 | fileLength 8 | ... */
const FILE_LENGTH_AT = 1 + 2 + 2 + 2 + 2;
const PIECE_LENGTH_AT = FILE_LENGTH_AT + 8;
const HASHES_AT = PIECE_LENGTH_AT + 4;

function announceWith(patch: (body: Buffer) => void): Buffer {
  const body = Buffer.from(bodyOf(oneFileAnnounce));
  patch(body);
  return body;
}

describe('encodeFrame → decodeMessage', () => {
  it('has a sample of every message type', () => {
    expect(missingSampleTypes()).toEqual([]);
  });

  it.each(SAMPLES)('round-trips $name', ({ message }) => {
    const frame = encodeFrame(message);
    expect(frame.readUInt32BE(0)).toBe(frame.length - LENGTH_PREFIX_BYTES);
    expect(frame[LENGTH_PREFIX_BYTES]).toBe(message.type);
    expect(decodeMessage(frame.subarray(LENGTH_PREFIX_BYTES))).toEqual(message);
  });

  it('lays a GET_PIECE out as the protocol says: length, type, IDs with length bytes, index', () => {
    expect(hexPreview(encodeFrame(getPiece))).toBe(
      '\\x00\\x00\\x00\\x09\\x05\\x01\\x73\\x01\\x66\\x00\\x00\\x00\\x01',
    );
  });

  it('returns a PIECE as [header, data] chunks without copying the data', () => {
    const data = Buffer.from('the bytes of one piece');
    const chunks = encodeFrameChunks({ ...getPiece, type: MessageType.Piece, data });
    expect(chunks).toHaveLength(2);
    expect(chunks[1]).toBe(data);
    expect(Buffer.concat(chunks)).toEqual(
      encodeFrame({ ...getPiece, type: MessageType.Piece, data }),
    );
  });

  it("decodes a PIECE's data as a view into the body, not a copy", () => {
    const body = bodyOf({ ...getPiece, type: MessageType.Piece, data: Buffer.from('abc') });
    const message = decodeMessage(body);
    if (message.type !== MessageType.Piece) throw new Error(`decoded ${message.type}, not PIECE`);
    expect(message.data.buffer).toBe(body.buffer);
    expect(message.data.byteOffset).toBe(body.byteOffset + getPieceBody.length);
  });

  it('cuts an ERROR message longer than the limit to at most MAX_ERROR_MESSAGE_BYTES, ending "..."', () => {
    const long = 'é'.repeat(MAX_ERROR_MESSAGE_BYTES);
    const decoded = decodeMessage(
      bodyOf({
        type: MessageType.Error,
        code: WireErrorCode.Internal,
        message: long,
        request: null,
      }),
    );
    if (decoded.type !== MessageType.Error) throw new Error(`decoded ${decoded.type}, not ERROR`);
    expect(Buffer.byteLength(decoded.message)).toBeLessThanOrEqual(MAX_ERROR_MESSAGE_BYTES);
    expect(decoded.message).toMatch(/^é+\.\.\.$/);
  });
});

describe('decodeMessage rejects a malformed body, saying what and where', () => {
  const cases: [name: string, body: Buffer, code: string, message: string][] = [
    [
      'an empty body',
      Buffer.alloc(0),
      'ERR_MALFORMED_REQUEST',
      'empty frame: need 1 byte for the type',
    ],
    [
      'a truncated GET_PIECE',
      getPieceBody.subarray(0, 6),
      'ERR_MALFORMED_REQUEST',
      'truncated GET_PIECE: need 4 bytes for index at offset 5, have 1',
    ],
    [
      'a GET_PIECE with trailing bytes',
      Buffer.concat([getPieceBody, Buffer.from([0, 0])]),
      'ERR_MALFORMED_REQUEST',
      'malformed GET_PIECE: 2 unexpected bytes after offset 9',
    ],
    [
      'a HELLO with an empty peer ID',
      Buffer.from([MessageType.Hello, 0]),
      'ERR_MALFORMED_REQUEST',
      'malformed HELLO: peerId is empty',
    ],
    [
      'a HELLO whose ID is longer than the body',
      Buffer.from([MessageType.Hello, 5, 0x61]),
      'ERR_MALFORMED_REQUEST',
      'truncated HELLO: need 5 bytes for peerId at offset 2, have 1',
    ],
    [
      'a HELLO whose ID is not UTF-8',
      Buffer.from([MessageType.Hello, 2, 0xc3, 0x28]),
      'ERR_MALFORMED_REQUEST',
      'malformed HELLO: peerId is not UTF-8',
    ],
    [
      'a GET_PIECE whose file ID ends inside a UTF-8 sequence',
      Buffer.from([MessageType.GetPiece, 1, 0x73, 2, 0x61, 0xe2, 0, 0, 0, 0]),
      'ERR_MALFORMED_REQUEST',
      'malformed GET_PIECE: fileId is not UTF-8',
    ],
    [
      'an unknown type byte',
      Buffer.from([0x2a, 1, 2]),
      'ERR_UNKNOWN_MESSAGE_TYPE',
      'unknown message type 0x2a in a frame of 3 bytes',
    ],
    [
      'type byte 0',
      Buffer.from([0]),
      'ERR_UNKNOWN_MESSAGE_TYPE',
      'unknown message type 0x00 in a frame of 1 bytes',
    ],
    [
      'an ERROR with an unknown error code',
      Buffer.from([MessageType.Error, 0, 99, 0, 0, 0]),
      'ERR_MALFORMED_REQUEST',
      'malformed ERROR: unknown error code 99',
    ],
    [
      'an ERROR with error code 0',
      Buffer.from([MessageType.Error, 0, 0, 0, 0, 0]),
      'ERR_MALFORMED_REQUEST',
      'malformed ERROR: unknown error code 0',
    ],
    [
      'an ANNOUNCE with a zero pieceLength',
      announceWith((body) => body.writeUInt32BE(0, PIECE_LENGTH_AT)),
      'ERR_MALFORMED_REQUEST',
      'malformed ANNOUNCE: file f: pieceLength is 0',
    ],
    [
      'an ANNOUNCE with more pieces than the limit (refused before reading the hashes)',
      announceWith((body) => {
        body.writeBigUInt64BE(BigInt(MAX_PIECES_PER_FILE + 1), FILE_LENGTH_AT);
        body.writeUInt32BE(1, PIECE_LENGTH_AT);
      }),
      'ERR_MALFORMED_REQUEST',
      `malformed ANNOUNCE: file f: ${MAX_PIECES_PER_FILE + 1} pieces, more than ${MAX_PIECES_PER_FILE}`,
    ],
    [
      'an ANNOUNCE cut inside a piece hash',
      bodyOf(oneFileAnnounce).subarray(0, HASHES_AT + 10),
      'ERR_MALFORMED_REQUEST',
      `truncated ANNOUNCE: need 32 bytes for piece hash at offset ${HASHES_AT}, have 10`,
    ],
    [
      'an ANNOUNCE with a fileLength beyond 2^53',
      announceWith((body) => body.writeBigUInt64BE(2n ** 53n, FILE_LENGTH_AT)),
      'ERR_MALFORMED_REQUEST',
      'malformed ANNOUNCE: fileLength 9007199254740992 is too large',
    ],
  ];

  it.each(cases)('%s', (_name, body, code, message) => {
    const error = rejectionOf(body);
    expect({ code: error.code, message: error.message }).toEqual({ code, message });
  });
});

describe('encodeFrame refuses a message that breaks the limits, with a TypeError', () => {
  const cases: [name: string, message: Message, error: RegExp][] = [
    [
      'an empty peer ID',
      { type: MessageType.Hello, peerId: '' },
      /peerId must be 1\.\.255 UTF-8 bytes, got 0/,
    ],
    [
      'a swarm ID of 256 UTF-8 bytes',
      { ...getPiece, swarmId: 'é'.repeat(128) },
      /swarmId must be 1\.\.255 UTF-8 bytes, got 256/,
    ],
    [
      'a negative piece index',
      { ...getPiece, index: -1 },
      /index must be an integer in 0\.\.4294967295, got -1/,
    ],
    ['a fractional piece index', { ...getPiece, index: 1.5 }, /index .* got 1\.5/],
    ['a NaN piece index', { ...getPiece, index: NaN }, /index .* got NaN/],
    ['a piece index past 2^32 - 1', { ...getPiece, index: 2 ** 32 }, /index .* got 4294967296/],
    [
      'a PING nonce past 2^32 - 1',
      { type: MessageType.Ping, nonce: 2 ** 32 },
      /nonce .* got 4294967296/,
    ],
    [
      'a PIECE larger than MAX_FRAME_BYTES',
      { ...getPiece, type: MessageType.Piece, data: Buffer.alloc(MAX_FRAME_BYTES) },
      /exceeds MAX_FRAME_BYTES/,
    ],
    [
      'an ANNOUNCE with fewer hashes than pieces',
      {
        type: MessageType.Announce,
        swarms: [
          {
            swarmId: 's',
            files: [{ fileId: 'f', fileLength: 25, pieceLength: 10, pieceHashes: [hashOf(0)] }],
          },
        ],
      },
      /file f: 1 piece hashes for 3 pieces/,
    ],
    [
      'an ANNOUNCE with a hash that is not 32 bytes',
      {
        type: MessageType.Announce,
        swarms: [
          {
            swarmId: 's',
            files: [
              { fileId: 'f', fileLength: 1, pieceLength: 10, pieceHashes: [Buffer.alloc(20)] },
            ],
          },
        ],
      },
      /piece hashes are 32-byte SHA-256/,
    ],
    [
      'an ANNOUNCE with a fractional fileLength',
      {
        type: MessageType.Announce,
        swarms: [
          {
            swarmId: 's',
            files: [{ fileId: 'f', fileLength: 1.5, pieceLength: 10, pieceHashes: [hashOf(0)] }],
          },
        ],
      },
      /bad file length 1\.5/,
    ],
    [
      'an ANNOUNCE of a file with more pieces than MAX_PIECES_PER_FILE',
      {
        type: MessageType.Announce,
        swarms: [
          {
            swarmId: 's',
            files: [
              { fileId: 'f', fileLength: MAX_PIECES_PER_FILE + 1, pieceLength: 1, pieceHashes: [] },
            ],
          },
        ],
      },
      /file f: 32001 pieces, more than MAX_PIECES_PER_FILE/,
    ],
  ];

  it.each(cases)('%s', (_name, message, error) => {
    expect(() => encodeFrame(message)).toThrow(TypeError);
    expect(() => encodeFrame(message)).toThrow(error);
  });
});
