/**
 * Waiting on what the system says, never on the wall clock: `nextEvent` resolves on the event a
 * test needs, `bounded` on a promise. Their timeout only bounds the failure path, and the error
 * then names what did not happen instead of jest's bare "exceeded timeout".
 */
import type { EventEmitter } from 'node:events';
import { scaled } from '../../src/time-factor';

/** How long a step of a test may take before it is reported as never happening (scaled). */
export const STEP_MS = scaled(5_000);

/** Resolves with `promise`, or rejects after `ms` with "`what` did not happen within ...". */
export function bounded<T>(promise: Promise<T>, what: string, ms = STEP_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not happen within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * The arguments of the next `event` of `emitter` for which `until` holds. Annotate `until`'s
 * parameters to type the result: `(request: GetPieceMessage) => request.index === 2`.
 * @param what the step, for the failure message: "seeder-1 receiving GET_PIECE for piece 2"
 */
export function nextEvent<Args extends unknown[] = unknown[]>(
  emitter: EventEmitter,
  event: string,
  what: string,
  until: (...args: Args) => boolean = () => true,
  ms = STEP_MS,
): Promise<Args> {
  let listener: ((...args: unknown[]) => void) | undefined;
  const seen = new Promise<Args>((resolve) => {
    listener = (...args: unknown[]) => {
      if (until(...(args as Args))) resolve(args as Args);
    };
    emitter.on(event, listener);
  });
  return bounded(seen, what, ms).finally(() => {
    if (listener) emitter.off(event, listener);
  });
}
