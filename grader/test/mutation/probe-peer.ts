/**
 * The reference Peer with one hand-made "mutant": while mutant "probe" is active, its PONG
 * carries the wrong nonce. It finds the active mutant exactly as the code Stryker instruments
 * does (a `__stryker__` global of its own realm, else __STRYKER_ACTIVE_MUTANT__ in process.env),
 * so it sees a mutant wherever the instrumented solution/peer.ts would. Used by activation.test.ts.
 */
import { Peer as Reference } from '../../../solution/peer';
import type { PingMessage, PongMessage } from '../../../lab9/src/protocol/message-types';

export const PROBE_MUTANT = 'probe';

function activeMutant(): string | undefined {
  const ns = (globalThis as { __stryker__?: { activeMutant?: string } }).__stryker__;
  return ns?.activeMutant ?? process.env.__STRYKER_ACTIVE_MUTANT__;
}

export class Peer extends Reference {
  protected override pong(ping: PingMessage): PongMessage {
    const pong = super.pong(ping);
    return activeMutant() === PROBE_MUTANT ? { ...pong, nonce: pong.nonce + 1 } : pong;
  }
}
