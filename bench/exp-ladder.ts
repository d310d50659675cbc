import { connect, createServer, type AddressInfo } from 'node:net';
import { fork } from 'node:child_process';
import { encodeFrameChunks } from '../lab9/src/protocol/frame-codec';
import { FrameDecoder } from '../lab9/src/protocol/frame-decoder';
import { MessageType } from '../lab9/src/protocol/message-types';
import { sha256 } from '../lab9/src/storage/piece-hash';
const P = 256 * 1024,
  N = 1024;
if (process.argv[2] === 'source') {
  const data = Buffer.alloc(N * P, 7);
  const s = connect(
    { port: Number(process.argv[3]), host: '127.0.0.1', noDelay: true },
    async () => {
      for (let i = 0; i < N; i++) {
        s.cork();
        let ok = true;
        for (const c of encodeFrameChunks({
          type: MessageType.Piece,
          swarmId: 's',
          fileId: 'f',
          index: i,
          data: data.subarray(i * P, (i + 1) * P),
        }))
          ok = s.write(c);
        s.uncork();
        if (!ok) await new Promise((r) => s.once('drain', r));
      }
      s.end();
    },
  );
} else {
  const mode = process.argv[2];
  const store = mode === 'store' ? Buffer.alloc(N * P) : undefined;
  const server = createServer((sock) => {
    const t = performance.now();
    const c = process.cpuUsage();
    let bytes = 0;
    const dec = new FrameDecoder();
    sock.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      if (mode === 'count') return;
      for (const f of dec.push(chunk)) {
        if (!f.ok || f.message.type !== MessageType.Piece) throw new Error('bad');
        if (mode === 'decode') continue;
        sha256(f.message.data);
        if (store) f.message.data.copy(store, f.message.index * P);
      }
    });
    sock.on('end', () => {
      const s = (performance.now() - t) / 1000;
      const u = process.cpuUsage(c);
      console.log(
        mode.padEnd(7),
        (bytes / 1e6 / s).toFixed(0),
        'MB/s; sink cpu',
        ((u.user + u.system) / 1e6).toFixed(2),
        's (sys',
        (u.system / 1e6).toFixed(2),
        ')',
      );
      process.exit(0);
    });
  });
  server.listen(0, '127.0.0.1', () => {
    fork(__filename, ['source', String((server.address() as AddressInfo).port)], {
      execArgv: ['--require', 'tsx/cjs'],
    });
  });
}
