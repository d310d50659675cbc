/**
 * A Clock (lab9/src/peer/clock.ts) that never fires on its own: the test fires timers by their
 * delay when the story needs them to, so "the request timed out" happens exactly where the test
 * says, and "it did not time out" is proven by never firing.
 */
import type { Clock } from '../../src/peer/clock';

interface Timer {
  readonly callback: () => void;
  readonly ms: number;
}

export class ManualClock implements Clock {
  #nextId = 1;
  /** Armed timers by handle, in arming order. */
  readonly #timers = new Map<number, Timer>();

  setTimeout(callback: () => void, ms: number): unknown {
    const id = this.#nextId++;
    this.#timers.set(id, { callback, ms });
    return id;
  }

  clearTimeout(handle: unknown): void {
    if (typeof handle === 'number') this.#timers.delete(handle);
  }

  /** Delays of the armed timers, in arming order. */
  pending(): number[] {
    return [...this.#timers.values()].map((timer) => timer.ms);
  }

  /**
   * Fires every timer armed with delay `ms` before this call, oldest first; timers armed by
   * those callbacks wait for the next call. Returns how many fired.
   */
  fire(ms: number): number {
    const due = [...this.#timers].filter(([, timer]) => timer.ms === ms);
    let fired = 0;
    for (const [id, timer] of due) {
      if (!this.#timers.delete(id)) continue; // cleared by an earlier callback of this round
      timer.callback();
      fired += 1;
    }
    return fired;
  }
}
