/**
 * The tracker: which peers are in which swarm. Peers register the swarms they seed or download
 * and ask for the others. This one lives in-process (a Map shared by the peers of one Node
 * process); `TrackerClient` is the interface peers use, so a networked tracker can replace it.
 */

/** Where a peer's UploadManager listens. */
export interface PeerAddress {
  readonly peerId: string;
  readonly host: string;
  readonly port: number;
}

export interface TrackerClient {
  /** Registers `peer` as a member of `swarmId` (again: updates its address). */
  register(swarmId: string, peer: PeerAddress): Promise<void>;
  /** Removes `peerId` from `swarmId`; unknown peers and swarms are ignored. */
  unregister(swarmId: string, peerId: string): Promise<void>;
  /** Members of `swarmId` other than `exceptPeerId`, in registration order. */
  peers(swarmId: string, exceptPeerId?: string): Promise<PeerAddress[]>;
}

export class Tracker implements TrackerClient {
  /** swarmId → peerId → address. Map keys keep IDs apart; insertion order is registration order. */
  readonly #swarms = new Map<string, Map<string, PeerAddress>>();

  register(swarmId: string, peer: PeerAddress): Promise<void> {
    let members = this.#swarms.get(swarmId);
    if (!members) this.#swarms.set(swarmId, (members = new Map<string, PeerAddress>()));
    members.set(peer.peerId, { peerId: peer.peerId, host: peer.host, port: peer.port });
    return Promise.resolve();
  }

  unregister(swarmId: string, peerId: string): Promise<void> {
    const members = this.#swarms.get(swarmId);
    if (members?.delete(peerId) && members.size === 0) this.#swarms.delete(swarmId);
    return Promise.resolve();
  }

  peers(swarmId: string, exceptPeerId?: string): Promise<PeerAddress[]> {
    const members = [...(this.#swarms.get(swarmId)?.values() ?? [])];
    return Promise.resolve(members.filter((peer) => peer.peerId !== exceptPeerId));
  }

  /** Swarm IDs with at least one member. */
  swarmIds(): string[] {
    return [...this.#swarms.keys()];
  }
}
