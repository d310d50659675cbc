// @ts-check
/**
 * Jest reporter of a graded run, child side of the results channel (parent side: channel.ts).
 * Jest loads it from the kit by absolute path, never from the sandbox, in its main process;
 * the tests themselves run in a worker process that does not hold fd 3 (there it is Jest's IPC).
 * At startup it reads the run's key, the first line on fd 3, then writes one signed line per
 * record: `<hex HMAC-SHA256(key, json)> <json>\n`. Plain JS: Jest loads reporters untransformed.
 */
'use strict';
const { createHmac } = require('node:crypto');
const { fstatSync, readSync, writeSync } = require('node:fs');
const { relative } = require('node:path');

const CHANNEL_FD = 3;
/** Keep in step with MAX_FAILURE_MESSAGE_CHARS in limits.ts (JS cannot import the TS file). */
const MAX_FAILURE_MESSAGE_CHARS = 16 * 1024;
/** The parent writes the key at spawn; waiting longer than this means no parent is there. */
const KEY_WAIT_MS = 10_000;

/**
 * Sleeps synchronously: a reporter's constructor cannot await, and the key must come first.
 * @param {number} ms
 */
function pause(ms) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** @param {NodeJS.ErrnoException} error */
function isRetryable(error) {
  return error.code === 'EAGAIN' || error.code === 'EWOULDBLOCK' || error.code === 'EINTR';
}

/**
 * Reads the first line of fd 3: 64 hex digits. Outside a graded run fd 3 is absent or one of
 * Node's own (an epoll or event fd, never a socket), so anything but a socket is refused.
 */
function readKey() {
  let isSocket = false;
  try {
    isSocket = fstatSync(CHANNEL_FD).isSocket();
  } catch {
    // EBADF: not open at all.
  }
  if (!isSocket) {
    throw new Error('channel-reporter: no results channel on fd 3; run it through npm run grade');
  }
  const deadline = Date.now() + KEY_WAIT_MS;
  const buffer = Buffer.alloc(65);
  let length = 0;
  while (length < buffer.length) {
    let read;
    try {
      read = readSync(CHANNEL_FD, buffer, length, buffer.length - length, null);
    } catch (error) {
      const errno = /** @type {NodeJS.ErrnoException} */ (error);
      if (errno.code === 'EBADF') {
        throw new Error(
          'channel-reporter: no results channel on fd 3; run it through npm run grade',
        );
      }
      if (!isRetryable(errno) || Date.now() > deadline) throw error;
      pause(5);
      continue;
    }
    if (read === 0) break;
    length += read;
  }
  const line = buffer.subarray(0, length).toString('latin1');
  if (!/^[0-9a-f]{64}\n$/.test(line))
    throw new Error('channel-reporter: no key on the results channel');
  return Buffer.from(line.slice(0, 64), 'hex');
}

/**
 * Writes all of `data`, waiting out a full socket buffer (the parent drains it as we go).
 * @param {Buffer} data
 */
function writeAll(data) {
  let offset = 0;
  while (offset < data.length) {
    try {
      offset += writeSync(CHANNEL_FD, data, offset, data.length - offset);
    } catch (error) {
      if (!isRetryable(/** @type {NodeJS.ErrnoException} */ (error))) throw error;
      pause(5);
    }
  }
}

/** @param {string[]} messages */
function capped(messages) {
  return messages.map((message) =>
    message.length > MAX_FAILURE_MESSAGE_CHARS
      ? `${message.slice(0, MAX_FAILURE_MESSAGE_CHARS)}\n… [message cut at ${MAX_FAILURE_MESSAGE_CHARS} characters]`
      : message,
  );
}

class ChannelReporter {
  /** @type {Buffer} */
  #key;
  #seq = 0;
  #rootDir;
  /** Full names reported per test file, to number the attempts of a file Jest retried. */
  /** @type {Map<string, Map<string, number>>} */
  #attempts = new Map();

  /** @param {{ rootDir: string }} globalConfig */
  constructor(globalConfig) {
    this.#rootDir = globalConfig.rootDir;
    this.#key = readKey();
    this.#send({ kind: 'start', jest: require('jest/package.json').version });
  }

  /** @param {Record<string, unknown>} record */
  #send(record) {
    const json = JSON.stringify({ v: 1, seq: this.#seq, ...record });
    this.#seq += 1;
    const mac = createHmac('sha256', this.#key).update(json).digest('hex');
    writeAll(Buffer.from(`${mac} ${json}\n`, 'utf8'));
  }

  /** @param {string} path */
  #file(path) {
    return relative(this.#rootDir, path).split('\\').join('/');
  }

  /**
   * @param {{ path: string }} test
   * @param {{ fullName: string, status: string, failureMessages: string[], duration?: number | null }} result
   */
  onTestCaseResult(test, result) {
    const file = this.#file(test.path);
    const seen = this.#attempts.get(file) ?? new Map();
    this.#attempts.set(file, seen);
    const attempt = (seen.get(result.fullName) ?? 0) + 1;
    seen.set(result.fullName, attempt);
    this.#send({
      kind: 'case',
      file,
      name: result.fullName,
      attempt,
      status: result.status,
      failures: capped(result.failureMessages),
      durationMs: typeof result.duration === 'number' ? result.duration : null,
    });
  }

  /**
   * @param {{ path: string }} test
   * @param {{ testExecError?: { message: string, stack?: string | null } | null, failureMessage?: string | null,
   *   testResults: { fullName: string, status: string, failureMessages: string[] }[] }} result
   */
  onTestFileResult(test, result) {
    const execError = result.testExecError;
    this.#send({
      kind: 'file',
      file: this.#file(test.path),
      error: execError ? capped([execError.stack ?? execError.message])[0] : null,
      tests: result.testResults.map((assertion) => ({
        name: assertion.fullName,
        status: assertion.status,
        failures: capped(assertion.failureMessages),
      })),
    });
  }

  /**
   * @param {unknown} _contexts
   * @param {{ success: boolean, numTotalTests: number, numPassedTests: number, numFailedTests: number }} results
   */
  onRunComplete(_contexts, results) {
    this.#send({
      kind: 'done',
      success: results.success,
      numTotalTests: results.numTotalTests,
      numPassedTests: results.numPassedTests,
      numFailedTests: results.numFailedTests,
    });
  }

  getLastError() {
    return undefined;
  }
}

module.exports = ChannelReporter;
