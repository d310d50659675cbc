/**
 * The table `npm run grade` prints when it is done: one row per submission (score, max,
 * status, failed tests), then the tests whose result changed between repeated runs.
 * Above: grade.ts; below: the reports of grader/runner/grade-submission.ts.
 */
import { quoteInline } from '../harness/untrusted-text';
import type { SubmissionReport } from '../runner/grade-submission';

/** Characters of a reason in the table: reasons can quote the submission (untrusted-text.ts). */
const MAX_REASON_CHARS = 160;

/** Failed test ids shown per row; the rest are counted (feedback.md has them all). */
const MAX_FAILED_SHOWN = 4;

function failedColumn(report: SubmissionReport): string {
  const { grade } = report;
  if (grade.status === 'invalid' || grade.status === 'compile-error') {
    return `none ran: ${quoteInline(grade.reasons[0] ?? grade.status, MAX_REASON_CHARS)}`;
  }
  const failed = grade.tests.filter((test) => !test.passed).map((test) => test.test.id);
  if (failed.length === 0) return '–';
  if (failed.length === grade.tests.length) return `all ${failed.length}`;
  const shown = failed.slice(0, MAX_FAILED_SHOWN).join(', ');
  return failed.length > MAX_FAILED_SHOWN
    ? `${shown}, … (+${failed.length - MAX_FAILED_SHOWN})`
    : shown;
}

export function renderTable(reports: readonly SubmissionReport[]): string {
  const header = ['submission', 'score', 'max', 'status', 'failed tests'];
  const rows = reports.map((report) => [
    report.submission.name,
    String(report.grade.score),
    String(report.grade.max),
    report.grade.status,
    failedColumn(report),
  ]);
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const numeric = new Set([1, 2]);
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, column) => {
        const width = widths[column] ?? 0;
        if (column === cells.length - 1) return cell;
        return numeric.has(column) ? cell.padStart(width) : cell.padEnd(width);
      })
      .join('  ');
  const out = [line(header), line(widths.map((w) => '─'.repeat(w))), ...rows.map(line)];

  const unstable = reports.flatMap((report) =>
    report.grade.tests
      .filter((test) => test.unstable)
      .map(
        (test) =>
          `  ${report.submission.name}: ${test.test.id} (${test.runs.map((r) => r.status).join(', ')})`,
      ),
  );
  if (unstable.length > 0) {
    out.push(
      '',
      'Results that changed between runs (a race in the student code?), counted as failed:',
    );
    out.push(...unstable);
  }
  const review = reports.filter((report) => report.grade.status === 'needs-review');
  if (review.length > 0) {
    out.push('', 'Needs review:');
    for (const report of review) {
      out.push(
        ...report.grade.reasons.map(
          (reason) => `  ${report.submission.name}: ${quoteInline(reason, MAX_REASON_CHARS)}`,
        ),
      );
    }
  }
  return `${out.join('\n')}\n`;
}
