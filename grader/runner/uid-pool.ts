/**
 * Uids for graded runs. Each run in progress on the machine holds its own uid from
 * RUN_UID_BASE on, so no two runs (of this grader, or of another grader started at the same
 * time) share one: a run cannot signal, trace or write to another, and every process left with
 * its uid after the run is known to be its. A lock file per uid, holding the owner's pid, says
 * which are taken; one whose owner died is taken over. Above: isolation.ts, once per run.
 */
import { existsSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RUN_UID_BASE, RUN_UID_COUNT } from './limits';

/**
 * One folder for every grader on the machine, whatever its TMPDIR: /run (a tmpfs, emptied at
 * boot, so no lock outlives a reboot) where it exists.
 */
const LOCK_DIR = existsSync('/run')
  ? join('/run', 'lab9-grade-uids')
  : join(tmpdir(), 'lab9-grade-uids');

export interface HeldUid {
  readonly uid: number;
  release(): void;
}

function ownerAlive(lock: string): boolean {
  let pid: number;
  try {
    pid = Number.parseInt(readFileSync(lock, 'utf8'), 10);
  } catch {
    return false;
  }
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Takes a free uid. Starts at a random place in the range so that a uid just released is not
 * handed out again at once (a check for leftovers of the last run would see the next one's).
 */
export function acquireUid(): HeldUid {
  mkdirSync(LOCK_DIR, { recursive: true, mode: 0o700 });
  const start = Math.floor(Math.random() * RUN_UID_COUNT);
  for (let i = 0; i < RUN_UID_COUNT; i += 1) {
    const uid = RUN_UID_BASE + ((start + i) % RUN_UID_COUNT);
    const lock = join(LOCK_DIR, String(uid));
    try {
      writeFileSync(lock, String(process.pid), { flag: 'wx' });
    } catch {
      if (ownerAlive(lock)) continue;
      try {
        unlinkSync(lock);
        writeFileSync(lock, String(process.pid), { flag: 'wx' });
      } catch {
        continue;
      }
    }
    let held = true;
    return {
      uid,
      release: () => {
        if (!held) return;
        held = false;
        try {
          unlinkSync(lock);
        } catch {
          // Someone took it over already.
        }
      },
    };
  }
  throw new Error(`all ${RUN_UID_COUNT} run uids from ${RUN_UID_BASE} are in use`);
}
