/**
 * Files a run left outside its sandbox: after a run with its own uid, everything that uid owns
 * in the folders every user may write to (/tmp, /var/tmp, /dev/shm, ...) is removed, so no run
 * leaves data for a later one (another student's run under a recycled uid) or fills the disk.
 * Only folders the run's uid could enter are searched (world-traversable ones), and files are
 * looked at only in folders it could write to (world-writable ones): that is where it could have
 * made them. With a mount namespace those folders were the run's own tmpfs anyway.
 * Above: isolation.ts, when a confinement is released, before its uid is handed out again.
 */
import { lstatSync, readdirSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, sep } from 'node:path';

/** Folders any user may create files in on a Linux system, where present. */
export const SHARED_WRITABLE_DIRS: readonly string[] = [
  '/tmp',
  '/var/tmp',
  '/dev/shm',
  '/dev/mqueue',
  '/run/lock',
  '/var/lock',
  '/var/crash',
];

/** How deep below a shared folder we look; deeper files sit in a folder the run made (removed whole). */
const MAX_DEPTH = 8;

/** Entries looked at per sweep: a /tmp with millions of files is the machine's problem, not ours. */
const MAX_ENTRIES = 200_000;

export interface Sweep {
  /** Paths removed (a folder of the run counts once). */
  readonly removed: readonly string[];
  /** Paths of the uid that could not be removed, with why. */
  readonly failed: readonly string[];
}

/** The shared folders of this machine, as real paths, each once; the TMPDIR of the grader too. */
export function sharedWritableDirs(): string[] {
  const found = new Set<string>();
  for (const dir of [...SHARED_WRITABLE_DIRS, tmpdir()]) {
    try {
      found.add(realpathSync(dir));
    } catch {
      // Not on this machine.
    }
  }
  return [...found];
}

/**
 * Removes every file, folder, link, FIFO or socket owned by one of `uids` under `roots` that
 * those uids could have made: in a folder others may write to, or inside a folder of their own
 * (removed whole). A file of theirs in a folder they could not write to is left: they cannot
 * have put it there (permission bits only: an ACL or a group-writable folder for their gid
 * would be missed). Nothing under `keep` (the run's own sandbox, removed by its owner) is
 * touched. Never follows a link.
 */
export function removeFilesOf(
  uids: readonly number[],
  roots: readonly string[] = sharedWritableDirs(),
  keep: readonly string[] = [],
): Sweep {
  const owners = new Set(uids);
  const kept = keep.map((path) => resolve(path));
  const isKept = (path: string): boolean =>
    kept.some((k) => path === k || path.startsWith(k + sep) || k.startsWith(path + sep));
  const removed: string[] = [];
  const failed: string[] = [];
  let budget = MAX_ENTRIES;
  const visit = (dir: string, depth: number, mode: number): void => {
    const othersMayWrite = (mode & 0o002) !== 0;
    let entries: { readonly name: string; readonly mayBeFolder: boolean }[];
    try {
      entries = readdirSync(dir, { withFileTypes: true }).map((entry) => ({
        name: entry.name,
        mayBeFolder: entry.isDirectory(),
      }));
    } catch {
      // Where the file system gives no entry types, Node stats each entry itself and fails
      // for the whole folder if one goes meanwhile: then read the names, and lstat them all.
      try {
        entries = readdirSync(dir).map((name) => ({ name, mayBeFolder: true }));
      } catch {
        return;
      }
    }
    for (const entry of entries) {
      if (budget <= 0) return;
      budget -= 1;
      // The run's uid makes a file only where it may write: in a folder others may write to, or
      // in a folder of its own (found, and removed whole, where it was made). Elsewhere only
      // folders need a look, for such folders inside them.
      if (!othersMayWrite && !entry.mayBeFolder) continue;
      const path = join(dir, entry.name);
      let stat;
      try {
        stat = lstatSync(path);
      } catch {
        continue;
      }
      if (isKept(path)) {
        // An ancestor of what we keep: look inside it, but never remove it whole.
        if (stat.isDirectory() && !kept.includes(path)) {
          visit(path, depth + 1, stat.mode);
        }
        continue;
      }
      if (owners.has(stat.uid)) {
        try {
          rmSync(path, { recursive: true, force: true, maxRetries: 2 });
          removed.push(path);
        } catch (error) {
          failed.push(`${path}: ${(error as Error).message}`);
        }
        continue;
      }
      // The run's uid is "other" to every folder it does not own: it entered only o+x ones.
      if (stat.isDirectory() && (stat.mode & 0o001) !== 0 && depth < MAX_DEPTH) {
        visit(path, depth + 1, stat.mode);
      }
    }
  };
  for (const root of roots) {
    let stat;
    try {
      stat = lstatSync(root);
    } catch {
      continue;
    }
    visit(root, 0, stat.mode);
  }
  return { removed, failed };
}
