/**
 * Run by peer-host.test.ts in a process of its own, started with two extra pipes on fd 3 and
 * fd 4 that are not close-on-exec (as the Jest process has its results channel on fd 3): starts
 * a peer process, waits until it answers, and prints what /proc shows of it: where each of its
 * descriptors leads, the targets of its own fd 3 and 4, and its environment.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { PeerHost } from '../harness/peer-host/host';

async function main(): Promise<void> {
  const host = new PeerHost();
  await host.request('ping', {});
  const pid = host.pid as number;
  const fds = Object.fromEntries(
    readdirSync(`/proc/${pid}/fd`).map((fd) => [fd, readlinkSync(`/proc/${pid}/fd/${fd}`)]),
  );
  const inherited = [3, 4].map((fd) => readlinkSync(`/proc/self/fd/${fd}`));
  const environ = readFileSync(`/proc/${pid}/environ`, 'latin1');
  process.stdout.write(JSON.stringify({ fds, inherited, environ }));
  await host.close();
}

void main();
