import { transfer } from './scenarios';
import { Scratch } from './harness/fixtures';
async function main() {
  const scratch = await Scratch.create();
  const [s, p, n, mib, storage] = process.argv.slice(2);
  try {
    for (let i = 0; i < 2; i++)
      console.log(
        await transfer(scratch, {
          seeders: Number(s),
          processes: Number(p),
          peersPerProcess: Number(n),
          storage: storage as 'memory',
          bytes: Number(mib) * 1024 * 1024,
        }),
      );
  } finally {
    await scratch.remove();
  }
}
void main();
