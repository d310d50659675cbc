/**
 * Tracker (tracker/tracker.ts): peers register per swarm, are listed in registration order
 * without the asker, re-register to update their address, and unregister; empty swarms vanish.
 */
import { type PeerAddress, Tracker } from '../../src/tracker/tracker';

const a: PeerAddress = { peerId: 'a', host: '127.0.0.1', port: 1001 };
const b: PeerAddress = { peerId: 'b', host: '127.0.0.1', port: 1002 };
const c: PeerAddress = { peerId: 'c', host: '127.0.0.1', port: 1003 };

describe('Tracker', () => {
  it('lists the members of a swarm in registration order, without the peer that asks', async () => {
    const tracker = new Tracker();
    for (const peer of [a, b, c]) await tracker.register('s', peer);
    expect(await tracker.peers('s')).toEqual([a, b, c]);
    expect(await tracker.peers('s', 'b')).toEqual([a, c]);
    expect(await tracker.peers('unknown')).toEqual([]);
  });

  it('keeps swarms apart', async () => {
    const tracker = new Tracker();
    await tracker.register('s', a);
    await tracker.register('t', b);
    expect(await tracker.peers('s')).toEqual([a]);
    expect(await tracker.peers('t')).toEqual([b]);
    expect(tracker.swarmIds()).toEqual(['s', 't']);
  });

  it('updates the address of a peer that registers again, keeping its place', async () => {
    const tracker = new Tracker();
    await tracker.register('s', a);
    await tracker.register('s', b);
    await tracker.register('s', { ...a, port: 2001 });
    expect(await tracker.peers('s')).toEqual([{ ...a, port: 2001 }, b]);
  });

  it('forgets a peer that unregisters, ignores unknown ones, and drops empty swarms', async () => {
    const tracker = new Tracker();
    await tracker.register('s', a);
    await tracker.register('s', b);
    await tracker.unregister('s', 'a');
    await tracker.unregister('s', 'nobody');
    await tracker.unregister('nowhere', 'a');
    expect(await tracker.peers('s')).toEqual([b]);
    await tracker.unregister('s', 'b');
    expect(tracker.swarmIds()).toEqual([]);
  });

  it('keeps its own copy of an address', async () => {
    const tracker = new Tracker();
    const address = { ...a };
    await tracker.register('s', address);
    address.port = 9;
    expect(await tracker.peers('s')).toEqual([a]);
  });
});
