// npm run test:fixtures: grades every sample submission (fixtures/submissions.json) and checks
// each one's score, status and failing tests against the manifest. Apart from npm test because it
// grades 30 submissions in full (about 5 minutes on 2 cores); run it after changing a suite, the
// rubric, the harness or the grader.
const base = require('./jest.config.js');

/** @type {import('jest').Config} */
module.exports = {
  ...base,
  testMatch: ['<rootDir>/grader/test/fixtures.test.ts'],
  testPathIgnorePatterns: ['/node_modules/'],
};
