/**
 * One scenario's world: its story, its cleanup stack, the peer host thread its peers run in, and
 * the bounded waits that turn "did not happen" into a failure message that teaches.
 * Below: peer-host/, hosted-peer.ts, clients.ts, fake-seeder.ts. Above: scenario.ts, which gives
 * each graded test a fresh World, and the suites, which use it to tell their stories.
 */
import { relative } from 'node:path';
import { ANSWER_MS, FREEZE_PROBE_MS, HOST_START_MS, TEARDOWN_MS } from './bounds';
import { type FileSpec, pieceCount, swarmIdsOf } from './data';
import { GradeFailure, type PeerSide, Story, type Verdict } from './failure';
import { fileText } from './format';
import { HostedPeer } from './hosted-peer';
import { REPO_ROOT, peerModulePath } from './implementation';
import { HostGone, type HostDeath, type PeerHost } from './peer-host/host';
import type { Address, HostEvent, HostOps, OpName, SerializedError } from './peer-host/protocol';
import type { Watch } from './watch';

/** The result of a bounded wait: the value, or why there is none, as a sentence. */
export type Outcome<T> =
  { readonly ok: true; readonly value: T } | { readonly ok: false; readonly why: string };

export interface PeerOptions {
  /** Files the peer seeds from the start. @default none */
  readonly seeds?: readonly FileSpec[];
  /** Where the pieces it downloads are stored. @default 'memory' */
  readonly storage?: 'memory' | 'disk';
  /** The store keeps the very Buffer passed to writePiece, as it may. @default false (a copy) */
  readonly keepBuffers?: boolean;
}

export class World {
  readonly story = new Story();
  readonly host: PeerHost;
  /** Set when a peer could not be stopped: the host may hold anything now, it must go. */
  hostBroken = false;
  /** Events before this index belong to earlier scenarios of the same host. */
  readonly #firstEvent: number;
  readonly #cleanup: (() => Promise<void> | void)[] = [];
  /** Errors the student's code threw that reached the scenario outside host events. */
  readonly #thrown: SerializedError[] = [];
  /** What harness-side actors (fake seeders) saw, added to every failure message. */
  readonly #witnesses: (() => string)[] = [];
  /** Set when the Peer class could not even be loaded: no other cause applies then. */
  #loadFailed = false;
  /** Every file a peer of this scenario seeds: what a client checks the PIECEs it gets against. */
  readonly #files: FileSpec[] = [];
  /** A client said HELLO, which any working peer answers. */
  #helloSent = false;
  /** A client's HELLO went unanswered: later clients do not wait for their greeting. */
  helloIgnored = false;
  /** Bytes the clients of this scenario received from peers. */
  #bytesToClients = 0;

  constructor(host: PeerHost) {
    this.host = host;
    this.#firstEvent = host.events.length;
  }

  step(text: string): void {
    this.story.step(text);
  }

  /** `describe` is asked, when a check fails, for one line on what its actor saw. */
  witness(describe: () => string): void {
    this.#witnesses.push(describe);
  }

  /** Registers cleanup next to the creation it undoes; run last-in first-out after the story. */
  defer(undo: () => Promise<void> | void): void {
    this.#cleanup.push(undo);
  }

  /** Host events of this scenario. */
  events(): HostEvent[] {
    return this.host.events.slice(this.#firstEvent);
  }

  /** True once `start` found that the Peer class cannot be loaded at all. */
  get loadFailed(): boolean {
    return this.#loadFailed;
  }

  /** Readies the host: loads the Peer class in a new thread, or clears what an earlier scenario left. */
  async start(): Promise<void> {
    const outcome = await this.settle(this.host.request('reset', {}), HOST_START_MS, false);
    if (outcome.ok) return;
    this.#loadFailed = true;
    await this.fail({
      summary: 'The Peer under test could not be loaded.',
      expected: `${relative(REPO_ROOT, peerModulePath())} to load and export a class named Peer`,
      happened: outcome.why,
      likelyCause:
        'the module throws while it is loaded (a statement at its top level, an import that ' +
        'fails) or does not export `class Peer`; `npx tsc --noEmit -p .` and `npm test` show why.',
    });
  }

  // ------------------------------------------------------------------------------------------
  // Peers

  /** Starts a peer of the class under test in the host thread (listening, seeding `seeds`). */
  async peer(name: string, options: PeerOptions = {}): Promise<HostedPeer> {
    const seeds = [...(options.seeds ?? [])];
    const storage = options.storage ?? 'memory';
    const keepBuffers = options.keepBuffers ?? false;
    const address = await this.ask(
      'startPeer',
      { name, seeds, storage, keepBuffers },
      `start peer ${name}`,
    );
    this.#files.push(...seeds);
    this.defer(() => this.#teardown(this.host.request('stopPeer', { name })));
    const seeding = seeds.map(
      (spec) => `${fileText(spec.swarmId, spec.fileId)} (${pieceCount(spec)} pieces)`,
    );
    const where =
      (storage === 'disk' ? ', storing downloads on disk' : '') +
      (keepBuffers ? ', its store keeping the very Buffers written' : '');
    this.step(
      seeding.length > 0
        ? `peer ${name} started${where}, seeding ${seeding.join(', ')}`
        : `peer ${name} started${where}, holding no file`,
    );
    return new HostedPeer(name, address, this);
  }

  /** A client sent HELLO (see `fail`: a peer that answers nothing at all). */
  noteHello(): void {
    this.#helloSent = true;
  }

  /** A client received bytes from a peer. */
  noteBytesToClient(count: number): void {
    this.#bytesToClients += count;
  }

  /** The seeded file with these IDs, if a peer of this scenario seeds it. */
  seededFile(swarmId: string, fileId: string): FileSpec | undefined {
    return this.#files.find((f) => f.swarmId === swarmId && f.fileId === fileId);
  }

  /** Adds a peer that is not hosted (a fake seeder) to the tracker of every swarm in `files`. */
  async register(address: Address, files: readonly FileSpec[]): Promise<void> {
    for (const swarmId of swarmIdsOf(files)) {
      await this.ask('register', { swarmId, address }, `register ${address.peerId}`);
    }
  }

  // ------------------------------------------------------------------------------------------
  // Waiting

  /**
   * Asks the host for `op`, bounded; a host that fails or cannot answer fails the scenario,
   * since the step the story needed could not be taken.
   */
  async ask<K extends OpName>(
    op: K,
    args: HostOps[K]['request'],
    doing: string,
    ms = ANSWER_MS,
  ): Promise<HostOps[K]['reply']> {
    // A TODO that throws NotImplementedError does not stop set-up: the check after it fails.
    const outcome = await this.settle(this.host.request(op, args), ms, false);
    if (outcome.ok) return outcome.value;
    return this.fail({
      summary: `The grader could not ${doing}.`,
      expected: `to ${doing} (a step of the scenario, before any check)`,
      happened: outcome.why,
      likelyCause:
        'the peer under test failed while the scenario was being set up; see what it reported above.',
    });
  }

  /**
   * Waits until `probe` returns an outcome, re-checked whenever `watch` changes. Gives up after
   * `ms`, when the peer thread dies, or when a TODO turns out not to be implemented.
   */
  async waitFor<T>(
    watch: Watch,
    probe: () => Outcome<T> | undefined,
    ms = ANSWER_MS,
  ): Promise<Outcome<T>> {
    const waiting = watch.until(probe);
    const outcome = await this.settle(waiting.promise, ms);
    waiting.cancel();
    return outcome.ok ? outcome.value : outcome;
  }

  /**
   * `promise`, bounded by `ms` and by the peer thread's death, and unless told otherwise by a
   * NotImplementedError: nothing a scenario waits for can happen after one.
   */
  async settle<T>(promise: Promise<T>, ms: number, stopAtTodo = true): Promise<Outcome<T>> {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<Outcome<T>>((resolve) => {
      timer = setTimeout(() => resolve({ ok: false, why: `nothing happened within ${ms} ms` }), ms);
    });
    const stopped = this.host.watch.until((): Outcome<T> | undefined => {
      const death = this.host.death;
      if (death) return { ok: false, why: deathText(death) };
      if (stopAtTodo && this.notImplemented()) {
        return { ok: false, why: 'the peer stopped at a TODO that is not written yet' };
      }
      return undefined;
    });
    const done = promise.then(
      (value): Outcome<T> => ({ ok: true, value }),
      (error: unknown): Outcome<T> => ({
        ok: false,
        why:
          error instanceof HostGone
            ? deathText(error.death)
            : `the peer host answered with an error: ${String(error)}`,
      }),
    );
    const outcome = await Promise.race([done, timedOut, stopped.promise]);
    clearTimeout(timer);
    stopped.cancel();
    return outcome;
  }

  // ------------------------------------------------------------------------------------------
  // Failing

  /**
   * Throws a GradeFailure for `verdict`, adding what the peer side saw: whether its thread
   * crashed or froze, the errors its peers reported, and what it printed.
   */
  async fail(verdict: Verdict): Promise<never> {
    if (!this.host.death) await this.host.probe(FREEZE_PROBE_MS);
    const whole = this.#wholeSubmissionFailure(verdict);
    if (whole) throw whole;
    const peerSide = this.#peerSide();
    const cause = this.#overridingCause() ?? verdict.likelyCause;
    throw new GradeFailure({ ...verdict, likelyCause: cause }, this.story.steps, peerSide);
  }

  /** The first NotImplementedError anything in this scenario reported, if any. */
  notImplemented(): SerializedError | undefined {
    for (const event of this.events()) {
      if (event.type === 'clientError' && event.error.code === 'ERR_NOT_IMPLEMENTED') {
        return event.error;
      }
      if (
        event.type === 'routed' &&
        'threw' in event.outcome &&
        event.outcome.threw.code === 'ERR_NOT_IMPLEMENTED'
      ) {
        return event.outcome.threw;
      }
    }
    return this.#thrown.find((error) => error.code === 'ERR_NOT_IMPLEMENTED');
  }

  /** Records an error the student's code threw (routePiece's, a download's end). */
  sawError(error: SerializedError): void {
    this.#thrown.push(error);
  }

  /**
   * A failure that is the submission's, not this scenario's: it does not load, a TODO is not
   * written, or it writes no byte at all. Its message is the same in every test (no steps, no
   * detail of this scenario), so the feedback can say it once.
   */
  #wholeSubmissionFailure(verdict: Verdict): GradeFailure | undefined {
    if (this.#loadFailed) return new GradeFailure(verdict, null, this.#peerSide());
    const missing = this.notImplemented();
    if (missing) {
      return new GradeFailure(
        {
          summary: 'A TODO of lab9/src/peer/peer.ts is not written yet, so this check cannot pass.',
          expected: 'the TODO this check needs to be written',
          happened: `it threw ${missing.name}: ${missing.message}`,
          likelyCause:
            'write that TODO first; every check of it fails with this same message until then.',
        },
        null,
        // Only the TODO's own line: the callers above it differ from test to test.
        { lines: [], frames: userFrames(missing.stack).slice(0, 1) },
      );
    }
    if (this.#helloSent && this.#bytesToClients === 0 && !this.host.death) {
      return new GradeFailure(
        {
          summary: 'The peer wrote not a single byte to any client.',
          expected:
            'a HELLO answered with the greeting and every GET_PIECE with a PIECE or an ERROR, ' +
            'each written with socket.write(encodeFrame(message))',
          happened:
            'clients connected and sent HELLO (as every downloader does) and their requests; ' +
            'the peer wrote nothing back to any of them, and did not crash',
          likelyCause:
            "handleClient never writes to the socket: is a 'data' listener attached, is every " +
            'frame decoder.push returns handled, is socket.write called with encodeFrame(message)?',
        },
        null,
        { lines: [], frames: [] },
      );
    }
    return undefined;
  }

  #overridingCause(): string | undefined {
    if (this.#loadFailed) return undefined;
    const missing = this.notImplemented();
    if (missing) {
      return `${missing.message} — write that TODO first; every check of it fails until then.`;
    }
    const death = this.host.death;
    if (death?.kind === 'crashed' && /ECONNRESET|EPIPE/.test(death.error.message)) {
      return (
        "a client reset its connection and its socket emitted 'error' with no listener, which " +
        "kills the peer: give every client socket an 'error' listener in handleClient."
      );
    }
    if (death?.kind === 'crashed') {
      return (
        'an exception escaped your code (a listener threw, or a promise rejected with no ' +
        'catch). In a real peer that kills the process and every client with it: catch it where ' +
        "it happens, answer an ERROR or destroy that one socket, and give every socket an 'error' listener."
      );
    }
    if (death?.kind === 'froze') {
      return (
        'the peer stopped running anything at all: a loop in your code never ends (for example ' +
        "`while` waiting for the rest of a frame). Return instead, and let the next 'data' event bring more bytes."
      );
    }
    return undefined;
  }

  #peerSide(): PeerSide {
    const lines = this.#witnesses.map((describe) => describe());
    const frames: string[] = [];
    const death = this.host.death;
    if (death?.kind === 'crashed') {
      lines.push(`The peer thread crashed: ${death.error.name}: ${death.error.message}`);
      frames.push(...userFrames(death.error.stack));
    } else if (death?.kind === 'froze') {
      lines.push(`The peer thread froze: it did not answer a ping within ${FREEZE_PROBE_MS} ms.`);
    } else if (death?.kind === 'exited') {
      lines.push(
        `The peer thread exited with code ${death.code} (did your code call process.exit?).`,
      );
    }
    const errors = this.events().filter((e) => e.type === 'clientError');
    for (const event of errors.slice(-3)) {
      const { name, message } = event.error;
      lines.push(`Peer ${event.peer} reported a handleClient failure: ${name}: ${message}`);
      if (frames.length === 0) frames.push(...userFrames(event.error.stack));
    }
    if (errors.length > 3) lines.push(`  (and ${errors.length - 3} more handleClient failures)`);
    if (frames.length === 0) frames.push(...this.#thrown.flatMap((e) => userFrames(e.stack)));
    if (this.host.output.length > 0) {
      lines.push('The peer printed (last lines):', ...this.host.output.map((l) => `    | ${l}`));
    }
    return { lines, frames };
  }

  // ------------------------------------------------------------------------------------------
  // Teardown

  /** Runs the cleanup stack, last first. Never throws: a stuck undo is bounded and skipped. */
  async dispose(): Promise<void> {
    while (this.#cleanup.length > 0) {
      const undo = this.#cleanup.pop() as () => Promise<void> | void;
      try {
        await undo();
      } catch {
        // Cleanup failing (a peer that cannot stop) must not hide the scenario's own verdict.
      }
    }
  }

  /** Awaits `promise`, at most TEARDOWN_MS; a host that cannot stop a peer must be replaced. */
  async #teardown(promise: Promise<unknown>): Promise<void> {
    const outcome = await this.settle(promise, TEARDOWN_MS, false);
    if (!outcome.ok) this.hostBroken = true;
  }
}

function deathText(death: HostDeath): string {
  switch (death.kind) {
    case 'crashed':
      return `the peer thread crashed (${death.error.name}: ${death.error.message})`;
    case 'froze':
      return 'the peer thread froze (it stopped answering entirely)';
    case 'exited':
      return `the peer thread exited with code ${death.code}`;
    case 'closed':
      return 'the peer thread was closed by the grader';
  }
}

/** Stack frames worth showing a student: theirs, not Node's or the harness's. */
function userFrames(stack: string | undefined): string[] {
  return (stack ?? '')
    .split('\n')
    .slice(1)
    .map((line) => line.trim())
    .filter(
      (line) =>
        line.startsWith('at ') &&
        !line.includes('node:') &&
        !line.includes('/node_modules/') &&
        !line.includes('/grader/harness/'),
    )
    .slice(0, 3);
}
