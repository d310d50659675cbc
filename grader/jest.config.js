// The grader's Jest run: only the graded suites, against the Peer named by LAB9_PEER_MODULE
// (default: the student's lab9/src/peer/peer.ts). The grading CLI runs it in a sandbox copy of
// the repository; the kit runs it against solution/peer. Scores come from grader/rubric.json.
/** @type {import('jest').Config} */
module.exports = {
  rootDir: '..',
  testEnvironment: 'node',
  // The root tsconfig sets isolatedModules, so ts-jest transpiles each file without type-checking.
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.json' }] },
  testMatch: ['<rootDir>/grader/suites/**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/'],
  // Each scenario bounds its own waits and fails with a message first; the backstop is
  // SCENARIO_MS, scaled by the time factor (LAB9_TIME_FACTOR), set there.
  setupFilesAfterEnv: ['<rootDir>/grader/harness/jest-timeout.ts'],
  // Compiles the peer process's code once, before any scenario's time bound starts.
  globalSetup: '<rootDir>/grader/harness/peer-host/global-setup.ts',
  watchman: false,
};
