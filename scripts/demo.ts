/**
 * `npm run demo [-- --template | --solution]`: an in-process tracker and five peers on 127.0.0.1
 * sharing two overlapping swarms, with live progress, then a SHA-256 check of every downloaded
 * file against its source; exit code 0 only if all match. Below: the Peer, chosen the way the
 * grader chooses it (grader/harness/implementation.ts), FileManager, Tracker; data and display
 * in scripts/demo/. Above: a person at a terminal, or a CI log (plain lines instead of bars).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import {
  type PeerClass,
  REPO_ROOT,
  loadPeerClass,
  peerModulePath,
} from '../grader/harness/implementation';
import type { PeerCore } from '../lab9/src/peer/peer-core';
import { FileManager } from '../lab9/src/storage/file-manager';
import { Tracker } from '../lab9/src/tracker/tracker';
import { DEMO_PIECE_BYTES, type DemoFile, formatMiB, generateFiles } from './demo/data';
import { type ProgressDisplay, createProgress } from './demo/progress';
import { formatTable } from './demo/table';

const TEMPLATE_MODULE = 'lab9/src/peer/peer';
const SOLUTION_MODULE = 'solution/peer';

/** Short timeouts: on loopback a healthy download never waits this long, a broken one fails fast. */
const PEER_TIMEOUTS = { requestTimeoutMs: 2_000, stallTimeoutMs: 5_000, trackerRefreshMs: 500 };
/** A phase that takes longer than this is reported as hung, whatever the Peer does. */
const PHASE_DEADLINE_MS = 30_000;

const USAGE = `usage: npm run demo [-- --template | --solution]
  --template   run lab9/src/peer/peer.ts (the student's Peer)
  --solution   run solution/peer.ts (the reference solution; instructor repository only)
  By default: solution/peer.ts if it exists, else lab9/src/peer/peer.ts.
  LAB9_PEER_MODULE=<module> picks any module that exports Peer (no flag given).
`;

/** What the demo could not do, said for the person who runs it: what failed and where to look. */
class DemoFailure extends Error {
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

/** Which pieces of a swarm a seeder holds. */
type Share = 'every' | 'even' | 'odd';

const SHARE_NAMES: Readonly<Record<Share, string>> = {
  every: 'every piece',
  even: 'even pieces',
  odd: 'odd pieces',
};

interface DemoPeer {
  readonly name: string;
  readonly peer: PeerCore;
  readonly files: FileManager;
  /** Swarms this peer downloads. */
  readonly downloads: string[];
}

interface CheckRow {
  readonly peer: string;
  readonly file: DemoFile;
  readonly bytes: number;
  readonly from: string;
  readonly sha256: string;
  readonly ok: boolean;
}

class Demo {
  readonly #Peer: PeerClass;
  readonly #files: readonly DemoFile[];
  readonly #root: string;
  readonly #out = process.stdout;
  readonly #tracker = new Tracker();
  readonly #peers: DemoPeer[] = [];
  /** JSON [peer, swarm, file] → sending peer ID → pieces stored. */
  readonly #piecesFrom = new Map<string, Map<string, number>>();
  #rejected = 0;
  #progress: ProgressDisplay | undefined;
  /** Rejects with the first failure any peer reports; raced against every phase. */
  readonly #failed: Promise<never>;
  #fail: (failure: DemoFailure) => void = () => undefined;

  constructor(Peer: PeerClass, files: readonly DemoFile[], root: string) {
    this.#Peer = Peer;
    this.#files = files;
    this.#root = root;
    this.#failed = new Promise<never>((_, reject) => (this.#fail = reject));
    this.#failed.catch(() => undefined);
  }

  /** Seeds, runs both phases and returns the transfer time in seconds. */
  async run(): Promise<number> {
    await this.#seeder('seed-a', { lectures: 'every', labs: 'even' });
    const seedB = await this.#seeder('seed-b', { labs: 'odd' });
    const startedAt = performance.now();

    this.#say('Phase 1 · dl-1 and dl-2 download both swarms at once');
    await this.#phase([
      await this.#downloader('dl-1', ['lectures', 'labs']),
      await this.#downloader('dl-2', ['lectures', 'labs']),
    ]);

    await seedB.peer.stop();
    this.#say(
      'Phase 2 · seed-b leaves; dl-3 downloads labs, whose odd pieces only dl-1 and dl-2 hold',
    );
    await this.#phase([await this.#downloader('dl-3', ['labs'])]);
    return (performance.now() - startedAt) / 1000;
  }

  /** Hashes every downloaded file on disk and compares it with its source. */
  async check(): Promise<CheckRow[]> {
    const rows: CheckRow[] = [];
    for (const { name, files, downloads } of this.#peers) {
      for (const file of this.#files.filter((f) => downloads.includes(f.swarmId))) {
        let data = Buffer.alloc(0);
        try {
          data = await readFile(files.pathOf(file.swarmId, file.fileId));
        } catch {
          // A file that was never created is reported as a mismatch with 0 bytes.
        }
        const sha256 = createHash('sha256').update(data).digest('hex');
        const from = this.#piecesFrom.get(JSON.stringify([name, file.swarmId, file.fileId]));
        rows.push({
          peer: name,
          file,
          bytes: data.length,
          from: [...(from ?? [])]
            .sort((a, b) => b[1] - a[1])
            .map(([peerId, count]) => `${peerId} ${count}`)
            .join(' · '),
          sha256,
          ok: sha256 === file.sha256 && files.isComplete(file.swarmId, file.fileId),
        });
      }
    }
    return rows;
  }

  get peerCount(): number {
    return this.#peers.length;
  }

  get rejectedPieces(): number {
    return this.#rejected;
  }

  /** Stops every peer and closes every store; safe after any failure. */
  async close(): Promise<void> {
    this.#progress?.stop();
    await Promise.allSettled(this.#peers.map(({ peer }) => peer.stop()));
    await Promise.allSettled(this.#peers.map(({ files }) => files.close()));
  }

  // ------------------------------------------------------------------------------------------

  async #seeder(name: string, shares: Record<string, Share>): Promise<DemoPeer> {
    const seeder = this.#newPeer(name, []);
    for (const [swarmId, share] of Object.entries(shares)) {
      for (const file of this.#files.filter((f) => f.swarmId === swarmId)) {
        if (share === 'every') {
          await seeder.files.seed(swarmId, file.fileId, file.data, {
            pieceLength: DEMO_PIECE_BYTES,
          });
          continue;
        }
        await seeder.files.addFile(swarmId, file.info);
        for (
          let index = share === 'even' ? 0 : 1;
          index < file.info.pieceHashes.length;
          index += 2
        ) {
          const start = index * DEMO_PIECE_BYTES;
          const piece = file.data.subarray(start, start + DEMO_PIECE_BYTES);
          await seeder.files.writePiece(swarmId, file.fileId, index, piece);
        }
      }
    }
    const address = await seeder.peer.start();
    for (const swarmId of Object.keys(shares)) await seeder.peer.seed(swarmId);
    const what = Object.entries(shares).map(
      ([swarmId, share]) => `${swarmId} (${SHARE_NAMES[share]})`,
    );
    this.#say(`  ${name.padEnd(6)} ${address.host}:${address.port}  seeds ${what.join(' and ')}`);
    return seeder;
  }

  async #downloader(name: string, swarms: string[]): Promise<DemoPeer> {
    const downloader = this.#newPeer(name, swarms);
    const address = await downloader.peer.start();
    this.#say(
      `  ${name.padEnd(6)} ${address.host}:${address.port}  downloads ${swarms.join(' and ')}`,
    );
    return downloader;
  }

  #newPeer(name: string, downloads: string[]): DemoPeer {
    const files = new FileManager({ root: join(this.#root, name) });
    const peer = new this.#Peer({ tracker: this.#tracker, files, peerId: name, ...PEER_TIMEOUTS });
    peer.on('clientError', (error) => this.#fail(clientFailure(name, error)));
    peer.on('rejected', () => (this.#rejected += 1));
    peer.on('piece', ({ swarmId, fileId, from }) => {
      const key = JSON.stringify([name, swarmId, fileId]);
      let counts = this.#piecesFrom.get(key);
      if (!counts) this.#piecesFrom.set(key, (counts = new Map<string, number>()));
      counts.set(from, (counts.get(from) ?? 0) + 1);
    });
    peer.on('progress', ({ swarmId, fileId, held }) =>
      this.#progress?.update(name, swarmId, fileId, held),
    );
    const demoPeer = { name, peer, files, downloads };
    this.#peers.push(demoPeer);
    return demoPeer;
  }

  /** Every download of `downloaders` at once, with live progress; throws the first failure. */
  async #phase(downloaders: DemoPeer[]): Promise<void> {
    const progress = createProgress({ out: this.#out });
    this.#progress = progress;
    for (const { name, downloads } of downloaders) {
      for (const file of this.#files.filter((f) => downloads.includes(f.swarmId))) {
        progress.add({
          peer: name,
          swarmId: file.swarmId,
          fileId: file.fileId,
          total: file.info.pieceHashes.length,
        });
      }
    }
    const work = downloaders.flatMap(({ name, peer, downloads }) =>
      downloads.map((swarmId) =>
        peer.download(swarmId).catch((error: unknown) => {
          throw downloadFailure(name, swarmId, error);
        }),
      ),
    );
    const all = Promise.all(work);
    all.catch(() => undefined);
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(new DemoFailure(`the downloads did not finish within ${PHASE_DEADLINE_MS} ms`)),
        PHASE_DEADLINE_MS,
      );
    });
    try {
      await Promise.race([all, this.#failed, deadline]);
    } finally {
      clearTimeout(timer);
      progress.stop();
      this.#progress = undefined;
    }
  }

  #say(line: string): void {
    this.#out.write(`${line}\n`);
  }
}

// ---------------------------------------------------------------------------------------------
// Turning errors into advice

function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function clientFailure(peer: string, error: unknown): DemoFailure {
  if (codeOf(error) === 'ERR_NOT_IMPLEMENTED') {
    return new DemoFailure(
      'handleClient (9A) is not implemented yet: seeders cannot serve any piece, so nothing ' +
        'can be downloaded.',
      'See the TODO(9A) block in lab9/src/peer/peer.ts; `npm test` checks it step by step.',
    );
  }
  return new DemoFailure(
    `${peer} failed while serving a client: ${codeOf(error) ?? 'error'}: ${messageOf(error)}`,
    'handleClient (9A) must answer a bad request with ERROR and keep serving, never throw: ' +
      'see the TODO(9A) block in lab9/src/peer/peer.ts.',
  );
}

function downloadFailure(peer: string, swarmId: string, error: unknown): DemoFailure {
  const code = codeOf(error);
  if (code === 'ERR_NOT_IMPLEMENTED') {
    return new DemoFailure(
      'routePiece (9B) is not implemented yet: pieces arrive but cannot be routed to their ' +
        'files, so no download can finish.',
      'See the TODO(9B) block in lab9/src/peer/peer.ts; `npm test` checks it step by step.',
    );
  }
  if (code === 'ERR_DOWNLOAD_STALLED') {
    return new DemoFailure(
      `${peer} could not download swarm ${swarmId}: ${messageOf(error)}`,
      'Does handleClient (9A) answer every GET_PIECE of a chunk, and does routePiece (9B) store ' +
        'every good piece (this.files.writePiece) before resolving? `npm test` names the step that fails.',
    );
  }
  if (messageOf(error).includes('routePiece threw')) {
    return new DemoFailure(
      `${peer} could not download swarm ${swarmId}: ${code ?? 'error'}: ${messageOf(error)}`,
      'routePiece (9B) must check the hash and resolve { ok: false, code, reason } for a bad ' +
        'piece, never throw: see the TODO(9B) block in lab9/src/peer/peer.ts.',
    );
  }
  return new DemoFailure(
    `${peer} could not download swarm ${swarmId}: ${code ?? 'error'}: ${messageOf(error)}`,
    code === undefined && error instanceof Error ? error.stack : undefined,
  );
}

// ---------------------------------------------------------------------------------------------
// Entry point

interface PeerChoice {
  /** Module path as LAB9_PEER_MODULE takes it: absolute, or relative to the repository root. */
  readonly module: string;
  readonly why: string;
}

/** `--template`, `--solution`, then LAB9_PEER_MODULE, then the solution if this repo has one. */
function choosePeer(args: readonly string[]): PeerChoice | string {
  const unknown = args.filter((arg) => arg !== '--template' && arg !== '--solution');
  if (unknown.length > 0 || args.length > 1) return USAGE;
  const hasSolution = existsSync(join(REPO_ROOT, `${SOLUTION_MODULE}.ts`));
  if (args[0] === '--template') return { module: TEMPLATE_MODULE, why: '--template' };
  if (args[0] === '--solution') {
    if (!hasSolution) return `--solution: this kit has no ${SOLUTION_MODULE}.ts\n\n${USAGE}`;
    return { module: SOLUTION_MODULE, why: '--solution' };
  }
  const fromEnv = process.env.LAB9_PEER_MODULE;
  if (fromEnv) return { module: fromEnv, why: 'LAB9_PEER_MODULE' };
  if (hasSolution) {
    return { module: SOLUTION_MODULE, why: 'the reference solution; --template runs the template' };
  }
  return { module: TEMPLATE_MODULE, why: 'your Peer' };
}

async function main(args: readonly string[]): Promise<number> {
  const choice = choosePeer(args);
  if (typeof choice === 'string') {
    process.stderr.write(choice);
    return args.includes('--help') || args.includes('-h') ? 0 : 2;
  }
  process.env.LAB9_PEER_MODULE = choice.module;
  const Peer = loadPeerClass();
  const shown = relative(REPO_ROOT, peerModulePath());
  const out = (line = ''): boolean => process.stdout.write(`${line}\n`);

  const files = generateFiles();
  const total = files.reduce((sum, file) => sum + file.bytes, 0);
  const swarms = [...new Set(files.map((file) => file.swarmId))];
  out(`Lab 9 demo · Peer from ${shown}.ts (${choice.why})`);
  out(
    `  data   ${swarms.length} swarms, ${files.length} files, ${formatMiB(total)}, ` +
      `${DEMO_PIECE_BYTES / 1024} KiB pieces, generated from a fixed seed`,
  );
  for (const swarmId of swarms) {
    const list = files
      .filter((file) => file.swarmId === swarmId)
      .map((file) => `${file.fileId} ${formatMiB(file.bytes)}`);
    out(`         ${`${swarmId}:`.padEnd(9)} ${list.join(' · ')}`);
  }
  out('         (notes.bin is in both swarms, with different bytes)');

  const root = mkdtempSync(join(tmpdir(), 'lab9-demo-'));
  const demo = new Demo(Peer, files, root);
  try {
    const seconds = await demo.run();
    const rows = await demo.check();
    out('Check · SHA-256 of every downloaded file against its source');
    const table = formatTable(
      [
        { header: 'peer' },
        { header: 'swarm' },
        { header: 'file' },
        { header: 'bytes', align: 'right' },
        { header: 'pieces from' },
        { header: 'SHA-256' },
        { header: 'OK' },
      ],
      rows.map((row) => [
        row.peer,
        row.file.swarmId,
        row.file.fileId,
        row.bytes.toLocaleString('en-US'),
        row.from || '-',
        row.sha256.slice(0, 12),
        row.ok ? '\u2713' : `\u2717 expected ${row.file.sha256.slice(0, 12)}`,
      ]),
    );
    for (const line of table) out(line);
    const bad = rows.filter((row) => !row.ok).length;
    const downloaded = rows.reduce((sum, row) => sum + row.bytes, 0);
    const verdict = bad === 0 ? 'all SHA-256 match' : `${bad} of ${rows.length} files DIFFER`;
    const rejected = demo.rejectedPieces > 0 ? ` · ${demo.rejectedPieces} pieces rejected` : '';
    out(
      `${demo.peerCount} peers · ${swarms.length} swarms · ${files.length} files · ` +
        `${formatMiB(total)} seeded · ${formatMiB(downloaded)} downloaded · ` +
        `${seconds.toFixed(1)} s${rejected} · ${verdict}`,
    );
    return bad === 0 ? 0 : 1;
  } catch (error) {
    if (!(error instanceof DemoFailure)) throw error;
    out();
    out(`Demo failed: ${error.message}`);
    if (error.hint) out(`  ${error.hint}`);
    return 1;
  } finally {
    await demo.close();
    rmSync(root, { recursive: true, force: true });
  }
}

/** Exit on time even if a Peer leaves a handle open; unref'd, so a clean run exits at once. */
function exitSoon(code: number): void {
  process.exitCode = code;
  setTimeout(() => process.exit(code), 2_000).unref();
}

main(process.argv.slice(2)).then(exitSoon, (error: unknown) => {
  process.stderr.write(`demo crashed: ${error instanceof Error ? error.stack : String(error)}\n`);
  exitSoon(1);
});
