// @ts-check
/**
 * Jest reporter for the student self-check: after the run, one line per rubric test with its
 * points, the total of the visible (public) tests, and how many hidden points remain.
 * With LAB9_CLASSROOM=1 and GITHUB_OUTPUT set (GitHub Actions), it also writes the step output
 * `result`: base64 of `{ version: 1, status: 'pass' | 'fail', max_score, tests: [{ name, status:
 * 'pass' | 'fail', score, message }] }`, what classroom-resources/autograding-grading-reporter@v1
 * reads (see scripts/student-kit/classroom.yml). Plain JS: Jest loads reporters untransformed.
 */
'use strict';
const { appendFileSync, readFileSync } = require('node:fs');
const { join } = require('node:path');
const { stripVTControlCharacters } = require('node:util');

/** @typedef {{ id: string, name: string, points: number, part: string }} RubricTest */
/** @typedef {{ lab: string, hiddenTests?: number, hiddenPoints?: number, suites: { file: string, visibility: string, tests: RubricTest[] }[] }} Rubric */

class PointsReporter {
  /** @param {{ rootDir: string }} globalConfig */
  constructor(globalConfig) {
    /** @type {Rubric} */
    this.rubric = JSON.parse(
      readFileSync(join(globalConfig.rootDir, 'grader', 'rubric.json'), 'utf8'),
    );
    /** @type {Map<string, { status: string, message: string }>} */
    this.results = new Map();
  }

  /** @param {unknown} _test @param {{ testResults: { fullName: string, status: string, failureMessages: string[] }[] }} result */
  onTestResult(_test, result) {
    for (const assertion of result.testResults) {
      this.results.set(assertion.fullName, {
        status: assertion.status,
        message: assertion.failureMessages.join('\n'),
      });
    }
  }

  onRunComplete() {
    const tests = this.rubric.suites.flatMap((suite) => suite.tests);
    let earned = 0;
    let possible = 0;
    const lines = [];
    /** @type {{ name: string, status: string, score: number, message: string }[]} */
    const classroomTests = [];
    for (const test of tests) {
      const result = this.results.get(test.name);
      const passed = result?.status === 'passed';
      const ran =
        result !== undefined && result.status !== 'pending' && result.status !== 'skipped';
      possible += test.points;
      if (passed) earned += test.points;
      const mark = passed ? '\u2713' : ran ? '\u2717' : '-';
      const score = `${passed ? test.points : 0}/${test.points}`.padStart(5);
      lines.push(
        `  ${mark} ${score}  ${test.part.padEnd(5)} ${test.name}${ran ? '' : '  (not run)'}`,
      );
      classroomTests.push({
        name: test.name,
        status: passed ? 'pass' : 'fail',
        score: passed ? test.points : 0,
        message: passed ? '' : shortMessage(result?.message ?? 'not run'),
      });
    }
    const hiddenPoints = this.rubric.hiddenPoints ?? 0;
    const hiddenTests = this.rubric.hiddenTests;
    const hidden =
      hiddenPoints > 0
        ? ` · ${hiddenTests === undefined ? '' : `${hiddenTests} `}hidden tests worth ` +
          `${hiddenPoints} more points run after you submit`
        : '';
    process.stdout.write(
      `\n${this.rubric.lab} — self-check (public tests)\n${lines.join('\n')}\n` +
        `  Public tests: ${earned}/${possible} points${hidden}\n\n`,
    );
    const output = process.env.GITHUB_OUTPUT;
    if (process.env.LAB9_CLASSROOM === '1' && output) {
      const payload = {
        version: 1,
        status: earned === possible ? 'pass' : 'fail',
        max_score: possible,
        tests: classroomTests,
      };
      appendFileSync(output, `result=${Buffer.from(JSON.stringify(payload)).toString('base64')}\n`);
    }
  }
}

/** Lines of a failure message the Classroom log shows; the full message is in the Jest output. */
const CLASSROOM_MESSAGE_LINES = 12;

/**
 * A failure message cut for the Classroom log: its first line, then from "Expected:" on (what
 * was expected, what happened, the likely cause), skipping the replayed steps and stack frames.
 * @param {string} text
 */
function shortMessage(text) {
  const lines = stripVTControlCharacters(text).split('\n');
  const expected = lines.findIndex((line) => line.startsWith('Expected:'));
  const kept = expected > 0 ? [lines[0] ?? '', ...lines.slice(expected)] : lines;
  return kept
    .filter((line) => !/^\s+at /.test(line))
    .slice(0, CLASSROOM_MESSAGE_LINES)
    .join('\n');
}

module.exports = PointsReporter;
