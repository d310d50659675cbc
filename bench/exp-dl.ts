import { BenchChild } from './harness/children';
import { Scratch } from './harness/fixtures';
import { FileManager } from '../lab9/src/storage/file-manager';
import { Tracker } from '../lab9/src/tracker/tracker';
import { Peer } from '../solution/peer';
async function main() {
  const scratch = await Scratch.create();
  const source = await scratch.source(256 * 1024 * 1024);
  const seeder = new BenchChild({
    role: 'seeder',
    storage: 'memory',
    source,
    swarmId: 's',
    fileId: 'f',
    root: scratch.runFolder(),
  });
  const { address } = await seeder.ready;
  seeder.go();
  for (let i = 0; i < Number(process.argv[2] ?? 5); i++) {
    const tracker = new Tracker();
    await tracker.register('s', address!);
    const files = new FileManager({ root: scratch.runFolder(), storage: 'memory' });
    const peer = new Peer({ tracker, files });
    await peer.start();
    const t = performance.now();
    const c = process.cpuUsage();
    const f0 = process.resourceUsage().minorPageFault;
    await peer.download('s');
    const s = (performance.now() - t) / 1000;
    const u = process.cpuUsage(c);
    console.log(
      `faults ${process.resourceUsage().minorPageFault - f0} ${(source.bytes / 1e6 / s).toFixed(0)} MB/s, cpu user ${(u.user / 1e6).toFixed(2)} sys ${(u.system / 1e6).toFixed(2)}`,
    );
    await peer.stop();
  }
  console.log('seeder', await seeder.stop());
  await seeder.close();
  await scratch.remove();
}
void main();
