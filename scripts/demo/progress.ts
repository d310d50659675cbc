/**
 * Live progress of the demo's downloads, one entry per (peer, swarm, file): cli-progress bars on
 * a terminal, and on anything else (CI logs, pipes) one plain line per peer every few hundred ms,
 * printed only when something moved. Below: cli-progress and a Writable. Above: scripts/demo.ts,
 * which feeds it the Peer's 'progress' events.
 */
import { MultiBar, type SingleBar } from 'cli-progress';

export interface ProgressEntry {
  readonly peer: string;
  readonly swarmId: string;
  readonly fileId: string;
  /** Pieces in the file. */
  readonly total: number;
}

export interface ProgressDisplay {
  /** Adds a file to watch, at 0 pieces held. */
  add(entry: ProgressEntry): void;
  /** Pieces of the file now held by the peer. */
  update(peer: string, swarmId: string, fileId: string, held: number): void;
  /** Draws the final state and releases the terminal and timers. Idempotent. */
  stop(): void;
}

export interface ProgressOptions {
  readonly out: NodeJS.WriteStream;
  /** Bars on a terminal, plain lines otherwise. @default out.isTTY */
  readonly tty?: boolean;
  /** Milliseconds between plain lines. @default 300 */
  readonly intervalMs?: number;
}

export function createProgress(options: ProgressOptions): ProgressDisplay {
  return (options.tty ?? options.out.isTTY === true)
    ? new BarProgress(options.out)
    : new LineProgress(options.out, options.intervalMs ?? 300);
}

function keyOf(peer: string, swarmId: string, fileId: string): string {
  return JSON.stringify([peer, swarmId, fileId]);
}

class BarProgress implements ProgressDisplay {
  readonly #bars = new Map<string, SingleBar>();
  readonly #multibar: MultiBar;
  #stopped = false;

  constructor(out: NodeJS.WriteStream) {
    this.#multibar = new MultiBar({
      stream: out,
      format: '  {label} {bar} {value}/{total} pieces {percentage}%',
      barsize: 24,
      barCompleteChar: '\u2588',
      barIncompleteChar: '\u2591',
      hideCursor: true,
      autopadding: true,
      clearOnComplete: false,
      fps: 15,
    });
  }

  add(entry: ProgressEntry): void {
    const label = `${entry.peer.padEnd(6)} ${`${entry.swarmId}/${entry.fileId}`.padEnd(22)}`;
    this.#bars.set(
      keyOf(entry.peer, entry.swarmId, entry.fileId),
      this.#multibar.create(entry.total, 0, { label }),
    );
  }

  update(peer: string, swarmId: string, fileId: string, held: number): void {
    this.#bars.get(keyOf(peer, swarmId, fileId))?.update(held);
  }

  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#multibar.stop();
  }
}

interface LineEntry extends ProgressEntry {
  held: number;
}

class LineProgress implements ProgressDisplay {
  readonly #out: NodeJS.WriteStream;
  /** Entries by key, in the order added; a peer's line lists its files in that order. */
  readonly #entries = new Map<string, LineEntry>();
  readonly #startedAt = performance.now();
  readonly #timer: NodeJS.Timeout;
  /** Whether anything changed since the last lines were printed. */
  #dirty = false;
  #stopped = false;

  constructor(out: NodeJS.WriteStream, intervalMs: number) {
    this.#out = out;
    this.#timer = setInterval(() => this.#print(), intervalMs);
  }

  add(entry: ProgressEntry): void {
    this.#entries.set(keyOf(entry.peer, entry.swarmId, entry.fileId), { ...entry, held: 0 });
  }

  update(peer: string, swarmId: string, fileId: string, held: number): void {
    const entry = this.#entries.get(keyOf(peer, swarmId, fileId));
    if (!entry || entry.held === held) return;
    entry.held = held;
    this.#dirty = true;
  }

  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    clearInterval(this.#timer);
    this.#print();
  }

  #print(): void {
    if (!this.#dirty) return;
    this.#dirty = false;
    const seconds = ((performance.now() - this.#startedAt) / 1000).toFixed(1).padStart(4);
    const byPeer = new Map<string, Map<string, string[]>>();
    for (const entry of this.#entries.values()) {
      let swarms = byPeer.get(entry.peer);
      if (!swarms) byPeer.set(entry.peer, (swarms = new Map<string, string[]>()));
      let files = swarms.get(entry.swarmId);
      if (!files) swarms.set(entry.swarmId, (files = []));
      const percent = Math.floor((100 * entry.held) / entry.total);
      files.push(`${entry.fileId} ${percent}%`);
    }
    for (const [peer, swarms] of byPeer) {
      const parts = [...swarms].map(([swarmId, files]) => `${swarmId}: ${files.join(' ')}`);
      this.#out.write(`  [${seconds} s] ${peer.padEnd(6)} ${parts.join(' | ')}\n`);
    }
  }
}
