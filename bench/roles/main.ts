/**
 * Entry point of every bench child process: reads the role spec from argv and plays that role.
 * Started by harness/children.ts as `node --require tsx/cjs bench/roles/main.ts '<spec>'`
 * with an IPC channel; never run by hand.
 */
import { readSpec } from './child-io';
import { runFramesSink, runFramesSource } from './frames';
import { runDownloaders, runSeeder } from './peers';
import { runRawSink, runRawSource } from './raw';
import { runSwarm } from './swarm';

const spec = readSpec();
switch (spec.role) {
  case 'raw-sink':
    void runRawSink(spec);
    break;
  case 'raw-source':
    void runRawSource(spec);
    break;
  case 'frames-sink':
    void runFramesSink(spec);
    break;
  case 'frames-source':
    void runFramesSource(spec);
    break;
  case 'seeder':
    void runSeeder(spec);
    break;
  case 'downloaders':
    void runDownloaders(spec);
    break;
  case 'swarm':
    void runSwarm(spec);
    break;
  default: {
    const unknown: never = spec;
    throw new TypeError(`unknown bench role ${JSON.stringify(unknown)}`);
  }
}
