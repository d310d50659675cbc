/**
 * Waiting on state instead of time: whoever owns some state calls `notify()` after each change,
 * and `until(probe)` resolves the first time the probe returns a value. No polling, no sleeps;
 * the bound on how long to wait is added by the caller (world.ts), on the failure path only.
 */

/** A wait in progress; `cancel` drops it (its promise then never settles). */
export interface Waiting<T> {
  readonly promise: Promise<T>;
  cancel(): void;
}

export class Watch {
  readonly #listeners = new Set<() => void>();

  /** Call after every change of the watched state. */
  notify(): void {
    for (const listener of [...this.#listeners]) listener();
  }

  /** The first value other than undefined that `probe` returns, checked now and after each notify. */
  until<T>(probe: () => T | undefined): Waiting<T> {
    let check = (): void => {};
    const promise = new Promise<T>((resolve) => {
      check = (): void => {
        const value = probe();
        if (value === undefined) return;
        this.#listeners.delete(check);
        resolve(value);
      };
    });
    this.#listeners.add(check);
    check();
    return { promise, cancel: () => this.#listeners.delete(check) };
  }
}
