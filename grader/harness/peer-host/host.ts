/**
 * The test thread's handle on the peer host thread (worker.ts): starts it with tsx so it runs the
 * TypeScript under test, sends HostOps, collects HostEvents and the peer's console output, and
 * notices when the thread crashed or froze. Right: worker.ts. Above: world.ts.
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { Watch } from '../watch';
import {
  type HostEvent,
  type HostMessage,
  type HostOps,
  type HostWorkerData,
  type OpName,
  type SerializedError,
  serializeError,
} from './protocol';

/** How the host thread ended, when it did not end because the harness closed it. */
export type HostDeath =
  | { readonly kind: 'crashed'; readonly error: SerializedError }
  | { readonly kind: 'froze' }
  | { readonly kind: 'exited'; readonly code: number }
  | { readonly kind: 'closed' };

/** A request the host can no longer answer. */
export class HostGone extends Error {
  constructor(readonly death: HostDeath) {
    super(`the peer host thread is gone (${death.kind})`);
    this.name = 'HostGone';
  }
}

/** The peer's console output kept for failure messages: the last lines are the telling ones. */
const OUTPUT_LINES = 12;

// Plain JavaScript: registers tsx in the new thread, then loads the TypeScript entry.
const BOOT = `
const { workerData } = require('node:worker_threads');
require(workerData.tsxApi).register();
require(workerData.entry);
`;

export class PeerHost {
  /** Every event, in the order the host sent them. */
  readonly events: HostEvent[] = [];
  /** Notified after each event and on death. */
  readonly watch = new Watch();
  readonly #worker: Worker;
  readonly #pending = new Map<number, { resolve(value: unknown): void; reject(e: Error): void }>();
  readonly #listeners = new Set<(event: HostEvent) => void>();
  readonly #output: string[] = [];
  #nextId = 1;
  #death: HostDeath | undefined;

  constructor() {
    const workerData: HostWorkerData = {
      tsxApi: createRequire(__filename).resolve('tsx/cjs/api'),
      entry: join(__dirname, 'worker.ts'),
    };
    this.#worker = new Worker(BOOT, { eval: true, workerData, stdout: true, stderr: true });
    this.#worker.on('message', (message: HostMessage) => this.#onMessage(message));
    this.#worker.on('error', (error) =>
      this.#die({ kind: 'crashed', error: serializeError(error) }),
    );
    this.#worker.on('exit', (code) => this.#die({ kind: 'exited', code }));
    this.#worker.stdout.on('data', (chunk: Buffer) => this.#keepOutput(chunk));
    this.#worker.stderr.on('data', (chunk: Buffer) => this.#keepOutput(chunk));
  }

  /** Set once the thread is gone; it never comes back. */
  get death(): HostDeath | undefined {
    return this.#death;
  }

  /** The last lines the peer printed (console.log, console.error...). */
  get output(): readonly string[] {
    return this.#output;
  }

  request<K extends OpName>(op: K, args: HostOps[K]['request']): Promise<HostOps[K]['reply']> {
    if (this.#death) return Promise.reject(new HostGone(this.#death));
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#worker.postMessage({ kind: 'request', id, op, ...args });
    });
  }

  /** A request whose answer nobody awaits (pipe writes): order is all that matters. */
  send<K extends OpName>(op: K, args: HostOps[K]['request']): void {
    this.request(op, args).catch(() => {
      // A dead host is reported by whatever the scenario waits for next.
    });
  }

  /** Calls `listener` with every later event; returns the way to stop. */
  subscribe(listener: (event: HostEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * True if the thread answers a ping within `ms`. A thread that does not is stuck in a loop
   * (nothing else can keep a ping waiting): it is terminated and its death is 'froze'.
   */
  async probe(ms: number): Promise<boolean> {
    if (this.#death) return false;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), ms);
    });
    const answered = this.request('ping', {}).then(
      () => true,
      () => false,
    );
    const alive = await Promise.race([answered, timedOut]);
    clearTimeout(timer);
    if (!alive && !this.#death) {
      this.#die({ kind: 'froze' });
      await this.#worker.terminate();
    }
    return alive;
  }

  /** Ends the thread (and every peer in it). Idempotent. */
  async close(): Promise<void> {
    if (!this.#death) this.#die({ kind: 'closed' });
    await this.#worker.terminate();
  }

  #onMessage(message: HostMessage): void {
    if (message.kind === 'reply') {
      const pending = this.#pending.get(message.id);
      this.#pending.delete(message.id);
      if (!pending) return;
      if (message.ok) pending.resolve(message.value);
      else pending.reject(Object.assign(new Error(message.error.message), message.error));
      return;
    }
    this.events.push(message.event);
    for (const listener of [...this.#listeners]) listener(message.event);
    this.watch.notify();
  }

  #die(death: HostDeath): void {
    if (this.#death) return;
    this.#death = death;
    for (const pending of this.#pending.values()) pending.reject(new HostGone(death));
    this.#pending.clear();
    this.watch.notify();
  }

  #keepOutput(chunk: Buffer): void {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (line.trim() !== '') this.#output.push(line);
    }
    this.#output.splice(0, Math.max(0, this.#output.length - OUTPUT_LINES));
  }
}
