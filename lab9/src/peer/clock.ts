/**
 * Timers, injected: peers never call the global setTimeout directly, so tests can drive time
 * (or leave it frozen to prove a request did not time out) instead of sleeping.
 */
export interface Clock {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** The real timers, unref'd so a forgotten timer never keeps a process alive. */
export const systemClock: Clock = {
  setTimeout(callback, ms) {
    return setTimeout(callback, ms).unref();
  },
  clearTimeout(handle) {
    clearTimeout(handle as NodeJS.Timeout);
  },
};
