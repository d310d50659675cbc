// @ts-check
/**
 * Jest reporter for the student self-check: after the run, one line per rubric test with its
 * points, the total of the visible (public) tests, and how many hidden points remain.
 * On GitHub Actions (GITHUB_STEP_SUMMARY set; scripts/student-kit/selfcheck.yml) it also appends
 * the same as Markdown to the job summary: a table of the public tests, the total, and for each
 * failed test its first line and what was expected, happened and the likely cause.
 * Plain JS: Jest loads reporters untransformed.
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
    /** @type {{ name: string, part: string, points: number, passed: boolean, ran: boolean, message: string }[]} */
    const rows = [];
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
      rows.push({
        name: test.name,
        part: test.part,
        points: test.points,
        passed,
        ran,
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
    const summary = process.env.GITHUB_STEP_SUMMARY;
    if (summary) {
      appendFileSync(summary, jobSummary(this.rubric.lab, rows, earned, possible, hidden));
    }
  }
}

/**
 * The job summary in Markdown: a row per public test, the total, then each failure.
 * @param {string} lab
 * @param {{ name: string, part: string, points: number, passed: boolean, ran: boolean, message: string }[]} rows
 * @param {number} earned @param {number} possible @param {string} hidden
 */
function jobSummary(lab, rows, earned, possible, hidden) {
  const cell = (/** @type {string} */ text) => text.replace(/\|/g, '\\|');
  const out = [
    `## ${cell(lab)} — self-check (public tests)`,
    '',
    `**Public tests: ${earned}/${possible} points**${hidden}`,
    '',
    '| | Points | Part | Test |',
    '| --- | ---: | --- | --- |',
    ...rows.map(
      (row) =>
        `| ${row.passed ? '\u2713' : row.ran ? '\u2717' : '-'} | ${row.passed ? row.points : 0}/${row.points} | ${row.part} | ${cell(row.name)} |`,
    ),
  ];
  const failed = rows.filter((row) => !row.passed);
  if (failed.length > 0) out.push('', '### Failures', '');
  for (const row of failed) {
    const longest = Math.max(2, ...[...row.message.matchAll(/`+/g)].map((m) => m[0].length));
    const fence = '`'.repeat(longest + 1);
    out.push(
      `<details><summary>${escapeHtml(row.name)}</summary>`,
      '',
      `${fence}text`,
      row.message,
      fence,
      '',
      '</details>',
      '',
    );
  }
  return `${out.join('\n')}\n`;
}

/** @param {string} text */
function escapeHtml(text) {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Lines of a failure message the job summary shows; the full message is in the Jest output. */
const SUMMARY_MESSAGE_LINES = 12;

/**
 * A failure message cut for the job summary: its first line, then from "Expected:" on (what was
 * expected, what happened, the likely cause), skipping the replayed steps and stack frames.
 * @param {string} text
 */
function shortMessage(text) {
  const lines = stripVTControlCharacters(text).split('\n');
  const expected = lines.findIndex((line) => line.startsWith('Expected:'));
  const kept = expected > 0 ? [lines[0] ?? '', ...lines.slice(expected)] : lines;
  return kept
    .filter((line) => !/^\s+at /.test(line))
    .slice(0, SUMMARY_MESSAGE_LINES)
    .join('\n');
}

module.exports = PointsReporter;
