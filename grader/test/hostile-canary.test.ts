/**
 * The must-fail canary, end to end: a stand-in kit whose one suite loads the Peer in the test
 * thread itself (the real harness never does: it hosts peers in a thread of their own), so a
 * submission that replaces Object.is at load time really does turn a failing assertion into a
 * pass there. The canary of that file then passes too, which withholds the score for review;
 * the honest template beside it is graded as usual.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { GradescopeResultsSchema } from '../runner/results';
import { GRADE, REPO, TSX, standInKitBase, tempDir } from './cli-fixtures';
import { scaled } from '../../lab9/src/time-factor';

/** Loads the peer when the file loads, before any test runs: the canary test then runs patched. */
const SUITE = `import { loadPeerClass } from '../harness/implementation';
const Peer = loadPeerClass();
test('the peer class is a string (false for every submission)', () => {
  expect(typeof Peer).toBe('string');
});
`;

const RUBRIC = {
  lab: 'Lab 9 (canary stand-in)',
  suites: [
    {
      file: 'grader/suites/in-thread.test.ts',
      visibility: 'visible',
      tests: [
        {
          id: 'thread.impossible',
          name: 'the peer class is a string (false for every submission)',
          points: 5,
          part: '9A',
        },
      ],
    },
  ],
};

let tmp: { path: string; remove: () => void };
beforeEach(() => {
  tmp = tempDir('canary');
});
afterEach(() => tmp.remove());

test(
  'a submission that patches Object.is where the tests run is withheld for review by the canary',
  async () => {
    const kit = join(tmp.path, 'kit');
    standInKitBase(kit);
    writeFileSync(join(kit, 'grader', 'suites', 'in-thread.test.ts'), SUITE);
    writeFileSync(join(kit, 'grader', 'rubric.json'), JSON.stringify(RUBRIC));
    const template = readFileSync(join(REPO, 'lab9', 'src', 'peer', 'peer.ts'), 'utf8');
    const subs = join(tmp.path, 'subs');
    mkdirSync(join(subs, 'honest'), { recursive: true });
    mkdirSync(join(subs, 'patcher'), { recursive: true });
    writeFileSync(join(subs, 'honest', 'peer.ts'), template);
    writeFileSync(
      join(subs, 'patcher', 'peer.ts'),
      `${template}\nObject.is = (): boolean => true;\n`,
    );

    const out = join(tmp.path, 'out');
    await promisify(execFile)(
      process.execPath,
      [TSX, GRADE, '--kit', kit, '--out', out, '--seed', '5', '--jobs', '2', subs],
      { cwd: tmp.path, maxBuffer: 16 * 1024 * 1024 },
    );
    const results = (name: string) =>
      GradescopeResultsSchema.parse(
        JSON.parse(readFileSync(join(out, name, 'results.json'), 'utf8')),
      );

    const honest = results('honest');
    expect(honest.score).toBe(0);
    expect(honest.output).toMatch(/honest: 0\/5 · ok/);

    const patcher = results('patcher');
    expect(patcher.score).toBe(0);
    expect(patcher.extra_data.withheld_score).toBe(5);
    expect(patcher.output).toMatch(/patcher: 0\/5 · needs-review/);
    expect(patcher.output).toContain(
      'the canary test of grader/suites/in-thread.test.ts passed: it must fail',
    );
    expect(patcher.output).toContain('the assertion library passed what must fail');
  },
  scaled(180_000),
);
