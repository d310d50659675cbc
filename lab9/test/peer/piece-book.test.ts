/**
 * PieceBook (peer/piece-picker.ts) keeps pickRarest's rule incrementally. These tests replay
 * seeded random event sequences (holders connect and leave, HAVEs, requests sent, failed and
 * stored) and check after every step that the book picks exactly what pickRarest picks from
 * the same state rebuilt from scratch, for every connected remote.
 */
import { type Candidate, PieceBook, pickRarest } from '../../src/peer/piece-picker';

/** A small deterministic PRNG (mulberry32): the same seed replays the same story. */
function random(seed: number): (below: number) => number {
  let state = seed >>> 0;
  return (below) => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * below);
  };
}

interface Model {
  readonly pieces: number;
  readonly holds: Uint8Array[];
  readonly connected: boolean[];
  readonly busy: Set<number>;
  readonly held: Set<number>;
  /** piece → remotes that failed it. */
  readonly failedBy: Map<number, Set<number>>;
}

/** pickRarest over candidates built from scratch, as DownloadManager did before PieceBook. */
function expectedPick(model: Model, remote: number): number | undefined {
  const indices: number[] = [];
  const candidates: Candidate[] = [];
  for (let i = 0; i < model.pieces; i++) {
    if (model.holds[remote]?.[i] !== 1 || model.busy.has(i) || model.held.has(i)) continue;
    const failed = model.failedBy.get(i);
    let availability = 0;
    let untried = 0;
    model.holds.forEach((holds, other) => {
      if (!model.connected[other] || holds[i] !== 1) return;
      availability += 1;
      if (other !== remote && !failed?.has(other)) untried += 1;
    });
    indices.push(i);
    candidates.push({
      order: candidates.length,
      availability,
      remoteHas: true,
      remoteFailed: failed?.has(remote) ?? false,
      untriedHolders: untried,
    });
  }
  const best = pickRarest(candidates);
  return best < 0 ? undefined : indices[best];
}

function bookPick(
  book: PieceBook,
  model: Model,
  remote: number,
  floor: number,
): number | undefined {
  const skip = (index: number): boolean => {
    const failed = model.failedBy.get(index);
    if (!failed?.has(remote)) return false;
    return model.holds.some(
      (holds, other) =>
        other !== remote && model.connected[other] && holds[index] === 1 && !failed.has(other),
    );
  };
  return book.rarest(model.holds[remote] as Uint8Array, floor, skip)?.index;
}

function replay(seed: number, pieces: number, remotes: number, steps: number): void {
  const next = random(seed);
  const model: Model = {
    pieces,
    holds: [...Array(remotes).keys()].map(() => new Uint8Array(pieces)),
    connected: Array<boolean>(remotes).fill(false),
    busy: new Set(),
    held: new Set(),
    failedBy: new Map(),
  };
  for (const holds of model.holds)
    for (let i = 0; i < pieces; i++) holds[i] = next(3) === 0 ? 1 : 0;
  const book = new PieceBook(pieces);
  const story: string[] = [];

  for (let step = 0; step < steps; step++) {
    const remote = next(remotes);
    const index = next(pieces);
    const holds = model.holds[remote] as Uint8Array;
    switch (next(7)) {
      case 0:
        model.connected[remote] = !model.connected[remote];
        if (model.connected[remote]) book.addHolder(holds);
        else book.removeHolder(holds);
        story.push(`${model.connected[remote] ? 'connect' : 'leave'} r${remote}`);
        break;
      case 1:
        if (holds[index] === 1) break;
        holds[index] = 1;
        if (model.connected[remote]) book.addHolding(index);
        story.push(`HAVE r${remote} #${index}`);
        break;
      case 2:
      case 3: {
        if (!model.connected[remote]) break;
        const picked = expectedPick(model, remote);
        if (picked === undefined) break;
        model.busy.add(picked);
        book.markBusy(picked);
        story.push(`request #${picked} from r${remote}`);
        break;
      }
      case 4: {
        const [busy] = model.busy;
        if (busy === undefined) break;
        model.busy.delete(busy);
        let failed = model.failedBy.get(busy);
        if (!failed) model.failedBy.set(busy, (failed = new Set()));
        failed.add(remote);
        book.markFailed(busy);
        book.markOpen(busy);
        story.push(`r${remote} failed #${busy}`);
        break;
      }
      default:
        model.busy.delete(index);
        model.held.add(index);
        book.markHeld(index);
        story.push(`stored #${index}`);
    }
    for (let r = 0; r < remotes; r++) {
      if (!model.connected[r]) continue;
      const expected = expectedPick(model, r);
      const context = `seed ${seed}, after: ${story.slice(-6).join(', ')}; picking for r${r}`;
      expect({ context, pick: bookPick(book, model, r, book.lowestAvailability()) }).toEqual({
        context,
        pick: expected,
      });
      expect({ context, fullScan: bookPick(book, model, r, 0) }).toEqual({
        context,
        fullScan: expected,
      });
    }
  }
}

describe('PieceBook', () => {
  it('1 remote holding everything: asks for pieces in order and never twice', () => {
    const book = new PieceBook(4);
    book.addHolder(new Uint8Array([1, 1, 1, 1]));
    const order: number[] = [];
    for (;;) {
      const next = book.rarest(
        new Uint8Array([1, 1, 1, 1]),
        book.lowestAvailability(),
        () => false,
      );
      if (!next) break;
      order.push(next.index);
      book.markBusy(next.index);
    }
    expect(order).toEqual([0, 1, 2, 3]);
  });

  it('a failed request makes the piece a candidate again; a stored one never', () => {
    const holds = new Uint8Array([1, 1]);
    const book = new PieceBook(2);
    book.addHolder(holds);
    book.markBusy(0);
    book.markBusy(1);
    book.markOpen(0);
    book.markHeld(1);
    book.markOpen(1);
    expect(book.rarest(holds, 1, () => false)).toEqual({ index: 0, availability: 1 });
    book.markHeld(0);
    expect(book.rarest(holds, 1, () => false)).toBeUndefined();
    expect(book.lowestAvailability()).toBe(Infinity);
  });

  it('prefers the piece fewer connected peers hold, and forgets a peer that left', () => {
    const a = new Uint8Array([1, 1, 1]);
    const b = new Uint8Array([1, 0, 1]);
    const book = new PieceBook(3);
    book.addHolder(a);
    book.addHolder(b);
    expect(book.rarest(a, book.lowestAvailability(), () => false)?.index).toBe(1);
    book.removeHolder(b);
    expect(book.rarest(a, book.lowestAvailability(), () => false)?.index).toBe(0);
  });

  it.each([1, 2, 3, 4, 5, 6, 7, 8])(
    'random story %i (3 remotes, 12 pieces, 300 steps): picks what pickRarest picks',
    (seed) => replay(seed, 12, 3, 300),
  );

  it.each([11, 12])(
    'random story %i (6 remotes, 40 pieces, 400 steps): picks what pickRarest picks',
    (seed) => replay(seed, 40, 6, 400),
  );
});
