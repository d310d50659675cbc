import { transfer } from './scenarios';
import { Scratch } from './harness/fixtures';
async function main() {
  const scratch = await Scratch.create();
  const n = Number(process.argv[2]);
  const t = performance.now();
  try {
    console.log(
      await transfer(scratch, {
        seeders: 1,
        processes: 1,
        peersPerProcess: n,
        storage: 'memory',
        bytes: Number(process.argv[3]) * 1024 * 1024,
      }),
    );
  } finally {
    console.log('took', ((performance.now() - t) / 1000).toFixed(1));
    await scratch.remove();
  }
}
void main();
