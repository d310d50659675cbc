/**
 * UploadManager (peer/upload-manager.ts), the server's transport: listens on 127.0.0.1 on an
 * ephemeral port, hands every accepted socket to the handler without waiting for it, lets a
 * throwing handler cost only its own socket, and closes every open socket on close(), idempotently.
 */
import { once } from 'node:events';
import { type Socket, connect } from 'node:net';
import { NotImplementedError } from '../../src/errors';
import { UploadManager } from '../../src/peer/upload-manager';
import { useCleanup } from '../helpers/cleanup';
import { bounded } from '../helpers/events';
import { closed } from '../helpers/sockets';

const defer = useCleanup();

async function started(handler: (socket: Socket) => unknown): Promise<UploadManager> {
  const uploads = new UploadManager(handler);
  defer(() => uploads.close());
  await uploads.listen();
  return uploads;
}

function client(uploads: UploadManager): Socket {
  const socket = connect({ host: '127.0.0.1', port: uploads.port });
  defer(() => socket.destroy());
  socket.on('error', () => {}); // a reset by the server is part of these stories
  return socket;
}

/** Echoes one round trip on `socket`: proves the server side is alive and served. */
async function echoes(socket: Socket): Promise<boolean> {
  const reply = once(socket, 'data') as Promise<[Buffer]>;
  socket.write('ping');
  const [data] = await bounded(reply, 'the echo reply');
  return data.toString() === 'ping';
}

describe('UploadManager', () => {
  it('listens on 127.0.0.1, on a port the OS picked', async () => {
    const uploads = new UploadManager(() => {});
    defer(() => uploads.close());
    const port = await uploads.listen();
    expect(port).toBeGreaterThan(0);
    expect({ host: uploads.host, port: uploads.port }).toEqual({ host: '127.0.0.1', port });
    await expect(Promise.resolve().then(() => uploads.listen())).rejects.toThrow(TypeError);
  });

  it("hands client B to the handler while client A's handler has not finished", async () => {
    const handled: Socket[] = [];
    let bothHandled: () => void = () => {};
    const both = new Promise<void>((resolve) => (bothHandled = resolve));
    const uploads = await started((socket) => {
      handled.push(socket);
      if (handled.length === 2) bothHandled();
      return new Promise(() => {}); // this handler never finishes
    });
    client(uploads);
    client(uploads);
    await bounded(
      both,
      'the handler being called for client B while A was still being handled ' +
        '(is the UploadManager awaiting each handler before accepting the next?)',
    );
    expect(uploads.clientCount).toBe(2);
  });

  it('destroys only the socket whose handler threw or rejected, and reports handlerError', async () => {
    let accepted = 0;
    const uploads = await started((socket) => {
      accepted += 1;
      if (accepted === 1) throw new Error('handler 1 threw');
      if (accepted === 2) return Promise.reject(new Error('handler 2 rejected'));
      socket.pipe(socket);
      return undefined;
    });
    const errors: string[] = [];
    uploads.on('handlerError', (error) => errors.push((error as Error).message));

    const first = client(uploads);
    await bounded(closed(first), 'client 1 being closed after its handler threw');
    const second = client(uploads);
    await bounded(closed(second), 'client 2 being closed after its handler rejected');
    expect(errors).toEqual(['handler 1 threw', 'handler 2 rejected']);
    expect(await echoes(client(uploads))).toBe(true);
  });

  it('swallows a kit error of a handler when nobody listens for handlerError', async () => {
    let accepted = 0;
    const uploads = await started((socket) => {
      accepted += 1;
      if (accepted === 1) throw new NotImplementedError('Peer.handleClient (9A)');
      socket.pipe(socket);
      return undefined;
    });
    await bounded(closed(client(uploads)), 'client 1 being closed');
    expect(await echoes(client(uploads))).toBe(true);
  });

  it('destroys every open client socket on close(), and a second close() is the same', async () => {
    let bothHandled: () => void = () => {};
    const both = new Promise<void>((resolve) => (bothHandled = resolve));
    let handled = 0;
    const uploads = await started(() => {
      if (++handled === 2) bothHandled();
    });
    const a = client(uploads);
    const b = client(uploads);
    await bounded(both, 'both clients being handed to the handler');
    const closing = uploads.close();
    expect(uploads.close()).toBe(closing);
    await bounded(closing, 'close() resolving');
    await bounded(Promise.all([closed(a), closed(b)]), 'both clients seeing their socket closed');
    expect(uploads.clientCount).toBe(0);
  });

  it('closes cleanly when it never listened', async () => {
    const uploads = new UploadManager(() => {});
    await expect(uploads.close()).resolves.toBeUndefined();
  });
});
