/**
 * Grades one submission from start to end: takes its peer.ts (submission.ts), type-checks it
 * in a sandbox (typecheck.ts), runs the suites once per seed, each run in a fresh sandbox
 * (run-jest.ts), and scores the runs (score.ts). Never throws for anything a submission does:
 * every way it can go wrong ends as a status and feedback.
 * Above: grader/cli/grade.ts runs several of these at once; report.ts writes what they return.
 */
import type { RubricTest } from '../rubric';
import type { ChildLimits } from './child';
import type { Isolation, Layer } from './isolation';
import { type JestRun, runJest } from './run-jest';
import { createSandbox } from './sandbox';
import { type Grade, gradeRuns, gradeWithoutRuns } from './score';
import { readPeerFile, rewriteKitImports, type Submission } from './submission';
import { typecheck } from './typecheck';

export interface GradeSettings {
  readonly kitRoot: string;
  readonly tests: readonly RubricTest[];
  /** One run per seed, in this order. */
  readonly seeds: readonly number[];
  readonly limits: ChildLimits;
  /** V8 heap limit of each Node process of a run. */
  readonly heapMib: number;
  /** Absolute folders never copied into a sandbox (the grades output, when inside the kit). */
  readonly sandboxExcludes: readonly string[];
  /** The isolation layers found at start; every run of every submission uses them. */
  readonly isolation: Isolation;
  /** Leave sandboxes on disk for debugging the grader. @default false */
  readonly keepSandboxes?: boolean;
  /** Called after each run (and once for a submission that does not get to run). */
  readonly onRunFinished?: (submission: Submission, run: JestRun | null) => void;
}

export interface SubmissionReport {
  readonly submission: Submission;
  /** Where peer.ts was found in the submission; null if it was not. */
  readonly peerPath: string | null;
  /** Imports of `…/lab9/src/…` rewritten to resolve in the sandbox. */
  readonly importsRewritten: number;
  /** Compiler messages, `file:line:col - error TSnnnn: message`; empty if it compiled. */
  readonly compileErrors: readonly string[];
  readonly grade: Grade;
  readonly durationMs: number;
  /** Jest's own output of every run, capped, for the TA. */
  readonly log: string;
  /** The isolation layers the submission was graded in, on and off. */
  readonly layers: readonly Layer[];
}

export async function gradeSubmission(
  submission: Submission,
  settings: GradeSettings,
): Promise<SubmissionReport> {
  const started = Date.now();
  const report = (
    parts: Omit<SubmissionReport, 'submission' | 'durationMs' | 'layers'>,
  ): SubmissionReport => ({
    submission,
    durationMs: Date.now() - started,
    layers: settings.isolation.layers,
    ...parts,
  });
  const skipped = (): void => {
    for (let i = 0; i < settings.seeds.length; i += 1) settings.onRunFinished?.(submission, null);
  };

  const peer = await readPeerFile(submission);
  if (!peer.ok) {
    skipped();
    return report({
      peerPath: null,
      importsRewritten: 0,
      compileErrors: [],
      grade: gradeWithoutRuns(settings.tests, 'invalid', peer.reason),
      log: '',
    });
  }
  const { text, rewritten } = rewriteKitImports(peer.source);

  const checkBox = createSandbox(settings.kitRoot, text, settings.sandboxExcludes);
  let checked;
  try {
    checked = await typecheck(checkBox.root, settings.kitRoot, peer.relPath, settings.isolation);
  } finally {
    if (settings.keepSandboxes !== true) checkBox.remove();
  }
  if (!checked.ok) {
    skipped();
    const count = checked.messages.length;
    return report({
      peerPath: peer.relPath,
      importsRewritten: rewritten,
      compileErrors: checked.messages,
      grade: gradeWithoutRuns(
        settings.tests,
        'compile-error',
        `${peer.relPath} does not compile (${count} compiler message${count === 1 ? '' : 's'})`,
      ),
      log: '',
    });
  }

  const runs: JestRun[] = [];
  for (const seed of settings.seeds) {
    const sandbox = createSandbox(settings.kitRoot, text, settings.sandboxExcludes);
    try {
      const run = await runJest({
        kitRoot: settings.kitRoot,
        sandbox,
        seed,
        limits: settings.limits,
        heapMib: settings.heapMib,
        isolation: settings.isolation,
      });
      runs.push(run);
      settings.onRunFinished?.(submission, run);
    } finally {
      if (settings.keepSandboxes !== true) sandbox.remove();
    }
  }
  return report({
    peerPath: peer.relPath,
    importsRewritten: rewritten,
    compileErrors: [],
    grade: gradeRuns(settings.tests, runs),
    log: runs
      .map(
        (run, i) =>
          `=== run ${i + 1} of ${runs.length}, seed ${run.seed}: ${run.outcome}, ${run.reason}\n${run.output}`,
      )
      .join('\n'),
  });
}
