/**
 * The routing table of a downloading peer: for every (swarm ID, file ID) it takes part in, what
 * the file looks like (length, piece length, piece hashes). Filled from the ANNOUNCE that an
 * existing peer sends to a newly connected one; read by Peer.routePiece for every arriving PIECE.
 *
 * Rules: a route is keyed by the pair, through `routeKey` only; the first announcement of a file
 * wins and a later, different one is reported as a conflict, never overwrites; swarms this peer
 * has not joined are ignored (their pieces are then unknown, and routePiece rejects them).
 */
import type { AnnounceMessage, FileAnnouncement } from '../protocol/message-types';

/** Where pieces of one file go, and how to check them. */
export interface FileRoute extends FileAnnouncement {
  readonly swarmId: string;
}

/** What `learn` did with each file of an announcement. */
export interface LearnResult {
  /** Routes that did not exist before. */
  readonly added: FileRoute[];
  /** Files announced with a different shape or hashes than the route we already have. */
  readonly conflicts: FileRoute[];
}

/**
 * The one way to turn a (swarm, file) pair into a Map key. JSON keeps the pair apart:
 * ("1", "12") and ("11", "2") give different keys, unlike "1" + "12".
 */
export function routeKey(swarmId: string, fileId: string): string {
  return JSON.stringify([swarmId, fileId]);
}

export class RoutingTable {
  /** routeKey(swarmId, fileId) → route. */
  readonly #routes = new Map<string, FileRoute>();
  /** Swarms this peer has joined; announcements of other swarms are ignored. */
  readonly #joined = new Set<string>();
  /** swarmId → number of routes in #routes with that swarm. */
  readonly #routeCounts = new Map<string, number>();

  /** Accept routes for `swarmId` from now on. */
  join(swarmId: string): void {
    this.#joined.add(swarmId);
  }

  hasJoined(swarmId: string): boolean {
    return this.#joined.has(swarmId);
  }

  /** Adds the files of every joined swarm in `announce`; see LearnResult. */
  learn(announce: AnnounceMessage): LearnResult {
    const added: FileRoute[] = [];
    const conflicts: FileRoute[] = [];
    for (const swarm of announce.swarms) {
      if (!this.#joined.has(swarm.swarmId)) continue;
      for (const file of swarm.files) {
        const route: FileRoute = { swarmId: swarm.swarmId, ...file };
        const key = routeKey(swarm.swarmId, file.fileId);
        const existing = this.#routes.get(key);
        if (!existing) {
          this.#insert(key, route);
          added.push(route);
        } else if (!sameShape(existing, route)) {
          conflicts.push(route);
        }
      }
    }
    return { added, conflicts };
  }

  /** Adds one route directly (a peer that seeds a file routes its own swarm too). */
  add(route: FileRoute): void {
    this.#joined.add(route.swarmId);
    const key = routeKey(route.swarmId, route.fileId);
    if (!this.#routes.has(key)) this.#insert(key, route);
  }

  /** True if at least one file of `swarmId` has a route. */
  knowsSwarm(swarmId: string): boolean {
    return this.#routeCounts.has(swarmId);
  }

  /** The route for a piece's (swarm ID, file ID), or undefined if there is none. */
  lookup(swarmId: string, fileId: string): FileRoute | undefined {
    return this.#routes.get(routeKey(swarmId, fileId));
  }

  /** Every route of one swarm, in the order they were learned. */
  routesOf(swarmId: string): FileRoute[] {
    return [...this.#routes.values()].filter((route) => route.swarmId === swarmId);
  }

  #insert(key: string, route: FileRoute): void {
    this.#routes.set(key, route);
    this.#routeCounts.set(route.swarmId, (this.#routeCounts.get(route.swarmId) ?? 0) + 1);
  }

  /** Every route, in the order they were learned. */
  all(): FileRoute[] {
    return [...this.#routes.values()];
  }
}

function sameShape(a: FileAnnouncement, b: FileAnnouncement): boolean {
  return (
    a.fileLength === b.fileLength &&
    a.pieceLength === b.pieceLength &&
    a.pieceHashes.length === b.pieceHashes.length &&
    a.pieceHashes.every((hash, i) => hash.equals(b.pieceHashes[i] as Buffer))
  );
}
