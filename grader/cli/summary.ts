/**
 * The summary `npm run grade` prints after its table, over every row of grades.csv (those kept
 * from an earlier grading included): how many submissions per status, the mean and median
 * total, and a histogram of the totals in tenths of the maximum. A score withheld for review is
 * blank in grades.csv and counted apart, never as 0. Above: grade.ts; below: grades.ts's rows.
 */
import type { GradeRow } from '../runner/grades';
import { SEVERITY } from '../runner/score';

/** Histogram bars are this wide at the most common bin. */
const BAR_WIDTH = 30;
const BINS = 10;

export interface ClassStats {
  readonly rows: number;
  /** Status → count, best first (ok), then by severity; statuses grading does not know last. */
  readonly byStatus: ReadonlyMap<string, number>;
  /** Totals of the rows with a score (not withheld). */
  readonly totals: readonly number[];
  readonly max: number;
  readonly mean: number | null;
  readonly median: number | null;
  /** BINS + 1 counts: [0, 10 %), [10 %, 20 %), …, [90 %, 100 %), and exactly 100 %. */
  readonly bins: readonly number[];
}

export function classStats(rows: readonly GradeRow[]): ClassStats {
  const order = [...SEVERITY].reverse() as string[];
  const counts = new Map<string, number>();
  for (const row of rows) counts.set(row.status ?? '', (counts.get(row.status ?? '') ?? 0) + 1);
  const rank = (status: string): number => {
    const at = order.indexOf(status);
    return at === -1 ? order.length : at;
  };
  const byStatus = new Map([...counts].sort(([a], [b]) => rank(a) - rank(b)));
  const scored = rows.filter((row) => (row.score ?? '') !== '');
  const totals = scored.map((row) => Number(row.score));
  const max = Math.max(0, ...rows.map((row) => Number(row.max ?? 0)));
  const sorted = [...totals].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  const median =
    sorted.length === 0
      ? null
      : sorted.length % 2 === 1
        ? (sorted[middle] ?? 0)
        : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
  const bins = new Array<number>(BINS + 1).fill(0);
  for (const total of totals) {
    const bin = max <= 0 ? 0 : total >= max ? BINS : Math.floor((total / max) * BINS);
    bins[bin] = (bins[bin] ?? 0) + 1;
  }
  return {
    rows: rows.length,
    byStatus,
    totals,
    max,
    mean: totals.length === 0 ? null : totals.reduce((sum, t) => sum + t, 0) / totals.length,
    median,
    bins,
  };
}

function decimal(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(1);
}

/** `title` says which rows these are, e.g. "grades/grades.csv, 14 submissions". */
export function renderSummary(stats: ClassStats, title: string): string {
  const out = [`Summary of ${title}`];
  out.push(
    `  status        ${[...stats.byStatus].map(([status, count]) => `${status} ${count}`).join(' · ')}`,
  );
  const withheld = stats.rows - stats.totals.length;
  const apart = withheld > 0 ? ` · ${withheld} withheld for review, not counted` : '';
  out.push(
    stats.mean === null || stats.median === null
      ? `  total         no score yet${apart}`
      : `  total         mean ${decimal(stats.mean)} · median ${decimal(stats.median)} · ` +
          `of ${stats.max}, over ${stats.totals.length} scored${apart}`,
  );
  if (stats.totals.length > 0) {
    out.push('  distribution  (totals, by tenths of the maximum)');
    const peak = Math.max(...stats.bins);
    const step = stats.max / BINS;
    const labels = stats.bins.map((_, bin) =>
      bin === BINS
        ? `${decimal(stats.max)}`
        : `${decimal(bin * step)}–<${decimal((bin + 1) * step)}`,
    );
    const width = Math.max(...labels.map((label) => label.length));
    stats.bins.forEach((count, bin) => {
      const bar = '█'.repeat(Math.round((count / peak) * BAR_WIDTH));
      const shown = count === 0 ? '' : ` ${bar} ${count}`;
      out.push(`    ${(labels[bin] ?? '').padStart(width)} │${shown}`);
    });
  }
  return `${out.join('\n')}\n`;
}
