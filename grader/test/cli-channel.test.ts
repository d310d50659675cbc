/**
 * The signed results channel: channel-reporter.js (driven in a child process exactly as Jest
 * drives it, through runChild's fd 3) against channel.ts's verification. A line without the
 * run's key, with another key, or replayed is an anomaly and never a result.
 */
import { join } from 'node:path';
import { type ChannelRecord, newChannelKey, readChannel, signRecord } from '../runner/channel';
import { runChild } from '../runner/child';
import { scaled } from '../../lab9/src/time-factor';

const REPORTER = join(__dirname, '..', 'runner', 'channel-reporter.js');
const LIMITS = {
  timeoutMs: scaled(30_000),
  memoryBytes: 1024 * 1024 * 1024,
  outputKeepBytes: 64 * 1024,
  outputFloodBytes: 1024 * 1024,
};

/** Runs `script` in a Node child with the channel open, as run-jest.ts runs Jest. */
function runWithChannel(script: string, key = newChannelKey()) {
  return runChild({
    command: process.execPath,
    args: ['-e', script],
    cwd: __dirname,
    env: { PATH: process.env.PATH ?? '', REPORTER },
    limits: LIMITS,
    channelKey: key,
  }).then((result) => ({ result, key }));
}

/** The reporter's calls for one passing and one failing test, then the end of the run. */
const DRIVE_REPORTER = `
  const Reporter = require(process.env.REPORTER);
  const reporter = new Reporter({ rootDir: '/kit' });
  const test = { path: '/kit/grader/suites/a.test.ts' };
  reporter.onTestCaseResult(test, { fullName: 'a passes', status: 'passed', failureMessages: [], duration: 3 });
  reporter.onTestCaseResult(test, { fullName: 'a fails', status: 'failed', failureMessages: ['expected 1, got 2'] });
  reporter.onTestFileResult(test, { testExecError: null, testResults: [
    { fullName: 'a passes', status: 'passed', failureMessages: [] },
    { fullName: 'a fails', status: 'failed', failureMessages: ['expected 1, got 2'] },
  ] });
  reporter.onRunComplete(new Set(), { success: false, numTotalTests: 2, numPassedTests: 1, numFailedTests: 1 });
`;

/** A record without its version field (distributed over the union, which Omit would merge). */
type Unversioned<T> = T extends unknown ? Omit<T, 'v'> : never;

function json(record: Unversioned<ChannelRecord>): string {
  return JSON.stringify({ v: 1, ...record });
}

describe('the reporter and the parent', () => {
  test('records written by the reporter with the key from fd 3 verify, in order', async () => {
    const { result, key } = await runWithChannel(DRIVE_REPORTER);
    expect(result.output).toBe('');
    const reading = readChannel(result.channel, key);
    expect(reading.anomalies).toEqual([]);
    expect(reading.records.map((r) => r.kind)).toEqual(['start', 'case', 'case', 'file', 'done']);
    expect(reading.records[2]).toMatchObject({
      kind: 'case',
      file: 'grader/suites/a.test.ts',
      name: 'a fails',
      attempt: 1,
      status: 'failed',
      failures: ['expected 1, got 2'],
    });
  });

  test('a line written to fd 3 by anyone without the key is rejected, the signed ones kept', async () => {
    const { result, key } = await runWithChannel(
      `${DRIVE_REPORTER}
      const { writeSync } = require('node:fs');
      writeSync(3, '{"v":1,"seq":5,"kind":"case","name":"a fails","status":"passed"}\\n');
      writeSync(3, '${'0'.repeat(64)} {"v":1,"seq":5,"kind":"done"}\\n');`,
    );
    const reading = readChannel(result.channel, key);
    expect(reading.records).toHaveLength(5);
    expect(reading.anomalies).toEqual([
      expect.stringMatching(/^results channel line 6 is not signed: /),
      'results channel line 7 has a signature that does not match its content',
    ]);
  });

  test('a retried test file numbers its attempts', async () => {
    const { result, key } = await runWithChannel(`
      const Reporter = require(process.env.REPORTER);
      const reporter = new Reporter({ rootDir: '/kit' });
      const test = { path: '/kit/grader/suites/a.test.ts' };
      const result = { fullName: 'a passes', status: 'passed', failureMessages: [] };
      reporter.onTestCaseResult(test, result);
      reporter.onTestCaseResult(test, result);`);
    const cases = readChannel(result.channel, key).records.filter((r) => r.kind === 'case');
    expect(cases.map((r) => r.kind === 'case' && r.attempt)).toEqual([1, 2]);
  });

  test('outside a graded run (no socket on fd 3) the reporter refuses to start', async () => {
    const result = await runChild({
      command: process.execPath,
      args: ['-e', 'const R = require(process.env.REPORTER); new R({ rootDir: "/kit" });'],
      cwd: __dirname,
      env: { PATH: process.env.PATH ?? '', REPORTER },
      limits: LIMITS,
    });
    expect(result.exitCode).not.toBe(0);
    expect(result.output).toMatch(/no results channel on fd 3; run it through npm run grade/);
  });
});

describe('readChannel', () => {
  const key = newChannelKey();
  const start = signRecord(key, json({ seq: 0, kind: 'start', jest: '30' }));
  const done = (seq: number): string =>
    signRecord(
      key,
      json({
        seq,
        kind: 'done',
        success: true,
        numTotalTests: 0,
        numPassedTests: 0,
        numFailedTests: 0,
      }),
    );

  test('a replayed or reordered signed line is an anomaly, not a second record', () => {
    const reading = readChannel(Buffer.from(start + start + done(1)), key);
    expect(reading.records.map((r) => r.seq)).toEqual([0, 1]);
    expect(reading.anomalies).toEqual([
      'results channel line 2 is record 0, expected 1: replayed or reordered',
    ]);
  });

  test('a line signed with another run’s key is rejected', () => {
    const other = signRecord(newChannelKey(), json({ seq: 0, kind: 'start', jest: '30' }));
    expect(readChannel(Buffer.from(other), key).anomalies).toEqual([
      'results channel line 1 has a signature that does not match its content',
    ]);
  });

  test('a signed line that is not a record is rejected', () => {
    const reading = readChannel(Buffer.from(signRecord(key, '{"v":1,"seq":0,"kind":"boom"}')), key);
    expect(reading.records).toEqual([]);
    expect(reading.anomalies[0]).toMatch(/^results channel line 1 is signed but is not a record/);
  });

  test('a flood of unsigned lines is quoted three times, then counted', () => {
    const garbage = Array.from({ length: 50 }, (_, i) => `garbage ${i}\n`).join('');
    const reading = readChannel(Buffer.from(start + garbage + done(1)), key);
    expect(reading.records.map((r) => r.kind)).toEqual(['start', 'done']);
    expect(reading.anomalies).toEqual([
      'results channel line 2 is not signed: "garbage 0"',
      'results channel line 3 is not signed: "garbage 1"',
      'results channel line 4 is not signed: "garbage 2"',
      '47 more lines of the results channel are not signed',
    ]);
  });

  test('a last line cut short by a killed run is ignored; a truncated channel is an anomaly', () => {
    const cut = Buffer.from(start + done(1).slice(0, 40));
    expect(readChannel(cut, key)).toEqual({
      records: [expect.objectContaining({ seq: 0 })],
      anomalies: [],
    });
    expect(readChannel(Buffer.from(start), key, true).anomalies).toEqual([
      'the results channel carried more data than any run can produce',
    ]);
  });
});
