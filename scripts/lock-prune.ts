/**
 * Takes devDependencies out of a parsed package-lock.json (lockfileVersion 3): the root entry
 * forgets them, and every `node_modules/…` entry that none of the remaining root dependencies
 * reaches any more goes too. Entries still reached stay as they are, so `npm ci` installs exactly
 * what was tested, minus the dropped packages and what only they needed. A pure function over the
 * parsed lock object: no files, no npm.
 * Above: scripts/export-student.ts and scripts/package-gradescope.ts, which drop the
 * instructors' tools (Stryker) from the student kit's and the autograder's package.json and lock
 * file. Tested by grader/test/export-lock-prune.test.ts.
 */

/**
 * devDependencies that only this repository's maintainers use (npm run mutation): never
 * installed by a student's `npm ci`, nor by the Gradescope container's.
 */
export const INSTRUCTOR_ONLY_DEV_DEPENDENCIES: readonly string[] = [
  '@stryker-mutator/core',
  '@stryker-mutator/jest-runner',
];

/** A parsed package.json, without the devDependencies named in `dropped`. */
export function withoutDevDependencies<T extends { devDependencies?: Record<string, string> }>(
  manifest: T,
  dropped: readonly string[],
): T {
  if (manifest.devDependencies === undefined) return manifest;
  const devDependencies = Object.fromEntries(
    Object.entries(manifest.devDependencies).filter(([name]) => !dropped.includes(name)),
  );
  return { ...manifest, devDependencies };
}

/** One entry of the lock's `packages`: only the fields the walk reads are typed. */
export interface LockPackage {
  readonly dependencies?: Readonly<Record<string, string>>;
  readonly devDependencies?: Readonly<Record<string, string>>;
  readonly optionalDependencies?: Readonly<Record<string, string>>;
  readonly peerDependencies?: Readonly<Record<string, string>>;
  /** A symlinked package (a workspace): its files are the entry at `resolved`. */
  readonly link?: boolean;
  readonly resolved?: string;
  readonly [field: string]: unknown;
}

/** A parsed package-lock.json: `packages` by install path, `""` the root project. */
export interface LockFile {
  readonly packages: Readonly<Record<string, LockPackage>>;
  readonly [field: string]: unknown;
}

/** Every kind of dependency npm installs for an entry (devDependencies only for the root). */
const INSTALLED_DEPENDENCY_FIELDS = [
  'dependencies',
  'optionalDependencies',
  'peerDependencies',
] as const;
const ROOT = '';
const NODE_MODULES = 'node_modules/';

/**
 * A copy of `lock` without the devDependencies named in `dropped`: removed from the root entry's
 * `devDependencies`, and every `node_modules/…` entry no longer reachable from the root's
 * remaining dependencies removed. A name the root does not list is nothing to drop. Throws on a
 * lock with the npm 6 `dependencies` tree (lockfileVersion 1 or 2), which this does not prune.
 */
export function pruneDevDependencies(lock: LockFile, dropped: readonly string[]): LockFile {
  if (lock.dependencies !== undefined) {
    throw new Error('only lockfileVersion 3 can be pruned: this lock has a "dependencies" tree');
  }
  const root = lock.packages[ROOT];
  if (root === undefined) throw new Error('the lock file has no root entry (packages[""])');
  const devDependencies = Object.fromEntries(
    Object.entries(root.devDependencies ?? {}).filter(([name]) => !dropped.includes(name)),
  );
  const prunedRoot: LockPackage =
    root.devDependencies === undefined ? root : { ...root, devDependencies };
  const withoutDropped = { ...lock.packages, [ROOT]: prunedRoot };
  const reachable = reachableEntries(withoutDropped);
  const packages = Object.fromEntries(
    Object.entries(withoutDropped).filter(
      ([path]) => !path.startsWith(NODE_MODULES) || reachable.has(path),
    ),
  );
  return { ...lock, packages };
}

/** The install paths reached from the root entry, through every entry's dependencies. */
export function reachableEntries(packages: Readonly<Record<string, LockPackage>>): Set<string> {
  const reached = new Set<string>();
  const queue = [ROOT];
  for (let path = queue.pop(); path !== undefined; path = queue.pop()) {
    if (reached.has(path)) continue;
    const entry = packages[path];
    if (entry === undefined) continue;
    reached.add(path);
    if (entry.link === true && entry.resolved !== undefined) queue.push(entry.resolved);
    const fields =
      path === ROOT
        ? [...INSTALLED_DEPENDENCY_FIELDS, 'devDependencies' as const]
        : INSTALLED_DEPENDENCY_FIELDS;
    for (const field of fields) {
      for (const name of Object.keys(entry[field] ?? {})) {
        const target = resolveDependency(packages, path, name);
        // Not in the lock: an optional dependency or peer this platform or tree goes without.
        if (target !== undefined) queue.push(target);
      }
    }
  }
  return reached;
}

/**
 * Where Node finds `name` required from the entry at `from`: `<from>/node_modules/<name>`, then
 * the same below each enclosing package, then the top `node_modules/<name>`.
 */
export function resolveDependency(
  packages: Readonly<Record<string, LockPackage>>,
  from: string,
  name: string,
): string | undefined {
  for (let base = from; ; base = enclosingPackage(base)) {
    const candidate = base === ROOT ? `${NODE_MODULES}${name}` : `${base}/${NODE_MODULES}${name}`;
    if (Object.hasOwn(packages, candidate)) return candidate;
    if (base === ROOT) return undefined;
  }
}

/** `node_modules/a/node_modules/@s/b` → `node_modules/a`; `node_modules/a` → the root. */
function enclosingPackage(path: string): string {
  const nested = path.lastIndexOf(`/${NODE_MODULES}`);
  return nested === -1 ? ROOT : path.slice(0, nested);
}
