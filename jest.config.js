// The kit's own test run (npm test): unit tests of the provided system (lab9/test, shipped to
// students), tests that need the reference solution (solution/test, never shipped), and the
// grader's own tests (grader/test), the hostile submissions among them. The scores of the sample
// submissions against their manifest are checked apart, by npm run test:fixtures
// (jest.fixtures.config.js): about 5 minutes of grading that CI's time budget leaves out.
/** @type {import('jest').Config} */
module.exports = {
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
  ],
  // Jest's default bound per test, scaled by the time factor (LAB9_TIME_FACTOR, README).
  setupFilesAfterEnv: ['<rootDir>/lab9/test/helpers/jest-timeout.ts'],
};
