/**
 * The one factor every wall-clock bound of the kit's tests, of the grader's harness and of the
 * grader's per-run limit is multiplied by, so that a slow or loaded machine gets more time on
 * the failure paths those bounds guard (a correct program never waits for one). Not part of
 * the peer-to-peer system: lab9/test, solution/test, grader/harness and grader/runner import it.
 */
import { availableParallelism, loadavg } from 'node:os';

/** Set it to a number ≥ 1 to fix the factor; unset, it follows the machine's load. */
export const TIME_FACTOR_VARIABLE = 'LAB9_TIME_FACTOR';

/** The automatic factor never exceeds this: past it, a machine is too loaded to grade on. */
export const MAX_AUTO_TIME_FACTOR = 4;

/**
 * The factor: LAB9_TIME_FACTOR when set; otherwise the 1-minute load average per core when it
 * is above 1 (a machine running three times as many tasks as it has cores gets three times the
 * time), capped at MAX_AUTO_TIME_FACTOR, and 1 on a quiet machine. The grader passes its own
 * factor to each run in LAB9_TIME_FACTOR: inside the sandbox there is no /proc to read the load.
 * @throws TypeError when LAB9_TIME_FACTOR is set to anything but a number ≥ 1
 */
export function timeFactor(
  env: Readonly<Record<string, string | undefined>> = process.env,
  load: number = loadavg()[0] ?? 0,
  cores: number = availableParallelism(),
): number {
  const set = env[TIME_FACTOR_VARIABLE];
  if (set !== undefined && set.trim() !== '') {
    const value = Number(set);
    if (!Number.isFinite(value) || value < 1) {
      throw new TypeError(
        `${TIME_FACTOR_VARIABLE}=${set}: the time factor must be a number ≥ 1 (1 is a quiet machine)`,
      );
    }
    return value;
  }
  const perCore = load / Math.max(1, cores);
  return Math.min(MAX_AUTO_TIME_FACTOR, Math.max(1, Math.round(perCore * 10) / 10));
}

/** This process's factor, read once at start. */
export const TIME_FACTOR = timeFactor();

/** `ms` scaled by this process's factor, rounded up to a whole millisecond. */
export function scaled(ms: number): number {
  return Math.ceil(ms * TIME_FACTOR);
}
