/**
 * How failure messages show protocol things: bytes as \xNN cut at 32, piece references with
 * their IDs quoted (so ("1", "12") and ("11", "2") never look alike), and one line per frame.
 * Below: lab9's message types. Above: the failure messages of clients, peers and suites.
 */
import type { DecodedFrame } from '../../lab9/src/protocol/frame-decoder';
import {
  type Message,
  MessageType,
  type PieceRef,
  WIRE_ERROR_CODES,
  messageName,
} from '../../lab9/src/protocol/message-types';

/** Bytes shown in a message before the rest is summarised. */
const SHOWN_BYTES = 32;

/** `"\x00\x0c\x05..." (4096 bytes)`: the first 32 bytes, escaped, and the length when cut. */
export function hex(bytes: Uint8Array, shown = SHOWN_BYTES): string {
  let text = '';
  for (const byte of bytes.subarray(0, shown)) text += `\\x${byte.toString(16).padStart(2, '0')}`;
  const cut = bytes.length > shown ? `... (${bytes.length} bytes)` : '';
  return `"${text}"${cut}`;
}

/** `("s1", "a.bin") #3` */
export function refText(ref: PieceRef): string {
  return `${fileText(ref.swarmId, ref.fileId)} #${ref.index}`;
}

/** `("s1", "a.bin")` */
export function fileText(swarmId: string, fileId: string): string {
  return `(${JSON.stringify(swarmId)}, ${JSON.stringify(fileId)})`;
}

/** One message, one line: its name and what identifies it. */
export function describeMessage(message: Message): string {
  switch (message.type) {
    case MessageType.Hello:
      return `HELLO from ${JSON.stringify(message.peerId)}`;
    case MessageType.Announce: {
      const swarms = message.swarms.map(
        (s) =>
          `${JSON.stringify(s.swarmId)} [${s.files.map((f) => JSON.stringify(f.fileId)).join(', ')}]`,
      );
      return `ANNOUNCE of ${swarms.join(', ') || 'no swarm'}`;
    }
    case MessageType.Bitfield:
      return `BITFIELD ${fileText(message.swarmId, message.fileId)} ${hex(message.bits)}`;
    case MessageType.Have:
      return `HAVE ${refText(message)}`;
    case MessageType.GetPiece:
      return `GET_PIECE ${refText(message)}`;
    case MessageType.Piece:
      return `PIECE ${refText(message)}, ${message.data.length} bytes ${hex(message.data, 8)}`;
    case MessageType.Error: {
      const about = message.request ? `for ${refText(message.request)}` : 'with no request';
      return `ERROR ${WIRE_ERROR_CODES[message.code]} ${about}: ${JSON.stringify(message.message)}`;
    }
    case MessageType.Ping:
    case MessageType.Pong:
      return `${messageName(message.type)} ${message.nonce}`;
  }
}

/** A received frame: its message, or why it could not be decoded and its first bytes. */
export function describeFrame(frame: DecodedFrame): string {
  return frame.ok
    ? describeMessage(frame.message)
    : `an undecodable frame (${frame.error.message}) ${hex(frame.body)}`;
}

/** `3 frames: HELLO ..., ANNOUNCE ..., BITFIELD ...`, the last `max` of them when there are more. */
export function describeFrames(frames: readonly DecodedFrame[], max = 8): string {
  if (frames.length === 0) return 'no frame';
  const shown = frames.slice(-max).map(describeFrame);
  const skipped = frames.length > max ? `, the last ${max} being` : '';
  return `${frames.length} frame${frames.length === 1 ? '' : 's'}${skipped}:\n    ${shown.join('\n    ')}`;
}

/** Where two byte strings first differ, or undefined if they are equal. */
export function firstDifference(actual: Uint8Array, expected: Uint8Array): string | undefined {
  const length = Math.min(actual.length, expected.length);
  for (let i = 0; i < length; i++) {
    if (actual[i] !== expected[i]) {
      return (
        `byte ${i} differs: expected ${hex(expected.subarray(i, i + 8))}, ` +
        `got ${hex(actual.subarray(i, i + 8))}`
      );
    }
  }
  if (actual.length !== expected.length) {
    return `expected ${expected.length} bytes, got ${actual.length}`;
  }
  return undefined;
}

/** `a PIECE`, `an ERROR`: message names with their article, for sentences. */
export function aMessage(type: MessageType): string {
  const name = messageName(type);
  return `${/^[AEIOU]/.test(name) ? 'an' : 'a'} ${name}`;
}
