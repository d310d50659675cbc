/**
 * Pure encoding and decoding of single frames over Buffers: no sockets, no state.
 * A frame is `u32 length (big-endian) | u8 type | payload`, where `length` counts type + payload.
 * Above: frame-decoder.ts cuts a byte stream into frame bodies and calls `decodeMessage`.
 * Every read is bounds-checked first and fails with a ProtocolError that says what and where.
 */
import { ProtocolError } from '../errors';
import {
  MAX_ERROR_MESSAGE_BYTES,
  MAX_FRAME_BYTES,
  MAX_ID_BYTES,
  MAX_PIECES_PER_FILE,
} from '../limits';
import {
  type AnnounceMessage,
  type FileAnnouncement,
  type Message,
  type PieceRef,
  type SwarmAnnouncement,
  MessageType,
  WireErrorCode,
  messageName,
} from './message-types';

/** Bytes of the length prefix in front of every frame body. */
export const LENGTH_PREFIX_BYTES = 4;

/** Bytes of a SHA-256 piece hash. */
export const HASH_BYTES = 32;

const utf8 = new TextDecoder('utf-8', { fatal: true });

// ---------------------------------------------------------------------------------------------
// Encoding

/**
 * Encodes a message as one frame (length prefix included), ready to write to a socket.
 * Throws a TypeError for a message that breaks the protocol's limits: that is a bug in the
 * sender, not something a remote peer did.
 */
export function encodeFrame(message: Message): Buffer {
  const chunks = encodeFrameChunks(message);
  return chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks);
}

/**
 * Like `encodeFrame`, but a PIECE's data is returned as a second chunk instead of being copied,
 * so a writer can send `[header, data]` with one corked write.
 */
export function encodeFrameChunks(message: Message): Buffer[] {
  const writer = new BodyWriter(bodySize(message));
  writer.u8(message.type);
  switch (message.type) {
    case MessageType.Hello:
      writer.id(message.peerId, 'peerId');
      break;
    case MessageType.Announce:
      writeAnnounce(writer, message);
      break;
    case MessageType.Bitfield:
      writer.id(message.swarmId, 'swarmId');
      writer.id(message.fileId, 'fileId');
      writer.bytes(message.bits);
      break;
    case MessageType.Have:
    case MessageType.GetPiece:
      writer.pieceRef(message);
      break;
    case MessageType.Piece:
      writer.pieceRef(message);
      return finishFrame(writer, message.data);
    case MessageType.Error:
      writer.u16(message.code);
      writer.u8(message.request === null ? 0 : 1);
      if (message.request !== null) writer.pieceRef(message.request);
      writer.text(truncateUtf8(message.message, MAX_ERROR_MESSAGE_BYTES));
      break;
    case MessageType.Ping:
    case MessageType.Pong:
      writer.u32(message.nonce, 'nonce');
      break;
    default:
      return assertNever(message);
  }
  return finishFrame(writer);
}

function finishFrame(writer: BodyWriter, tail?: Buffer): Buffer[] {
  const bodyLength = writer.offset + (tail?.length ?? 0);
  if (bodyLength > MAX_FRAME_BYTES) {
    throw new TypeError(
      `frame of ${bodyLength} bytes exceeds MAX_FRAME_BYTES (${MAX_FRAME_BYTES})`,
    );
  }
  writer.buffer.writeUInt32BE(bodyLength, 0);
  const head = writer.buffer.subarray(0, LENGTH_PREFIX_BYTES + writer.offset);
  return tail === undefined ? [head] : [head, tail];
}

/** Upper bound of the encoded frame size, computed before allocating. */
function bodySize(message: Message): number {
  const ref = (r: PieceRef): number => 2 + idBytes(r.swarmId) + idBytes(r.fileId) + 4;
  switch (message.type) {
    case MessageType.Hello:
      return 1 + 1 + idBytes(message.peerId);
    case MessageType.Announce: {
      let size = 1 + 2;
      for (const swarm of message.swarms) {
        size += 1 + idBytes(swarm.swarmId) + 2;
        for (const file of swarm.files) {
          size += 1 + idBytes(file.fileId) + 8 + 4 + file.pieceHashes.length * HASH_BYTES;
        }
      }
      return size;
    }
    case MessageType.Bitfield:
      return 1 + 2 + idBytes(message.swarmId) + idBytes(message.fileId) + message.bits.length;
    case MessageType.Have:
    case MessageType.GetPiece:
    case MessageType.Piece:
      return 1 + ref(message);
    case MessageType.Error:
      return 1 + 2 + 1 + (message.request ? ref(message.request) : 0) + 2 + MAX_ERROR_MESSAGE_BYTES;
    case MessageType.Ping:
    case MessageType.Pong:
      return 1 + 4;
    default:
      return assertNever(message);
  }
}

function idBytes(id: string): number {
  return Buffer.byteLength(id, 'utf8');
}

function writeAnnounce(writer: BodyWriter, message: AnnounceMessage): void {
  writer.u16(message.swarms.length);
  for (const swarm of message.swarms) {
    writer.id(swarm.swarmId, 'swarmId');
    writer.u16(swarm.files.length);
    for (const file of swarm.files) {
      writer.id(file.fileId, 'fileId');
      writer.u64(file.fileLength);
      writer.u32(file.pieceLength, 'pieceLength');
      const expected = pieceCountOf(file.fileLength, file.pieceLength);
      if (expected > MAX_PIECES_PER_FILE) {
        throw new TypeError(
          `file ${file.fileId}: ${expected} pieces, more than MAX_PIECES_PER_FILE (${MAX_PIECES_PER_FILE})`,
        );
      }
      if (file.pieceHashes.length !== expected) {
        throw new TypeError(
          `file ${file.fileId}: ${file.pieceHashes.length} piece hashes for ${expected} pieces`,
        );
      }
      for (const hash of file.pieceHashes) {
        if (hash.length !== HASH_BYTES) throw new TypeError('piece hashes are 32-byte SHA-256');
        writer.bytes(hash);
      }
    }
  }
}

class BodyWriter {
  readonly buffer: Buffer;
  /** Bytes written after the length prefix. */
  offset = 0;

  constructor(maxBodyBytes: number) {
    this.buffer = Buffer.allocUnsafe(LENGTH_PREFIX_BYTES + maxBodyBytes);
  }

  u8(value: number): void {
    this.buffer.writeUInt8(value, LENGTH_PREFIX_BYTES + this.offset);
    this.offset += 1;
  }

  u16(value: number): void {
    this.buffer.writeUInt16BE(value, LENGTH_PREFIX_BYTES + this.offset);
    this.offset += 2;
  }

  u32(value: number, field: string): void {
    // writeUInt32BE truncates 1.5 to 1 and NaN to 0: a GET_PIECE would silently name another piece.
    if (!Number.isInteger(value) || value < 0 || value > 0xffff_ffff) {
      throw new TypeError(`${field} must be an integer in 0..4294967295, got ${value}`);
    }
    this.buffer.writeUInt32BE(value, LENGTH_PREFIX_BYTES + this.offset);
    this.offset += 4;
  }

  u64(value: number): void {
    if (!Number.isSafeInteger(value) || value < 0) throw new TypeError(`bad file length ${value}`);
    this.buffer.writeBigUInt64BE(BigInt(value), LENGTH_PREFIX_BYTES + this.offset);
    this.offset += 8;
  }

  bytes(data: Buffer): void {
    data.copy(this.buffer, LENGTH_PREFIX_BYTES + this.offset);
    this.offset += data.length;
  }

  /** An ID: one length byte, then 1..255 UTF-8 bytes. */
  id(value: string, what: string): void {
    const length = idBytes(value);
    if (length === 0 || length > MAX_ID_BYTES) {
      throw new TypeError(`${what} must be 1..${MAX_ID_BYTES} UTF-8 bytes, got ${length}`);
    }
    this.u8(length);
    this.offset += this.buffer.write(value, LENGTH_PREFIX_BYTES + this.offset, 'utf8');
  }

  /** Free text: two length bytes, then UTF-8. */
  text(value: string): void {
    const length = idBytes(value);
    this.u16(length);
    this.offset += this.buffer.write(value, LENGTH_PREFIX_BYTES + this.offset, 'utf8');
  }

  pieceRef(ref: PieceRef): void {
    this.id(ref.swarmId, 'swarmId');
    this.id(ref.fileId, 'fileId');
    this.u32(ref.index, 'index');
  }
}

function truncateUtf8(text: string, maxBytes: number): string {
  if (Buffer.byteLength(text, 'utf8') <= maxBytes) return text;
  let cut = text.slice(0, maxBytes);
  while (Buffer.byteLength(cut, 'utf8') > maxBytes - 3) cut = cut.slice(0, -1);
  return `${cut}...`;
}

// ---------------------------------------------------------------------------------------------
// Decoding

/**
 * Decodes one frame body (type byte + payload, without the length prefix).
 * Throws ProtocolError `ERR_UNKNOWN_MESSAGE_TYPE` for a type byte no message uses and
 * `ERR_MALFORMED_REQUEST` for a body whose layout is wrong; the message says what and where.
 * A PIECE's `data` is a view into `body`, not a copy.
 */
export function decodeMessage(body: Buffer): Message {
  if (body.length === 0) {
    throw new ProtocolError('ERR_MALFORMED_REQUEST', 'empty frame: need 1 byte for the type');
  }
  const type = body[0] as number;
  const reader = new BodyReader(body, messageName(type));
  switch (type as MessageType) {
    case MessageType.Hello:
      return reader.end({ type: MessageType.Hello, peerId: reader.id('peerId') });
    case MessageType.Announce:
      return reader.end(readAnnounce(reader));
    case MessageType.Bitfield:
      return {
        type: MessageType.Bitfield,
        swarmId: reader.id('swarmId'),
        fileId: reader.id('fileId'),
        bits: reader.rest(),
      };
    case MessageType.Have:
      return reader.end({ type: MessageType.Have, ...reader.pieceRef() });
    case MessageType.GetPiece:
      return reader.end({ type: MessageType.GetPiece, ...reader.pieceRef() });
    case MessageType.Piece:
      return { type: MessageType.Piece, ...reader.pieceRef(), data: reader.rest() };
    case MessageType.Error: {
      const code = reader.u16('code');
      if (!(code in WireErrorCode)) reader.fail(`unknown error code ${code}`);
      const request = reader.u8('hasRequest') === 1 ? reader.pieceRef() : null;
      const message = reader.text('message');
      return reader.end({ type: MessageType.Error, code: code, message, request });
    }
    case MessageType.Ping:
      return reader.end({ type: MessageType.Ping, nonce: reader.u32('nonce') });
    case MessageType.Pong:
      return reader.end({ type: MessageType.Pong, nonce: reader.u32('nonce') });
    default:
      throw new ProtocolError(
        'ERR_UNKNOWN_MESSAGE_TYPE',
        `unknown message type 0x${type.toString(16).padStart(2, '0')} in a frame of ${body.length} bytes`,
      );
  }
}

function readAnnounce(reader: BodyReader): AnnounceMessage {
  const swarmCount = reader.u16('swarm count');
  const swarms: SwarmAnnouncement[] = [];
  for (let s = 0; s < swarmCount; s++) {
    const swarmId = reader.id('swarmId');
    const fileCount = reader.u16('file count');
    const files: FileAnnouncement[] = [];
    for (let f = 0; f < fileCount; f++) {
      const fileId = reader.id('fileId');
      const fileLength = reader.u64('fileLength');
      const pieceLength = reader.u32('pieceLength');
      if (pieceLength === 0) reader.fail(`file ${fileId}: pieceLength is 0`);
      const count = pieceCountOf(fileLength, pieceLength);
      if (count > MAX_PIECES_PER_FILE) {
        reader.fail(`file ${fileId}: ${count} pieces, more than ${MAX_PIECES_PER_FILE}`);
      }
      const pieceHashes: Buffer[] = [];
      for (let i = 0; i < count; i++) pieceHashes.push(reader.bytes(HASH_BYTES, 'piece hash'));
      files.push({ fileId, fileLength, pieceLength, pieceHashes });
    }
    swarms.push({ swarmId, files });
  }
  return { type: MessageType.Announce, swarms };
}

/** Pieces in a file of `fileLength` bytes cut into `pieceLength`-byte pieces. */
export function pieceCountOf(fileLength: number, pieceLength: number): number {
  return Math.ceil(fileLength / pieceLength);
}

class BodyReader {
  /** Next byte to read; starts after the type byte. */
  #offset = 1;

  constructor(
    private readonly body: Buffer,
    private readonly name: string,
  ) {}

  fail(detail: string): never {
    throw new ProtocolError('ERR_MALFORMED_REQUEST', `malformed ${this.name}: ${detail}`);
  }

  #need(bytes: number, field: string): number {
    const have = this.body.length - this.#offset;
    if (have < bytes) {
      throw new ProtocolError(
        'ERR_MALFORMED_REQUEST',
        `truncated ${this.name}: need ${bytes} bytes for ${field} at offset ${this.#offset}, have ${have}`,
      );
    }
    const at = this.#offset;
    this.#offset += bytes;
    return at;
  }

  u8(field: string): number {
    return this.body.readUInt8(this.#need(1, field));
  }

  u16(field: string): number {
    return this.body.readUInt16BE(this.#need(2, field));
  }

  u32(field: string): number {
    return this.body.readUInt32BE(this.#need(4, field));
  }

  u64(field: string): number {
    const value = this.body.readBigUInt64BE(this.#need(8, field));
    if (value > BigInt(Number.MAX_SAFE_INTEGER)) this.fail(`${field} ${value} is too large`);
    return Number(value);
  }

  bytes(length: number, field: string): Buffer {
    const at = this.#need(length, field);
    return this.body.subarray(at, at + length);
  }

  rest(): Buffer {
    const at = this.#offset;
    this.#offset = this.body.length;
    return this.body.subarray(at);
  }

  id(field: string): string {
    const length = this.u8(`${field} length`);
    if (length === 0) this.fail(`${field} is empty`);
    return this.#utf8(this.bytes(length, field), field);
  }

  text(field: string): string {
    const length = this.u16(`${field} length`);
    return this.#utf8(this.bytes(length, field), field);
  }

  pieceRef(): PieceRef {
    return { swarmId: this.id('swarmId'), fileId: this.id('fileId'), index: this.u32('index') };
  }

  /** Returns `message` if every byte was read; trailing bytes mean the sender and we disagree. */
  end<T>(message: T): T {
    const extra = this.body.length - this.#offset;
    if (extra !== 0) this.fail(`${extra} unexpected bytes after offset ${this.#offset}`);
    return message;
  }

  #utf8(bytes: Buffer, field: string): string {
    try {
      return utf8.decode(bytes);
    } catch (cause) {
      throw new ProtocolError(
        'ERR_MALFORMED_REQUEST',
        `malformed ${this.name}: ${field} is not UTF-8`,
        {
          cause,
        },
      );
    }
  }
}

function assertNever(value: never): never {
  throw new TypeError(`unhandled message ${JSON.stringify(value)}`);
}
