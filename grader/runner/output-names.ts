/**
 * The name of each submission's output folder (and its grades.csv row): safe characters only,
 * never a name the output folder uses itself (grades.csv), and never the same as another
 * submission's, compared without case (macOS and Windows file systems ignore it). A name
 * depends only on the submission itself and on which others share its name, never on argument
 * order, so regrading the same batch writes to the same folders.
 * Above: submission.ts names what the command line expands to; report.ts writes the folders.
 */
import { createHash } from 'node:crypto';
import { basename, dirname, resolve } from 'node:path';
import { archiveSuffix } from './archive';

/** Files and folders the grader writes at the top of the output folder, beside submissions. */
export const RESERVED_OUTPUT_NAMES: readonly string[] = ['grades.csv'];

/**
 * Names that look like a file of the output folder (a CSV, a report) are never a submission's
 * folder: another output file of that name may be added, and a folder would block it.
 */
const FILE_LIKE = /\.(csv|tsv|json|md|log|txt|html?)$/i;

/** Longest name kept from a file name; the rest is cut (file systems allow 255 bytes). */
const MAX_NAME_CHARS = 80;

/** Hex digits of the hash that tells apart submissions sharing a name; more if still shared. */
const HASH_DIGITS = [6, 12, 64] as const;

export interface Nameable {
  /** Absolute path of the folder, archive or .ts file given. */
  readonly path: string;
  readonly kind: 'folder' | 'archive' | 'file';
}

/** The name a submission would like: its file name without the archive suffix, in safe characters. */
export function submissionName(path: string): string {
  const base = basename(path);
  const suffix = archiveSuffix(base) ?? (base.endsWith('.ts') ? '.ts' : '');
  let name = base.slice(0, base.length - suffix.length);
  // A bare peer.ts is named after its folder: solution/peer.ts is "solution".
  if (suffix === '.ts' && name === 'peer') name = basename(dirname(resolve(path)));
  const safe = name.replace(/[^\w.-]+/g, '_').replace(/^\.+/, '_');
  return safe.slice(0, MAX_NAME_CHARS) || 'submission';
}

/** True when `name` may not name a submission's folder (compared without case). */
export function isReservedName(name: string): boolean {
  const lower = name.toLowerCase();
  return RESERVED_OUTPUT_NAMES.includes(lower) || FILE_LIKE.test(lower);
}

/** `zip`, `targz`, `tgz`, `tar`, `dir` or `ts`: what the submission was, for a told-apart name. */
function kindTag(submission: Nameable): string {
  if (submission.kind === 'folder') return 'dir';
  if (submission.kind === 'file') return 'ts';
  return (archiveSuffix(submission.path) ?? '.archive').replace(/\./g, '');
}

function hashOf(text: string, digits: number): string {
  return createHash('sha256').update(text).digest('hex').slice(0, digits);
}

/**
 * One unique name per submission, in the order given. A preferred name (submissionName) held by
 * one submission only, and not reserved, is kept. Where several share one, a folder whose own
 * name it is exactly (`alice/` among `alice/` and `alice.zip`) keeps it; the others become
 * `<name>-<kind>-<hash of their file name>` (`alice-zip-3f2a1c`), which is the same in every
 * batch where the name is shared. Two of the same file name in different folders are hashed by
 * their whole path. The same path given twice must be removed before (expandSubmissions does).
 */
export function uniqueNames(submissions: readonly Nameable[]): string[] {
  const preferred = submissions.map((s) => submissionName(s.path));
  const groups = new Map<string, number[]>();
  preferred.forEach((name, i) => {
    const key = name.toLowerCase();
    groups.set(key, [...(groups.get(key) ?? []), i]);
  });
  const names = new Array<string>(submissions.length);
  const toldApart: number[] = [];
  for (const members of groups.values()) {
    const [first] = members;
    if (first === undefined) continue;
    const name = preferred[first] ?? 'submission';
    if (members.length === 1 && !isReservedName(name)) {
      names[first] = name;
      continue;
    }
    const owners = members.filter((i) => {
      const s = submissions[i];
      return s?.kind === 'folder' && basename(s.path) === preferred[i];
    });
    const owner = owners.length === 1 && !isReservedName(name) ? owners[0] : undefined;
    for (const i of members) {
      if (i === owner) names[i] = name;
      else toldApart.push(i);
    }
  }
  const taken = new Set(names.filter((n) => n !== undefined).map((n) => n.toLowerCase()));
  for (const i of toldApart) {
    const submission = submissions[i];
    if (submission === undefined) continue;
    const sameFileName = toldApart.filter(
      (j) => basename(submissions[j]?.path ?? '') === basename(submission.path),
    );
    const identity = sameFileName.length > 1 ? resolve(submission.path) : basename(submission.path);
    for (const digits of HASH_DIGITS) {
      const candidate = `${preferred[i]}-${kindTag(submission)}-${hashOf(identity, digits)}`;
      if (!taken.has(candidate.toLowerCase()) || digits === HASH_DIGITS[HASH_DIGITS.length - 1]) {
        names[i] = candidate;
        taken.add(candidate.toLowerCase());
        break;
      }
    }
  }
  return names;
}
