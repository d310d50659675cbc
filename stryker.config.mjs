// Mutation testing of the reference solution against the graded suites (npm run mutation).
// Each mutant of solution/peer.ts must make at least one graded scenario fail; docs/mutation.md
// has the measured score and the reason for every mutant that survives.
//
// The Peer under test never runs in Jest's own realm: the harness loads it in a peer host
// (grader/harness/peer-host/), which the instrumented code cannot reach through Jest's globals.
// What reaches it is the environment: the Jest runner sets __STRYKER_ACTIVE_MUTANT__ in its
// process.env before each run, the host inherits it, and the instrumented peer.ts reads it the
// first time a mutant switch runs there. Hence coverageAnalysis 'off' (coverage counted in the
// host would never reach Jest, so every mutant would look uncovered) and no findRelatedTests
// (the host loads the peer by path at run time, so Jest's module graph never names it).

import { rmSync } from 'node:fs';

// The sandbox of the previous run is kept for npm run mutation:check; a new run starts clean.
rmSync('.stryker-tmp', { recursive: true, force: true });

// The suites test whichever Peer this names; mutating solution/peer.ts only makes sense there.
process.env.LAB9_PEER_MODULE = 'solution/peer';

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  mutate: ['solution/peer.ts'],
  testRunner: 'jest',
  jest: {
    configFile: 'grader/jest.config.js',
    enableFindRelatedTests: false,
  },
  coverageAnalysis: 'off',
  // Mutants of behaviour the contract leaves open (backpressure) are Ignored, with the reason.
  plugins: ['@stryker-mutator/jest-runner', './scripts/mutation-ignorer.mjs'],
  ignorers: ['lab9-contract'],
  // Below this the run fails: a score that low means mutants no longer reach the peer.
  thresholds: { high: 90, low: 80, break: 80 },
  // Two slow shared cores: two sandboxes at once, each running the suites in band.
  concurrency: 2,
  // Stryker's limit is the dry run's time x 1.5 + this. On a busy machine runs that fail no test
  // can still pass it: npm run mutation:check re-runs every "Timeout" alone (docs/mutation.md).
  timeoutMS: 20_000,
  timeoutFactor: 1.5,
  reporters: ['progress-append-only', 'clear-text', 'html', 'json'],
  htmlReporter: { fileName: 'reports/mutation/index.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  tempDirName: '.stryker-tmp',
  // Kept for npm run mutation:check, which re-runs single mutants in it.
  cleanTempDir: false,
};
