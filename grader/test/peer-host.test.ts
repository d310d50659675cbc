/**
 * The peer process and its pipe (grader/harness/peer-host/): the frame decoder on every split,
 * the checks on what a peer process may send, and what the process inherits from the harness:
 * no descriptor but stdio (not the results channel the Jest process holds on fd 3, which is not
 * close-on-exec) and an empty environment.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { encodeMessage, FrameError, MessageDecoder } from '../harness/peer-host/frames';
import { checkMessage, checkReply } from '../harness/peer-host/schemas';
import { REPO } from './cli-fixtures';

const MESSAGES = [
  { kind: 'reply', id: 1, ok: true, value: null },
  { kind: 'event', event: { type: 'pipeData', pipeId: 7, chunk: new Uint8Array([0, 1, 255]) } },
  {
    kind: 'store',
    id: 2,
    call: 'readPiece',
    peer: 'P',
    ref: { swarmId: 's', fileId: 'f', index: 3 },
  },
];
const WIRE = Buffer.concat(MESSAGES.map((message) => encodeMessage(message)));

describe('the frame decoder', () => {
  test('decodes messages written whole, many in one chunk', () => {
    expect(new MessageDecoder(1024).push(WIRE)).toEqual(MESSAGES);
  });

  test('decodes the same messages split at every byte', () => {
    for (let cut = 0; cut <= WIRE.length; cut += 1) {
      const decoder = new MessageDecoder(1024);
      const got = [...decoder.push(WIRE.subarray(0, cut)), ...decoder.push(WIRE.subarray(cut))];
      expect(got).toEqual(MESSAGES);
    }
  });

  test('decodes the same messages written one byte at a time', () => {
    const decoder = new MessageDecoder(1024);
    const got = [...WIRE].flatMap((byte) => decoder.push(Uint8Array.of(byte)));
    expect(got).toEqual(MESSAGES);
  });

  test('refuses a length over the bound before buffering the body, and stays refused', () => {
    const decoder = new MessageDecoder(16);
    const header = Buffer.alloc(4);
    header.writeUInt32BE(17, 0);
    expect(() => decoder.push(header)).toThrow(FrameError);
    expect(() => decoder.push(encodeMessage(null))).toThrow(/17 bytes announced/);
  });

  test('carries the piece indices JSON has no word for (NaN, ±Infinity) as themselves, and a routed event with one passes the checks', () => {
    const refs = [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -1, 1.5].map(
      (index) => ({ swarmId: 's', fileId: 'f', index }),
    );
    const events = refs.map((ref) => ({
      kind: 'event',
      event: { type: 'routed', peer: 'P', ref, outcome: { resolved: { ok: false } } },
    }));
    const got = new MessageDecoder(1024).push(
      Buffer.concat(events.map((event) => encodeMessage(event))),
    );
    expect(got).toEqual(events);
    for (const event of got) expect(checkMessage(event).ok).toBe(true);
  });

  test('refuses a body that is not JSON', () => {
    const body = Buffer.from('{"kind":', 'utf8');
    const header = Buffer.alloc(4);
    header.writeUInt32BE(body.length, 0);
    expect(() => new MessageDecoder(1024).push(Buffer.concat([header, body]))).toThrow(/not JSON/);
  });
});

describe('what a peer process may send', () => {
  test('accepts the replies, events and store calls of the protocol', () => {
    for (const message of MESSAGES) expect(checkMessage(message).ok).toBe(true);
  });

  test('refuses the events only the harness records: a write or a held read', () => {
    const write = {
      kind: 'event',
      event: {
        type: 'write',
        peer: 'P',
        ref: { swarmId: 's', fileId: 'f', index: 0 },
        length: 1,
        sha256: 'aa',
      },
    };
    const held = {
      kind: 'event',
      event: {
        type: 'readHeld',
        peer: 'P',
        readId: 1,
        ref: { swarmId: 's', fileId: 'f', index: 0 },
      },
    };
    expect(checkMessage(write)).toMatchObject({ ok: false });
    expect(checkMessage(held)).toMatchObject({ ok: false });
  });

  test('refuses unknown kinds, extra fields and text over the bound', () => {
    expect(checkMessage({ kind: 'answer', id: 1 }).ok).toBe(false);
    expect(checkMessage({ kind: 'reply', id: 1, ok: true, value: null, score: 100 }).ok).toBe(
      false,
    );
    const long = { kind: 'fatal', error: { name: 'Error', message: 'x'.repeat(64 * 1024 + 1) } };
    expect(checkMessage(long).ok).toBe(false);
  });

  test("refuses a reply whose value does not fit the operation's", () => {
    expect(checkReply('startPeer', { peerId: 'P', host: '127.0.0.1', port: 4000 }).ok).toBe(true);
    expect(checkReply('startPeer', null)).toMatchObject({ ok: false, why: /reply to startPeer/ });
    expect(checkReply('download', [{ swarmId: 's', ok: true, piecesFrom: { a: -1 } }]).ok).toBe(
      false,
    );
  });
});

(existsSync('/proc/self/fd') ? describe : describe.skip)('the peer process', () => {
  test('inherits no descriptor but stdio, not even fd 3 left open without close-on-exec, and no environment', () => {
    // tsx's loader in this very process: its CLI would start another, without fd 3 and 4.
    const run = spawnSync(
      process.execPath,
      ['--import', 'tsx', join(__dirname, 'peer-host-fds.ts')],
      {
        cwd: REPO,
        env: { ...process.env, LAB9_PEER_MODULE: 'solution/peer', LAB9_PEER_HOST: '' },
        stdio: ['ignore', 'pipe', 'pipe', 'pipe', 'pipe'],
        encoding: 'utf8',
        timeout: 60_000,
      },
    );
    expect(run.stderr).toBe('');
    const seen = JSON.parse(run.stdout) as {
      fds: Record<string, string>;
      inherited: string[];
      environ: string;
    };
    // The helper's fd 3 and 4 are socket pairs (Node's pipes); the peer process has pipes of its own (stdio, and
    // Node's internal ones), but none of these two.
    expect(seen.inherited).toEqual([
      expect.stringMatching(/^(pipe|socket):/),
      expect.stringMatching(/^(pipe|socket):/),
    ]);
    for (const target of seen.inherited) expect(Object.values(seen.fds)).not.toContain(target);
    expect(Object.keys(seen.fds)).toEqual(expect.arrayContaining(['0', '1', '2']));
    expect(seen.environ).toBe('');
  }, 90_000);
});
