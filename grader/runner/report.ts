/**
 * Writes what grading produced into the output folder: grades.csv (one row per submission, one
 * column of points per rubric test id), and per submission a folder with results.json
 * (Gradescope, results.ts), feedback.md (feedback.ts) and run.log (Jest's own output).
 * Above: grader/cli/grade.ts, after every submission is graded.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'csv-stringify/sync';
import type { RubricTest } from '../rubric';
import { renderFeedback } from './feedback';
import type { SubmissionReport } from './grade-submission';
import { gradescopeResults } from './results';

/** Files written for one submission, relative to the output folder. */
export function submissionFiles(report: SubmissionReport): {
  results: string;
  feedback: string;
  log: string;
} {
  const dir = report.submission.name;
  return {
    results: join(dir, 'results.json'),
    feedback: join(dir, 'feedback.md'),
    log: join(dir, 'run.log'),
  };
}

export function gradesCsv(
  reports: readonly SubmissionReport[],
  tests: readonly RubricTest[],
): string {
  const header = ['submission', 'score', 'max', 'status', ...tests.map((test) => test.id)];
  const rows = reports.map((report) => {
    const byId = new Map(report.grade.tests.map((grade) => [grade.test.id, grade.score]));
    return [
      report.submission.name,
      report.grade.score,
      report.grade.max,
      report.grade.status,
      ...tests.map((test) => byId.get(test.id) ?? 0),
    ];
  });
  return stringify([header, ...rows]);
}

/** Writes one submission's folder; called as each finishes, so an interrupted run keeps them. */
export function writeSubmissionReport(outDir: string, report: SubmissionReport, lab: string): void {
  const files = submissionFiles(report);
  mkdirSync(join(outDir, report.submission.name), { recursive: true });
  writeFileSync(
    join(outDir, files.results),
    `${JSON.stringify(gradescopeResults(report), null, 2)}\n`,
  );
  writeFileSync(join(outDir, files.feedback), renderFeedback(report, lab));
  writeFileSync(join(outDir, files.log), report.log);
}

export function writeGradesCsv(
  outDir: string,
  reports: readonly SubmissionReport[],
  tests: readonly RubricTest[],
): void {
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, 'grades.csv'), gradesCsv(reports, tests));
}
