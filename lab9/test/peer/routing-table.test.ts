/**
 * RoutingTable (peer/routing-table.ts): routes keyed by the (swarm ID, file ID) pair, never by a
 * joined string; announcements of swarms not joined are ignored; the first announcement of a file
 * wins and a different later one is reported as a conflict; knowsSwarm and routesOf.
 */
import {
  type AnnounceMessage,
  type FileAnnouncement,
  MessageType,
} from '../../src/protocol/message-types';
import { RoutingTable, routeKey } from '../../src/peer/routing-table';
import { hashOf } from '../helpers/messages';

function file(fileId: string, seed = 0): FileAnnouncement {
  return { fileId, fileLength: 20, pieceLength: 10, pieceHashes: [hashOf(seed), hashOf(seed + 1)] };
}

function announce(...swarms: [swarmId: string, files: FileAnnouncement[]][]): AnnounceMessage {
  return {
    type: MessageType.Announce,
    swarms: swarms.map(([swarmId, files]) => ({ swarmId, files })),
  };
}

describe('RoutingTable', () => {
  it('keeps ("1", "12") and ("11", "2") as two different routes', () => {
    expect(routeKey('1', '12')).not.toBe(routeKey('11', '2'));
    const routes = new RoutingTable();
    routes.join('1');
    routes.join('11');
    routes.learn(announce(['1', [file('12', 10)]], ['11', [file('2', 20)]]));
    expect(routes.lookup('1', '12')?.pieceHashes[0]).toEqual(hashOf(10));
    expect(routes.lookup('11', '2')?.pieceHashes[0]).toEqual(hashOf(20));
    expect(routes.lookup('1', '2')).toBeUndefined();
    expect(routes.lookup('11', '12')).toBeUndefined();
  });

  it('routes the same file ID in two swarms to two different files', () => {
    const routes = new RoutingTable();
    routes.join('a');
    routes.join('b');
    routes.learn(announce(['a', [file('x.bin', 1)]], ['b', [file('x.bin', 2)]]));
    expect(routes.lookup('a', 'x.bin')).toEqual({ swarmId: 'a', ...file('x.bin', 1) });
    expect(routes.lookup('b', 'x.bin')).toEqual({ swarmId: 'b', ...file('x.bin', 2) });
  });

  it('ignores the files of swarms it has not joined', () => {
    const routes = new RoutingTable();
    routes.join('mine');
    const result = routes.learn(announce(['mine', [file('f')]], ['theirs', [file('g')]]));
    expect(result.added.map((r) => [r.swarmId, r.fileId])).toEqual([['mine', 'f']]);
    expect(routes.lookup('theirs', 'g')).toBeUndefined();
    expect(routes.knowsSwarm('theirs')).toBe(false);
  });

  it('keeps the first announcement of a file and reports a different later one as a conflict', () => {
    const routes = new RoutingTable();
    routes.join('s');
    routes.learn(announce(['s', [file('f', 1)]]));
    const again = routes.learn(announce(['s', [file('f', 1)]]));
    expect(again).toEqual({ added: [], conflicts: [] });
    const other = routes.learn(announce(['s', [file('f', 5)]]));
    expect(other).toEqual({ added: [], conflicts: [{ swarmId: 's', ...file('f', 5) }] });
    expect(routes.lookup('s', 'f')?.pieceHashes[0]).toEqual(hashOf(1));
  });

  it('knows a swarm once it has a route in it, not merely once it is joined', () => {
    const routes = new RoutingTable();
    routes.join('s');
    expect(routes.hasJoined('s')).toBe(true);
    expect(routes.knowsSwarm('s')).toBe(false);
    routes.learn(announce(['s', [file('f')]]));
    expect(routes.knowsSwarm('s')).toBe(true);
  });

  it('adds a seeded route directly, joining its swarm, without replacing a known one', () => {
    const routes = new RoutingTable();
    routes.add({ swarmId: 's', ...file('f', 1) });
    routes.add({ swarmId: 's', ...file('f', 9) });
    expect(routes.hasJoined('s')).toBe(true);
    expect(routes.lookup('s', 'f')?.pieceHashes[0]).toEqual(hashOf(1));
  });

  it('lists the routes of one swarm, and all routes, in the order they were learned', () => {
    const routes = new RoutingTable();
    routes.join('a');
    routes.join('b');
    routes.learn(announce(['a', [file('2'), file('1')]], ['b', [file('3')]]));
    routes.learn(announce(['a', [file('0')]]));
    expect(routes.routesOf('a').map((r) => r.fileId)).toEqual(['2', '1', '0']);
    expect(routes.all().map((r) => `${r.swarmId}:${r.fileId}`)).toEqual([
      'a:2',
      'a:1',
      'b:3',
      'a:0',
    ]);
  });
});
