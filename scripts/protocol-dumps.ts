/**
 * The annotated hex dumps of docs/protocol.md, made from the real codec: each example message is
 * encoded with `encodeFrame`, decoded back with `decodeMessage`, and its bytes are cut into
 * labelled fields; a field list that does not cover the frame exactly throws. Below: the codec.
 * Above: `npx tsx scripts/protocol-dumps.ts` (prints them) and lab9/test/protocol-doc.test.ts.
 */
import { deepStrictEqual } from 'node:assert';
import { LENGTH_PREFIX_BYTES, decodeMessage, encodeFrame } from '../lab9/src/protocol/frame-codec';
import { type Message, MessageType, messageName } from '../lab9/src/protocol/message-types';
import { WIRE_ERROR_CODES, WireErrorCode } from '../lab9/src/protocol/message-types';
import { sha256 } from '../lab9/src/storage/piece-hash';

/** One example frame: which message, a one-line title, and its dump (lines end with "\n"). */
export interface ProtocolDump {
  readonly name: string;
  readonly title: string;
  readonly dump: string;
}

/** The example file of every dump: 5 bytes in 4-byte pieces, so piece 1 is short ("o"). */
const FILE_BYTES = Buffer.from('hello');
const PIECE_BYTES = 4;

const EXAMPLES: readonly { readonly title: string; readonly message: Message }[] = [
  { title: 'seed-a introduces itself', message: { type: MessageType.Hello, peerId: 'seed-a' } },
  {
    title: 'one swarm "labs" with one file "notes.bin" of 5 bytes in 4-byte pieces',
    message: {
      type: MessageType.Announce,
      swarms: [
        {
          swarmId: 'labs',
          files: [
            {
              fileId: 'notes.bin',
              fileLength: FILE_BYTES.length,
              pieceLength: PIECE_BYTES,
              pieceHashes: [sha256(FILE_BYTES.subarray(0, 4)), sha256(FILE_BYTES.subarray(4))],
            },
          ],
        },
      ],
    },
  },
  {
    title: 'the sender holds pieces 0 and 1 of labs/notes.bin',
    message: {
      type: MessageType.Bitfield,
      swarmId: 'labs',
      fileId: 'notes.bin',
      bits: Buffer.from([0b1100_0000]),
    },
  },
  {
    title: 'the sender has just stored piece 1',
    message: { type: MessageType.Have, swarmId: 'labs', fileId: 'notes.bin', index: 1 },
  },
  {
    title: 'please send piece 1 of labs/notes.bin',
    message: { type: MessageType.GetPiece, swarmId: 'labs', fileId: 'notes.bin', index: 1 },
  },
  {
    title: 'piece 1 of labs/notes.bin: the short last piece, 1 byte',
    message: {
      type: MessageType.Piece,
      swarmId: 'labs',
      fileId: 'notes.bin',
      index: 1,
      data: FILE_BYTES.subarray(4),
    },
  },
  {
    title: 'the answer to a GET_PIECE of piece 7',
    message: {
      type: MessageType.Error,
      code: WireErrorCode.PieceOutOfRange,
      message: 'piece 7 is out of range',
      request: { swarmId: 'labs', fileId: 'notes.bin', index: 7 },
    },
  },
  {
    title: 'the answer to a frame that could not be decoded: no request to name',
    message: {
      type: MessageType.Error,
      code: WireErrorCode.MalformedRequest,
      message: 'empty frame',
      request: null,
    },
  },
  { title: 'are you there?', message: { type: MessageType.Ping, nonce: 42 } },
  { title: 'yes: the same nonce back', message: { type: MessageType.Pong, nonce: 42 } },
];

/** Every example, encoded, checked both ways and annotated. */
export function protocolDumps(): ProtocolDump[] {
  return EXAMPLES.map(({ title, message }) => {
    const frame = encodeFrame(message);
    deepStrictEqual(decodeMessage(frame.subarray(LENGTH_PREFIX_BYTES)), message);
    return { name: messageName(message.type), title, dump: annotate(frame, message) };
  });
}

/** The Markdown of one dump as docs/protocol.md holds it: a fenced `text` block. */
export function dumpBlock(dump: ProtocolDump): string {
  return `\`\`\`text\n${dump.dump}\`\`\`\n`;
}

// ---------------------------------------------------------------------------------------------

const BYTES_PER_LINE = 8;

/** Cuts a frame into labelled fields, in order; `end()` insists every byte was labelled. */
class FieldCutter {
  readonly #frame: Buffer;
  readonly #lines: string[] = ['offset  bytes                    field'];
  #at = 0;

  constructor(frame: Buffer) {
    this.#frame = frame;
  }

  raw(bytes: number, label: string): Buffer {
    const slice = this.#frame.subarray(this.#at, this.#at + bytes);
    if (slice.length !== bytes) {
      throw new TypeError(`dump: ${label} needs ${bytes} bytes at ${this.#at}, frame ends first`);
    }
    for (let line = 0; line < Math.max(1, Math.ceil(bytes / BYTES_PER_LINE)); line++) {
      const part = slice.subarray(line * BYTES_PER_LINE, (line + 1) * BYTES_PER_LINE);
      const hex = [...part].map((byte) => byte.toString(16).padStart(2, '0')).join(' ');
      const offset = line === 0 ? String(this.#at) : '';
      const text = `${offset.padEnd(6)}  ${hex.padEnd(BYTES_PER_LINE * 3 - 1)}  ${line === 0 ? label : ''}`;
      this.#lines.push(text.trimEnd());
    }
    this.#at += bytes;
    return slice;
  }

  u8(label: string, describe: (value: number) => string = String): number {
    const value = this.#frame.readUInt8(this.#at);
    this.raw(1, `${label}: ${describe(value)}`);
    return value;
  }

  u16(label: string, describe: (value: number) => string = String): number {
    const value = this.#frame.readUInt16BE(this.#at);
    this.raw(2, `${label}: ${describe(value)}`);
    return value;
  }

  u32(label: string, describe: (value: number) => string = String): number {
    const value = this.#frame.readUInt32BE(this.#at);
    this.raw(4, `${label}: ${describe(value)}`);
    return value;
  }

  u64(label: string): number {
    const value = Number(this.#frame.readBigUInt64BE(this.#at));
    this.raw(8, `${label}: ${value}`);
    return value;
  }

  /** An ID: u8 length, then UTF-8. */
  id(label: string): void {
    const length = this.u8(`${label} length`);
    this.raw(
      length,
      `${label}: ${JSON.stringify(this.#frame.toString('utf8', this.#at, this.#at + length))}`,
    );
  }

  pieceRef(): void {
    this.id('swarmId');
    this.id('fileId');
    this.u32('index');
  }

  end(): string {
    if (this.#at !== this.#frame.length) {
      throw new TypeError(`dump: ${this.#frame.length - this.#at} bytes of the frame not labelled`);
    }
    return `${this.#lines.join('\n')}\n`;
  }
}

function annotate(frame: Buffer, message: Message): string {
  const cut = new FieldCutter(frame);
  cut.u32('length', (n) => `${n} bytes follow (type + payload)`);
  cut.u8('type', (n) => `${n} = ${messageName(n)}`);
  switch (message.type) {
    case MessageType.Hello:
      cut.id('peerId');
      break;
    case MessageType.Announce: {
      const swarms = cut.u16('swarm count');
      for (let s = 0; s < swarms; s++) {
        cut.id('swarmId');
        const files = cut.u16('file count');
        for (let f = 0; f < files; f++) {
          cut.id('fileId');
          const fileLength = cut.u64('fileLength');
          const pieceLength = cut.u32('pieceLength');
          const pieces = Math.ceil(fileLength / pieceLength);
          for (let i = 0; i < pieces; i++) cut.raw(32, `SHA-256 of piece ${i}`);
        }
      }
      break;
    }
    case MessageType.Bitfield: {
      cut.id('swarmId');
      cut.id('fileId');
      const bits = [...message.bits].map((byte) => byte.toString(2).padStart(8, '0')).join(' ');
      cut.raw(message.bits.length, `bits: ${bits} (piece 0 is the high bit)`);
      break;
    }
    case MessageType.Have:
    case MessageType.GetPiece:
      cut.pieceRef();
      break;
    case MessageType.Piece:
      cut.pieceRef();
      cut.raw(message.data.length, `data: ${message.data.length} byte(s), to the end of the frame`);
      break;
    case MessageType.Error: {
      cut.u16('code', (n) => `${n} = ${WIRE_ERROR_CODES[n as WireErrorCode]}`);
      const hasRequest = cut.u8('hasRequest', (n) => (n === 1 ? '1, a piece ref follows' : '0'));
      if (hasRequest === 1) cut.pieceRef();
      const length = cut.u16('message length');
      cut.raw(length, `message: ${JSON.stringify(message.message)}`);
      break;
    }
    case MessageType.Ping:
    case MessageType.Pong:
      cut.u32('nonce');
      break;
    default:
      return assertNever(message);
  }
  return cut.end();
}

function assertNever(value: never): never {
  throw new TypeError(`no dump for ${JSON.stringify(value)}`);
}

if (require.main === module) {
  for (const dump of protocolDumps()) {
    process.stdout.write(`### ${dump.name} — ${dump.title}\n\n${dumpBlock(dump)}\n`);
  }
}
