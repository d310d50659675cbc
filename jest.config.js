// The kit's own test run (npm test): unit tests of the provided system (lab9/test, shipped to
// students), tests that need the reference solution (solution/test, never shipped), and the
// grader's own tests (grader/test). Grading whole batches of hostile or sample submissions is
// apart (jest.grading.config.js: npm run test:hostile, npm run test:fixtures).
const { availableParallelism } = require('node:os');

/** @type {import('jest').Config} */
module.exports = {
  // Two test files at once even on 2 cores (Jest's default there is one): most of the grader's
  // tests wait on a graded run in a child process, which leaves a core idle.
  maxWorkers: Math.max(2, availableParallelism() - 1),
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  testMatch: [
    '<rootDir>/lab9/test/**/*.test.ts',
    '<rootDir>/solution/test/**/*.test.ts',
    '<rootDir>/grader/test/**/*.test.ts',
  ],
  testPathIgnorePatterns: [
    '/node_modules/',
    '/fixtures/submissions/',
    '/fixtures/hostile/',
    '<rootDir>/grader/test/fixtures\\.test\\.ts$',
    '<rootDir>/grader/test/hostile\\.test\\.ts$',
  ],
  // Jest's default bound per test, scaled by the time factor (LAB9_TIME_FACTOR, README).
  setupFilesAfterEnv: ['<rootDir>/lab9/test/helpers/jest-timeout.ts'],
};
