/**
 * What the peer process may send the harness, checked field by field before anything reads it:
 * replies (whose value must fit the operation asked), the events the peer reports, calls on its
 * store, and its dying words. Everything the peer process sends is untrusted: a message that
 * does not fit is a protocol violation, the student's failure, never a crash of the harness.
 * Below: protocol.ts (the types these mirror). Above: host.ts.
 */
import { z } from 'zod';
import type { HostMessage, PeerOpName } from './protocol';

/** Long enough for any honest name, message or stack; bounded so a flood cannot grow memory. */
const TEXT = 64 * 1024;
const NAME = 256;

const text = z.string().max(TEXT);
const name = z.string().max(NAME);
const id = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
const count = z
  .number()
  .int()
  .nonnegative()
  .max(2 ** 32);
/** By tag, not instanceof: under Jest the decoder and this module may see different realms. */
const bytes = z.custom<Uint8Array>(
  (value) => Object.prototype.toString.call(value) === '[object Uint8Array]',
  'expected bytes',
);

const SerializedErrorSchema = z
  .object({ name, message: text, code: name.optional(), stack: text.optional() })
  .strict();

/**
 * Any number, NaN and ±Infinity too: a piece index is whatever the scenario or the student's
 * code passed (-1, 1.5, NaN are scenarios of their own), judged by the suites, not here.
 */
const anyNumber = z.custom<number>((value) => typeof value === 'number', 'expected a number');

const PieceRefSchema = z.object({ swarmId: name, fileId: name, index: anyNumber }).strict();

/** What routePiece resolved with is the student's value, judged by the suites whatever it is. */
const RouteOutcomeSchema = z.union([
  z.object({ threw: SerializedErrorSchema, synchronously: z.literal(true).optional() }).strict(),
  z.object({ resolved: z.unknown() }).strict(),
]);

const ConnectionKeySchema = z.string().regex(/^(tcp|pipe):\d{1,10}$/) as z.ZodType<
  `tcp:${number}` | `pipe:${number}`
>;

const PeerEventSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('clientError'), peer: name, error: SerializedErrorSchema }).strict(),
  z
    .object({
      type: z.literal('routed'),
      peer: name,
      ref: PieceRefSchema,
      outcome: RouteOutcomeSchema,
    })
    .strict(),
  z
    .object({
      type: z.literal('rejected'),
      peer: name,
      ref: PieceRefSchema,
      from: name,
      reason: text,
    })
    .strict(),
  z
    .object({
      type: z.literal('connection'),
      peer: name,
      connection: ConnectionKeySchema,
      what: z.enum(['open', 'end', 'close']),
    })
    .strict(),
  z.object({ type: z.literal('pipeData'), pipeId: id, chunk: bytes }).strict(),
  z.object({ type: z.literal('pipeEnd'), pipeId: id }).strict(),
  z.object({ type: z.literal('pipeClose'), pipeId: id }).strict(),
]);

const FileAnnouncementSchema = z
  .object({
    fileId: name,
    fileLength: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
    pieceLength: count,
    pieceHashes: z.array(bytes).max(32_000),
  })
  .strict();

const StoreCallSchema = z.discriminatedUnion('call', [
  z
    .object({
      kind: z.literal('store'),
      id,
      call: z.literal('addFile'),
      peer: name,
      swarmId: name,
      file: FileAnnouncementSchema,
    })
    .strict(),
  z
    .object({
      kind: z.literal('store'),
      id,
      call: z.literal('readPiece'),
      peer: name,
      ref: PieceRefSchema,
    })
    .strict(),
  z
    .object({
      kind: z.literal('store'),
      id,
      call: z.literal('writePiece'),
      peer: name,
      ref: PieceRefSchema,
      data: bytes,
    })
    .strict(),
]);

const MessageSchema = z.union([
  z.object({ kind: z.literal('reply'), id, ok: z.literal(true), value: z.unknown() }).strict(),
  z
    .object({ kind: z.literal('reply'), id, ok: z.literal(false), error: SerializedErrorSchema })
    .strict(),
  z.object({ kind: z.literal('event'), event: PeerEventSchema }).strict(),
  StoreCallSchema,
  z.object({ kind: z.literal('fatal'), error: SerializedErrorSchema }).strict(),
]);

const AddressSchema = z
  .object({ peerId: name, host: name, port: z.number().int().min(1).max(65535) })
  .strict();

/** The value each operation's reply must have. */
export const REPLY_SCHEMAS: Record<PeerOpName, z.ZodType<unknown>> = {
  startPeer: AddressSchema,
  stopPeer: z.null(),
  register: z.null(),
  openPipe: z.null(),
  pipeWrite: z.null(),
  pipeEnd: z.null(),
  pipeDestroy: z.null(),
  download: z
    .array(
      z.union([
        z
          .object({
            swarmId: name,
            ok: z.literal(true),
            piecesFrom: z.record(name, count),
          })
          .strict(),
        z.object({ swarmId: name, ok: z.literal(false), error: SerializedErrorSchema }).strict(),
      ]),
    )
    .max(1024),
  learn: z.null(),
  route: RouteOutcomeSchema,
  keptPieces: z.array(z.object({ index: count, data: bytes }).strict()).max(1 << 20),
  routingState: z
    .object({
      routes: z.array(z.object({ swarmId: name, fileId: name, pieces: count }).strict()).max(4096),
      connected: z.array(name).max(4096),
    })
    .strict(),
  reset: z.null(),
  ping: z.null(),
};

export type Checked<T> =
  { readonly ok: true; readonly value: T } | { readonly ok: false; readonly why: string };

/** The message, if it is one the peer process may send; else why not, in one line. */
export function checkMessage(value: unknown): Checked<HostMessage> {
  const parsed = MessageSchema.safeParse(value);
  if (parsed.success) return { ok: true, value: parsed.data as HostMessage };
  return { ok: false, why: `not a message of the peer host protocol (${issueText(parsed.error)})` };
}

/** The reply's value, if it fits the operation that was asked; else why not. */
export function checkReply(op: PeerOpName, value: unknown): Checked<unknown> {
  const parsed = REPLY_SCHEMAS[op].safeParse(value);
  if (parsed.success) return { ok: true, value: parsed.data };
  return { ok: false, why: `the reply to ${op} does not fit it (${issueText(parsed.error)})` };
}

function issueText(error: z.ZodError): string {
  let issue = error.issues[0];
  // A union's own issue says only "Invalid input": the closest alternative's says what.
  while (issue?.code === 'invalid_union' && issue.errors[0]?.[0] !== undefined) {
    const inner: z.core.$ZodIssue = issue.errors[0][0];
    issue = { ...inner, path: [...issue.path, ...inner.path] };
  }
  if (issue === undefined) return 'unknown';
  const where = issue.path.length === 0 ? 'message' : issue.path.join('.');
  return `${where}: ${issue.message}`.slice(0, 200);
}
