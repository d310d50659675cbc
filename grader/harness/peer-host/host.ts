/**
 * The test thread's handle on the peer process (worker.ts): starts it (launch.ts), sends
 * HostOps, answers its store calls from the stores kept here (store-host.ts), collects
 * HostEvents and the peer's console output, and notices when the process crashed, froze or
 * broke the protocol. Everything the process sends is untrusted: checked by schemas.ts, replies
 * taken only for a request sent and only once. Right: worker.ts. Above: world.ts.
 */
import { type ChildProcessByStdio, spawn } from 'node:child_process';
import { writeSync } from 'node:fs';
import type { Readable, Writable } from 'node:stream';
import { MAX_HOST_MESSAGE_BYTES, MAX_PENDING_STORE_CALLS } from '../bounds';
import { Watch } from '../watch';
import { MessageDecoder, encodeMessage } from './frames';
import { peerHostPlan, peerLaunch } from './launch';
import {
  HARNESS_OPS,
  type HarnessMessage,
  type HarnessOpName,
  type HostEvent,
  type HostMessage,
  type HostOps,
  type OpName,
  type FileState,
  type PeerOpName,
  type SerializedError,
  type StoreCall,
  serializeError,
} from './protocol';
import { checkMessage, checkReply } from './schemas';
import { StoreHost } from './store-host';

/** How the peer process ended, when it did not end because the harness closed it. */
export type HostDeath =
  | { readonly kind: 'crashed'; readonly error: SerializedError }
  | { readonly kind: 'froze' }
  | { readonly kind: 'exited'; readonly code: number }
  | { readonly kind: 'closed' }
  /** It sent something the protocol does not allow: garbage, or a reply nobody asked for. */
  | { readonly kind: 'violated'; readonly why: string };

/** A request the host can no longer answer. */
export class HostGone extends Error {
  constructor(readonly death: HostDeath) {
    super(`the peer host process is gone (${death.kind})`);
    this.name = 'HostGone';
  }
}

/** The peer's console output kept for failure messages: the last lines are the telling ones. */
const OUTPUT_LINES = 12;
/** Console output kept per line, so that one huge line cannot fill the failure message. */
const OUTPUT_LINE_CHARS = 500;

const isHarnessOp = (op: OpName): op is HarnessOpName =>
  (HARNESS_OPS as readonly string[]).includes(op);

interface Pending {
  readonly op: PeerOpName;
  readonly args: unknown;
  resolve(value: unknown): void;
  reject(e: Error): void;
}

export class PeerHost {
  /** Every event, in the order they happened (the stores' here, the peer process's as sent). */
  readonly events: HostEvent[] = [];
  /** Notified after each event and on death. */
  readonly watch = new Watch();
  readonly #child: ChildProcessByStdio<Writable, Readable, Readable>;
  readonly #dir: string;
  readonly #stores: StoreHost;
  readonly #decoder = new MessageDecoder(MAX_HOST_MESSAGE_BYTES);
  readonly #pending = new Map<number, Pending>();
  readonly #listeners = new Set<(event: HostEvent) => void>();
  readonly #output: string[] = [];
  #storeCalls = 0;
  #nextId = 1;
  #fatal: SerializedError | undefined;
  #death: HostDeath | undefined;
  readonly #exited: Promise<void>;

  constructor() {
    const launch = peerLaunch(peerHostPlan());
    this.#dir = launch.dir;
    this.#stores = new StoreHost((event) => this.#record(event));
    this.#child = spawn(launch.command, [...launch.args], {
      cwd: launch.cwd,
      env: launch.env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.#exited = new Promise((resolve) => this.#child.once('close', () => resolve()));
    this.#child.stdout.on('data', (chunk: Buffer) => this.#onData(chunk));
    this.#child.stderr.on('data', (chunk: Buffer) => {
      this.#keepOutput(chunk);
      // And on to the run's own output, as a peer's output went when it ran in Jest's process:
      // the runner keeps it in run.log and stops a flood there.
      writeSync(2, chunk);
    });
    // Writes to a process that died fail with EPIPE; its death is reported by 'close'.
    this.#child.stdin.on('error', () => undefined);
    this.#child.on('error', (error) =>
      this.#die({ kind: 'crashed', error: serializeError(error) }),
    );
    this.#child.on('close', (code, signal) => {
      if (this.#fatal) this.#die({ kind: 'crashed', error: this.#fatal });
      else if (code !== null) this.#die({ kind: 'exited', code });
      else
        this.#die({ kind: 'crashed', error: { name: 'signal', message: `killed by ${signal}` } });
    });
  }

  /** The peer process's pid (for the grader's own tests). */
  get pid(): number | undefined {
    return this.#child.pid;
  }

  /** Set once the process is gone; it never comes back. */
  get death(): HostDeath | undefined {
    return this.#death;
  }

  /** The last lines the peer printed (console.log, console.error...). */
  get output(): readonly string[] {
    return this.#output;
  }

  request<K extends OpName>(op: K, args: HostOps[K]['request']): Promise<HostOps[K]['reply']> {
    if (this.#death) return Promise.reject(new HostGone(this.#death));
    if (isHarnessOp(op)) {
      return this.#answerHere(op, args as never);
    }
    return this.#ask(op, args) as Promise<HostOps[K]['reply']>;
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
   * True if the process answers a ping within `ms`. One that does not is stuck in a loop
   * (nothing else can keep a ping waiting): it is killed and its death is 'froze'.
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
      await this.#kill();
    }
    return alive;
  }

  /** Ends the process (and every peer in it). Idempotent. */
  async close(): Promise<void> {
    if (!this.#death) this.#die({ kind: 'closed' });
    await this.#kill();
  }

  async #kill(): Promise<void> {
    await this.#stores.clear();
    if (this.#child.exitCode === null && this.#child.signalCode === null) {
      this.#child.kill('SIGKILL');
    }
    await this.#exited;
  }

  #ask(op: PeerOpName, args: unknown): Promise<unknown> {
    const id = this.#nextId++;
    const sent = new Promise((resolve, reject) => {
      this.#pending.set(id, { op, args, resolve, reject });
    });
    // The harness's side of a peer exists before the peer process hears of it, and goes after.
    const start = args as HostOps['startPeer']['request'];
    const before =
      op === 'startPeer'
        ? this.#stores.add(start.name, start.seeds, {
            storage: start.storage ?? 'memory',
            keepBuffers: start.keepBuffers ?? false,
          })
        : Promise.resolve();
    before.then(
      () => this.#write({ kind: 'request', id, op, ...(args as object) } as HarnessMessage),
      (error: unknown) => this.#settle(id, { ok: false, error: serializeError(error) }),
    );
    if (op === 'stopPeer') {
      const { name } = args as HostOps['stopPeer']['request'];
      return sent.finally(() => this.#stores.remove(name));
    }
    if (op === 'reset') return sent.finally(() => this.#stores.clear());
    return sent;
  }

  async #answerHere<K extends HarnessOpName>(
    op: K,
    args: HostOps[K]['request'],
  ): Promise<HostOps[K]['reply']> {
    switch (op) {
      case 'holdReads': {
        const { name, rule } = args as HostOps['holdReads']['request'];
        return this.#stores.holdReads(name, rule);
      }
      case 'releaseAll':
        return this.#stores.releaseAll(args.name);
      case 'holdWrites': {
        const { name, rule } = args as HostOps['holdWrites']['request'];
        return this.#stores.holdWrites(name, rule);
      }
      case 'releaseWrites':
        return this.#stores.releaseWrites(args.name);
      case 'fileState': {
        const { name, swarmId, fileId } = args as HostOps['fileState']['request'];
        const state = await this.#stores.fileState(name, swarmId, fileId);
        return this.#stores.keepsBuffers(name)
          ? this.#withKeptPieces(name, swarmId, fileId, state)
          : state;
      }
    }
    throw new TypeError(`${String(op)} is not answered by the harness`);
  }

  /**
   * A file of a peer whose own store keeps the very Buffers written, as that store would hold
   * it now: each piece the harness holds, with the bytes its kept Buffer has now where they
   * differ (the peer changed a Buffer after writing it). Only ever makes a file worse.
   */
  async #withKeptPieces(
    name: string,
    swarmId: string,
    fileId: string,
    state: FileState,
  ): Promise<FileState> {
    const pieceLength = this.#stores.pieceLength(name, swarmId, fileId);
    if (state.bytes === undefined || pieceLength === undefined) return state;
    let kept: HostOps['keptPieces']['reply'];
    try {
      kept = (await this.#ask('keptPieces', { name, swarmId, fileId })) as typeof kept;
    } catch {
      return state;
    }
    const bytes = Uint8Array.from(state.bytes);
    for (const { index, data } of kept) {
      const at = index * pieceLength;
      if (!state.held.includes(index) || at >= bytes.length) continue;
      bytes.set(data.subarray(0, Math.min(pieceLength, bytes.length - at)), at);
    }
    return { ...state, bytes };
  }

  #write(message: HarnessMessage): void {
    if (this.#death) return;
    this.#child.stdin.write(encodeMessage(message));
  }

  #onData(chunk: Buffer): void {
    if (this.#death) return;
    let messages: unknown[];
    try {
      messages = this.#decoder.push(chunk);
    } catch (error) {
      this.#violate((error as Error).message);
      return;
    }
    for (const raw of messages) {
      if (this.#death) return;
      const checked = checkMessage(raw);
      if (!checked.ok) {
        this.#violate(checked.why);
        return;
      }
      this.#onMessage(checked.value);
    }
  }

  #onMessage(message: HostMessage): void {
    switch (message.kind) {
      case 'reply':
        this.#settle(message.id, message);
        return;
      case 'event':
        this.#record(message.event);
        return;
      case 'store':
        this.#serveStore(message);
        return;
      case 'fatal':
        // Its last words; the death itself is reported when the process has gone.
        this.#fatal ??= this.#local(message.error);
        return;
    }
  }

  /** A reply is taken once, for a request this harness sent, with a value that fits its op. */
  #settle(
    id: number,
    reply:
      | { readonly ok: true; readonly value: unknown }
      | { readonly ok: false; readonly error: SerializedError },
  ): void {
    const pending = this.#pending.get(id);
    if (!pending) {
      this.#violate(`a reply to request ${id}, which is not waiting for one`);
      return;
    }
    this.#pending.delete(id);
    if (!reply.ok) {
      const error = this.#local(reply.error);
      pending.reject(Object.assign(new Error(error.message), error));
      return;
    }
    const checked = checkReply(pending.op, reply.value);
    if (!checked.ok) {
      this.#violate(checked.why);
      return;
    }
    if (pending.op === 'route') {
      // Asked of the harness's own store, the moment the reply came: the peer process sent
      // every write it made before routePiece settled ahead of this reply, on the same pipe.
      const { name, ref } = pending.args as HostOps['route']['request'];
      const routed = checked.value as HostOps['route']['reply'];
      pending.resolve({ ...routed, heldWhenSettled: this.#stores.holds(name, ref) });
      return;
    }
    pending.resolve(checked.value);
  }

  #serveStore(call: StoreCall): void {
    if (this.#storeCalls >= MAX_PENDING_STORE_CALLS) {
      this.#violate(`more than ${MAX_PENDING_STORE_CALLS} store calls waiting at once`);
      return;
    }
    this.#storeCalls += 1;
    this.#stores.serve(call).then(
      (value) => {
        this.#storeCalls -= 1;
        this.#write({ kind: 'storeReply', id: call.id, ok: true, value });
      },
      (error: unknown) => {
        this.#storeCalls -= 1;
        this.#write({ kind: 'storeReply', id: call.id, ok: false, error: serializeError(error) });
      },
    );
  }

  #record(event: HostEvent): void {
    this.events.push(event);
    for (const listener of [...this.#listeners]) listener(event);
    this.watch.notify();
  }

  /** Protocol broken: the student's failure, recorded as the host's death; the process goes. */
  #violate(why: string): void {
    if (this.#death) return;
    this.#die({ kind: 'violated', why });
    void this.#kill();
  }

  #die(death: HostDeath): void {
    if (this.#death) return;
    this.#death = death;
    for (const pending of this.#pending.values()) pending.reject(new HostGone(death));
    this.#pending.clear();
    this.watch.notify();
  }

  /** An error's text with the compiled folder taken out: `lab9/src/peer/peer.js`, not /tmp/... */
  #local(error: SerializedError): SerializedError {
    const clean = (text: string): string => text.split(`${this.#dir}/`).join('');
    return {
      ...error,
      message: clean(error.message),
      ...(error.stack !== undefined && { stack: clean(error.stack) }),
    };
  }

  #keepOutput(chunk: Buffer): void {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (line.trim() !== '') this.#output.push(line.slice(0, OUTPUT_LINE_CHARS));
    }
    this.#output.splice(0, Math.max(0, this.#output.length - OUTPUT_LINES));
  }
}
