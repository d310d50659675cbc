/**
 * The class's grade files (grader/runner/grades.ts, roster.ts, report.ts's writeGradeFiles) and
 * the summary after the table (grader/cli/summary.ts): grades.csv read back with csv-parse,
 * a regrade that updates rows and never loses one, a withheld score left blank, the roster's
 * checks, gradebook.csv with only identity, total and status, and the statistics.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { classStats, renderSummary } from '../cli/summary';
import type { SubmissionReport } from '../runner/grade-submission';
import { GradesFileError, readGradesCsv } from '../runner/grades';
import { writeGradeFiles } from '../runner/report';
import { parseRoster, RosterError, unknownSubmissions } from '../runner/roster';
import { gradeWithoutRuns, type Grade } from '../runner/score';
import { tempDir, TWO_TESTS } from './cli-fixtures';

const TESTS = TWO_TESTS;

/** A graded report whose tests scored `points` (in TESTS order), or a status without runs. */
function report(name: string, points: readonly number[] | 'needs-review'): SubmissionReport {
  let grade: Grade;
  if (points === 'needs-review') {
    grade = { ...gradeWithoutRuns(TESTS, 'needs-review', 'a record is not signed'), withheld: 2 };
  } else {
    const tests = TESTS.map((test, i) => {
      const score = points[i] ?? 0;
      return {
        test,
        score,
        passed: score === test.points,
        runs: [],
        unstable: false,
        message: '',
        withheld: false,
      };
    });
    grade = {
      score: tests.reduce((sum, t) => sum + t.score, 0),
      max: 5,
      withheld: null,
      status: 'ok',
      reasons: [],
      tests,
      runs: [],
    };
  }
  return {
    submission: { name, path: `/subs/${name}`, kind: 'folder' },
    peerPath: 'peer.ts',
    importsRewritten: 0,
    compileErrors: [],
    grade,
    durationMs: 1,
    log: '',
    layers: [],
  };
}

function csv(path: string): string[][] {
  const rows: string[][] = parse(readFileSync(path, 'utf8'));
  return rows;
}

let tmp: { path: string; remove: () => void };
beforeEach(() => {
  tmp = tempDir('grades');
});
afterEach(() => tmp.remove());

const ROSTER = [
  'Submission,Student_ID,Email,Name',
  'alice,s1001,alice@uni.example,Alice A',
  'bob,s1002,bob@uni.example,"Bob, B."',
  'carol,s1003,carol@uni.example,Carol C',
  'dave,s1004,dave@uni.example,Dave D',
  '',
].join('\n');

describe('grades.csv and gradebook.csv', () => {
  test('grades.csv: one row per submission, points per rubric id; a withheld score is blank, not 0', () => {
    writeGradeFiles(
      tmp.path,
      [report('alice', [2, 0]), report('carol', 'needs-review')],
      TESTS,
      null,
      [],
    );
    expect(csv(join(tmp.path, 'grades.csv'))).toEqual([
      ['submission', 'score', 'max', 'status', 'student_id', 'email', 'a.one', 'b.one'],
      ['alice', '2', '5', 'ok', '', '', '2', '0'],
      ['carol', '', '5', 'needs-review', '', '', '', ''],
    ]);
    expect(csv(join(tmp.path, 'gradebook.csv'))).toEqual([
      ['submission', 'total', 'status'],
      ['alice', '2', 'ok'],
      ['carol', '', 'needs-review'],
    ]);
  });

  test('a regrade of one submission updates its row in place and keeps every other row', () => {
    const first = [report('alice', [2, 0]), report('bob', [0, 0]), report('carol', [2, 3])];
    writeGradeFiles(tmp.path, first, TESTS, null, []);
    const previous = readGradesCsv(tmp.path, TESTS);
    const { merged } = writeGradeFiles(
      tmp.path,
      [report('bob', [2, 3]), report('erin', [0, 3])],
      TESTS,
      null,
      previous,
    );
    expect(merged).toMatchObject({ updated: 1, added: 1, kept: 2 });
    expect(csv(join(tmp.path, 'grades.csv')).map((row) => row.slice(0, 4))).toEqual([
      ['submission', 'score', 'max', 'status'],
      ['alice', '2', '5', 'ok'],
      ['bob', '5', '5', 'ok'],
      ['carol', '5', '5', 'ok'],
      ['erin', '3', '5', 'ok'],
    ]);
    expect(existsSync(join(tmp.path, 'grades.csv.partial'))).toBe(false);
  });

  test('a grades.csv written before rosters existed is read, and one of another rubric refused', () => {
    writeFileSync(
      join(tmp.path, 'grades.csv'),
      'submission,score,max,status,a.one,b.one\nalice,2,5,ok,2,0\n',
    );
    expect(readGradesCsv(tmp.path, TESTS)).toEqual([
      {
        submission: 'alice',
        score: '2',
        max: '5',
        status: 'ok',
        student_id: '',
        email: '',
        'a.one': '2',
        'b.one': '0',
      },
    ]);
    writeFileSync(
      join(tmp.path, 'grades.csv'),
      'submission,score,max,status,a.one,c.two\nalice,2,5,ok,2,0\n',
    );
    expect(() => readGradesCsv(tmp.path, TESTS)).toThrow(GradesFileError);
    expect(() => readGradesCsv(tmp.path, TESTS)).toThrow(
      /was written for another rubric: it lacks b\.one and has c\.two, which this rubric does not\. Grade into another folder/,
    );
    writeFileSync(
      join(tmp.path, 'grades.csv'),
      'submission,score,max,status,a.one,b.one,c1,c2,c3,c4,c5,c6,c7\nalice,2,5,ok,2,0,,,,,,,\n',
    );
    expect(() => readGradesCsv(tmp.path, TESTS)).toThrow(
      /has c1, c2, c3, c4, c5 and 2 more, which this rubric does not/,
    );
  });

  test('with a roster: identities in grades.csv, every roster student in the gradebook, missing ones marked', () => {
    const roster = parseRoster(ROSTER, 'roster.csv');
    const { gradebook } = writeGradeFiles(
      tmp.path,
      [report('bob', [2, 3]), report('alice', 'needs-review')],
      TESTS,
      roster,
      [],
    );
    expect(csv(join(tmp.path, 'grades.csv')).map((row) => row.slice(0, 6))).toEqual([
      ['submission', 'score', 'max', 'status', 'student_id', 'email'],
      ['bob', '5', '5', 'ok', 's1002', 'bob@uni.example'],
      ['alice', '', '5', 'needs-review', 's1001', 'alice@uni.example'],
    ]);
    expect(readFileSync(join(tmp.path, 'gradebook.csv'), 'utf8')).toBe(
      [
        'student_id,total,status',
        's1001,,needs-review',
        's1002,5,ok',
        's1003,,missing',
        's1004,,missing',
        '',
      ].join('\n'),
    );
    expect(gradebook.missing).toEqual(['carol', 'dave']);
  });

  test('a regrade without the roster keeps the identities the first grading wrote', () => {
    const roster = parseRoster(ROSTER, 'roster.csv');
    writeGradeFiles(tmp.path, [report('alice', [0, 0])], TESTS, roster, []);
    writeGradeFiles(
      tmp.path,
      [report('alice', [2, 3])],
      TESTS,
      null,
      readGradesCsv(tmp.path, TESTS),
    );
    expect(csv(join(tmp.path, 'gradebook.csv'))).toEqual([
      ['student_id', 'total', 'status'],
      ['s1001', '5', 'ok'],
    ]);
  });
});

describe('the roster', () => {
  test('reads any header case, ignores extra columns, quotes and a byte-order mark', () => {
    const roster = parseRoster(`\uFEFF${ROSTER}`, 'roster.csv');
    expect(roster.idColumn).toBe('student_id');
    expect(roster.entries[1]).toEqual({
      submission: 'bob',
      studentId: 's1002',
      email: 'bob@uni.example',
    });
    const byEmail = parseRoster('submission,email\nalice,alice@uni.example\n', 'r.csv');
    expect(byEmail.idColumn).toBe('email');
  });

  test.each([
    [
      'submission,name\nalice,Alice\n',
      /the header is submission,name; a roster is a CSV whose header names/,
    ],
    ['', /has no rows/],
    ['submission,student_id\n,s1\n', /line 2: submission the submission name is empty/],
    [
      'submission,student_id,email\nalice,,\n',
      /line 2: neither a student_id nor an email is given/,
    ],
    ['submission,student_id,email\nalice,,a@x.example\n', /line 2: alice has no student_id/],
    ['submission,email\nalice,not-an-email\n', /line 2: email is not an email address/],
    [
      'submission,student_id\nalice,s1\nbob,s2\nalice,s3\ncarol,s2\n',
      /submission alice appears 2 times\n {2}student_id s2 appears 2 times/,
    ],
    ['submission,student_id\n"alice,s1\n', /roster\.csv: .*quote/i],
  ])('refuses %j, saying what is wrong and where', (text, message) => {
    expect(() => parseRoster(text, 'roster.csv')).toThrow(RosterError);
    expect(() => parseRoster(text, 'roster.csv')).toThrow(message);
  });

  test('names the submissions that are not on it', () => {
    const roster = parseRoster(ROSTER, 'roster.csv');
    const what = ['submission to grade', 'submissions to grade'] as const;
    expect(unknownSubmissions(roster, ['alice', 'bob'], 'roster.csv', what)).toBeNull();
    expect(
      unknownSubmissions(roster, ['alice', 'zed', 'Bob'], 'roster.csv', what)?.message,
    ).toMatch(/^2 submissions to grade are not on the roster roster\.csv: zed, Bob\. Add a line/);
    expect(unknownSubmissions(roster, ['zed'], 'roster.csv', what)?.message).toMatch(
      /^1 submission to grade is not on the roster/,
    );
  });
});

describe('the summary after the table', () => {
  test('counts per status, mean and median of the scored, histogram by tenths; withheld apart', () => {
    const rows = [
      ['a', '100', 'ok'],
      ['b', '95', 'ok'],
      ['c', '90', 'ok'],
      ['d', '62', 'timeout'],
      ['e', '0', 'compile-error'],
      ['f', '', 'needs-review'],
    ].map(([submission = '', score = '', status = '']) => ({
      submission,
      score,
      max: '100',
      status,
    }));
    const stats = classStats(rows);
    expect([...stats.byStatus]).toEqual([
      ['ok', 3],
      ['timeout', 1],
      ['compile-error', 1],
      ['needs-review', 1],
    ]);
    expect(stats.mean).toBe(69.4);
    expect(stats.median).toBe(90);
    expect(stats.bins).toEqual([1, 0, 0, 0, 0, 0, 1, 0, 0, 2, 1]);
    const text = renderSummary(stats, 'grades.csv: 6 submissions');
    expect(text).toContain('status        ok 3 · timeout 1 · compile-error 1 · needs-review 1');
    expect(text).toContain(
      'total         mean 69.4 · median 90 · of 100, over 5 scored · 1 withheld for review, not counted',
    );
    expect(text).toMatch(/^ +90–<100 │ █+ 2$/m);
    expect(text).toMatch(/^ +100 │ █+ 1$/m);
    expect(text).toMatch(/^ +10–<20 │$/m);
  });

  test('an even count takes the middle two for the median; nothing scored says so', () => {
    const rows = ['4', '1', '3', '2'].map((score) => ({ score, max: '5', status: 'ok' }));
    expect(classStats(rows).median).toBe(2.5);
    const none = classStats([{ score: '', max: '5', status: 'needs-review' }]);
    expect(renderSummary(none, 'x')).toContain('no score yet · 1 withheld for review');
  });
});
