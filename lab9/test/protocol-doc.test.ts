/**
 * docs/protocol.md against the code it documents: every hex dump must be what encodeFrame writes
 * today (scripts/protocol-dumps.ts makes them), and the error table must list every code of
 * errors.ts once, with exactly the wire numbers of WIRE_ERROR_CODES. Edit the codec or the codes,
 * and this test says which part of the page to regenerate.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MESSAGE_NAMES, WIRE_ERROR_CODES } from '../src/protocol/message-types';
import { dumpBlock, protocolDumps } from '../../scripts/protocol-dumps';

const ROOT = join(__dirname, '..', '..');
const doc = readFileSync(join(ROOT, 'docs', 'protocol.md'), 'utf8');

/** The string codes of the `ErrorCodeName` union, read from the source in declaration order. */
function declaredErrorCodes(): string[] {
  const source = readFileSync(join(ROOT, 'lab9', 'src', 'errors.ts'), 'utf8');
  const union = /export type ErrorCodeName =([\s\S]*?);/.exec(source)?.[1] ?? '';
  return [...union.matchAll(/'(ERR_[A-Z_]+)'/g)].map((match) => match[1] as string);
}

/** Rows of the error table: code → the Wire column ("1".."6" or "—"). */
function documentedErrorCodes(): Map<string, string[]> {
  const rows = new Map<string, string[]>();
  for (const line of doc.split('\n')) {
    const cells = /^\|\s*`(ERR_[A-Z_]+)`\s*\|\s*([^|]*?)\s*\|/.exec(line);
    if (!cells) continue;
    const [, code, wire] = cells as unknown as [string, string, string];
    rows.set(code, [...(rows.get(code) ?? []), wire]);
  }
  return rows;
}

describe('docs/protocol.md', () => {
  test('shows each example frame exactly as encodeFrame writes it', () => {
    for (const dump of protocolDumps()) {
      if (!doc.includes(dumpBlock(dump))) {
        throw new Error(
          `docs/protocol.md has no dump of ${dump.name} (${dump.title}) matching the codec.\n` +
            `Expected this block:\n${dumpBlock(dump)}\n` +
            'Likely cause: the codec changed; run `npx tsx scripts/protocol-dumps.ts` and paste ' +
            'its blocks into docs/protocol.md.',
        );
      }
    }
  });

  test('has a dump of every message type', () => {
    const dumped = new Set(protocolDumps().map((dump) => dump.name));
    const missing = Object.values(MESSAGE_NAMES).filter((name) => !dumped.has(name));
    expect(missing).toEqual([]);
  });

  test('lists every error code of errors.ts once, with the wire number of WIRE_ERROR_CODES', () => {
    const documented = documentedErrorCodes();
    const wireOf = new Map<string, string>(
      Object.entries(WIRE_ERROR_CODES).map(([wire, code]) => [code, wire]),
    );
    const problems: string[] = [];
    for (const code of declaredErrorCodes()) {
      const rows = documented.get(code) ?? [];
      const expected = wireOf.get(code) ?? '—';
      if (rows.length !== 1) problems.push(`${code}: ${rows.length} rows, expected 1`);
      else if (rows[0] !== expected) {
        problems.push(`${code}: Wire column says ${rows[0]}, WIRE_ERROR_CODES says ${expected}`);
      }
      documented.delete(code);
    }
    for (const code of documented.keys()) problems.push(`${code}: documented, not in errors.ts`);
    expect(declaredErrorCodes().length).toBeGreaterThan(0);
    expect(problems).toEqual([]);
  });
});
