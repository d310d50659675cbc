/**
 * The parent side of the bench's processes: forks `roles/main.ts` under tsx with an IPC channel,
 * and turns the child's messages into promises (ready, done, stop → usage). A child that fails
 * or exits early rejects every pending promise, so a scenario fails instead of hanging.
 * Above: scenarios.ts, which starts children, says 'go' and collects figures.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { join } from 'node:path';
import type { ChildMessage, RoleSpec } from './messages';

const ENTRY = join(__dirname, '..', 'roles', 'main.ts');

type Ready = Extract<ChildMessage, { kind: 'ready' }>;
type Done = Extract<ChildMessage, { kind: 'done' }>;

/** Extra node flags for every child, e.g. `--cpu-prof` (see `npm run bench -- --help`). */
let childNodeFlags: readonly string[] = [];

export function setChildNodeFlags(flags: readonly string[]): void {
  childNodeFlags = flags;
}

export class BenchChild {
  readonly role: RoleSpec['role'];
  readonly ready: Promise<Ready>;
  readonly done: Promise<Done>;
  readonly #process: ChildProcess;
  readonly #usage: Promise<Extract<ChildMessage, { kind: 'usage' }>>;
  readonly #exit: Promise<void>;
  #exited = false;

  constructor(spec: RoleSpec) {
    this.role = spec.role;
    this.#process = fork(ENTRY, [JSON.stringify(spec)], {
      // tsx's CJS hook runs in-thread; `--import tsx` adds a loader thread (~35 MiB of RSS)
      // that would blur the memory figures.
      execArgv: ['--require', 'tsx/cjs', ...childNodeFlags],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const waiters = new Map<ChildMessage['kind'], (message: ChildMessage) => void>();
    const failures: ((error: Error) => void)[] = [];
    const expect = <M extends ChildMessage>(kind: M['kind']): Promise<M> => {
      const promise = new Promise<M>((resolve, reject) => {
        waiters.set(kind, resolve as (message: ChildMessage) => void);
        failures.push(reject);
      });
      promise.catch(() => undefined); // a role may never send some kinds (seeders: 'done')
      return promise;
    };
    this.ready = expect<Ready>('ready');
    this.done = expect<Done>('done');
    this.#usage = expect<Extract<ChildMessage, { kind: 'usage' }>>('usage');
    const failAll = (error: Error): void => {
      for (const fail of failures) fail(error);
    };
    this.#process.on('message', (message: ChildMessage) => {
      if (message.kind === 'failed') failAll(new Error(`${this.role} failed: ${message.message}`));
      else waiters.get(message.kind)?.(message);
    });
    this.#process.on('exit', () => (this.#exited = true));
    // 'close', not 'exit': it comes after the IPC channel closed, so every message the child
    // sent before exiting (its 'usage', say) has been delivered first.
    this.#exit = new Promise((resolve) => {
      this.#process.on('close', (code, signal) => {
        failAll(new Error(`${this.role} exited early (code ${code}, signal ${signal})`));
        resolve();
      });
    });
  }

  go(): void {
    this.#process.send({ kind: 'go' });
  }

  /** Asks the child to stop; resolves with the resources it used since 'go', and its notes. */
  stop(): Promise<Extract<ChildMessage, { kind: 'usage' }>> {
    if (!this.#exited) this.#process.send({ kind: 'stop' });
    return this.#usage;
  }

  /**
   * Waits for the child to exit (it does after 'usage'; a CPU profile is written on exit), and
   * kills it if it has not within `graceMs` (cleanup after a failure).
   */
  async close(graceMs = 5_000): Promise<void> {
    if (this.#exited) return;
    const timer = setTimeout(() => this.#process.kill('SIGKILL'), graceMs);
    await this.#exit;
    clearTimeout(timer);
  }
}

/** Rejects after `ms` with a message naming what took too long. */
export function deadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms / 1000} s`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
