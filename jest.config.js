// The kit's own test run: unit tests of the provided system, the grader suites against the
// reference solution, and the grading of every sample submission (fixtures/).
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  testMatch: ['<rootDir>/lab9/test/**/*.test.ts', '<rootDir>/grader/test/**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/fixtures/submissions/'],
};
