/**
 * `--roster <csv>`: who each submission belongs to. A CSV with a header row: `submission` (the
 * name grading gives a submission: its folder or archive name, as in the table) and
 * `student_id`, `email` or both; other columns (name, section…) are ignored. Checked with zod
 * before anything is graded: every line names a submission and an identity, no submission, ID or
 * email appears twice. Below: csv-parse. Above: grade.ts, which also checks that every graded
 * submission is on the roster (unknownSubmissions), and grades.ts, which writes the identities.
 */
import { readFileSync } from 'node:fs';
import { CsvError, parse } from 'csv-parse/sync';
import { z } from 'zod';

/** The roster cannot be used: the message names the file, the line and what to fix. */
export class RosterError extends Error {
  readonly code = 'ERR_ROSTER';
  override readonly name = 'RosterError';
}

export interface RosterEntry {
  readonly submission: string;
  /** Empty when the roster has no student_id column. */
  readonly studentId: string;
  /** Empty when the roster has no email column. */
  readonly email: string;
}

export interface Roster {
  /** The identity column the gradebook uses: student_id when the roster has it, else email. */
  readonly idColumn: 'student_id' | 'email';
  /** In roster order. */
  readonly entries: readonly RosterEntry[];
  readonly bySubmission: ReadonlyMap<string, RosterEntry>;
}

const Cell = z.string().trim();

/** One line of the roster, once its columns are known to be there. */
const RosterLine = z
  .object({
    submission: Cell.min(1, 'the submission name is empty'),
    student_id: Cell.optional(),
    email: z.union([z.literal(''), z.email('is not an email address')]).optional(),
  })
  .refine((line) => (line.student_id ?? '') !== '' || (line.email ?? '') !== '', {
    message: 'neither a student_id nor an email is given',
  });

const HEADER_HELP =
  'a roster is a CSV whose header names a "submission" column and a "student_id" or "email" ' +
  'column (or both), e.g. submission,student_id,email';

/** Parses and checks roster text; `file` names it in errors. */
export function parseRoster(text: string, file: string): Roster {
  let records: Record<string, string>[];
  try {
    records = parse(text, {
      bom: true,
      columns: (header: string[]) => header.map((name) => name.trim().toLowerCase()),
      skip_empty_lines: true,
      trim: true,
    });
  } catch (error) {
    if (error instanceof CsvError) throw new RosterError(`${file}: ${error.message}`);
    throw error;
  }
  const [first] = records;
  if (first === undefined) throw new RosterError(`${file} has no rows; ${HEADER_HELP}`);
  const columns = Object.keys(first);
  const hasId = columns.includes('student_id');
  const hasEmail = columns.includes('email');
  if (!columns.includes('submission') || (!hasId && !hasEmail)) {
    throw new RosterError(`${file}: the header is ${columns.join(',')}; ${HEADER_HELP}`);
  }

  const problems: string[] = [];
  const entries: RosterEntry[] = [];
  records.forEach((record, index) => {
    // Line 1 is the header.
    const line = index + 2;
    const parsed = RosterLine.safeParse(record);
    if (!parsed.success) {
      const issues = parsed.error.issues.map((issue) =>
        issue.path.length > 0 ? `${issue.path.join('.')} ${issue.message}` : issue.message,
      );
      problems.push(`line ${line}: ${issues.join('; ')}`);
      return;
    }
    if (hasId && (parsed.data.student_id ?? '') === '') {
      problems.push(`line ${line}: ${parsed.data.submission} has no student_id`);
      return;
    }
    entries.push({
      submission: parsed.data.submission,
      studentId: parsed.data.student_id ?? '',
      email: parsed.data.email ?? '',
    });
  });
  for (const [label, key] of [
    ['submission', (entry: RosterEntry) => entry.submission],
    ['student_id', (entry: RosterEntry) => entry.studentId],
    ['email', (entry: RosterEntry) => entry.email.toLowerCase()],
  ] as const) {
    for (const [value, count] of duplicates(entries.map(key))) {
      problems.push(`${label} ${value} appears ${count} times`);
    }
  }
  if (problems.length > 0) {
    throw new RosterError(`${file}:\n${problems.map((problem) => `  ${problem}`).join('\n')}`);
  }
  return {
    idColumn: hasId ? 'student_id' : 'email',
    entries,
    bySubmission: new Map(entries.map((entry) => [entry.submission, entry])),
  };
}

export function loadRoster(path: string): Roster {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new RosterError(`cannot read the roster ${path}: ${(error as Error).message}`);
  }
  return parseRoster(text, path);
}

/** Non-empty values that occur more than once, with their counts. */
function duplicates(values: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const value of values) {
    if (value !== '') counts.set(value, (counts.get(value) ?? 0) + 1);
  }
  return new Map([...counts].filter(([, count]) => count > 1));
}

/**
 * Submission names not on the roster, as an error that lists them; null when all are on it.
 * `what` names them, singular and plural: e.g. ['submission to grade', 'submissions to grade'].
 */
export function unknownSubmissions(
  roster: Roster,
  names: readonly string[],
  file: string,
  what: readonly [string, string],
): RosterError | null {
  const unknown = names.filter((name) => !roster.bySubmission.has(name));
  if (unknown.length === 0) return null;
  const shown = unknown.slice(0, 10).join(', ');
  const more = unknown.length > 10 ? ` and ${unknown.length - 10} more` : '';
  const one = unknown.length === 1;
  return new RosterError(
    `${unknown.length} ${one ? what[0] : what[1]} ${one ? 'is' : 'are'} not on the roster ${file}: ${shown}${more}. ` +
      'Add a line for each (the "submission" column holds the name the table shows), or grade without them.',
  );
}
