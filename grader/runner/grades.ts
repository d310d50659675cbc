/**
 * The class's two grade files in the output folder. grades.csv, the detail: a row per
 * submission (submission, score, max, status, student_id, email, then the points of every rubric
 * test by id). gradebook.csv, for an LMS import: the student's identity, the total and the
 * status, nothing else (per-test columns would each become an assignment). A score withheld for
 * review (needs-review) is blank in both, never 0. Grading into a folder that already has a
 * grades.csv updates the rows of the submissions graded now and keeps every other row.
 * Below: csv-parse / csv-stringify, roster.ts. Above: report.ts writes, grade.ts checks first.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CsvError, parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import type { RubricTest } from '../rubric';
import type { SubmissionReport } from './grade-submission';
import type { Roster } from './roster';

export const GRADES_FILE = 'grades.csv';
export const GRADEBOOK_FILE = 'gradebook.csv';

/** The gradebook's status for a student on the roster with no submission graded. */
export const MISSING_STATUS = 'missing';

/** Columns of grades.csv before the per-test ones (the first four as before rosters existed). */
const LEADING = ['submission', 'score', 'max', 'status', 'student_id', 'email'] as const;
/** Columns an older grades.csv may lack (written before rosters existed); read as empty. */
const OPTIONAL = new Set(['student_id', 'email']);

/** One row of grades.csv, by column name; a blank score means withheld for review. */
export type GradeRow = Readonly<Record<string, string>>;

/** An existing grades.csv cannot be updated: the message says why and what to do. */
export class GradesFileError extends Error {
  readonly code = 'ERR_GRADES_FILE';
  override readonly name = 'GradesFileError';
}

export function gradesHeader(tests: readonly RubricTest[]): string[] {
  return [...LEADING, ...tests.map((test) => test.id)];
}

/** The row of one graded submission; `previous` gives its identity when no roster does. */
export function reportRow(
  report: SubmissionReport,
  tests: readonly RubricTest[],
  roster: Roster | null,
  previous?: GradeRow,
): GradeRow {
  const { grade } = report;
  const withheld = grade.status === 'needs-review';
  const byId = new Map(grade.tests.map((test) => [test.test.id, test.score]));
  const entry = roster?.bySubmission.get(report.submission.name);
  const row: Record<string, string> = {
    submission: report.submission.name,
    student_id: entry?.studentId ?? previous?.student_id ?? '',
    email: entry?.email ?? previous?.email ?? '',
    score: withheld ? '' : String(grade.score),
    max: String(grade.max),
    status: grade.status,
  };
  for (const test of tests) row[test.id] = withheld ? '' : String(byId.get(test.id) ?? 0);
  return row;
}

/**
 * The rows of an existing grades.csv, or [] if there is none. Refuses a file whose test columns
 * are not this rubric's: merging would put points under the wrong tests.
 */
export function readGradesCsv(outDir: string, tests: readonly RubricTest[]): GradeRow[] {
  const path = join(outDir, GRADES_FILE);
  if (!existsSync(path)) return [];
  let records: Record<string, string>[];
  try {
    records = parse(readFileSync(path, 'utf8'), {
      bom: true,
      columns: true,
      skip_empty_lines: true,
    });
  } catch (error) {
    if (error instanceof CsvError) {
      throw new GradesFileError(`${path} is not a CSV grading wrote (${error.message})`);
    }
    throw error;
  }
  const [first] = records;
  if (first === undefined) return [];
  const have = new Set(Object.keys(first));
  const want = gradesHeader(tests);
  const missing = want.filter((column) => !have.has(column) && !OPTIONAL.has(column));
  const extra = [...have].filter((column) => !want.includes(column));
  if (missing.length > 0 || extra.length > 0) {
    const diff = [
      missing.length > 0 ? `lacks ${listed(missing)}` : '',
      extra.length > 0 ? `has ${listed(extra)}, which this rubric does not` : '',
    ].filter((part) => part !== '');
    throw new GradesFileError(
      `${path} was written for another rubric: it ${diff.join(' and ')}. ` +
        'Grade into another folder (--out) or move that file away; nothing was graded.',
    );
  }
  const seen = new Set<string>();
  return records.map((record, index) => {
    const name = record.submission ?? '';
    if (name === '' || seen.has(name)) {
      throw new GradesFileError(
        `${path} line ${index + 2}: ${name === '' ? 'no submission name' : `${name} appears twice`}; fix or move the file away`,
      );
    }
    seen.add(name);
    return Object.fromEntries(want.map((column) => [column, record[column] ?? '']));
  });
}

/** Names, the first five of them and how many more. */
function listed(names: readonly string[]): string {
  const shown = names.slice(0, 5).join(', ');
  return names.length > 5 ? `${shown} and ${names.length - 5} more` : shown;
}

export interface MergedRows {
  readonly rows: readonly GradeRow[];
  readonly updated: number;
  readonly added: number;
  readonly kept: number;
}

/**
 * The previous rows with those graded now put in their place, new ones appended in grading
 * order; with a roster, every row takes its identity from it.
 */
export function mergeRows(
  previous: readonly GradeRow[],
  fresh: readonly GradeRow[],
  roster: Roster | null,
): MergedRows {
  const freshBy = new Map(fresh.map((row) => [row.submission ?? '', row]));
  const previousNames = new Set(previous.map((row) => row.submission ?? ''));
  const rows = [
    ...previous.map((row) => freshBy.get(row.submission ?? '') ?? row),
    ...fresh.filter((row) => !previousNames.has(row.submission ?? '')),
  ].map((row) => {
    const entry = roster?.bySubmission.get(row.submission ?? '');
    return entry === undefined ? row : { ...row, student_id: entry.studentId, email: entry.email };
  });
  const updated = fresh.filter((row) => previousNames.has(row.submission ?? '')).length;
  return { rows, updated, added: fresh.length - updated, kept: previous.length - updated };
}

export function gradesCsvText(rows: readonly GradeRow[], tests: readonly RubricTest[]): string {
  const header = gradesHeader(tests);
  return stringify([header, ...rows.map((row) => header.map((column) => row[column] ?? ''))]);
}

export interface Gradebook {
  /** student_id, email or submission: the first that every row has. */
  readonly idColumn: 'student_id' | 'email' | 'submission';
  readonly text: string;
  /** Roster students without a graded submission (status `missing`, total blank). */
  readonly missing: readonly string[];
}

/**
 * gradebook.csv from the rows of grades.csv: identity, total, status. With a roster, every
 * roster student has a row, in roster order, `missing` for those not graded.
 */
export function gradebook(rows: readonly GradeRow[], roster: Roster | null): Gradebook {
  const byName = new Map(rows.map((row) => [row.submission ?? '', row]));
  const all = (column: string): boolean =>
    rows.length > 0 && rows.every((row) => (row[column] ?? '') !== '');
  const idColumn =
    roster?.idColumn ?? (all('student_id') ? 'student_id' : all('email') ? 'email' : 'submission');
  const missing: string[] = [];
  const lines: string[][] = [];
  if (roster === null) {
    for (const row of rows) lines.push([row[idColumn] ?? '', row.score ?? '', row.status ?? '']);
  } else {
    for (const entry of roster.entries) {
      const row = byName.get(entry.submission);
      const id = idColumn === 'student_id' ? entry.studentId : entry.email;
      if (row === undefined) missing.push(entry.submission);
      lines.push([id, row?.score ?? '', row?.status ?? MISSING_STATUS]);
    }
  }
  return { idColumn, text: stringify([[idColumn, 'total', 'status'], ...lines]), missing };
}

/** Writes beside the target then renames: an interrupted write never leaves half a file. */
export function writeAtomically(path: string, text: string): void {
  const partial = `${path}.partial`;
  writeFileSync(partial, text);
  renameSync(partial, path);
}
