// The grader graded end to end on whole batches, apart from npm test because each grades about
// 30 submissions in full (4 to 5 minutes each on 2 cores). CI runs the hostile half.
//   npm run test:hostile   grades every hostile submission (fixtures/hostile.json) beside the
//                          reference: status, score, what its log shows, nothing left behind
//   npm run test:fixtures  grades every sample submission (fixtures/submissions.json) and checks
//                          each one's score, status and failing tests against the manifest
// Run both after changing a suite, the rubric, the harness or the grader.
const base = require('./jest.config.js');

/** @type {import('jest').Config} */
module.exports = {
  ...base,
  // One batch at a time: each grades 2 submissions at once, a core each.
  maxWorkers: 1,
  testMatch: ['<rootDir>/grader/test/hostile.test.ts', '<rootDir>/grader/test/fixtures.test.ts'],
  testPathIgnorePatterns: ['/node_modules/'],
};
