/**
 * What the bench's parent process and its child processes say to each other over Node's IPC
 * channel: the role a child plays (its spec, passed as JSON in argv), and the messages both ways.
 * Below: child_process.fork. Above: harness/children.ts (parent side) and roles/*.ts (child side).
 */
import type { PeerAddress } from '../../lab9/src/tracker/tracker';

export type Storage = 'memory' | 'disk';

/** The one file every transfer scenario moves: made once per size by harness/fixtures.ts. */
export interface SourceFile {
  readonly path: string;
  readonly bytes: number;
  /** SHA-256 of the whole file, hex: what every downloader must end up with. */
  readonly sha256: string;
}

/** How much of a download's work the frames sink does: each step adds to the one before. */
export type FramesWork = 'receive' | 'decode' | 'verify' | 'store';

export type RoleSpec =
  /** Listens on 127.0.0.1:0 and counts bytes until `bytes` arrived. */
  | { readonly role: 'raw-sink'; readonly bytes: number }
  /**
   * Connects to the sink and writes `bytes` in `chunkBytes` writes, honouring backpressure:
   * the same chunk again and again, or, with `distinctBytes`, chunks that walk a buffer of that
   * many bytes (not all in the CPU's cache, like a file being served).
   */
  | {
      readonly role: 'raw-source';
      readonly port: number;
      readonly bytes: number;
      readonly chunkBytes: number;
      readonly distinctBytes?: number;
    }
  /** Counts `wireBytes` of PIECE frames, doing `work` on each piece (see roles/frames.ts). */
  | {
      readonly role: 'frames-sink';
      readonly bytes: number;
      readonly pieceBytes: number;
      readonly wireBytes: number;
      readonly work: FramesWork;
    }
  /** Sends `bytes` cut into PIECE frames of `pieceBytes`, one corked write per frame. */
  | {
      readonly role: 'frames-source';
      readonly port: number;
      readonly bytes: number;
      readonly pieceBytes: number;
    }
  /** One reference Peer seeding `source` as swarm `swarmId`, file `fileId`. */
  | {
      readonly role: 'seeder';
      readonly storage: Storage;
      readonly source: SourceFile;
      readonly swarmId: string;
      readonly fileId: string;
      readonly root: string;
    }
  /** `count` reference Peers in this process, each downloading the swarm from `seeders`. */
  | {
      readonly role: 'downloaders';
      readonly storage: Storage;
      readonly source: SourceFile;
      readonly swarmId: string;
      readonly fileId: string;
      readonly root: string;
      readonly count: number;
      readonly seeders: readonly PeerAddress[];
    }
  /** `peers` Peers in this process exchanging one multi-file swarm in waves (see roles/swarm.ts). */
  | {
      readonly role: 'swarm';
      readonly peers: number;
      readonly files: number;
      readonly fileBytes: number;
      readonly root: string;
    };

/** Parent → child. */
export type ParentMessage =
  /** Start the measured work now (and the CPU clock). */
  | { readonly kind: 'go' }
  /** Report resources used since 'go' and exit. */
  | { readonly kind: 'stop' };

/** Resources one process used. */
export interface ProcessUsage {
  /** User + system CPU time since 'go', in milliseconds. */
  readonly cpuMs: number;
  /** Peak resident set size over the process's life, in bytes. */
  readonly maxRssBytes: number;
}

/** Child → parent. */
export type ChildMessage =
  /** Set up and waiting for 'go'; a listening child says where. */
  | { readonly kind: 'ready'; readonly port?: number; readonly address?: PeerAddress }
  /** The measured work finished (downloaders, sinks, swarms); the process then waits for 'stop'. */
  | {
      readonly kind: 'done';
      /** Wall-clock start and end, epoch milliseconds, comparable across processes. */
      readonly startedAt: number;
      readonly endedAt: number;
      readonly bytes: number;
      readonly usage: ProcessUsage;
      /** Pieces stored per remote peer ID, summed over this process's downloads. */
      readonly piecesFrom?: Readonly<Record<string, number>>;
      /** Free-form labelled figures for the table (e.g. pieces served by non-seeders). */
      readonly notes?: Readonly<Record<string, number>>;
    }
  /** Answer to 'stop', with the role's counters (a seeder: pieces it served). */
  | {
      readonly kind: 'usage';
      readonly usage: ProcessUsage;
      readonly notes?: Readonly<Record<string, number>>;
    }
  /** The role failed; the parent reports it and fails the scenario. */
  | { readonly kind: 'failed'; readonly message: string };
