/**
 * Two ends of one real TCP connection on 127.0.0.1 (port 0), for tests of code that takes any
 * Duplex. Both ends and the listening server are torn down by the test's cleanup.
 */
import { once } from 'node:events';
import { type AddressInfo, type Socket, connect, createServer } from 'node:net';
import type { Defer } from './cleanup';
import { bounded } from './events';

export interface SocketPair {
  /** The end that connected. */
  readonly client: Socket;
  /** The end the server accepted. */
  readonly server: Socket;
}

export async function tcpPair(defer: Defer): Promise<SocketPair> {
  const listener = createServer({ noDelay: true });
  defer(() => new Promise((resolve) => listener.close(resolve)));
  listener.listen(0, '127.0.0.1');
  await once(listener, 'listening');
  const accepted = once(listener, 'connection') as Promise<[Socket]>;
  const { port } = listener.address() as AddressInfo;
  const client = connect({ host: '127.0.0.1', port, noDelay: true });
  defer(() => client.destroy());
  const [server] = await bounded(accepted, 'the server accepting the test connection');
  defer(() => server.destroy());
  return { client, server };
}

/** Resolves once `socket` has closed, however that happened. */
export function closed(socket: Socket): Promise<void> {
  if (socket.closed) return Promise.resolve();
  return once(socket, 'close').then(() => undefined);
}
