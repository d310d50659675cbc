/**
 * Text the student's code produced (error messages, stack frames, printed lines, wire data, and
 * the review reasons that quote them), made safe to quote: capped, with control characters,
 * terminal escapes and bidi overrides shown as escapes, and for Markdown either escaped inline
 * or fenced with a fence longer than any backtick run inside. Only strings in, strings out.
 * Above: the harness's failure messages (failure.ts, format.ts), and the runner's results.json,
 * feedback.md and the CLI table, which all quote through here.
 */

/** One quoted block (a failure message, a stack): a screenful, not a log. */
export const MAX_QUOTED_CHARS = 4 * 1024;

/** Lines of one quoted block. */
export const MAX_QUOTED_LINES = 60;

/** One quoted line (a reason, a table cell, a printed line): what fits in a sentence. */
export const MAX_INLINE_CHARS = 300;

/**
 * C0 controls but tab and newline, DEL, C1 controls, and the Unicode format characters that
 * reorder or hide text (bidi overrides and isolates, zero-width joiners, BOM, line separators).
 */
const UNSAFE =
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/gu;

function escapeChar(char: string): string {
  const code = char.codePointAt(0) ?? 0;
  return code <= 0xff
    ? `\\x${code.toString(16).padStart(2, '0')}`
    : `\\u${code.toString(16).padStart(4, '0')}`;
}

/** Every unsafe character as a visible escape (`\x1b`, `\u202e`); `\r\n` becomes `\n` first. */
export function escapeControls(text: string): string {
  return text.replace(/\r\n/g, '\n').replace(UNSAFE, escapeChar);
}

/** Cuts `text` to `maxChars` and `maxLines`, saying what was cut. Never splits a surrogate pair. */
export function capText(
  text: string,
  maxChars = MAX_QUOTED_CHARS,
  maxLines = MAX_QUOTED_LINES,
): string {
  let kept = text;
  let note = '';
  const lines = kept.split('\n');
  if (lines.length > maxLines) {
    kept = lines.slice(0, maxLines).join('\n');
    note = `${lines.length - maxLines} more lines`;
  }
  if (kept.length > maxChars) {
    let end = maxChars;
    const code = kept.charCodeAt(end - 1);
    if (code >= 0xd800 && code <= 0xdbff) end -= 1;
    note = `${text.length - end} more characters`;
    kept = kept.slice(0, end);
  }
  return note === '' ? kept : `${kept}\n… [cut: ${note}]`;
}

/** A block of untrusted text as plain text (results.json, run.log excerpts): escaped and capped. */
export function quoteBlock(
  text: string,
  maxChars = MAX_QUOTED_CHARS,
  maxLines = MAX_QUOTED_LINES,
): string {
  return capText(escapeControls(text), maxChars, maxLines);
}

/** Untrusted text on one line of plain text (the CLI table, a summary line): no newline left. */
export function quoteInline(text: string, maxChars = MAX_INLINE_CHARS): string {
  const flat = escapeControls(text).replace(/\n/g, ' ⏎ ').replace(/\t/g, ' ');
  if (flat.length <= maxChars) return flat;
  let end = maxChars;
  const code = flat.charCodeAt(end - 1);
  if (code >= 0xd800 && code <= 0xdbff) end -= 1;
  return `${flat.slice(0, end)}… [cut: ${flat.length - end} more characters]`;
}

/**
 * ASCII punctuation that can open a link, an image, an HTML tag or entity, a heading, emphasis,
 * strike-through, math, a table cell or a code span; CommonMark lets each be escaped with a
 * backslash, so the text shows as written.
 */
const MARKDOWN_SPECIAL = /[\\`*_[\]<>#|~&!$]/g;

/** A list marker or numbered-item start at the beginning, which would nest a block. */
const MARKDOWN_BLOCK_START = /^(\s*\d*)([-+=.)])/;

/** Untrusted text inside a Markdown line (a list item of reasons): one line, every special escaped. */
export function markdownInline(text: string, maxChars = MAX_INLINE_CHARS): string {
  return quoteInline(text, maxChars)
    .replace(MARKDOWN_SPECIAL, (char) => `\\${char}`)
    .replace(MARKDOWN_BLOCK_START, (_, lead: string, marker: string) => `${lead}\\${marker}`);
}

/**
 * A fenced Markdown code block whose fence is longer than any backtick run in `text` (at
 * least three), so the text cannot close it; the text is escaped and capped first.
 */
export function markdownFence(
  text: string,
  maxChars = MAX_QUOTED_CHARS,
  maxLines = MAX_QUOTED_LINES,
): string {
  const body = quoteBlock(text, maxChars, maxLines);
  const longest = Math.max(2, ...[...body.matchAll(/`+/g)].map((match) => match[0].length));
  const fence = '`'.repeat(longest + 1);
  return `${fence}text\n${body}\n${fence}`;
}
