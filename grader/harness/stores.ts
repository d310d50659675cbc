/**
 * PieceStore wrappers the grader injects into the peer under test: HeldStore holds chosen reads
 * back until the test releases them (concurrency by construction), RecordingStore reports every
 * writePiece call before it reaches storage (so a write that should never happen is seen even if
 * storage would refuse it). Below: a FileManager. Above: the peer host thread.
 */
import type {
  FileAnnouncement,
  PieceRef,
  SwarmAnnouncement,
} from '../../lab9/src/protocol/message-types';
import type { PieceStore } from '../../lab9/src/storage/file-manager';

/** Passes every call through; subclasses override the calls they watch. */
class ForwardingStore implements PieceStore {
  constructor(protected readonly inner: PieceStore) {}

  swarms(): SwarmAnnouncement[] {
    return this.inner.swarms();
  }

  fileInfo(swarmId: string, fileId: string): FileAnnouncement | undefined {
    return this.inner.fileInfo(swarmId, fileId);
  }

  addFile(swarmId: string, file: FileAnnouncement): Promise<void> {
    return this.inner.addFile(swarmId, file);
  }

  readPiece(swarmId: string, fileId: string, index: number): Promise<Buffer> {
    return this.inner.readPiece(swarmId, fileId, index);
  }

  writePiece(swarmId: string, fileId: string, index: number, data: Buffer): Promise<boolean> {
    return this.inner.writePiece(swarmId, fileId, index, data);
  }

  hasPiece(swarmId: string, fileId: string, index: number): boolean {
    return this.inner.hasPiece(swarmId, fileId, index);
  }

  bitfield(swarmId: string, fileId: string): Buffer {
    return this.inner.bitfield(swarmId, fileId);
  }

  isComplete(swarmId: string, fileId: string): boolean {
    return this.inner.isComplete(swarmId, fileId);
  }
}

/** Which reads to hold: none, every one, or those of the listed pieces. */
export type HoldRule = 'none' | 'all' | readonly PieceRef[];

/** A read held back: `release` lets it reach storage, so its answer follows. */
interface HeldRead {
  readonly ref: PieceRef;
  release(): void;
}

export class HeldStore extends ForwardingStore {
  #rule: HoldRule = 'none';
  #nextId = 1;
  /** readId → held read. Invariant: a read is here from the call until its release. */
  readonly #held = new Map<number, HeldRead>();
  readonly #onHeld: (readId: number, ref: PieceRef) => void;

  /** @param onHeld told of every read the moment it is held, before it can resolve */
  constructor(inner: PieceStore, onHeld: (readId: number, ref: PieceRef) => void) {
    super(inner);
    this.#onHeld = onHeld;
  }

  /** Applies to reads that start from now on; reads already held stay held. */
  hold(rule: HoldRule): void {
    this.#rule = rule;
  }

  /** Lets every held read go on, oldest first. */
  releaseAll(): void {
    const held = [...this.#held.values()];
    this.#held.clear();
    for (const read of held) read.release();
  }

  override readPiece(swarmId: string, fileId: string, index: number): Promise<Buffer> {
    const ref = { swarmId, fileId, index };
    if (!this.#holds(ref)) return super.readPiece(swarmId, fileId, index);
    const readId = this.#nextId++;
    const released = new Promise<void>((resolve) => {
      this.#held.set(readId, { ref, release: resolve });
    });
    this.#onHeld(readId, ref);
    return released.then(() => super.readPiece(swarmId, fileId, index));
  }

  #holds(ref: PieceRef): boolean {
    return ruleHolds(this.#rule, ref);
  }
}

function ruleHolds(rule: HoldRule, ref: PieceRef): boolean {
  if (rule === 'none' || rule === 'all') return rule === 'all';
  return rule.some(
    (r) => r.swarmId === ref.swarmId && r.fileId === ref.fileId && r.index === ref.index,
  );
}

/**
 * Holds chosen writePiece calls back until the test releases them, as a disk store's write
 * takes its time (so "resolved before the write finished" is seen by construction), and reports
 * what every write resolved (so `stored` can be compared with it). The in-memory FileManager
 * keeps some Buffers and copies others, depending on the memory under them; this store makes
 * it certain: with `keep` false it stores a copy, so a Buffer changed after its write changes
 * nothing, with `keep` true it passes the very Buffer on, which that store then keeps.
 */
export class HeldWriteStore extends ForwardingStore {
  #rule: HoldRule = 'none';
  /** Writes held and not released yet, oldest first. */
  #held: (() => void)[] = [];
  readonly #onHeld: (ref: PieceRef) => void;
  readonly #onSettled: (ref: PieceRef, stored: boolean | 'threw') => void;

  /**
   * @param onHeld told of every write the moment it is held, before it can finish
   * @param onSettled told of every write once it resolved (true: stored) or threw
   */
  constructor(
    inner: PieceStore,
    onHeld: (ref: PieceRef) => void,
    onSettled: (ref: PieceRef, stored: boolean | 'threw') => void,
    readonly keep = false,
  ) {
    super(inner);
    this.#onHeld = onHeld;
    this.#onSettled = onSettled;
  }

  /** Applies to writes that start from now on; writes already held stay held. */
  hold(rule: HoldRule): void {
    this.#rule = rule;
  }

  releaseAll(): void {
    const held = this.#held;
    this.#held = [];
    for (const release of held) release();
  }

  override async writePiece(
    swarmId: string,
    fileId: string,
    index: number,
    data: Buffer,
  ): Promise<boolean> {
    const ref = { swarmId, fileId, index };
    if (ruleHolds(this.#rule, ref)) {
      const released = new Promise<void>((resolve) => this.#held.push(resolve));
      this.#onHeld(ref);
      await released;
    }
    try {
      const bytes = this.keep ? data : Buffer.from(data);
      const stored = await super.writePiece(swarmId, fileId, index, bytes);
      this.#onSettled(ref, stored);
      return stored;
    } catch (error) {
      this.#onSettled(ref, 'threw');
      throw error;
    }
  }
}

export class RecordingStore extends ForwardingStore {
  readonly #onWrite: (ref: PieceRef, data: Buffer) => void;

  /** @param onWrite told of every writePiece call, before storage sees it */
  constructor(inner: PieceStore, onWrite: (ref: PieceRef, data: Buffer) => void) {
    super(inner);
    this.#onWrite = onWrite;
  }

  override writePiece(
    swarmId: string,
    fileId: string,
    index: number,
    data: Buffer,
  ): Promise<boolean> {
    this.#onWrite({ swarmId, fileId, index }, data);
    return super.writePiece(swarmId, fileId, index, data);
  }
}
