/**
 * What a submission is: the command-line arguments (folders, archives, globs, folders of
 * submissions) expanded into named submissions, and the one file taken from each: its peer.ts.
 * Below: archive.ts reads archives. Above: grade-submission.ts puts the file in a sandbox,
 * after rewriting imports of the kit (`../lab9/src/...`) to resolve from there.
 */
import {
  closeSync,
  constants,
  existsSync,
  fstatSync,
  lstatSync,
  openSync,
  readdirSync,
  readSync,
  type Stats,
  statSync,
} from 'node:fs';
import { basename, join, posix, resolve, sep } from 'node:path';
import ts from 'typescript';
import { archiveSuffix, ArchiveRefusedError, normaliseEntryPath, scanArchive } from './archive';
import { MAX_PEER_FILE_BYTES } from './limits';
import { uniqueNames } from './output-names';

export { submissionName } from './output-names';

/** Where peer.ts may sit in a submission, best first (each also inside one wrapping folder). */
export const PEER_LOCATIONS = ['lab9/src/peer/peer.ts', 'src/peer/peer.ts', 'peer.ts'] as const;

/** Where the student's file goes in the sandbox, relative to the sandbox root. */
export const SANDBOX_PEER_PATH = 'lab9/src/peer/peer.ts';

export interface Submission {
  /** Unique among this run's submissions; names its output folder. */
  readonly name: string;
  /** Absolute path of the folder, archive or .ts file given. */
  readonly path: string;
  readonly kind: 'folder' | 'archive' | 'file';
}

/** The student's file, or why there is none. `relPath` is the file's path in the submission. */
export type PeerFile =
  | { readonly ok: true; readonly relPath: string; readonly source: string }
  | { readonly ok: false; readonly reason: string };

/** A bad command line (missing path, nothing to grade): exit code 2, no grading. */
export class UsageError extends Error {
  readonly code = 'ERR_USAGE';
  override readonly name = 'UsageError';
}

const WHERE_LOOKED = `looked for ${PEER_LOCATIONS.join(', ')} at the top of the submission and inside a single folder`;

/** Entries a zip tool or an OS adds beside the real content; never a wrapping folder. */
function isJunk(name: string): boolean {
  return name.startsWith('.') || name === '__MACOSX' || name === 'node_modules';
}

/**
 * Which of `files` (relative paths, '/'-separated) is the student's peer.ts: the first of
 * PEER_LOCATIONS at the top, else inside the one top-level folder that holds one.
 */
export function choosePeerPath(files: readonly string[]): string | null {
  const present = new Set(files);
  const top = PEER_LOCATIONS.find((location) => present.has(location));
  if (top !== undefined) return top;
  const wrappers = new Map<string, string>();
  for (const location of PEER_LOCATIONS) {
    for (const file of files) {
      const slash = file.indexOf('/');
      const wrapper = file.slice(0, slash);
      if (slash <= 0 || isJunk(wrapper) || wrappers.has(wrapper)) continue;
      if (file.slice(slash + 1) === location) wrappers.set(wrapper, file);
    }
  }
  // Two folders that each hold a peer.ts: guessing could grade the wrong one.
  if (wrappers.size !== 1) return null;
  const [chosen] = wrappers.values();
  return chosen ?? null;
}

/** Candidate relative paths of a folder on disk, without walking a whole repository. */
function folderCandidates(root: string): string[] {
  const found: string[] = [];
  const probe = (prefix: string): void => {
    for (const location of PEER_LOCATIONS) {
      if (existsSync(join(root, prefix, location))) found.push(posix.join(prefix, location));
    }
  };
  probe('');
  for (const entry of readdirSync(root, { withFileTypes: true })) {
    if (entry.isDirectory() && !isJunk(entry.name)) probe(entry.name);
  }
  return found;
}

/** Refuses a path with a symbolic link anywhere below `root`: it could point at the TA's files. */
function linkInPath(root: string, relPath: string): string | null {
  let current = root;
  for (const part of relPath.split('/')) {
    current = join(current, part);
    if (lstatSync(current).isSymbolicLink()) return `${relPath} goes through a symbolic link`;
  }
  return null;
}

/** What a file system entry is, for a refusal: `a FIFO`, `a character device`. */
export function fileKind(stat: Stats): string {
  if (stat.isFile()) return 'a regular file';
  if (stat.isDirectory()) return 'a folder';
  if (stat.isSymbolicLink()) return 'a symbolic link';
  if (stat.isFIFO()) return 'a FIFO (named pipe)';
  if (stat.isSocket()) return 'a socket';
  if (stat.isCharacterDevice()) return 'a character device';
  if (stat.isBlockDevice()) return 'a block device';
  return 'a special file';
}

/** A file's bytes, or why it was not read. */
export type FileRead =
  { readonly ok: true; readonly data: Buffer } | { readonly ok: false; readonly reason: string };

/**
 * Reads a submission's file only if it is a regular file of at most `maxBytes`, checked before
 * reading: a FIFO would block the grader for ever, a device never end, a link lead out of the
 * submission. `followLink` only for a path the instructor named on the command line. The file
 * is opened non-blocking and without following a link, and checked again on the open
 * descriptor, so swapping it between the check and the read does not help; reading stops one
 * byte past the limit, whatever the size said.
 */
export function readRegularFile(
  path: string,
  shownAs: string,
  maxBytes: number,
  followLink = false,
): FileRead {
  const stat = followLink ? statSync(path) : lstatSync(path);
  if (!stat.isFile())
    return { ok: false, reason: `${shownAs} is ${fileKind(stat)}, not a regular file` };
  const tooBig = (size: number): FileRead => ({
    ok: false,
    reason: `${shownAs} is ${size} bytes, more than ${maxBytes}`,
  });
  if (stat.size > maxBytes) return tooBig(stat.size);
  const flags = constants.O_RDONLY | constants.O_NONBLOCK | (followLink ? 0 : constants.O_NOFOLLOW);
  const fd = openSync(path, flags);
  try {
    const opened = fstatSync(fd);
    if (!opened.isFile() || opened.ino !== stat.ino || opened.dev !== stat.dev) {
      return { ok: false, reason: `${shownAs} changed while it was being read` };
    }
    const buffer = Buffer.alloc(maxBytes + 1);
    let length = 0;
    for (;;) {
      const read = readSync(fd, buffer, length, buffer.length - length, null);
      if (read === 0) break;
      length += read;
      if (length > maxBytes) return tooBig(length);
    }
    return { ok: true, data: buffer.subarray(0, length) };
  } finally {
    closeSync(fd);
  }
}

/** peer.ts's bytes as source, or why it cannot be graded. */
function readPeerSource(path: string, relPath: string, followLink = false): PeerFile {
  const read = readRegularFile(path, relPath, MAX_PEER_FILE_BYTES, followLink);
  return read.ok ? checkedSource(relPath, read.data) : { ok: false, reason: read.reason };
}

/** Reads the student's peer.ts out of a submission folder, archive or single file. */
export async function readPeerFile(submission: Submission): Promise<PeerFile> {
  try {
    if (submission.kind === 'file') {
      // Named on the command line by the instructor: a link there is theirs.
      return readPeerSource(submission.path, basename(submission.path), true);
    }
    if (submission.kind === 'folder') {
      const relPath = choosePeerPath(folderCandidates(submission.path));
      if (relPath === null) return { ok: false, reason: `no peer.ts found (${WHERE_LOOKED})` };
      const link = linkInPath(submission.path, relPath);
      if (link !== null) return { ok: false, reason: link };
      return readPeerSource(join(submission.path, relPath), relPath);
    }
    const scan = await scanArchive(submission.path, (p) => posix.basename(p) === 'peer.ts');
    const files = scan.entries
      .filter((e) => e.type === 'file')
      .map((e) => normaliseEntryPath(e.path));
    const relPath = choosePeerPath(files);
    const contents = relPath === null ? undefined : scan.contents.get(relPath);
    if (relPath === null || contents === undefined) {
      return { ok: false, reason: `no peer.ts found in the archive (${WHERE_LOOKED})` };
    }
    return checkedSource(relPath, contents);
  } catch (error) {
    if (error instanceof ArchiveRefusedError) {
      return { ok: false, reason: `archive refused: ${error.message}` };
    }
    const code = (error as NodeJS.ErrnoException).code;
    if (
      code === 'ENOENT' ||
      code === 'EACCES' ||
      code === 'EISDIR' ||
      code === 'ELOOP' ||
      code === 'ENOTDIR'
    ) {
      return { ok: false, reason: `cannot read the submission: ${(error as Error).message}` };
    }
    throw error;
  }
}

function checkedSource(relPath: string, data: Buffer): PeerFile {
  if (data.length > MAX_PEER_FILE_BYTES) {
    return {
      ok: false,
      reason: `${relPath} is ${data.length} bytes, more than ${MAX_PEER_FILE_BYTES}`,
    };
  }
  return { ok: true, relPath, source: data.toString('utf8') };
}

/**
 * Rewrites every module specifier that reaches into the kit through `lab9/src/` (as
 * solution/peer.ts does: `../lab9/src/errors`) so it resolves from SANDBOX_PEER_PATH.
 * Only the string literal changes, so line numbers of compiler messages stay the student's.
 */
export function rewriteKitImports(source: string): { text: string; rewritten: number } {
  const file = ts.createSourceFile('peer.ts', source, ts.ScriptTarget.Latest, true);
  const literals: ts.StringLiteralLike[] = [];
  const visit = (node: ts.Node): void => {
    if (
      (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) &&
      node.moduleSpecifier !== undefined &&
      ts.isStringLiteralLike(node.moduleSpecifier)
    ) {
      literals.push(node.moduleSpecifier);
    } else if (ts.isExternalModuleReference(node) && ts.isStringLiteralLike(node.expression)) {
      literals.push(node.expression);
    } else if (
      ts.isCallExpression(node) &&
      (node.expression.kind === ts.SyntaxKind.ImportKeyword ||
        (ts.isIdentifier(node.expression) && node.expression.text === 'require')) &&
      node.arguments[0] !== undefined &&
      ts.isStringLiteralLike(node.arguments[0])
    ) {
      literals.push(node.arguments[0]);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) {
      const literal = node.argument.literal;
      if (ts.isStringLiteralLike(literal)) literals.push(literal);
    }
    ts.forEachChild(node, visit);
  };
  visit(file);

  let text = source;
  let rewritten = 0;
  // Back to front, so earlier offsets stay valid.
  for (const literal of literals.sort((a, b) => b.getStart(file) - a.getStart(file))) {
    const replacement = sandboxSpecifier(literal.text);
    if (replacement === null) continue;
    const start = literal.getStart(file);
    const quote = source[start] === '"' ? '"' : "'";
    text = `${text.slice(0, start)}${quote}${replacement}${quote}${text.slice(literal.getEnd())}`;
    rewritten += 1;
  }
  return { text, rewritten };
}

/** `../lab9/src/peer/peer-core` → `./peer-core`, seen from SANDBOX_PEER_PATH; null to keep. */
export function sandboxSpecifier(specifier: string): string | null {
  if (!specifier.startsWith('.')) return null;
  const at = specifier.lastIndexOf('lab9/src/');
  if (at === -1) return null;
  const target = posix.join('lab9/src', specifier.slice(at + 'lab9/src/'.length));
  const relative = posix.relative(posix.dirname(SANDBOX_PEER_PATH), target);
  return relative.startsWith('.') ? relative : `./${relative}`;
}

/**
 * Expands the command line into submissions, in argument order (a glob's and a collection's
 * matches sorted), each once, each with a unique name (output-names.ts). Missing paths and
 * empty collections are UsageErrors.
 */
export function expandSubmissions(args: readonly string[], cwd = process.cwd()): Submission[] {
  const found: Omit<Submission, 'name'>[] = [];
  for (const arg of args) {
    const paths = existsSync(resolve(cwd, arg)) || !hasGlob(arg) ? [arg] : expandGlob(arg, cwd);
    if (paths.length === 0) throw new UsageError(`no file matches ${arg}`);
    for (const path of paths) found.push(...classify(resolve(cwd, path), arg));
  }
  // The same submission named twice (a glob and its folder) is graded once.
  const seen = new Set<string>();
  const unique = found.filter((submission) => {
    if (seen.has(submission.path)) return false;
    seen.add(submission.path);
    return true;
  });
  const names = uniqueNames(unique);
  return unique.map((submission, i) => ({ ...submission, name: names[i] ?? 'submission' }));
}

function classify(path: string, arg: string): Omit<Submission, 'name'>[] {
  if (!existsSync(path)) throw new UsageError(`no such file or folder: ${arg}`);
  const stat = statSync(path);
  if (stat.isFile()) {
    if (archiveSuffix(path) !== null) return [{ path, kind: 'archive' }];
    if (path.endsWith('.ts')) return [{ path, kind: 'file' }];
    throw new UsageError(
      `${arg} is neither a folder, an archive (.zip, .tar.gz, .tgz, .tar) nor a .ts file`,
    );
  }
  if (!stat.isDirectory()) throw new UsageError(`${arg} is not a file or folder`);
  if (PEER_LOCATIONS.some((location) => existsSync(join(path, location)))) {
    return [{ path, kind: 'folder' }];
  }
  const children = readdirSync(path, { withFileTypes: true })
    .filter((entry) => !isJunk(entry.name))
    .filter(
      (entry) => entry.isDirectory() || (entry.isFile() && archiveSuffix(entry.name) !== null),
    )
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  // One folder inside is a wrapped submission (alice/lab9-alice/...), not a class of one.
  const [only] = children;
  if (children.length === 1 && only?.isDirectory() === true) return [{ path, kind: 'folder' }];
  if (children.length === 0) {
    throw new UsageError(
      `${arg} holds no submission: no peer.ts, and no folders or archives in it`,
    );
  }
  return children.map((entry) => ({
    path: join(path, entry.name),
    kind: entry.isDirectory() ? ('folder' as const) : ('archive' as const),
  }));
}

function hasGlob(arg: string): boolean {
  return /[*?[]/.test(arg);
}

/** A small glob for quoted arguments (the shell expands unquoted ones): `*`, `?`, `[...]`. */
export function expandGlob(pattern: string, cwd: string): string[] {
  const absolute = pattern.startsWith('/');
  const parts = pattern.split('/').filter((part) => part !== '');
  let bases = [absolute ? '/' : ''];
  for (const part of parts) {
    const next: string[] = [];
    for (const base of bases) {
      if (!hasGlob(part)) {
        const candidate = base === '' ? part : join(base, part);
        if (existsSync(resolve(cwd, candidate))) next.push(candidate);
        continue;
      }
      const matcher = globSegment(part);
      const dir = resolve(cwd, base === '' ? '.' : base);
      let names: string[];
      try {
        names = readdirSync(dir);
      } catch {
        continue;
      }
      for (const name of names.sort()) {
        if (matcher.test(name) && (!name.startsWith('.') || part.startsWith('.'))) {
          next.push(base === '' ? name : join(base, name));
        }
      }
    }
    bases = next;
  }
  return bases.map((p) => p.split(sep).join('/'));
}

function globSegment(part: string): RegExp {
  let source = '';
  for (let i = 0; i < part.length; i += 1) {
    const char = part.charAt(i);
    if (char === '*') source += '[^/]*';
    else if (char === '?') source += '[^/]';
    else if (char === '[') {
      const close = part.indexOf(']', i + 1);
      if (close === -1) source += '\\[';
      else {
        const body = part
          .slice(i + 1, close)
          .replace(/^!/, '^')
          .replace(/\\/g, '\\\\');
        source += `[${body}]`;
        i = close;
      }
    } else source += char.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}
