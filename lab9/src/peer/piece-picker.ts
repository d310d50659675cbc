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
