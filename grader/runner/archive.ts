/**
 * Reads a submitted archive (.zip, .tar.gz, .tgz, .tar) without extracting it: every entry is
 * checked, and only the contents of the few files named peer.ts are kept in memory.
 * submission.ts picks which peer.ts counts; nothing from an archive ever touches the disk.
 * An archive with an entry that climbs out ('..'), is absolute, or is a link is refused whole.
 */
import { createReadStream, statSync } from 'node:fs';
import { posix } from 'node:path';
import { Parser, type ReadEntry } from 'tar';
import * as yauzl from 'yauzl';
import {
  MAX_ARCHIVE_BYTES,
  MAX_ARCHIVE_ENTRIES,
  MAX_ARCHIVE_UNPACKED_BYTES,
  MAX_PEER_FILE_BYTES,
} from './limits';

export type ArchiveEntryType = 'file' | 'directory' | 'symlink' | 'hardlink' | 'special';

export interface ArchiveEntry {
  /** The name exactly as stored (backslashes of Windows zips turned into slashes). */
  readonly path: string;
  readonly type: ArchiveEntryType;
}

export interface ArchiveScan {
  /** Every entry, in archive order. */
  readonly entries: readonly ArchiveEntry[];
  /** Contents of the regular files `wanted` selected, by normalised path. */
  readonly contents: ReadonlyMap<string, Buffer>;
}

/** The archive cannot be graded; `message` says which entry and why, for the feedback. */
export class ArchiveRefusedError extends Error {
  readonly code = 'ERR_ARCHIVE_REFUSED';
  override readonly name = 'ArchiveRefusedError';
}

const ARCHIVE_SUFFIXES = ['.tar.gz', '.tgz', '.zip', '.tar'] as const;

/** The archive suffix of `path` (lower-cased), or null if it is not an archive we read. */
export function archiveSuffix(path: string): string | null {
  const lower = path.toLowerCase();
  return ARCHIVE_SUFFIXES.find((suffix) => lower.endsWith(suffix)) ?? null;
}

/**
 * Why an entry makes its archive unsafe, or null if it is fine. Checked on the raw name,
 * before any normalisation could hide a '..'.
 */
export function refusalReason(entry: ArchiveEntry): string | null {
  const name = entry.path;
  if (name.startsWith('/') || /^[A-Za-z]:/.test(name)) {
    return `entry "${name}" has an absolute path`;
  }
  if (name.split('/').includes('..')) return `entry "${name}" climbs out of the archive with '..'`;
  if (entry.type === 'symlink') return `entry "${name}" is a symbolic link`;
  if (entry.type === 'hardlink') return `entry "${name}" is a hard link`;
  if (entry.type === 'special') return `entry "${name}" is a device, FIFO or other special file`;
  return null;
}

/** Normalised relative path of a checked entry: no leading './', no trailing '/'. */
export function normaliseEntryPath(name: string): string {
  const normal = posix.normalize(name).replace(/\/+$/, '');
  return normal === '.' ? '' : normal;
}

/**
 * Scans the archive at `path`, refusing it (ArchiveRefusedError) on the first unsafe entry, and
 * keeps the contents of regular files for which `wanted(normalisedPath)` is true.
 */
export async function scanArchive(
  path: string,
  wanted: (entryPath: string) => boolean,
): Promise<ArchiveScan> {
  // Checked before anything opens it: a FIFO or device named .zip would block or never end.
  const stat = statSync(path);
  if (!stat.isFile()) throw new ArchiveRefusedError('the archive is not a regular file');
  const size = stat.size;
  if (size > MAX_ARCHIVE_BYTES) {
    throw new ArchiveRefusedError(`archive is ${size} bytes, more than ${MAX_ARCHIVE_BYTES}`);
  }
  const suffix = archiveSuffix(path);
  if (suffix === null) throw new ArchiveRefusedError(`not an archive this grader reads: ${path}`);
  return suffix === '.zip' ? scanZip(path, wanted) : scanTar(path, wanted);
}

/** Entry bookkeeping shared by both formats: limits, refusal, and what to keep. */
class ScanState {
  readonly entries: ArchiveEntry[] = [];
  readonly contents = new Map<string, Buffer>();
  #unpacked = 0;

  constructor(readonly wanted: (entryPath: string) => boolean) {}

  /** Records an entry; returns the normalised path if its contents should be kept. */
  add(entry: ArchiveEntry, declaredSize: number): string | null {
    const reason = refusalReason(entry);
    if (reason !== null) throw new ArchiveRefusedError(reason);
    this.entries.push(entry);
    if (this.entries.length > MAX_ARCHIVE_ENTRIES) {
      throw new ArchiveRefusedError(`archive has more than ${MAX_ARCHIVE_ENTRIES} entries`);
    }
    this.#unpacked += declaredSize;
    if (this.#unpacked > MAX_ARCHIVE_UNPACKED_BYTES) {
      throw new ArchiveRefusedError(
        `archive unpacks to more than ${MAX_ARCHIVE_UNPACKED_BYTES} bytes`,
      );
    }
    const normal = normaliseEntryPath(entry.path);
    if (entry.type !== 'file' || !this.wanted(normal)) return null;
    if (declaredSize > MAX_PEER_FILE_BYTES) {
      throw new ArchiveRefusedError(
        `"${entry.path}" is ${declaredSize} bytes, more than ${MAX_PEER_FILE_BYTES}`,
      );
    }
    return normal;
  }

  result(): ArchiveScan {
    return { entries: this.entries, contents: this.contents };
  }
}

/** The zip file mode of an entry made on Unix sits in the high 16 bits of its attributes. */
function zipEntryType(entry: yauzl.Entry, name: string): ArchiveEntryType {
  const mode = (entry.externalFileAttributes >>> 16) & 0o170000;
  if (mode === 0o120000) return 'symlink';
  if (mode !== 0 && mode !== 0o100000 && mode !== 0o040000) return 'special';
  return name.endsWith('/') ? 'directory' : 'file';
}

async function scanZip(path: string, wanted: (entryPath: string) => boolean): Promise<ArchiveScan> {
  let zip: yauzl.ZipFile;
  try {
    // decodeStrings off: yauzl's own name check would fail with a terse message; ours names why.
    zip = await yauzl.openPromise(path, { decodeStrings: false, validateEntrySizes: true });
  } catch (error) {
    throw new ArchiveRefusedError(`not a readable zip archive: ${errorText(error)}`, {
      cause: error,
    });
  }
  const state = new ScanState(wanted);
  try {
    for await (const entry of zip.eachEntry()) {
      const name = yauzl.getFileNameLowLevel(
        entry.generalPurposeBitFlag,
        entry.fileNameRaw,
        entry.extraFields,
        false,
      );
      const keep = state.add(
        { path: name, type: zipEntryType(entry, name) },
        entry.uncompressedSize,
      );
      if (keep !== null)
        state.contents.set(keep, await readAll(await zip.openReadStreamPromise(entry)));
    }
  } catch (error) {
    if (error instanceof ArchiveRefusedError) throw error;
    throw new ArchiveRefusedError(`damaged zip archive: ${errorText(error)}`, { cause: error });
  } finally {
    zip.close();
  }
  return state.result();
}

function tarEntryType(entry: ReadEntry): ArchiveEntryType {
  switch (entry.type) {
    case 'File':
    case 'OldFile':
    case 'ContiguousFile':
      return 'file';
    case 'Directory':
    case 'GNUDumpDir':
      return 'directory';
    case 'SymbolicLink':
      return 'symlink';
    case 'Link':
      return 'hardlink';
    default:
      return 'special';
  }
}

async function scanTar(path: string, wanted: (entryPath: string) => boolean): Promise<ArchiveScan> {
  const state = new ScanState(wanted);
  const reads: Promise<void>[] = [];
  await new Promise<void>((resolve, reject) => {
    const source = createReadStream(path);
    const parser = new Parser({
      strict: true,
      onReadEntry: (entry: ReadEntry) => {
        try {
          const keep = state.add({ path: entry.path, type: tarEntryType(entry) }, entry.size);
          if (keep !== null) {
            reads.push(readAll(entry).then((data) => void state.contents.set(keep, data)));
          } else {
            entry.resume();
          }
        } catch (error) {
          source.destroy();
          parser.abort(error instanceof Error ? error : new Error(String(error)));
        }
      },
    });
    const fail = (error: unknown): void => {
      source.destroy();
      reject(
        error instanceof ArchiveRefusedError
          ? error
          : new ArchiveRefusedError(`not a readable tar archive: ${errorText(error)}`, {
              cause: error,
            }),
      );
    };
    parser.on('error', fail);
    source.on('error', fail);
    parser.on('end', () => resolve());
    source.pipe(parser);
  });
  await Promise.all(reads);
  return state.result();
}

async function readAll(stream: AsyncIterable<Buffer | string>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks);
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
