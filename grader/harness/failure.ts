/**
 * What a failing scenario tells the student: the steps so far, what was expected, what happened,
 * what the peer under test reported (errors, crash, output), and the likely cause in their code.
 * Below: nothing but strings. Above: world.ts, which gathers the peer's side before throwing.
 */

/** The steps of one scenario, in order, as the failure message replays them. */
export class Story {
  readonly #steps: string[] = [];

  step(text: string): void {
    this.#steps.push(text);
  }

  get steps(): readonly string[] {
    return this.#steps;
  }
}

/** What a check says when it fails; every field is a sentence for the student. */
export interface Verdict {
  /** First line: what did not happen, e.g. "client B got no PIECE within 3000 ms". */
  readonly summary: string;
  readonly expected: string;
  readonly happened: string;
  /** The most likely mistake in lab9/src/peer/peer.ts that leads here. */
  readonly likelyCause: string;
}

/** Steps replayed in a message; older ones are summarised, the end of a story matters most. */
const SHOWN_STEPS = 14;

/** What the peer under test showed: lines for the message, stack frames in the student's code. */
export interface PeerSide {
  readonly lines: readonly string[];
  /** `at Peer.handleClient (lab9/src/peer/peer.ts:51:11)`: Jest shows the first with its code. */
  readonly frames: readonly string[];
}

/**
 * A failed check, with a message that teaches. Its stack holds only the frames worth reading:
 * where the student's code threw, if it did, then the suite line of the failed story.
 */
export class GradeFailure extends Error {
  readonly verdict: Verdict;

  /**
   * @param steps `null` for a failure of the whole submission (it never loads, a TODO is not
   *   written, it never writes a byte): the message is then the same, word for word, in every
   *   test it fails, with no steps and no suite line, so feedback can say it once.
   */
  constructor(verdict: Verdict, steps: readonly string[] | null, peerSide: PeerSide) {
    super(
      steps === null
        ? composeWholeMessage(verdict, peerSide.lines)
        : composeMessage(verdict, steps, peerSide.lines),
    );
    this.name = 'GradeFailure';
    this.verdict = verdict;
    const suiteFrames = (steps === null ? '' : (new Error().stack ?? ''))
      .split('\n')
      .filter((line) => line.includes('/grader/suites/'));
    const frames = [...peerSide.frames.map((frame) => `    ${frame}`), ...suiteFrames];
    this.stack = [`${this.name}: ${this.message}`, ...frames].join('\n');
  }
}

function composeWholeMessage(verdict: Verdict, peerSide: readonly string[]): string {
  return [
    verdict.summary,
    '',
    `Expected: ${verdict.expected}`,
    `Happened: ${verdict.happened}`,
    ...peerSide,
    `Likely cause: ${verdict.likelyCause}`,
  ].join('\n');
}

function composeMessage(
  verdict: Verdict,
  steps: readonly string[],
  peerSide: readonly string[],
): string {
  const lines = [verdict.summary, '', 'Steps so far:'];
  const skipped = Math.max(0, steps.length - SHOWN_STEPS);
  if (skipped > 0) lines.push(`  (${skipped} earlier steps)`);
  steps.slice(skipped).forEach((step, i) => lines.push(`  ${skipped + i + 1}. ${step}`));
  if (steps.length === 0) lines.push('  (none)');
  lines.push(`Expected: ${verdict.expected}`, `Happened: ${verdict.happened}`);
  for (const line of peerSide) lines.push(line);
  lines.push(`Likely cause: ${verdict.likelyCause}`);
  return lines.join('\n');
}
