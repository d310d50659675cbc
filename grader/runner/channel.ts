/**
 * The results channel, parent side: the per-run key and the checking of what came back.
 * channel-reporter.js (inside Jest, loaded from the kit) reads the key as the first line of
 * fd 3 and writes one line per record there: `<hex HMAC-SHA256(key, json)> <json>\n`.
 * child.ts hands this module the bytes once the run's process tree is dead; score.ts turns
 * the verified records into points. Anything unsigned, mis-signed or out of sequence is an
 * anomaly that puts the submission up for review; it is never scored.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';

/** Unsigned channel lines quoted one by one in the anomalies; the rest are counted. */
const MAX_UNSIGNED_SHOWN = 3;

/** The child's file descriptor of the channel: the first one after stdin, stdout and stderr. */
export const CHANNEL_FD = 3;

/** A fresh key for one run: 32 random bytes, never written to disk, argv or environment. */
export function newChannelKey(): Buffer {
  return randomBytes(32);
}

/** What the parent writes first on the channel: the key in hex, one line. */
export function keyLine(key: Buffer): string {
  return `${key.toString('hex')}\n`;
}

/** Signs one record; the reporter does the same in JavaScript. Exposed for tests. */
export function signRecord(key: Buffer, json: string): string {
  return `${createHmac('sha256', key).update(json).digest('hex')} ${json}\n`;
}

const TestStatus = z.enum([
  'passed',
  'failed',
  'skipped',
  'pending',
  'todo',
  'disabled',
  'focused',
]);
export type TestStatus = z.infer<typeof TestStatus>;

const Base = { v: z.literal(1), seq: z.number().int().nonnegative() };

export const ChannelRecordSchema = z.discriminatedUnion('kind', [
  z.object({ ...Base, kind: z.literal('start'), jest: z.string() }),
  z.object({
    ...Base,
    kind: z.literal('case'),
    /** Test file, relative to the sandbox root. */
    file: z.string(),
    /** The Jest full name: the rubric's test identity. */
    name: z.string(),
    /** 1, or more when Jest retried the file after its worker died. */
    attempt: z.number().int().positive(),
    status: TestStatus,
    failures: z.array(z.string()),
    durationMs: z.number().nullable(),
  }),
  z.object({
    ...Base,
    kind: z.literal('file'),
    file: z.string(),
    /** Why the file failed as a whole (did not load, a hook failed, its worker crashed). */
    error: z.string().nullable(),
    tests: z.array(
      z.object({ name: z.string(), status: TestStatus, failures: z.array(z.string()) }),
    ),
  }),
  z.object({
    ...Base,
    kind: z.literal('done'),
    success: z.boolean(),
    numTotalTests: z.number().int(),
    numPassedTests: z.number().int(),
    numFailedTests: z.number().int(),
  }),
]);
export type ChannelRecord = z.infer<typeof ChannelRecordSchema>;

export interface ChannelReading {
  /** Verified records, in order. */
  readonly records: ChannelRecord[];
  /** Why this run's results cannot be trusted as they stand; empty when all is well. */
  readonly anomalies: string[];
}

/**
 * Verifies the bytes read from the channel. `truncated` says the parent stopped keeping bytes
 * (a flood); a last line without its newline is ignored, since a killed run may stop mid-write.
 */
export function readChannel(data: Buffer, key: Buffer, truncated = false): ChannelReading {
  const records: ChannelRecord[] = [];
  const anomalies: string[] = [];
  if (truncated) anomalies.push('the results channel carried more data than any run can produce');
  const lines = data.toString('utf8').split('\n');
  lines.pop();
  let unsigned = 0;
  lines.forEach((line, index) => {
    const where = `results channel line ${index + 1}`;
    const space = line.indexOf(' ');
    const mac = space === -1 ? '' : line.slice(0, space);
    if (!/^[0-9a-f]{64}$/.test(mac)) {
      unsigned += 1;
      // A flood of garbage is one finding: the first few lines show what it was.
      if (unsigned <= MAX_UNSIGNED_SHOWN) {
        anomalies.push(`${where} is not signed: ${JSON.stringify(line.slice(0, 80))}`);
      }
      return;
    }
    const json = line.slice(space + 1);
    const expected = createHmac('sha256', key).update(json).digest();
    if (!timingSafeEqual(expected, Buffer.from(mac, 'hex'))) {
      anomalies.push(`${where} has a signature that does not match its content`);
      return;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(json);
    } catch {
      anomalies.push(`${where} is signed but is not JSON`);
      return;
    }
    const record = ChannelRecordSchema.safeParse(parsed);
    if (!record.success) {
      anomalies.push(
        `${where} is signed but is not a record: ${record.error.issues[0]?.message ?? ''}`,
      );
      return;
    }
    if (record.data.seq !== records.length) {
      anomalies.push(
        `${where} is record ${record.data.seq}, expected ${records.length}: replayed or reordered`,
      );
      return;
    }
    records.push(record.data);
  });
  if (unsigned > MAX_UNSIGNED_SHOWN) {
    anomalies.push(
      `${unsigned - MAX_UNSIGNED_SHOWN} more lines of the results channel are not signed`,
    );
  }
  return { records, anomalies };
}
