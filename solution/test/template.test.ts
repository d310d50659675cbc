/**
 * The untouched student template (lab9/src/peer/peer.ts) fails loudly and safely: a client gets
 * its socket closed and clientError names 'Peer.handleClient (9A)'; a download fails with a
 * NotImplementedError naming 'Peer.routePiece (9B)'. No crash, no hang. Kept out of lab9/test
 * because it stops being true the moment a student writes the TODOs.
 */
import { connect } from 'node:net';
import { NotImplementedError } from '../../lab9/src/errors';
import { Peer } from '../../lab9/src/peer/peer';
import { Tracker } from '../../lab9/src/tracker/tracker';
import { useCleanup } from '../../lab9/test/helpers/cleanup';
import { bounded, nextEvent } from '../../lab9/test/helpers/events';
import { FakeSeeder } from '../../lab9/test/helpers/fake-seeder';
import { ManualClock } from '../../lab9/test/helpers/manual-clock';
import { closed } from '../../lab9/test/helpers/sockets';
import { memoryStore } from '../../lab9/test/helpers/stores';

const defer = useCleanup();

async function templatePeer(tracker: Tracker): Promise<Peer> {
  const peer = new Peer({
    tracker,
    peerId: 'template',
    files: memoryStore(),
    clock: new ManualClock(),
  });
  defer(() => peer.stop());
  await peer.start();
  return peer;
}

describe('the untouched template Peer', () => {
  it("closes a client's socket and reports clientError naming 'Peer.handleClient (9A)', then serves the next the same way", async () => {
    const peer = await templatePeer(new Tracker());
    for (const client of ['first', 'second']) {
      const reported = nextEvent(peer, 'clientError', `clientError for the ${client} client`);
      const socket = connect({ host: peer.address.host, port: peer.address.port });
      defer(() => socket.destroy());
      socket.on('error', () => {});
      const [error] = await reported;
      expect(error).toBeInstanceOf(NotImplementedError);
      expect((error as Error).message).toContain('Peer.handleClient (9A)');
      await bounded(closed(socket), `the ${client} client's socket being closed`);
    }
  });

  it("fails a download with a NotImplementedError naming 'Peer.routePiece (9B)'", async () => {
    const tracker = new Tracker();
    const files = memoryStore();
    await files.seed('s', 'f.bin', Buffer.from('one small file'), { pieceLength: 4 });
    const seeder = new FakeSeeder({ peerId: 'seeder', files });
    defer(() => seeder.close());
    await tracker.register('s', await seeder.start());
    const peer = await templatePeer(tracker);

    const outcome = await bounded(
      peer.download('s').then(
        () =>
          new Error('the download resolved: routePiece is a TODO, it cannot have stored a piece'),
        (error: unknown) => error,
      ),
      'the download failing',
    );
    expect(outcome).toBeInstanceOf(NotImplementedError);
    expect((outcome as Error).message).toBe(
      'Peer.routePiece (9B) is not implemented yet: this is your TODO in lab9/src/peer/peer.ts',
    );
  });
});
