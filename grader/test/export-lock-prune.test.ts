/**
 * The student kit's lock file without the instructors' tools (scripts/lock-prune.ts), on a small
 * hand-made lock: what only a dropped devDependency needs goes, what anything else still reaches
 * stays as it was, and a dependency resolves as Node resolves it (nested node_modules first, then
 * each enclosing package, then the top). Then on this repository's own lock, with Stryker dropped.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  type LockFile,
  type LockPackage,
  pruneDevDependencies,
  reachableEntries,
  resolveDependency,
} from '../../scripts/lock-prune';
import { INSTRUCTOR_ONLY_DEV_DEPENDENCIES } from '../../scripts/lock-prune';
import { REPO } from './cli-fixtures';

const entry = (version: string, fields: Partial<LockPackage> = {}): LockPackage => ({
  version,
  resolved: `https://registry.npmjs.org/-/${version}.tgz`,
  integrity: `sha512-${version}`,
  dev: true,
  ...fields,
});

/**
 * `tool` is the instructors' (dropped); `jest` the students'. Both use `shared`; `tool` alone uses
 * `only-tool` and, nested under it, its own `semver@6` (the top `semver@7` is jest's); `jest`'s
 * nested `helper` needs `semver`, which resolves to the top one.
 */
function sampleLock(): LockFile {
  return {
    name: 'sample',
    version: '1.0.0',
    lockfileVersion: 3,
    requires: true,
    packages: {
      '': {
        name: 'sample',
        version: '1.0.0',
        devDependencies: { jest: '1.0.0', tool: '2.0.0' },
      },
      'node_modules/jest': entry('jest-1.0.0', {
        dependencies: { shared: '^1.0.0', helper: '^3.0.0' },
        peerDependencies: { '@scope/peer': '*' },
        optionalDependencies: { 'not-on-this-platform': '*' },
      }),
      'node_modules/jest/node_modules/helper': entry('helper-3.0.0', {
        dependencies: { semver: '^7.0.0' },
      }),
      'node_modules/helper': entry('helper-1.0.0', { dependencies: { 'only-tool': '*' } }),
      'node_modules/@scope/peer': entry('peer-1.0.0'),
      'node_modules/shared': entry('shared-1.0.0'),
      'node_modules/semver': entry('semver-7.0.0'),
      'node_modules/tool': entry('tool-2.0.0', {
        dependencies: { shared: '^1.0.0', 'only-tool': '^1.0.0', semver: '^6.0.0', helper: '*' },
      }),
      'node_modules/tool/node_modules/semver': entry('semver-6.0.0'),
      'node_modules/only-tool': entry('only-tool-1.0.0', {
        dependencies: { 'only-tool-deep': '*' },
      }),
      'node_modules/only-tool-deep': entry('only-tool-deep-1.0.0'),
    },
  };
}

describe('pruneDevDependencies', () => {
  test('removes a dropped devDependency from the root entry and keeps the others', () => {
    const pruned = pruneDevDependencies(sampleLock(), ['tool']);
    expect(pruned.packages['']).toEqual({
      name: 'sample',
      version: '1.0.0',
      devDependencies: { jest: '1.0.0' },
    });
  });

  test('removes the entries only the dropped package reaches, its nested ones too', () => {
    const pruned = pruneDevDependencies(sampleLock(), ['tool']);
    expect(Object.keys(pruned.packages).sort()).toEqual([
      '',
      'node_modules/@scope/peer',
      'node_modules/jest',
      'node_modules/jest/node_modules/helper',
      'node_modules/semver',
      'node_modules/shared',
    ]);
  });

  test('keeps every entry still reached exactly as it was, and the lock around them', () => {
    const lock = sampleLock();
    const pruned = pruneDevDependencies(lock, ['tool']);
    for (const [path, kept] of Object.entries(pruned.packages)) {
      if (path !== '') expect(kept).toBe(lock.packages[path]);
    }
    expect({ ...pruned, packages: undefined }).toEqual({ ...lock, packages: undefined });
  });

  test('leaves the lock it is given as it was', () => {
    const lock = sampleLock();
    const before = JSON.stringify(lock);
    pruneDevDependencies(lock, ['tool']);
    expect(JSON.stringify(lock)).toBe(before);
  });

  test('drops nothing for a name the root does not list, or an empty list', () => {
    const lock = sampleLock();
    for (const dropped of [['not-a-dependency'], []]) {
      expect(pruneDevDependencies(lock, dropped)).toEqual(lock);
    }
  });

  test('keeps a dropped package another kept package still depends on', () => {
    const lock = sampleLock();
    const jest = lock.packages['node_modules/jest'] ?? {};
    const packages = {
      ...lock.packages,
      'node_modules/jest': { ...jest, dependencies: { ...jest.dependencies, tool: '*' } },
    };
    const pruned = pruneDevDependencies({ ...lock, packages }, ['tool']);
    expect(Object.keys(pruned.packages)).toEqual(Object.keys(packages));
    expect(pruned.packages['']?.devDependencies).toEqual({ jest: '1.0.0' });
  });

  test('refuses a lock with the npm 6 dependencies tree, which it would leave unpruned', () => {
    expect(() => pruneDevDependencies({ ...sampleLock(), dependencies: {} }, ['tool'])).toThrow(
      /only lockfileVersion 3/,
    );
  });
});

describe('resolveDependency, as Node resolves a require', () => {
  const { packages } = sampleLock();

  test('finds a nested copy under the requiring package before the top one', () => {
    expect(resolveDependency(packages, 'node_modules/tool', 'semver')).toBe(
      'node_modules/tool/node_modules/semver',
    );
    expect(resolveDependency(packages, 'node_modules/jest', 'helper')).toBe(
      'node_modules/jest/node_modules/helper',
    );
  });

  test('climbs from a nested package to its enclosing package, then to the top', () => {
    const deep = {
      ...packages,
      'node_modules/a/node_modules/@s/b/node_modules/c': entry('c-1.0.0'),
      'node_modules/a/node_modules/d': entry('d-1.0.0'),
    };
    const from = 'node_modules/a/node_modules/@s/b';
    expect(resolveDependency(deep, from, 'c')).toBe(`${from}/node_modules/c`);
    expect(resolveDependency(deep, from, 'd')).toBe('node_modules/a/node_modules/d');
    expect(resolveDependency(deep, from, 'shared')).toBe('node_modules/shared');
    expect(resolveDependency(packages, 'node_modules/jest/node_modules/helper', 'semver')).toBe(
      'node_modules/semver',
    );
  });

  test('resolves the root entry to the top node_modules, and a missing package to nothing', () => {
    expect(resolveDependency(packages, '', 'jest')).toBe('node_modules/jest');
    expect(resolveDependency(packages, '', 'semver')).toBe('node_modules/semver');
    expect(resolveDependency(packages, 'node_modules/jest', 'not-on-this-platform')).toBe(
      undefined,
    );
    expect(resolveDependency(packages, '', 'constructor')).toBe(undefined);
  });
});

describe("this repository's lock file without the instructors' tools", () => {
  const lock = JSON.parse(readFileSync(join(REPO, 'package-lock.json'), 'utf8')) as LockFile;
  const pruned = pruneDevDependencies(lock, INSTRUCTOR_ONLY_DEV_DEPENDENCIES);

  test('has no Stryker package left, and every kept root devDependency still installed', () => {
    const paths = Object.keys(pruned.packages);
    expect(paths.filter((path) => path.includes('@stryker-mutator/'))).toEqual([]);
    const kept = Object.keys(pruned.packages['']?.devDependencies ?? {});
    for (const name of INSTRUCTOR_ONLY_DEV_DEPENDENCIES) expect(kept).not.toContain(name);
    for (const name of kept) expect(paths).toContain(`node_modules/${name}`);
    expect(paths.length).toBeLessThan(Object.keys(lock.packages).length);
  });

  test('is closed: every dependency of a kept entry that the full lock resolves, resolves in it', () => {
    const reachable = reachableEntries(pruned.packages);
    expect(Object.keys(pruned.packages).filter((path) => !reachable.has(path))).toEqual([]);
    for (const path of Object.keys(pruned.packages)) {
      const kept = pruned.packages[path] ?? {};
      const names = Object.keys({
        ...kept.dependencies,
        ...kept.optionalDependencies,
        ...kept.peerDependencies,
      });
      for (const name of names) {
        expect(resolveDependency(pruned.packages, path, name)).toBe(
          resolveDependency(lock.packages, path, name),
        );
      }
    }
  });
});
