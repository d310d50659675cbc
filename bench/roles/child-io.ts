/**
 * The child side of the bench's IPC: read the role spec, tell the parent 'ready', wait for 'go',
 * measure CPU from there, answer 'stop' with the resources used. Below: process.send/'message'.
 * Above: each role (raw.ts, frames.ts, peers.ts, swarm.ts), which only does its measured work.
 */
import type { ChildMessage, ParentMessage, ProcessUsage, RoleSpec } from '../harness/messages';

export function readSpec(): RoleSpec {
  const json = process.argv[2];
  if (json === undefined) throw new TypeError('bench role: missing spec argument');
  return JSON.parse(json) as RoleSpec;
}

export function tell(message: ChildMessage): Promise<void> {
  return new Promise((resolve, reject) => {
    if (!process.send) return reject(new TypeError('bench role: started without an IPC channel'));
    process.send(message, undefined, {}, (error) => (error ? reject(error) : resolve()));
  });
}

/** Resolves on the next parent message of this kind. */
export function when(kind: ParentMessage['kind']): Promise<void> {
  return new Promise((resolve) => {
    const listener = (message: ParentMessage): void => {
      if (message.kind !== kind) return;
      process.off('message', listener);
      resolve();
    };
    process.on('message', listener);
  });
}

/** Epoch milliseconds with sub-millisecond precision, comparable between processes. */
export function now(): number {
  return performance.timeOrigin + performance.now();
}

/** A CPU clock started now; `usage()` reads CPU since then and the peak RSS so far. */
export function startUsageClock(): { usage(): ProcessUsage } {
  const start = process.cpuUsage();
  return {
    usage() {
      const { user, system } = process.cpuUsage(start);
      return {
        cpuMs: (user + system) / 1000,
        maxRssBytes: process.resourceUsage().maxRSS * 1024,
      };
    },
  };
}

type Done = Omit<Extract<ChildMessage, { kind: 'done' }>, 'kind' | 'usage'>;

export interface RoleSteps<T> {
  /** Everything before the measurement: build peers, listen, connect. */
  setup(): Promise<{ ready: Extract<ChildMessage, { kind: 'ready' }>; state: T }>;
  /** The measured work; its result, if any, is sent as 'done'. A seeder returns nothing. */
  work(state: T): Promise<Done | undefined>;
  /** Checks after 'done' (not measured): throw to fail the scenario. */
  verify?(state: T): Promise<void>;
  /** Counters to send with 'usage', read after 'stop'. */
  notes?(state: T): Record<string, number>;
  /** Before exit: stop peers, close files. */
  cleanup?(state: T): Promise<void>;
}

/**
 * Runs a role: setup, 'ready'; on 'go', work, 'done', verify; on 'stop', cleanup, 'usage', exit.
 * Any failure is reported as 'failed' and exits non-zero, so the parent never waits forever.
 */
export async function runRole<T>(steps: RoleSteps<T>): Promise<void> {
  // A bench that dies must not leave seeders behind: no parent, no child.
  process.once('disconnect', () => process.exit(2));
  try {
    const go = when('go');
    const stop = when('stop');
    const { ready, state } = await steps.setup();
    await tell(ready);
    await go;
    const clock = startUsageClock();
    const result = await steps.work(state);
    if (result) await tell({ kind: 'done', ...result, usage: clock.usage() });
    await steps.verify?.(state);
    await stop;
    const usage = clock.usage();
    const notes = steps.notes?.(state);
    await steps.cleanup?.(state);
    await tell({ kind: 'usage', usage, ...(notes && { notes }) });
    process.exit(0);
  } catch (error) {
    const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
    await tell({ kind: 'failed', message }).catch(() => undefined);
    process.exit(1);
  }
}
