/**
 * Quoting the student's text (grader/harness/untrusted-text.ts): control characters, terminal
 * escapes and bidi overrides shown as escapes, caps that say what they cut, Markdown that cannot
 * break out of its line or its fence; and the places that quote it (failure messages,
 * results.json, feedback.md, the CLI table) going through it.
 */
import { renderTable } from '../cli/table';
import { GradeFailure } from '../harness/failure';
import type { RubricTest } from '../rubric';
import { renderFeedback } from '../runner/feedback';
import { gradescopeResults } from '../runner/results';
import { gradeWithoutRuns } from '../runner/score';
import {
  capText,
  escapeControls,
  markdownFence,
  markdownInline,
  MAX_INLINE_CHARS,
  quoteBlock,
  quoteInline,
} from '../harness/untrusted-text';

describe('escapeControls', () => {
  test('shows terminal escapes, NUL, DEL, C1 controls and bidi overrides as escapes', () => {
    expect(escapeControls('a\x1b[2Jb\x00c\x7fd\x9be\u202ef\u2066g\ufeff')).toBe(
      'a\\x1b[2Jb\\x00c\\x7fd\\x9be\\u202ef\\u2066g\\ufeff',
    );
  });

  test('keeps newlines, tabs and ordinary Unicode, and turns \\r\\n into \\n and a lone \\r into an escape', () => {
    expect(escapeControls('é ✓ 日本\tx\r\ny\rz')).toBe('é ✓ 日本\tx\ny\\x0dz');
  });
});

describe('capText', () => {
  test('leaves short text alone', () => {
    expect(capText('abc', 10, 2)).toBe('abc');
  });

  test('cuts at the character limit and says how much was cut', () => {
    expect(capText('x'.repeat(25), 10, 100)).toBe(`${'x'.repeat(10)}\n… [cut: 15 more characters]`);
  });

  test('cuts at the line limit and says how many lines were cut', () => {
    expect(capText('1\n2\n3\n4\n5', 1000, 2)).toBe('1\n2\n… [cut: 3 more lines]');
  });

  test('never splits a surrogate pair', () => {
    const cut = capText(`ab${'😀'.repeat(5)}`, 3, 10);
    expect(cut.startsWith('ab\n')).toBe(true);
    expect(cut).not.toMatch(/[\ud800-\udbff](?![\udc00-\udfff])/);
  });
});

describe('quoteBlock and quoteInline', () => {
  test('a block is escaped first, then capped, so the cap counts what is shown', () => {
    expect(quoteBlock('\x1b'.repeat(100), 8, 10)).toMatch(/^(\\x1b){2}\n… \[cut/);
  });

  test('one line: newlines become a visible mark, and the line is capped', () => {
    expect(quoteInline('first\nsecond\tthird')).toBe('first ⏎ second third');
    const long = quoteInline('y'.repeat(MAX_INLINE_CHARS * 3));
    expect(long.startsWith('y'.repeat(MAX_INLINE_CHARS))).toBe(true);
    expect(long).toContain(`[cut: ${MAX_INLINE_CHARS * 2} more characters]`);
    expect(long.length).toBeLessThan(MAX_INLINE_CHARS + 40);
  });
});

describe('markdownInline', () => {
  test('a link, an image, HTML, emphasis, a code span and a table cell show as written', () => {
    const hostile = '[click](http://evil) ![x](y) <img src=x onerror=alert(1)> **b** `c` | d $e$';
    expect(markdownInline(hostile)).toBe(
      '\\[click\\](http://evil) \\!\\[x\\](y) \\<img src=x onerror=alert(1)\\> \\*\\*b\\*\\* \\`c\\` \\| d \\$e\\$',
    );
  });

  test('a heading, a list or a new paragraph cannot start: one line, markers escaped', () => {
    expect(markdownInline('# title\n\n- item')).toBe('\\# title ⏎  ⏎ - item');
    expect(markdownInline('- nested')).toBe('\\- nested');
    expect(markdownInline('12. numbered')).toBe('12\\. numbered');
  });
});

describe('markdownFence', () => {
  test('the fence is longer than any backtick run inside, so the text cannot close it', () => {
    const text = 'before\n`````\n# escaped heading\n```';
    const block = markdownFence(text);
    const lines = block.split('\n');
    expect(lines[0]).toBe('``````text');
    expect(lines[lines.length - 1]).toBe('``````');
    // No line inside is a fence of the same length or longer.
    for (const line of lines.slice(1, -1)) expect(/^`{6,}/.test(line)).toBe(false);
  });

  test('the text inside is escaped and capped too', () => {
    const block = markdownFence(`\x1b[31mred\n${'z\n'.repeat(100)}`, 1000, 5);
    expect(block).toContain('\\x1b[31mred');
    expect(block).toContain('[cut: 97 more lines]');
    expect(block.startsWith('```text\n')).toBe(true);
  });
});

describe("a failure message quoting the peer's side", () => {
  const verdict = {
    summary: 'client A got no PIECE',
    expected: 'a PIECE',
    happened: 'an ERROR \x1b]0;pwned\x07',
    likelyCause: 'handleClient does not answer',
  };

  test('escapes control characters and caps every quoted line and the number of lines', () => {
    const secret = `describe('hidden suite', () => { ${'x'.repeat(5000)} })`;
    const lines = [
      `Peer 1 reported a handleClient failure: Error: ${secret}`,
      ...Array.from({ length: 200 }, (_, i) => `    | printed ${i}\x1b[2J`),
    ];
    const failure = new GradeFailure(verdict, ['client A connects'], { lines, frames: [] });
    expect(failure.message).not.toContain('\x1b');
    expect(failure.message).not.toContain('\x07');
    expect(failure.message).toContain('\\x1b]0;pwned\\x07');
    expect(failure.message).not.toContain('x'.repeat(MAX_INLINE_CHARS + 1));
    expect(failure.message).toContain('more lines not shown');
    expect(failure.message.length).toBeLessThan(12_000);
  });
});

describe('review reasons that quote the submission', () => {
  const tests: RubricTest[] = [
    {
      id: 'a.one',
      name: 'a one',
      points: 2,
      part: '9A',
      file: 'grader/suites/a.test.ts',
      visibility: 'visible',
    },
  ];
  const reason =
    'results channel line 2 is not signed: "## You passed\n[claim](http://evil) <script>x</script>\u001b[2J"\x1b[2J\n# Score: 100';
  const report = {
    submission: { name: 'mallory', path: '/subs/mallory', kind: 'folder' as const },
    peerPath: 'lab9/src/peer/peer.ts',
    importsRewritten: 0,
    compileErrors: [],
    grade: gradeWithoutRuns(tests, 'needs-review', reason),
    durationMs: 10,
    log: '',
    layers: [],
  };

  test('feedback.md lists them as one escaped line each: no heading, link or tag of theirs', () => {
    const text = renderFeedback(report, 'Lab 9');
    const line = text.split('\n').find((l) => l.startsWith('- results channel line 2'));
    expect(line).toBeDefined();
    expect(line).toContain('\\[claim\\](http://evil) \\<script\\>');
    expect(line).toContain('⏎ \\# Score: 100');
    expect(text).not.toContain('\x1b');
    expect(text.split('\n')).not.toContain('# Score: 100');
  });

  test('results.json and the CLI table quote them on one line, without control characters', () => {
    const output = gradescopeResults(report).output;
    expect(output).not.toContain('\x1b');
    expect(output.split('\n')).not.toContain('# Score: 100');
    const table = renderTable([report]);
    expect(table).not.toContain('\x1b');
    expect(table).toContain('mallory: results channel line 2 is not signed');
    expect(table.split('\n')).not.toContain('# Score: 100');
  });
});
