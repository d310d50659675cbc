/**
 * The test thread's handle on one Peer under test in the host thread: hold and release its
 * reads, see what it wrote, what it rejected and which connections it saw end, route pieces
 * through its routePiece, and download with it. Each `expect...` fails with a teaching message.
 * Below: world.ts (bounded waits, failures) and the host protocol. Above: the suites.
 */
import type { PieceMessage, PieceRef } from '../../lab9/src/protocol/message-types';
import { DOWNLOAD_MS } from './bounds';
import {
  type FileSpec,
  fileBytes,
  pieceBytes,
  pieceCount,
  pieceDigest,
  pieceMessage,
  pieceRef,
  sameRef,
} from './data';
import { fileText, firstDifference, refText } from './format';
import type {
  Address,
  ConnectionKey,
  DownloadOutcome,
  FileState,
  HostEvent,
  RouteOutcome,
} from './peer-host/protocol';
import type { HoldRule } from './stores';
import type { Outcome, World } from './world';

export interface HeldRead {
  readonly readId: number;
  readonly ref: PieceRef;
}

/** A download started by `startDownload`, checked by `expectDownloaded`. */
export interface Download {
  /** `"s1" and "s2"`. */
  readonly list: string;
  readonly result: Promise<Outcome<DownloadOutcome[]>>;
  settled: boolean;
}

/** A routePiece call in progress, started by `startRoute`. */
export interface StartedRoute {
  readonly writesBefore: number;
  readonly reply: Promise<Outcome<RouteOutcome & { readonly heldWhenSettled?: boolean }>>;
  /** Set once the host answered: routePiece settled (or the wait gave up). */
  settled: boolean;
}

type WriteEvent = Extract<HostEvent, { type: 'write' }>;
type RejectedEvent = Extract<HostEvent, { type: 'rejected' }>;

export class HostedPeer {
  readonly name: string;
  readonly address: Address;
  readonly #world: World;
  readonly #released = new Set<number>();

  constructor(name: string, address: Address, world: World) {
    this.name = name;
    this.address = address;
    this.#world = world;
  }

  async stop(): Promise<void> {
    await this.#world.ask('stopPeer', { name: this.name }, `stop peer ${this.name}`);
    this.#world.step(`peer ${this.name} stopped`);
  }

  // ------------------------------------------------------------------------------------------
  // Reads held back by the test

  /** From now on, reads matching `rule` wait in the store until the test releases them. */
  async hold(rule: HoldRule): Promise<void> {
    await this.#world.ask('holdReads', { name: this.name, rule }, `hold reads of ${this.name}`);
    const what =
      rule === 'all' ? 'every read' : rule === 'none' ? 'no read' : rule.map(refText).join(', ');
    this.#world.step(`the test holds back peer ${this.name}'s reads of ${what}`);
  }

  /** Reads held in this scenario and not released yet, oldest first. */
  heldReads(): HeldRead[] {
    return this.#world
      .events()
      .flatMap((e) => (e.type === 'readHeld' && e.peer === this.name ? [e] : []))
      .filter((e) => !this.#released.has(e.readId))
      .map(({ readId, ref }) => ({ readId, ref }));
  }

  /** Waits until `count` reads are held at once; `missing` says what it means if they are not. */
  async waitForHeld(
    count: number,
    missing: { readonly expected: string; readonly likelyCause: string },
  ): Promise<HeldRead[]> {
    const outcome = await this.#world.waitFor(this.#world.host.watch, () => {
      const held = this.heldReads();
      return held.length >= count ? { ok: true, value: held } : undefined;
    });
    if (outcome.ok) {
      this.#world.step(`peer ${this.name} has ${count} read${count === 1 ? '' : 's'} held back`);
      return outcome.value;
    }
    const held = this.heldReads();
    return this.#world.fail({
      summary: `Peer ${this.name} had ${held.length} read(s) held back, the test waited for ${count}.`,
      expected: missing.expected,
      happened: `${outcome.why}; reads held: ${held.map((r) => refText(r.ref)).join(', ') || 'none'}`,
      likelyCause: missing.likelyCause,
    });
  }

  /** Releases every held read and stops holding new ones. */
  async releaseAll(): Promise<void> {
    for (const read of this.heldReads()) this.#released.add(read.readId);
    await this.#world.ask('releaseAll', { name: this.name }, `release the reads of ${this.name}`);
    this.#world.step(`the test releases every read of peer ${this.name}`);
  }

  // ------------------------------------------------------------------------------------------
  // Writes held back by the test (a store that takes its time, as a disk does)

  /** From now on, writePiece calls matching `rule` finish only when the test releases them. */
  async holdWrites(rule: HoldRule): Promise<void> {
    await this.#world.ask('holdWrites', { name: this.name, rule }, `hold writes of ${this.name}`);
    const what =
      rule === 'all' ? 'every write' : rule === 'none' ? 'no write' : rule.map(refText).join(', ');
    this.#world.step(`the test holds back peer ${this.name}'s writePiece of ${what}`);
  }

  async releaseWrites(): Promise<void> {
    await this.#world.ask(
      'releaseWrites',
      { name: this.name },
      `release the writes of ${this.name}`,
    );
    this.#world.step(`the test lets every held writePiece of peer ${this.name} finish`);
  }

  /** Waits until a writePiece of `ref` is held; `missing` says what it means if none comes. */
  async waitForHeldWrite(
    ref: PieceRef,
    missing: { readonly expected: string; readonly likelyCause: string },
  ): Promise<void> {
    const outcome = await this.#world.waitFor(this.#world.host.watch, () =>
      this.#world
        .events()
        .some((e) => e.type === 'writeHeld' && e.peer === this.name && sameRef(e.ref, ref))
        ? { ok: true, value: true }
        : undefined,
    );
    if (outcome.ok) {
      this.#world.step(`peer ${this.name}'s writePiece(${refText(ref)}) is held back`);
      return;
    }
    await this.#world.fail({
      summary: `Peer ${this.name} never called writePiece for ${refText(ref)}.`,
      expected: missing.expected,
      happened: `${outcome.why}; writePiece calls: ${
        this.writes()
          .map((w) => refText(w.ref))
          .join(', ') || 'none'
      }`,
      likelyCause: missing.likelyCause,
    });
  }

  /** What each finished writePiece call of this peer resolved: true, false, or 'threw'. */
  writeResults(): { ref: PieceRef; stored: boolean | 'threw' }[] {
    return this.#world
      .events()
      .flatMap((e) => (e.type === 'written' && e.peer === this.name ? [e] : []));
  }

  /**
   * Waits until every writePiece (of `ref`, or of any piece) the peer started has finished and
   * its answer is on its way back to the peer (sent on the pipe ahead of anything the test sends
   * next): a copy routed again meets the piece held, and a file is checked as stored, even from a
   * peer that did not await its writes.
   */
  async #writesFinished(ref?: PieceRef): Promise<void> {
    const count = (type: 'write' | 'written'): number =>
      this.#world
        .events()
        .filter(
          (e) =>
            e.type === type && e.peer === this.name && (ref === undefined || sameRef(e.ref, ref)),
        ).length;
    const outcome = await this.#world.waitFor(this.#world.host.watch, () =>
      count('written') >= count('write') ? { ok: true, value: true } : undefined,
    );
    if (!outcome.ok) {
      await this.#world.fail({
        summary: `Peer ${this.name}'s writePiece(${ref === undefined ? '' : refText(ref)}) never finished.`,
        expected:
          ref === undefined
            ? 'every write the peer started to finish before its files are checked'
            : 'the write of the first copy to finish, so that the piece is held',
        happened: outcome.why,
        likelyCause: 'writePiece was called with arguments the store cannot settle.',
      });
      return;
    }
    // The answer to the write is sent once the store's promise chain has run: one macrotask.
    await new Promise<void>((resolve) => setImmediate(resolve));
  }

  /**
   * routePiece must resolve `{ ok: true, stored }` for the genuine `piece`, with `stored` equal
   * to what this very call's writePiece resolved (and `expectStored` as the contract says).
   */
  async expectStoredFlag(
    spec: FileSpec,
    index: number,
    expectStored: boolean,
    likelyCause: string,
  ): Promise<void> {
    const piece = pieceMessage(spec, index);
    // "Already held" must be true when the copy comes again, whenever the peer let its write finish.
    if (!expectStored) await this.#writesFinished(piece);
    const resultsBefore = this.writeResults().length;
    const label = `the genuine ${refText(piece)}${expectStored ? '' : ', already held'}`;
    const { outcome, writes } = await this.route(piece, label);
    const expected = `routePiece resolves { ok: true, stored: ${expectStored} }: stored is what writePiece resolved${
      expectStored ? '' : ' (false: the piece was already held)'
    }`;
    const results = this.writeResults()
      .slice(resultsBefore)
      .filter((r) => sameRef(r.ref, piece));
    const result = 'resolved' in outcome ? (outcome.resolved as unknown) : undefined;
    const stored = isOk(result) ? (result as { stored?: unknown }).stored : undefined;
    const wrong = this.#wrongWrites(writes, [spec]);
    const storeSaid = results.map((r) => String(r.stored)).join(', ');
    if (
      'threw' in outcome ||
      stored !== expectStored ||
      wrong.length > 0 ||
      results.some((r) => r.stored !== stored)
    ) {
      return this.#world.fail({
        summary: `routePiece(${label}) did not resolve { ok: true, stored: ${expectStored} }.`,
        expected,
        happened:
          ('threw' in outcome
            ? `it ${threwText(outcome)} ${outcome.threw.name}: ${outcome.threw.message}`
            : `it resolved ${JSON.stringify(result)}`) +
          `; writePiece ${results.length > 0 ? `resolved ${storeSaid}` : 'was not called'} for it`,
        likelyCause,
      });
    }
    this.#world.step(`routePiece resolved { ok: true, stored: ${String(stored)} }`);
  }

  // ------------------------------------------------------------------------------------------
  // Connections, as the peer saw them

  saw(connection: ConnectionKey, what: 'open' | 'end' | 'close'): boolean {
    return this.#world
      .events()
      .some(
        (e) =>
          e.type === 'connection' &&
          e.peer === this.name &&
          e.connection === connection &&
          e.what === what,
      );
  }

  /** Waits until the peer's side of `connection` saw `what`; the harness's own precondition. */
  async waitUntilSaw(
    connection: ConnectionKey,
    what: 'end' | 'close',
    client: string,
  ): Promise<void> {
    const outcome = await this.#world.waitFor(this.#world.host.watch, () =>
      this.saw(connection, what) ? { ok: true, value: true } : undefined,
    );
    if (outcome.ok) return;
    await this.#world.fail({
      summary: `Peer ${this.name} never saw ${client}'s connection ${what === 'end' ? 'end' : 'close'}.`,
      expected: `the peer's socket for ${client} to emit '${what}'`,
      happened: outcome.why,
      likelyCause:
        what === 'end'
          ? "the socket's 'end' event comes only after every byte was read: is handleClient reading the socket (a 'data' listener) until the end?"
          : 'the socket of a client that vanished should close by itself; does handleClient keep it alive?',
    });
  }

  // ------------------------------------------------------------------------------------------
  // Routing, called directly

  /** Makes the peer join `join` and learn the ANNOUNCE of `files`, as a download would. */
  async learn(join: readonly string[], files: readonly FileSpec[]): Promise<void> {
    await this.#world.ask(
      'learn',
      { name: this.name, join: [...join], files: [...files] },
      `make peer ${this.name} learn its routes`,
    );
    const learned = files.map((f) => `${fileText(f.swarmId, f.fileId)} (${pieceCount(f)} pieces)`);
    this.#world.step(
      `peer ${this.name} joined ${join.map((s) => JSON.stringify(s)).join(', ')} and learned ` +
        `routes from an ANNOUNCE of ${learned.join(', ')}`,
    );
  }

  /** Calls routePiece once; what it resolved with or threw, plus the writes it made. */
  async route(
    piece: PieceMessage,
    label: string,
  ): Promise<{ outcome: RouteOutcome; writes: WriteEvent[]; heldWhenSettled: boolean }> {
    return this.routeSettled(this.startRoute(piece), piece, label);
  }

  /** Calls routePiece without waiting for it; `routeSettled` waits. */
  startRoute(piece: PieceMessage): StartedRoute {
    const started: StartedRoute = {
      writesBefore: this.writes().length,
      reply: this.#world.settle(
        this.#world.host.request('route', {
          name: this.name,
          ref: { swarmId: piece.swarmId, fileId: piece.fileId, index: piece.index },
          data: Uint8Array.from(piece.data),
        }),
        DOWNLOAD_MS,
      ),
      settled: false,
    };
    void started.reply.then(() => {
      started.settled = true;
    });
    return started;
  }

  /** What a started routePiece resolved with or threw, plus the writes it made. */
  async routeSettled(
    started: StartedRoute,
    piece: PieceMessage,
    label: string,
  ): Promise<{ outcome: RouteOutcome; writes: WriteEvent[]; heldWhenSettled: boolean }> {
    const outcome = await started.reply;
    this.#world.step(`routePiece(${label})`);
    if (!outcome.ok) {
      return this.#world.fail({
        summary: `routePiece(${label}) did not settle.`,
        expected: 'the promise routePiece returns to resolve with a RouteResult',
        happened: outcome.why,
        likelyCause:
          'routePiece awaits something that never settles, or never returns its promise.',
      });
    }
    const { heldWhenSettled = false, ...routed } = outcome.value;
    if ('threw' in routed) this.#world.sawError(routed.threw);
    return {
      outcome: routed,
      writes: this.writes().slice(started.writesBefore),
      heldWhenSettled,
    };
  }

  /** routePiece must store the genuine `piece` in its own file, and nothing else. */
  async expectStored(spec: FileSpec, index: number, likelyCause: string): Promise<void> {
    const piece = pieceMessage(spec, index);
    const label = `the genuine ${refText(piece)}`;
    const { outcome, writes } = await this.route(piece, label);
    const expected = `routePiece resolves { ok: true, ... } after one writePiece of ${refText(piece)} with its bytes`;
    if ('threw' in outcome) {
      return this.#world.fail({
        summary: `routePiece(${label}) ${threwText(outcome)} instead of storing it.`,
        expected,
        happened: `it ${threwText(outcome)} ${outcome.threw.name}: ${outcome.threw.message}`,
        likelyCause: threwCause(outcome, likelyCause),
      });
    }
    const result = outcome.resolved as unknown;
    const wrong = this.#wrongWrites(writes, [spec]);
    const mine = writes.filter(
      (w) => sameRef(w.ref, piece) && w.sha256 === pieceDigest(spec, index),
    );
    if (!isOk(result) || wrong.length > 0 || mine.length !== 1) {
      return this.#world.fail({
        summary: `routePiece(${label}) did not store it where it belongs.`,
        expected,
        happened:
          `it resolved ${JSON.stringify(result)}; writePiece calls: ` +
          (writes.map((w) => this.#describeWrite(w, [spec])).join('; ') || 'none'),
        likelyCause,
      });
    }
  }

  /** routePiece must resolve `{ ok: false, code }` for `piece` and write nothing. */
  async expectRejected(
    piece: PieceMessage,
    label: string,
    code: string,
    known: readonly FileSpec[],
    likelyCause: string,
  ): Promise<void> {
    const { outcome, writes } = await this.route(piece, label);
    const expected = `routePiece resolves { ok: false, code: '${code}', reason } and calls writePiece not at all`;
    if ('threw' in outcome) {
      return this.#world.fail({
        summary: `routePiece(${label}) ${threwText(outcome)} instead of rejecting the piece.`,
        expected,
        happened: `it ${threwText(outcome)} ${outcome.threw.name}: ${outcome.threw.message}${
          writes.length > 0
            ? `; before that it called ${writes.map((w) => this.#describeWrite(w, known)).join('; ')}`
            : ''
        }`,
        likelyCause:
          outcome.threw.code === 'ERR_NOT_IMPLEMENTED'
            ? likelyCause
            : threwCause(
                outcome,
                writes.length > 0
                  ? `${likelyCause} (writePiece threw because the store refused the piece: check it yourself before writing.)`
                  : 'a bad piece is expected input, not a bug: resolve { ok: false, code, reason } instead of ' +
                      'throwing (a throw stops the whole download).',
              ),
      });
    }
    const result = outcome.resolved as unknown;
    const gotCode = isRejection(result) ? result.code : undefined;
    if (gotCode !== code || writes.length > 0) {
      return this.#world.fail({
        summary:
          writes.length > 0
            ? `routePiece(${label}) passed a piece that must be rejected to writePiece.`
            : `routePiece(${label}) did not reject it with ${code}.`,
        expected,
        happened:
          `it resolved ${JSON.stringify(result)}; writePiece calls: ` +
          (writes.map((w) => this.#describeWrite(w, known)).join('; ') || 'none'),
        likelyCause,
      });
    }
  }

  // ------------------------------------------------------------------------------------------
  // Downloads

  writes(): WriteEvent[] {
    return this.#world
      .events()
      .flatMap((e) => (e.type === 'write' && e.peer === this.name ? [e] : []));
  }

  rejections(): RejectedEvent[] {
    return this.#world
      .events()
      .flatMap((e) => (e.type === 'rejected' && e.peer === this.name ? [e] : []));
  }

  /** Starts downloading `swarmIds` at once (so their pieces interleave); see `expectDownloaded`. */
  startDownload(swarmIds: readonly string[]): Download {
    const list = swarmIds.map((s) => JSON.stringify(s)).join(' and ');
    this.#world.step(
      `peer ${this.name} downloads swarm${swarmIds.length > 1 ? 's' : ''} ${list} at once`,
    );
    const download: Download = {
      list,
      settled: false,
      result: this.#world.settle(
        this.#world.host.request('download', { name: this.name, swarmIds: [...swarmIds] }),
        DOWNLOAD_MS,
      ),
    };
    void download.result.then(() => {
      download.settled = true;
      this.#world.host.watch.notify();
    });
    return download;
  }

  /**
   * Checks a download: every swarm's download resolves, every file of `files` is byte-identical
   * to its source, and every writePiece call carried the genuine bytes of the piece it named.
   */
  async expectDownloaded(
    download: Download,
    files: readonly FileSpec[],
    likelyCause: string,
  ): Promise<void> {
    const settled = await download.result;
    const failed = settled.ok ? settled.value.flatMap((o) => (o.ok ? [] : [o])) : [];
    for (const { error } of failed) this.#world.sawError(error);
    // A bad piece written is the first cause of whatever went wrong after it: name it first.
    await this.expectGenuineWrites(files, likelyCause);
    if (!settled.ok || failed.length > 0) {
      const why = settled.ok
        ? failed
            .map((o) => `the download of ${JSON.stringify(o.swarmId)} failed: ${o.error.message}`)
            .join('; ')
        : settled.why;
      return this.#world.fail({
        summary: `Peer ${this.name} did not finish downloading ${download.list}.`,
        expected: `every download to resolve with every file of ${download.list} complete`,
        happened: `${why}. ${await this.#progress(files)}${this.#rejectionSummary()}`,
        likelyCause,
      });
    }
    await this.expectFiles(files, likelyCause);
    await this.expectGenuineWrites(files, likelyCause);
    this.#world.step(`peer ${this.name} holds every file of ${download.list}, byte for byte`);
  }

  async expectDownload(
    swarmIds: readonly string[],
    files: readonly FileSpec[],
    likelyCause: string,
  ): Promise<void> {
    await this.expectDownloaded(this.startDownload(swarmIds), files, likelyCause);
  }

  /**
   * Pieces pushed to the peer during `download` must each be rejected by routePiece (resolve
   * `{ ok: false }`) and never reach writePiece. Waits until routePiece settled for each, or the
   * download ended.
   */
  async expectPushedRejected(
    pieces: readonly PieceMessage[],
    download: Download,
    files: readonly FileSpec[],
    likelyCause: string,
  ): Promise<void> {
    const outcomeOf = (ref: PieceRef): RouteOutcome | undefined =>
      this.#world
        .events()
        .flatMap((e) =>
          e.type === 'routed' && e.peer === this.name && sameRef(e.ref, ref) ? [e] : [],
        )
        .at(0)?.outcome;
    const waited = await this.#world.waitFor(
      this.#world.host.watch,
      () =>
        download.settled || pieces.every((p) => outcomeOf(p) !== undefined)
          ? { ok: true, value: true }
          : undefined,
      DOWNLOAD_MS,
    );
    const accepted = pieces.flatMap((piece) => {
      const outcome = outcomeOf(piece);
      if (outcome && 'threw' in outcome) {
        const { name, message } = outcome.threw;
        return [`${refText(piece)}: routePiece ${threwText(outcome)} ${name}: ${message}`];
      }
      if (!outcome || !isOk(outcome.resolved)) return [];
      return [`${refText(piece)}: routePiece resolved ${JSON.stringify(outcome.resolved)}`];
    });
    const unsettled = pieces.filter((piece) => outcomeOf(piece) === undefined).map(refText);
    if (waited.ok && accepted.length === 0 && unsettled.length === 0) {
      this.#world.step(
        `peer ${this.name}'s routePiece rejected all ${pieces.length} pushed pieces`,
      );
      return this.expectGenuineWrites(files, likelyCause);
    }
    await this.#world.fail({
      summary: `Peer ${this.name} did not reject every piece pushed to it.`,
      expected: `routePiece to resolve { ok: false, code, reason } for each of ${pieces.map(refText).join(', ')}`,
      happened:
        [
          ...accepted,
          ...(unsettled.length > 0 ? [`no outcome for ${unsettled.join(', ')}`] : []),
        ].join('; ') + (waited.ok ? '' : ` (${waited.why})`),
      likelyCause,
    });
  }

  /** Every file of `files` is complete and byte-identical to its source. */
  async expectFiles(files: readonly FileSpec[], likelyCause: string): Promise<void> {
    // A write the peer started and did not await may still be on its way to disk: what is
    // checked is what the store holds once it finished (storing.after-write checks the await).
    await this.#writesFinished();
    for (const spec of files) {
      const state = await this.fileState(spec);
      const diff = state.bytes ? firstDifference(state.bytes, fileBytes(spec)) : 'it is incomplete';
      const changed = state.bytes ? this.#changedAfterWrite(spec, state.bytes, files) : [];
      if (changed.length > 0) {
        return this.#world.fail({
          summary: `Peer ${this.name}'s copy of ${fileText(spec.swarmId, spec.fileId)} changed after it was written.`,
          expected: 'the bytes a piece was written with to stay what the store holds',
          happened:
            `writePiece got the genuine bytes of ${changed.map((i) => `#${i}`).join(', ')}, but the store ` +
            `now holds other bytes there (${diff ?? 'different bytes'})`,
          likelyCause:
            'the store may keep the very Buffer passed to writePiece (the in-memory one does): after ' +
            'writing, never fill, reuse or write into that Buffer (or the memory under it) again.',
        });
      }
      if (diff !== undefined) {
        return this.#world.fail({
          summary: `Peer ${this.name}'s copy of ${fileText(spec.swarmId, spec.fileId)} differs from its source.`,
          expected: `${fileText(spec.swarmId, spec.fileId)} complete and byte-identical to the seeder's`,
          happened: `${diff}; pieces held: ${state.held.join(', ') || 'none'}. ${this.#writesTo(spec, files)}`,
          likelyCause,
        });
      }
    }
  }

  /** Every writePiece call of this scenario carried the genuine bytes of the piece it named. */
  async expectGenuineWrites(files: readonly FileSpec[], likelyCause: string): Promise<void> {
    const wrong = this.#wrongWrites(this.writes(), files);
    if (wrong.length === 0) return;
    await this.#world.fail({
      summary: `Peer ${this.name} passed ${wrong.length} piece(s) to writePiece that must never be written.`,
      expected:
        'writePiece called only with a piece whose bytes match the hash of the file it names',
      happened: wrong
        .slice(0, 4)
        .map((w) => this.#describeWrite(w, files))
        .join('; '),
      likelyCause,
    });
  }

  async fileState(spec: FileSpec): Promise<FileState> {
    return this.#world.ask(
      'fileState',
      { name: this.name, swarmId: spec.swarmId, fileId: spec.fileId },
      `read peer ${this.name}'s copy of ${fileText(spec.swarmId, spec.fileId)}`,
    );
  }

  async #progress(files: readonly FileSpec[]): Promise<string> {
    if (this.#world.host.death) return '';
    const parts: string[] = [];
    for (const spec of files) {
      const state = await this.fileState(spec);
      parts.push(`${fileText(spec.swarmId, spec.fileId)} ${state.held.length}/${pieceCount(spec)}`);
    }
    const { routes, connected } = await this.#world.ask(
      'routingState',
      { name: this.name },
      `read peer ${this.name}'s routing table`,
    );
    const table = routes.map((r) => `${fileText(r.swarmId, r.fileId)} (${r.pieces} pieces)`);
    return (
      `Pieces stored: ${parts.join(', ')}. Routes known: ${table.join(', ') || 'none'}. ` +
      `Downloading from: ${connected.join(', ') || 'no peer'}.`
    );
  }

  #rejectionSummary(): string {
    const rejected = this.rejections();
    if (rejected.length === 0) return '';
    const shown = rejected
      .slice(0, 3)
      .map((r) => `${refText(r.ref)} from ${r.from}: ${r.reason}`)
      .join('; ');
    return ` routePiece rejected ${rejected.length} piece(s), e.g. ${shown}.`;
  }

  #writesTo(spec: FileSpec, files: readonly FileSpec[]): string {
    const writes = this.writes().filter(
      (w) => w.ref.swarmId === spec.swarmId && w.ref.fileId === spec.fileId,
    );
    const wrong = this.#wrongWrites(writes, files);
    return wrong.length === 0
      ? ''
      : `Wrong writes into it: ${wrong
          .slice(0, 3)
          .map((w) => this.#describeWrite(w, files))
          .join('; ')}.`;
  }

  /** Pieces of `spec` written once with their genuine bytes whose stored bytes now differ. */
  #changedAfterWrite(spec: FileSpec, stored: Uint8Array, files: readonly FileSpec[]): number[] {
    const writes = this.writes().filter(
      (w) => w.ref.swarmId === spec.swarmId && w.ref.fileId === spec.fileId,
    );
    if (this.#wrongWrites(writes, files).length > 0) return [];
    const changed: number[] = [];
    for (let index = 0; index < pieceCount(spec); index++) {
      const wrote = writes.some((w) => w.ref.index === index);
      const offset = index * spec.pieceLength;
      const genuine = pieceBytes(spec, index);
      const now = stored.subarray(offset, offset + genuine.length);
      if (wrote && firstDifference(now, genuine) !== undefined) changed.push(index);
    }
    return changed;
  }

  /** Writes whose bytes are not the genuine bytes of the piece they name. */
  #wrongWrites(writes: readonly WriteEvent[], files: readonly FileSpec[]): WriteEvent[] {
    return writes.filter((w) => {
      const spec = files.find((f) => f.swarmId === w.ref.swarmId && f.fileId === w.ref.fileId);
      if (!spec || !(w.ref.index >= 0 && w.ref.index < pieceCount(spec))) return true;
      return pieceDigest(spec, w.ref.index) !== w.sha256;
    });
  }

  /** `writePiece(("11", "2") #0) with the bytes of ("1", "12") #0`. */
  #describeWrite(write: WriteEvent, files: readonly FileSpec[]): string {
    let whose = 'bytes that match no piece';
    for (const spec of files) {
      for (let i = 0; i < pieceCount(spec); i++) {
        if (pieceDigest(spec, i) === write.sha256) {
          whose = sameRef(write.ref, pieceRef(spec, i))
            ? 'its own bytes'
            : `the bytes of ${refText(pieceRef(spec, i))}`;
        }
      }
    }
    return `writePiece(${refText(write.ref)}) with ${whose}`;
  }
}

function isOk(result: unknown): boolean {
  return typeof result === 'object' && result !== null && (result as { ok?: unknown }).ok === true;
}

function isRejection(result: unknown): result is { ok: false; code: unknown } {
  return typeof result === 'object' && result !== null && (result as { ok?: unknown }).ok === false;
}

/** `threw` or `threw synchronously`: how routePiece failed, in a sentence. */
function threwText(outcome: Extract<RouteOutcome, { threw: unknown }>): string {
  return outcome.synchronously ? 'threw synchronously (before returning a promise)' : 'threw';
}

function threwCause(outcome: Extract<RouteOutcome, { threw: unknown }>, otherwise: string): string {
  return outcome.synchronously
    ? 'routePiece threw before it returned its promise: an exception in its synchronous part ' +
        '(reading a field of an undefined route or hash, for instance). Check each case and ' +
        'resolve { ok: false, code, reason }; make the method `async` or return Promise.resolve(...).'
    : otherwise;
}
