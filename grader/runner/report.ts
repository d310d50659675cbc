/**
 * Writes what grading produced into the output folder: grades.csv and gradebook.csv (their
 * content: grades.ts), and per submission a folder with results.json (Gradescope, results.ts),
 * feedback.md (feedback.ts) and run.log (Jest's own output, everything, for the instructor).
 * Above: grader/cli/grade.ts, after every submission is graded.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RubricTest } from '../rubric';
import { DEFAULT_FEEDBACK_MODE, type FeedbackMode, renderFeedback } from './feedback';
import type { SubmissionReport } from './grade-submission';
import {
  GRADEBOOK_FILE,
  type Gradebook,
  gradebook,
  type GradeRow,
  GRADES_FILE,
  gradesCsvText,
  mergeRows,
  type MergedRows,
  reportRow,
  writeAtomically,
} from './grades';
import { LABELS } from './isolation';
import { gradescopeResults } from './results';
import type { Roster } from './roster';

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

/**
 * run.log, for the instructor only: everything the student's files leave out (the isolation
 * layers, every reason, the withheld score), then Jest's own output of each run, whose failure
 * messages are complete whatever the feedback mode.
 */
export function instructorLog(report: SubmissionReport): string {
  const { grade } = report;
  const width = Math.max(0, ...report.layers.map((layer) => LABELS[layer.id].length));
  const lines = [
    `=== ${report.submission.name} (${report.submission.path}): ${grade.score}/${grade.max} · ${grade.status}` +
      (grade.withheld === null ? '' : ` · withheld, the verified results give ${grade.withheld}`),
    ...grade.reasons.map((reason) => `  reason: ${reason}`),
    'Isolation layers:',
    ...report.layers.map(
      (layer) =>
        `  ${layer.on ? 'on ' : 'OFF'}  ${LABELS[layer.id].padEnd(width)}  ${layer.detail}`,
    ),
    ...grade.runs.map(
      (run, i) =>
        `Run ${i + 1}: seed ${run.seed}, ${run.outcome}` +
        (run.identity === null
          ? ''
          : `, tag ${run.identity.tag}, uid ${run.identity.uid ?? '–'}, cgroup ${run.identity.cgroup ?? '–'}`),
    ),
    '',
  ];
  return `${lines.join('\n')}${report.log}`;
}

/**
 * Writes one submission's folder; called as each finishes, so an interrupted run keeps them.
 * `mode` decides what feedback.md and results.json show the student; run.log keeps everything.
 */
export function writeSubmissionReport(
  outDir: string,
  report: SubmissionReport,
  lab: string,
  mode: FeedbackMode = DEFAULT_FEEDBACK_MODE,
): void {
  const files = submissionFiles(report);
  mkdirSync(join(outDir, report.submission.name), { recursive: true });
  writeFileSync(
    join(outDir, files.results),
    `${JSON.stringify(gradescopeResults(report, mode), null, 2)}\n`,
  );
  writeFileSync(join(outDir, files.feedback), renderFeedback(report, lab, mode));
  writeFileSync(join(outDir, files.log), instructorLog(report));
}

export interface GradeFilesWritten {
  /** Every row of grades.csv: the previous ones kept, those graded now updated or added. */
  readonly merged: MergedRows;
  readonly gradebook: Gradebook;
}

/**
 * Writes grades.csv (updating the rows of `previous`, from readGradesCsv) and gradebook.csv;
 * each is replaced whole, never left half-written.
 */
export function writeGradeFiles(
  outDir: string,
  reports: readonly SubmissionReport[],
  tests: readonly RubricTest[],
  roster: Roster | null,
  previous: readonly GradeRow[],
): GradeFilesWritten {
  mkdirSync(outDir, { recursive: true });
  const before = new Map(previous.map((row) => [row.submission ?? '', row]));
  const fresh = reports.map((report) =>
    reportRow(report, tests, roster, before.get(report.submission.name)),
  );
  const merged = mergeRows(previous, fresh, roster);
  const book = gradebook(merged.rows, roster);
  writeAtomically(join(outDir, GRADES_FILE), gradesCsvText(merged.rows, tests));
  writeAtomically(join(outDir, GRADEBOOK_FILE), book.text);
  return { merged, gradebook: book };
}
