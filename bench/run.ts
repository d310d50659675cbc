/**
 * `npm run bench`: throughput, scale and cost growth of the reference peer (solution/peer.ts),
 * side by side with a raw loopback TCP stream measured in the same run. Each row is the median
 * of several runs; each run uses fresh child processes. Below: scenarios.ts. Results and how to
 * read them: docs/performance.md.
 */
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { setChildNodeFlags } from './harness/children';
import { Scratch } from './harness/fixtures';
import type { FramesWork } from './harness/messages';
import { type Figures, framesOnly, rawTcp, swarm, transfer } from './scenarios';

const MIB = 1024 * 1024;

const HELP = `usage: npm run bench -- [--smoke | --full] [--runs N] [--only TEXT] [--cpu-prof DIR]

  --smoke       a few MiB per row, one run: checks the bench works (seconds, not minutes)
  --full        also 4 GiB on disk, the file-size series in memory and 1,000 clients
  --runs N      runs per row; each figure is the median (default 3, smoke 1)
  --only TEXT   only rows whose label contains TEXT (raw TCP and the ceiling rows always run)
  --cpu-prof D  start every child with --cpu-prof --cpu-prof-dir=D (profiles per process)`;

function size(bytes: number): string {
  return bytes >= 1024 * MIB ? `${bytes / 1024 / MIB} GiB` : `${bytes / MIB} MiB`;
}

interface Row {
  readonly section: string;
  readonly label: string;
  readonly measure: (scratch: Scratch) => Promise<Figures>;
}

interface Plan {
  readonly rawBytes: number;
  readonly fileBytes: number;
  readonly rows: Row[];
}

function plan(mode: 'smoke' | 'default' | 'full'): Plan {
  const smoke = mode === 'smoke';
  const fileBytes = (smoke ? 8 : 256) * MIB;
  const clientBytes = (smoke ? 1 : 4) * MIB;
  const rows: Row[] = [];
  const add = (section: string, label: string, measure: Row['measure']): void => {
    rows.push({ section, label, measure });
  };

  for (const storage of ['memory', 'disk'] as const) {
    for (const [seeders, downloaders] of [
      [1, 1],
      [1, 8],
      [4, 1],
    ] as const) {
      add(
        'Reference peer, separate processes',
        `${seeders} → ${downloaders}, ${storage}, ${size(fileBytes)}`,
        (scratch) =>
          transfer(scratch, {
            seeders,
            processes: downloaders,
            peersPerProcess: 1,
            storage,
            bytes: fileBytes,
          }),
      );
    }
  }

  const scaleClients = smoke ? 20 : 500;
  add('Scale', `1 peer serving ${scaleClients} clients, ${size(clientBytes)} each`, (scratch) =>
    transfer(scratch, {
      seeders: 1,
      processes: 1,
      peersPerProcess: scaleClients,
      storage: 'memory',
      bytes: clientBytes,
    }),
  );
  const swarmShape = smoke
    ? { peers: 6, files: 2, fileBytes: 256 * 1024 }
    : { peers: 50, files: 8, fileBytes: MIB };
  add(
    'Scale',
    `${swarmShape.peers} peers in one process, ${swarmShape.files} files × ${size(swarmShape.fileBytes)}`,
    (scratch) => swarm(scratch, swarmShape),
  );

  // Memory stops at 1 GiB: a seeder reads its source with readFile, which refuses 2 GiB and more.
  const sizes = {
    disk: smoke ? [1, 4] : mode === 'full' ? [16, 64, 256, 1024, 4096] : [16, 64, 256, 1024],
    memory: mode === 'full' ? [16, 64, 256, 1024] : [],
  };
  for (const storage of ['disk', 'memory'] as const) {
    for (const mib of sizes[storage]) {
      add('Cost growth: file size (1 → 1)', `${size(mib * MIB)}, ${storage}`, (scratch) =>
        transfer(scratch, {
          seeders: 1,
          processes: 1,
          peersPerProcess: 1,
          storage,
          bytes: mib * MIB,
        }),
      );
    }
  }
  const clientCounts = smoke ? [1, 8] : mode === 'full' ? [1, 8, 64, 512, 1000] : [1, 8, 64, 512];
  for (const clients of clientCounts) {
    add(
      'Cost growth: clients (1 seeder, clients in one process, memory)',
      `${clients} × ${size(clientBytes)}`,
      (scratch) =>
        transfer(scratch, {
          seeders: 1,
          processes: 1,
          peersPerProcess: clients,
          storage: 'memory',
          bytes: clientBytes,
        }),
    );
  }
  return { rawBytes: (smoke ? 64 : 1024) * MIB, fileBytes, rows };
}

// ---------------------------------------------------------------------------------------------
// Medians and the table

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

function medianFigures(runs: readonly Figures[]): Figures {
  const of = (key: keyof Figures): number | undefined => {
    const values = runs.map((run) => run[key]).filter((v): v is number => v !== undefined);
    return values.length === 0 ? undefined : median(values);
  };
  const figures: Record<string, number> = {};
  for (const key of Object.keys(runs[0] ?? {}) as (keyof Figures)[]) {
    const value = of(key);
    if (value !== undefined) figures[key] = value;
  }
  return figures as unknown as Figures;
}

/** Each step does what the one above does, and more: where a download's time goes. */
const LADDER: readonly (readonly [string, FramesWork])[] = [
  ['receive only', 'receive'],
  ['+ cut frames (FrameDecoder)', 'decode'],
  ['+ SHA-256 of each piece', 'verify'],
  ['+ keep every piece (an in-memory file)', 'store'],
];

const COLUMNS = [
  'MB/s',
  '× raw',
  '× raw file',
  's',
  'CPU s serve/fetch',
  'MB per CPU s',
  'peak RSS MiB serve/fetch',
  'note',
];

/** The two raw TCP rows every ratio refers to. */
interface RawLimits {
  /** One cache-hot buffer written again and again: the upper bound of the loopback. */
  readonly hot: number;
  /** The file's size in distinct bytes, written once, as a seeder sends a file. */
  readonly file: number;
}

function formatRow(label: string, figures: Figures, raw: RawLimits): string[] {
  const percent = (share: number): string => `${(share * 100).toFixed(0)}%`;
  const notes: string[] = [];
  if (figures.busiestSeeder !== undefined) {
    notes.push(`busiest seeder ${percent(figures.busiestSeeder)}`);
  }
  if (figures.fromPeers !== undefined) notes.push(`${percent(figures.fromPeers)} from non-seeders`);
  if (figures.duplicates !== undefined && figures.duplicates >= 0.001) {
    notes.push(`${(figures.duplicates * 100).toFixed(1)}% served twice`);
  }
  const cpu = figures.serveCpu + figures.fetchCpu;
  return [
    label,
    figures.mbps.toFixed(0),
    (figures.mbps / raw.hot).toFixed(2),
    (figures.mbps / raw.file).toFixed(2),
    figures.seconds.toFixed(2),
    `${figures.serveCpu.toFixed(2)} / ${figures.fetchCpu.toFixed(2)}`,
    cpu > 0 ? ((figures.mbps * figures.seconds) / cpu).toFixed(0) : '',
    `${figures.serveRssMiB.toFixed(0)} / ${figures.fetchRssMiB.toFixed(0)}`,
    notes.join(', '),
  ];
}

/**
 * The most any downloader could reach on this machine while doing the last ceiling row's work:
 * that row's CPU seconds (sender and sink) spread perfectly over every core, with no waiting.
 */
function boundRow(ceiling: Figures, cores: number, raw: RawLimits): string[] {
  const megabytes = ceiling.mbps * ceiling.seconds;
  const mbps = megabytes / ((ceiling.serveCpu + ceiling.fetchCpu) / cores);
  return [
    `bound: the last row's CPU spread over all ${cores} cores`,
    mbps.toFixed(0),
    (mbps / raw.hot).toFixed(2),
    (mbps / raw.file).toFixed(2),
  ];
}

function printTable(rows: readonly (readonly string[])[]): void {
  const widths = (rows[0] ?? []).map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    `| ${cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join(' | ')} |`;
  console.log(line(rows[0] ?? []));
  console.log(
    `|${widths.map((w, i) => (i === 0 ? ` ${'-'.repeat(w)} ` : ` ${'-'.repeat(w - 1)}: `)).join('|')}|`,
  );
  for (const row of rows.slice(1)) console.log(line(row));
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      smoke: { type: 'boolean', default: false },
      full: { type: 'boolean', default: false },
      runs: { type: 'string' },
      only: { type: 'string' },
      'cpu-prof': { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) return console.log(HELP);
  const mode = values.smoke ? 'smoke' : values.full ? 'full' : 'default';
  const runs = values.runs !== undefined ? Number(values.runs) : mode === 'smoke' ? 1 : 3;
  if (!Number.isInteger(runs) || runs < 1) throw new TypeError(`--runs must be a positive integer`);
  if (values['cpu-prof']) setChildNodeFlags(['--cpu-prof', `--cpu-prof-dir=${values['cpu-prof']}`]);

  const { rawBytes, fileBytes, rows } = plan(mode);
  const chosen = rows.filter((row) => !values.only || row.label.includes(values.only));
  console.log(
    `lab9 bench (${mode}): ${cpus().length} cores, Node ${process.version}, ${runs} run(s) per row, ` +
      `median shown; MB = 10^6 bytes`,
  );
  const [load] = loadavg();
  if (load !== undefined && load > cpus().length / 2) {
    console.log(
      `warning: load average ${load.toFixed(1)} at start: other work shares these cores, so ` +
        `MB/s is low and noisy; CPU seconds and MB per CPU s are the steadier figures`,
    );
  }
  const scratch = await Scratch.create();
  const started = performance.now();
  try {
    const repeat = async (measure: () => Promise<Figures>): Promise<Figures> => {
      const all: Figures[] = [];
      for (let i = 0; i < runs; i++) all.push(await measure());
      return medianFigures(all);
    };
    const hot = await repeat(() => rawTcp(rawBytes));
    const file = await repeat(() => rawTcp(fileBytes, fileBytes));
    const raw: RawLimits = { hot: hot.mbps, file: file.mbps };
    const table: string[][] = [['', ...COLUMNS]];
    table.push(['**Physical limit: raw TCP over loopback, 1 connection, 1 MiB writes**']);
    table.push(formatRow(`one cache-hot 1 MiB buffer, ${size(rawBytes)}`, hot, raw));
    table.push(formatRow(`a file's distinct bytes, once, ${size(fileBytes)}`, file, raw));
    table.push([`**Downloader ceiling: PIECE frames, no peer logic, ${size(fileBytes)}**`]);
    let ceiling: Figures | undefined;
    for (const [label, work] of LADDER) {
      process.stderr.write(`  ${label} ...\n`);
      ceiling = await repeat(() => framesOnly(fileBytes, work));
      table.push(formatRow(label, ceiling, raw));
    }
    if (ceiling) table.push(boundRow(ceiling, cpus().length, raw));
    let section = '';
    for (const row of chosen) {
      if (row.section !== section) {
        section = row.section;
        table.push([`**${section}**`]);
      }
      process.stderr.write(`  ${row.label} ...\n`);
      table.push(formatRow(row.label, await repeat(() => row.measure(scratch)), raw));
    }
    table.push(['**Grading speed**: measured separately, see docs/performance.md']);
    const columns = table[0]?.length ?? 0;
    printTable(table.map((cells) => [...cells, ...Array<string>(columns - cells.length).fill('')]));
    console.log(`bench took ${((performance.now() - started) / 1000).toFixed(0)} s`);
  } finally {
    await scratch.remove();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
