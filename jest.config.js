// The kit's own test run (npm test): unit tests of the provided system (lab9/test, shipped to
// students), tests that need the reference solution (solution/test, never shipped), and the
// grader's own tests, including the grading of every sample submission (grader/test).
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  testMatch: [
    '<rootDir>/lab9/test/**/*.test.ts',
    '<rootDir>/solution/test/**/*.test.ts',
    '<rootDir>/grader/test/**/*.test.ts',
  ],
  testPathIgnorePatterns: ['/node_modules/', '/fixtures/submissions/', '/fixtures/hostile/'],
  // Jest's default bound per test, scaled by the time factor (LAB9_TIME_FACTOR, README).
  setupFilesAfterEnv: ['<rootDir>/lab9/test/helpers/jest-timeout.ts'],
};
