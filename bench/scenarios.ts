/**
 * One measured run of each kind of bench scenario: start the child processes, say 'go' to all,
 * wait for the downloads (or the raw sink), stop everyone and turn their reports into figures.
 * Below: harness/children.ts (processes) and harness/fixtures.ts (files). Above: run.ts, which
 * repeats runs, takes medians and prints the table.
 */
import { DEFAULT_PIECE_BYTES } from '../lab9/src/limits';
import { pieceCountOf } from '../lab9/src/protocol/frame-codec';
import { BenchChild, deadline } from './harness/children';
import type { Scratch } from './harness/fixtures';
import type { FramesWork, ProcessUsage, RoleSpec, SourceFile, Storage } from './harness/messages';
import { wireBytesOf } from './roles/frames';

/** The figures of one run. Every field is medianed on its own across runs. */
export interface Figures {
  /** Bytes delivered (to every downloader together) per second of wall clock, in MB/s (10^6). */
  readonly mbps: number;
  readonly seconds: number;
  /** CPU seconds of the serving side (seeders; the sender for raw TCP), summed over processes. */
  readonly serveCpu: number;
  /** CPU seconds of the downloading side, summed over processes. */
  readonly fetchCpu: number;
  /** Largest peak RSS of one serving process, in MiB. */
  readonly serveRssMiB: number;
  /** Largest peak RSS of one downloading process, in MiB. */
  readonly fetchRssMiB: number;
  /** Several seeders: share of all pieces the busiest one served (1/seeders is balanced). */
  readonly busiestSeeder?: number;
  /** Swarm: share of pieces that came from other downloaders rather than from a seeder. */
  readonly fromPeers?: number;
  /** Pieces the seeders served beyond one per piece per downloader, as a share of those. */
  readonly duplicates?: number;
}

const MIB = 1024 * 1024;
/** Every run must finish well within this, or the bench reports it and stops. */
const RUN_DEADLINE_MS = 180_000;

/** The physical limit: a raw TCP stream, one connection, 1 MiB writes (roles/raw.ts). */
export function rawTcp(bytes: number, distinctBytes?: number): Promise<Figures> {
  return sinkAndSource({ role: 'raw-sink', bytes }, (port) => ({
    role: 'raw-source',
    port,
    bytes,
    chunkBytes: MIB,
    distinctBytes,
  }));
}

/** A downloader's ceiling: PIECE frames into a sink doing part of a download (roles/frames.ts). */
export function framesOnly(bytes: number, work: FramesWork): Promise<Figures> {
  const pieceBytes = DEFAULT_PIECE_BYTES;
  return sinkAndSource(
    { role: 'frames-sink', bytes, pieceBytes, wireBytes: wireBytesOf(bytes, pieceBytes), work },
    (port) => ({ role: 'frames-source', port, bytes, pieceBytes }),
  );
}

async function sinkAndSource(
  sinkSpec: RoleSpec,
  sourceSpec: (port: number) => RoleSpec,
): Promise<Figures> {
  const sink = new BenchChild(sinkSpec);
  const children = [sink];
  try {
    const { port } = await sink.ready;
    if (port === undefined) throw new Error(`${sink.role} did not say its port`);
    const source = new BenchChild(sourceSpec(port));
    children.push(source);
    await source.ready;
    sink.go();
    source.go();
    const done = await deadline(sink.done, RUN_DEADLINE_MS, `${sink.role} run`);
    const [sinkEnd, sourceEnd] = await Promise.all([sink.stop(), source.stop()]);
    const seconds = (done.endedAt - done.startedAt) / 1000;
    return {
      mbps: done.bytes / 1e6 / seconds,
      seconds,
      ...usageFigures([sourceEnd.usage], [sinkEnd.usage]),
    };
  } finally {
    await Promise.all(children.map((child) => child.close()));
  }
}

export interface TransferShape {
  readonly seeders: number;
  /** Downloading processes. */
  readonly processes: number;
  /** Downloading peers in each process. */
  readonly peersPerProcess: number;
  readonly storage: Storage;
  readonly bytes: number;
}

/** Seeders and downloaders of one file, each seeder and each downloading process its own. */
export async function transfer(scratch: Scratch, shape: TransferShape): Promise<Figures> {
  const source: SourceFile = await scratch.source(shape.bytes);
  const root = scratch.runFolder();
  const swarmId = 'bench';
  const fileId = 'file.bin';
  const children: BenchChild[] = [];
  try {
    const seeders = [...Array(shape.seeders).keys()].map(
      (i) =>
        new BenchChild({
          role: 'seeder',
          storage: shape.storage,
          source,
          swarmId,
          fileId,
          root: `${root}/s${i}`,
        }),
    );
    children.push(...seeders);
    const addresses = (await Promise.all(seeders.map((s) => s.ready))).map((ready) => {
      if (!ready.address) throw new Error('seeder did not say its address');
      return ready.address;
    });
    const fetchers = [...Array(shape.processes).keys()].map(
      (i) =>
        new BenchChild({
          role: 'downloaders',
          storage: shape.storage,
          source,
          swarmId,
          fileId,
          root: `${root}/p${i}`,
          count: shape.peersPerProcess,
          seeders: addresses,
        }),
    );
    children.push(...fetchers);
    await Promise.all(fetchers.map((f) => f.ready));
    for (const child of children) child.go();
    const done = await deadline(
      Promise.all(fetchers.map((f) => f.done)),
      RUN_DEADLINE_MS,
      'transfer run',
    );
    const seederEnds = await Promise.all(seeders.map((s) => s.stop()));
    await Promise.all(fetchers.map((f) => f.stop())); // waits for their data checks
    const needed =
      pieceCountOf(shape.bytes, DEFAULT_PIECE_BYTES) * shape.processes * shape.peersPerProcess;
    const served = seederEnds.reduce((sum, end) => sum + (end.notes?.piecesServed ?? 0), 0);
    const seconds =
      (Math.max(...done.map((d) => d.endedAt)) - Math.min(...done.map((d) => d.startedAt))) / 1000;
    const bytes = done.reduce((sum, d) => sum + d.bytes, 0);
    return {
      mbps: bytes / 1e6 / seconds,
      seconds,
      ...usageFigures(
        seederEnds.map((end) => end.usage),
        done.map((d) => d.usage),
      ),
      duplicates: served / needed - 1,
      ...(shape.seeders > 1 && {
        busiestSeeder: busiestShare(done.map((d) => d.piecesFrom ?? {})),
      }),
    };
  } finally {
    await Promise.all(children.map((child) => child.close()));
    await scratch.clear(root);
  }
}

export interface SwarmShape {
  readonly peers: number;
  readonly files: number;
  readonly fileBytes: number;
}

/** Many peers in one process exchanging a multi-file swarm (roles/swarm.ts). */
export async function swarm(scratch: Scratch, shape: SwarmShape): Promise<Figures> {
  const root = scratch.runFolder();
  const child = new BenchChild({ role: 'swarm', ...shape, root });
  try {
    await child.ready;
    child.go();
    const done = await deadline(child.done, RUN_DEADLINE_MS, 'swarm run');
    await child.stop();
    const seconds = (done.endedAt - done.startedAt) / 1000;
    return {
      mbps: done.bytes / 1e6 / seconds,
      seconds,
      ...usageFigures([], [done.usage]),
      fromPeers: done.notes?.peerShare ?? 0,
    };
  } finally {
    await child.close();
    await scratch.clear(root);
  }
}

function usageFigures(
  serve: readonly ProcessUsage[],
  fetch: readonly ProcessUsage[],
): Pick<Figures, 'serveCpu' | 'fetchCpu' | 'serveRssMiB' | 'fetchRssMiB'> {
  const cpu = (all: readonly ProcessUsage[]): number =>
    all.reduce((sum, u) => sum + u.cpuMs, 0) / 1000;
  const rss = (all: readonly ProcessUsage[]): number =>
    all.reduce((max, u) => Math.max(max, u.maxRssBytes), 0) / MIB;
  return {
    serveCpu: cpu(serve),
    fetchCpu: cpu(fetch),
    serveRssMiB: rss(serve),
    fetchRssMiB: rss(fetch),
  };
}

/** Share of all pieces served by the busiest seeder: 1/seeders is a perfect balance. */
function busiestShare(piecesFrom: readonly Readonly<Record<string, number>>[]): number {
  const bySeeder = new Map<string, number>();
  for (const counts of piecesFrom) {
    for (const [from, count] of Object.entries(counts)) {
      bySeeder.set(from, (bySeeder.get(from) ?? 0) + count);
    }
  }
  const counts = [...bySeeder.values()];
  const total = counts.reduce((sum, n) => sum + n, 0);
  return total === 0 ? 0 : Math.max(...counts) / total;
}
