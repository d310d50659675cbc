/**
 * pickRarest (peer/piece-picker.ts), a pure function: the piece held by the fewest peers first,
 * ties broken by order; pieces the remote lacks are never picked; a remote that failed a piece is
 * skipped while another holder has not tried it, and retried when it is the only holder left.
 */
import { type Candidate, pickRarest } from '../../src/peer/piece-picker';

function candidate(order: number, availability: number, more: Partial<Candidate> = {}): Candidate {
  return { order, availability, remoteHas: true, remoteFailed: false, untriedHolders: 0, ...more };
}

describe('pickRarest', () => {
  it('picks the piece held by the fewest peers', () => {
    expect(pickRarest([candidate(0, 3), candidate(1, 1), candidate(2, 2)])).toBe(1);
  });

  it('breaks ties by order, whatever the position in the list', () => {
    expect(pickRarest([candidate(5, 2), candidate(3, 2), candidate(4, 2)])).toBe(1);
    expect(pickRarest([candidate(0, 2), candidate(1, 2)])).toBe(0);
  });

  it('never picks a piece the remote does not hold, even the rarest', () => {
    expect(pickRarest([candidate(0, 1, { remoteHas: false }), candidate(1, 4)])).toBe(1);
  });

  it('answers -1 when the remote holds nothing that is needed', () => {
    expect(pickRarest([])).toBe(-1);
    expect(pickRarest([candidate(0, 1, { remoteHas: false })])).toBe(-1);
  });

  it('skips a piece this remote failed while another holder has not tried it', () => {
    const failed = candidate(0, 1, { remoteFailed: true, untriedHolders: 1 });
    expect(pickRarest([failed, candidate(1, 3)])).toBe(1);
    expect(pickRarest([failed])).toBe(-1);
  });

  it('retries a piece this remote failed when no untried holder is left', () => {
    const failed = candidate(0, 1, { remoteFailed: true, untriedHolders: 0 });
    expect(pickRarest([failed, candidate(1, 3)])).toBe(0);
  });
});
