/**
 * One run's sandbox: a fresh temporary copy of what the grader suites need from the kit
 * (lab9/src, grader/ without the grading tool itself, tsconfig.json, package.json), the kit's
 * node_modules linked in, and the student's peer.ts at lab9/src/peer/peer.ts. Nothing of a
 * submission but that one file enters it: no jest, babel or ts config of theirs is ever used.
 * Above: grade-submission.ts creates one per run and removes it after.
 */
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve, sep } from 'node:path';
import { SANDBOX_PEER_PATH } from './submission';

/** What is copied from the kit, relative to its root. */
export const SANDBOX_COPIES = ['lab9/src', 'grader', 'tsconfig.json', 'package.json'] as const;

/**
 * Parts of grader/ left out: the grading tool (its reporter is loaded from the kit, so a
 * sandbox copy could only be a target) and its own tests.
 */
export const SANDBOX_EXCLUDES = ['grader/cli', 'grader/runner', 'grader/test'] as const;

/**
 * Layout: `<base>/kit` is the copy (Jest's rootDir); `<base>/tmp` and `<base>/cache` sit beside
 * it, so nothing written during a run lands where Jest looks for tests.
 */
export interface Sandbox {
  /** The copy of the kit: Jest's rootDir, the type check's project folder. */
  readonly root: string;
  /** TMPDIR and HOME of the run: whatever the student's code writes lands here and goes with it. */
  readonly tmp: string;
  /** Jest's cache of this run only: no run can leave transformed code for another. */
  readonly cache: string;
  remove(): void;
}

/**
 * Creates a sandbox from `kitRoot` holding `peerSource` as the student's file. `alsoExclude`
 * names more folders to leave out (the grades output folder, if it sits inside the kit).
 */
export function createSandbox(
  kitRoot: string,
  peerSource: string,
  alsoExclude: readonly string[] = [],
): Sandbox {
  const base = mkdtempSync(join(tmpdir(), 'lab9-grade-'));
  const root = join(base, 'kit');
  mkdirSync(root);
  const excluded = [
    ...SANDBOX_EXCLUDES.map((p) => join(kitRoot, p)),
    ...alsoExclude.map((p) => resolve(p)),
  ];
  const keep = (source: string): boolean =>
    !excluded.some((ex) => source === ex || source.startsWith(ex + sep));
  for (const item of SANDBOX_COPIES) {
    cpSync(join(kitRoot, item), join(root, item), { recursive: true, filter: keep });
  }
  // To the real folder: in a mount namespace it is mounted where it really is, and nothing else.
  symlinkSync(realpathSync(join(kitRoot, 'node_modules')), join(root, 'node_modules'), 'dir');
  writeFileSync(join(root, SANDBOX_PEER_PATH), peerSource);
  const tmp = join(base, 'tmp');
  const cache = join(base, 'cache');
  mkdirSync(tmp);
  mkdirSync(cache);
  return {
    root,
    tmp,
    cache,
    remove: () => rmSync(base, { recursive: true, force: true, maxRetries: 3 }),
  };
}

/** `text` with the sandbox's absolute path taken out, so messages name files as in the kit. */
export function withoutSandboxPath(text: string, root: string): string {
  return text.split(`${root}${sep}`).join('').split(root).join('.');
}

/** The kit-relative form of a path inside the sandbox. */
export function sandboxRelative(root: string, path: string): string {
  return relative(root, path).split(sep).join('/');
}
