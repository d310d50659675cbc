/**
 * feedback.md: what a student (or the TA reading over their shoulder) needs from one grading:
 * the score, how the run ended, compiler messages if it did not compile, then every test with
 * its points and, for a failure, the suite's teaching message. report.ts writes it.
 */
import { markdownFence, markdownInline } from '../harness/untrusted-text';
import type { SubmissionReport } from './grade-submission';
import { LABELS } from './isolation';
import type { SubmissionStatus, TestGrade } from './score';

/** Lines of one failure message shown; the rest is in results.json and run.log. */
const MAX_MESSAGE_LINES = 60;

const STATUS_TEXT: Record<SubmissionStatus, string> = {
  ok: 'ok: the suites ran to the end',
  'compile-error': 'compile error: peer.ts does not compile, so no test ran',
  invalid: 'not graded: no gradable peer.ts in the submission',
  timeout: 'timeout: the run was stopped at the time limit; tests that had not finished score 0',
  'memory-limit': 'memory limit: the run was stopped for using too much memory',
  'output-limit': 'output limit: the run was stopped for printing too much',
  crashed: 'crashed: the test run ended before it completed',
  'needs-review':
    'needs review: some results could not be trusted; the score is withheld until a person checks them',
};

/** Escaped, capped and fenced longer than any backtick run inside (untrusted-text.ts). */
function fenced(text: string): string {
  return markdownFence(text, 16 * 1024, MAX_MESSAGE_LINES + 1);
}

function shortened(message: string): string {
  const lines = message.split('\n');
  if (lines.length <= MAX_MESSAGE_LINES) return message;
  return [
    ...lines.slice(0, MAX_MESSAGE_LINES),
    `… (${lines.length - MAX_MESSAGE_LINES} more lines)`,
  ].join('\n');
}

function testLine(grade: TestGrade): string {
  const mark = grade.withheld
    ? '… withheld'
    : grade.passed
      ? '✓ passed'
      : grade.runs.length === 0
        ? '– not run'
        : '✗ failed';
  const hidden = grade.test.visibility === 'hidden' ? ' · hidden test' : '';
  return `- ${mark} · **${grade.score}/${grade.test.points}** · ${grade.test.name} (\`${grade.test.id}\`, ${grade.test.part}${hidden})`;
}

export function renderFeedback(report: SubmissionReport, lab: string): string {
  const { grade } = report;
  const score =
    grade.withheld === null
      ? `**Score: ${grade.score} / ${grade.max}**`
      : `**Score: withheld until review** (the verified results alone give ${grade.withheld} / ${grade.max})`;
  const out: string[] = [
    `# ${lab} — ${report.submission.name}`,
    '',
    score,
    '',
    `- Outcome: ${STATUS_TEXT[grade.status]}`,
  ];
  if (report.peerPath !== null) {
    const rewritten =
      report.importsRewritten > 0
        ? ` (${report.importsRewritten} import${report.importsRewritten === 1 ? '' : 's'} of \`lab9/src/\` rewritten to sit at lab9/src/peer/peer.ts)`
        : '';
    out.push(`- Graded file: ${markdownInline(report.peerPath)}${rewritten}`);
  }
  for (const [index, run] of grade.runs.entries()) {
    const label = grade.runs.length > 1 ? `Run ${index + 1} of ${grade.runs.length}` : 'Run';
    out.push(`- ${label}, seed ${run.seed}: ${run.outcome}, ${markdownInline(run.reason)}`);
  }
  if (grade.status !== 'ok' && grade.reasons.length > 0) {
    out.push(
      '',
      '## Why the outcome is not "ok"',
      '',
      ...grade.reasons.map((r) => `- ${markdownInline(r)}`),
    );
  }
  if (report.compileErrors.length > 0) {
    out.push('', '## Compiler messages', '', fenced(report.compileErrors.join('\n')));
  }
  const unstable = grade.tests.filter((t) => t.unstable);
  if (unstable.length > 0) {
    out.push(
      '',
      '## Results that changed between runs',
      '',
      'These tests passed in some runs and failed in others (different seeds change how data is',
      'split and in which order things happen): usually a race in the code. A test counts as',
      'passed only if it passed in every run.',
      '',
      ...unstable.map(
        (t) => `- ${t.test.name}: ${t.runs.map((r, i) => `run ${i + 1} ${r.status}`).join(', ')}`,
      ),
    );
  }
  const passed = grade.tests.filter((t) => t.passed).length;
  out.push('', `## Tests (${passed} of ${grade.tests.length} passed)`, '');
  for (const test of grade.tests) {
    out.push(testLine(test));
    // A submission that never ran has one reason for all, given above.
    if (!test.passed && test.runs.length > 0) out.push('', fenced(shortened(test.message)), '');
  }
  out.push(
    '',
    '## How this was run',
    '',
    'Each run had its own fresh copy of the kit, with only your peer.ts from your submission.',
    'Isolation layers on the grading machine:',
    '',
    ...report.layers.map(
      (layer) => `- ${layer.on ? 'on' : '**off**'} · ${LABELS[layer.id]}: ${layer.detail}`,
    ),
  );
  return `${out.join('\n').replace(/\n{3,}/g, '\n\n')}\n`;
}
