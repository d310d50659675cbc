/**
 * Rarest-first piece selection, as a pure function over plain data: given what is still
 * needed, what one remote peer holds and how many peers hold each piece, which piece to ask
 * that remote for next. DownloadManager keeps the data; this file only decides.
 */

/** One piece that is still missing and not requested from anyone. */
export interface Candidate {
  /** Stable position of the piece in the swarm, used to break ties deterministically. */
  readonly order: number;
  /** Connected peers that hold the piece. */
  readonly availability: number;
  /** True if the remote we are picking for holds the piece. */
  readonly remoteHas: boolean;
  /** True if this remote already failed to deliver the piece (timeout, ERROR, bad hash). */
  readonly remoteFailed: boolean;
  /** Connected peers that hold the piece and have not failed it. */
  readonly untriedHolders: number;
}

/**
 * Index in `candidates` of the piece to request next from the remote, or -1 for none.
 * Picks the piece held by the fewest peers (rarest first), ties by `order`. A remote that failed
 * a piece is asked again only when no other holder is left untried: a piece one peer timed out
 * on goes to another peer first, but a lone seeder is retried rather than given up on.
 */
export function pickRarest(candidates: readonly Candidate[]): number {
  let best = -1;
  let bestAvailability = Infinity;
  let bestOrder = Infinity;
  for (let i = 0; i < candidates.length; i++) {
    const c = candidates[i] as Candidate;
    if (!c.remoteHas) continue;
    if (c.remoteFailed && c.untriedHolders > 0) continue;
    if (
      c.availability < bestAvailability ||
      (c.availability === bestAvailability && c.order < bestOrder)
    ) {
      best = i;
      bestAvailability = c.availability;
      bestOrder = c.order;
    }
  }
  return best;
}

/**
 * The same rule as `pickRarest`, kept incrementally for one file being downloaded, so choosing a
 * piece does not rebuild a candidate list over every piece for every request. DownloadManager
 * reports each event (a holder connects or leaves, a HAVE, a request sent, a piece stored or
 * lost) and asks `rarest` for the remote it is filling.
 *
 *   piece i:  held ─── stored, never asked again
 *             busy ─── requested, or its PIECE is being routed; not asked again meanwhile
 *             open ─── neither: a candidate for every remote that holds it
 */
export class PieceBook {
  readonly pieceCount: number;
  /** Connected peers that hold each piece (what `Candidate.availability` counts). */
  readonly #availability: Uint32Array;
  /** 1 while the piece is busy. */
  readonly #busy: Uint8Array;
  /** 1 once the piece is known to be stored. May lag the store: confirm before asking. */
  readonly #held: Uint8Array;
  /** 1 once some peer failed to deliver the piece (the caller knows which peers). */
  readonly #failed: Uint8Array;
  /** availability → open pieces with it. Invariant: sums to the number of open pieces. */
  readonly #openAt: number[] = [];
  /** Every piece below this index is held: scans start here. */
  #firstMissing = 0;

  constructor(pieceCount: number) {
    this.pieceCount = pieceCount;
    this.#availability = new Uint32Array(pieceCount);
    this.#busy = new Uint8Array(pieceCount);
    this.#held = new Uint8Array(pieceCount);
    this.#failed = new Uint8Array(pieceCount);
    this.#openAt[0] = pieceCount;
  }

  /** A connected peer holding `holds` (one byte per piece, 1 = held) now counts. */
  addHolder(holds: Uint8Array): void {
    const end = Math.min(holds.length, this.pieceCount);
    for (let i = 0; i < end; i++) if (holds[i] === 1) this.#changeAvailability(i, +1);
  }

  /** A peer counted by `addHolder(holds)` left, or is about to report other holdings. */
  removeHolder(holds: Uint8Array): void {
    const end = Math.min(holds.length, this.pieceCount);
    for (let i = 0; i < end; i++) if (holds[i] === 1) this.#changeAvailability(i, -1);
  }

  /** A counted peer announced one more piece (HAVE) that it did not hold before. */
  addHolding(index: number): void {
    if (index < this.pieceCount) this.#changeAvailability(index, +1);
  }

  /** Some peer failed to deliver the piece: from now on `rarest` asks its `skip` callback. */
  markFailed(index: number): void {
    if (index < this.pieceCount) this.#failed[index] = 1;
  }

  /** A request for the piece was sent: no other remote is asked for it meanwhile. */
  markBusy(index: number): void {
    if (index >= this.pieceCount || this.#busy[index] === 1) return;
    if (this.#held[index] !== 1) this.#count(index, -1);
    this.#busy[index] = 1;
  }

  /** The request ended without storing the piece: it is a candidate again. */
  markOpen(index: number): void {
    if (index >= this.pieceCount || this.#busy[index] !== 1) return;
    this.#busy[index] = 0;
    if (this.#held[index] !== 1) this.#count(index, +1);
  }

  /** The piece is stored (or the store turned out to hold it already). */
  markHeld(index: number): void {
    if (index >= this.pieceCount || this.#held[index] === 1) return;
    if (this.#isOpen(index)) this.#count(index, -1);
    this.#held[index] = 1;
    this.#busy[index] = 0;
    while (this.#firstMissing < this.pieceCount && this.#held[this.#firstMissing] === 1) {
      this.#firstMissing += 1;
    }
  }

  /** The lowest availability (≥ 1) of an open piece, or Infinity: no pick can do better. */
  lowestAvailability(): number {
    for (let a = 1; a < this.#openAt.length; a++) if ((this.#openAt[a] ?? 0) > 0) return a;
    return Infinity;
  }

  /**
   * The open piece `holds` has that `pickRarest` would choose among this file's pieces: fewest
   * holders, then lowest index; a failed piece is passed over when `skip(index)` says so.
   * Stops at the first piece with availability `floor` or less, since none can beat it.
   */
  rarest(
    holds: Uint8Array,
    floor: number,
    skip: (index: number) => boolean,
  ): { readonly index: number; readonly availability: number } | undefined {
    const end = Math.min(holds.length, this.pieceCount);
    let best = -1;
    let bestAvailability = Infinity;
    for (let i = this.#firstMissing; i < end; i++) {
      if (holds[i] !== 1 || this.#busy[i] === 1 || this.#held[i] === 1) continue;
      const availability = this.#availability[i] as number;
      if (availability >= bestAvailability) continue;
      if (this.#failed[i] === 1 && skip(i)) continue;
      best = i;
      bestAvailability = availability;
      if (availability <= floor) break;
    }
    return best < 0 ? undefined : { index: best, availability: bestAvailability };
  }

  #isOpen(index: number): boolean {
    return this.#busy[index] !== 1 && this.#held[index] !== 1;
  }

  #changeAvailability(index: number, delta: number): void {
    const open = this.#isOpen(index);
    if (open) this.#count(index, -1);
    this.#availability[index] = (this.#availability[index] as number) + delta;
    if (open) this.#count(index, +1);
  }

  /** Adds `delta` open pieces at piece `index`'s availability. */
  #count(index: number, delta: number): void {
    const availability = this.#availability[index] as number;
    this.#openAt[availability] = (this.#openAt[availability] ?? 0) + delta;
  }
}
