/**
 * Whether a run can read the rest of its batch: the other submissions (folders, archives) and
 * the output folder with their reports. With a mount namespace none of them is mounted in a
 * run. Without one, a run's uid is a stranger to every file, so it reads exactly what every user
 * may: the grader closes the output folder (0700) itself, and checks the submissions' paths,
 * which are the instructor's to close (`chmod o-rwx`); it never changes them. Each run's own
 * copy of peer.ts sits in its sandbox, 0700 and owned by its uid (isolation.ts).
 * Above: grade.ts, once per batch, after isolation.ts found the layers.
 */
import { chmodSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Isolation, Layer } from './isolation';

/** Paths named in the layer's detail when some are readable; the rest are counted. */
const SHOWN_PATHS = 3;

/**
 * True when a process that is neither the owner nor in the group of any folder on the way can
 * reach `path`: every folder from `/` down is searchable by others (o+x), and the path itself
 * is a folder others can search or a file others can read. ACLs are not looked at (none are set
 * on a grading machine's folders by default); a path that cannot be examined counts as reachable.
 */
export function reachableByOthers(path: string): boolean {
  const target = resolve(path);
  try {
    const chain: string[] = [];
    for (let dir = dirname(target); ; dir = dirname(dir)) {
      chain.push(dir);
      if (dirname(dir) === dir) break;
    }
    for (const dir of chain) if ((statSync(dir).mode & 0o001) === 0) return false;
    const stat = statSync(target);
    return stat.isDirectory() ? (stat.mode & 0o001) !== 0 : (stat.mode & 0o004) !== 0;
  } catch {
    return true;
  }
}

/** The layer's text where a mount namespace keeps the batch out of every run. */
export const PRIVATE_BY_NAMESPACE =
  "no other submission and no output folder is mounted in a run's mount namespace";

/**
 * The layer as found at start, before the batch is known; `whyNoNamespace` says why there is no
 * mount namespace (bubblewrap missing, turned off).
 */
export function privacyAtStart(
  isolation: Pick<Isolation, 'bwrap' | 'setpriv'>,
  whyNoNamespace: string,
): Layer {
  if (isolation.bwrap !== null) {
    return { id: 'private-submissions', on: true, detail: PRIVATE_BY_NAMESPACE };
  }
  return {
    id: 'private-submissions',
    on: false,
    detail:
      isolation.setpriv === null
        ? `no own uid per run and no mount namespace (${whyNoNamespace}): a run reads whatever the grader can`
        : `no mount namespace (${whyNoNamespace}): a run's uid reads whatever every user may; ` +
          'on only where the submissions are closed to other users (checked per batch)',
  };
}

/**
 * Closes the output folder to every other user (0700) where runs have their own uid: the
 * reports of submissions graded earlier in the batch are in it. Call once it exists.
 */
export function closeOutputFolder(isolation: Isolation, outDir: string): void {
  if (isolation.setpriv !== null) chmodSync(outDir, 0o700);
}

/**
 * The layer for this batch: without a mount namespace, on only if no submission path is
 * reachable by a run's uid (the output folder is closed by closeOutputFolder). Returns
 * `isolation` with the layer replaced.
 */
export function withBatchPrivacy(
  isolation: Isolation,
  submissionPaths: readonly string[],
): Isolation {
  if (isolation.bwrap !== null || isolation.setpriv === null) return isolation;
  const open = submissionPaths.filter(reachableByOthers);
  const shown = open.slice(0, SHOWN_PATHS).join(', ');
  const more = open.length > SHOWN_PATHS ? ` and ${open.length - SHOWN_PATHS} more` : '';
  const layer: Layer =
    open.length === 0
      ? {
          id: 'private-submissions',
          on: true,
          detail:
            "no mount namespace, but no submission is reachable by a run's uid, and the output folder is 0700",
        }
      : {
          id: 'private-submissions',
          on: false,
          detail:
            `no mount namespace, and a run's uid can read ${shown}${more}: ` +
            'close them to other users (chmod o-rwx on a folder above them) or install bubblewrap',
        };
  return {
    ...isolation,
    layers: isolation.layers.map((l) => (l.id === 'private-submissions' ? layer : l)),
  };
}
