/**
 * grader/rubric.json against the schema and against the suites it scores: every graded test
 * exists with exactly the full name Jest reports, in the file the rubric says, and every test
 * of the suites is graded. Names are collected by Jest itself (a child run that skips every
 * test), so describe blocks, template titles and Jest's joining rules are Jest's, not a guess.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, relative } from 'node:path';
import { type Rubric, loadRubric, maxScore, rubricTests } from '../rubric';
import { scaled } from '../../lab9/src/time-factor';

const ROOT = join(__dirname, '..', '..');

interface JestJson {
  readonly testResults: readonly {
    readonly name: string;
    readonly status: string;
    readonly message: string;
    readonly assertionResults: readonly { readonly fullName: string; readonly status: string }[];
  }[];
}

/** file (relative, `/`-separated) → full names of its tests, as Jest collects them. */
function collectSuiteTests(): Map<string, string[]> {
  const out = mkdtempSync(join(tmpdir(), 'lab9-rubric-'));
  try {
    const outputFile = join(out, 'jest.json');
    const run = spawnSync(
      process.execPath,
      [
        require.resolve('jest/bin/jest'),
        '--config',
        'grader/jest.config.js',
        '--ci',
        '--silent',
        '--json',
        `--outputFile=${outputFile}`,
        // No full name is empty: every test is collected and skipped, none runs.
        '--testNamePattern=^$',
      ],
      { cwd: ROOT, encoding: 'utf8', env: { ...process.env, FORCE_COLOR: '0' } },
    );
    if (!existsSync(outputFile)) {
      throw new Error(`jest did not write its report (exit ${run.status}):\n${run.stderr}`);
    }
    const report = JSON.parse(readFileSync(outputFile, 'utf8')) as JestJson;
    const tests = new Map<string, string[]>();
    for (const file of report.testResults) {
      if (file.status === 'failed' && file.assertionResults.length === 0) {
        throw new Error(`a suite could not even be loaded: ${file.name}\n${file.message}`);
      }
      const path = relative(ROOT, file.name).split('\\').join('/');
      tests.set(
        path,
        file.assertionResults.map((test) => test.fullName),
      );
    }
    return tests;
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

describe('grader/rubric.json', () => {
  let rubric: Rubric;

  beforeAll(() => {
    rubric = loadRubric(ROOT);
  });

  test('is valid against the rubric schema (grader/rubric.ts)', () => {
    expect(rubric.suites.length).toBeGreaterThan(0);
  });

  test('is worth 100 points, split between 9A, 9B and the tests of both', () => {
    expect(maxScore(rubric)).toBe(100);
    const byPart = new Map<string, number>();
    for (const test of rubricTests(rubric)) {
      byPart.set(test.part, (byPart.get(test.part) ?? 0) + test.points);
    }
    expect([...byPart.keys()].sort()).toEqual(['9A', '9A+9B', '9B']);
  });

  test('has public suites for the self-check and at least one hidden suite', () => {
    const visibility = new Set(rubric.suites.map((suite) => suite.visibility));
    expect(visibility).toEqual(new Set(['visible', 'hidden']));
  });

  test("prefixes every test ID with its suite's name (dashes as dots)", () => {
    for (const suite of rubric.suites) {
      const prefix = basename(suite.file, '.test.ts').split('-').join('.');
      for (const test of suite.tests)
        expect(`${test.id} in ${suite.file}`).toMatch(new RegExp(`^${prefix}\\.[a-z0-9-]+ in `));
    }
  });

  test(
    'grades exactly the tests the suites define, each under the full name Jest reports, file by file',
    () => {
      const collected = collectSuiteTests();
      const graded = new Map(
        rubric.suites.map((suite) => [suite.file, suite.tests.map((t) => t.name)]),
      );
      const sort = (map: Map<string, string[]>): [string, string[]][] =>
        [...map].map(([file, names]): [string, string[]] => [file, [...names].sort()]).sort();
      expect(sort(graded)).toEqual(sort(collected));
    },
    scaled(60_000),
  );
});
