/**
 * Live progress of `npm run grade`, on stderr so stdout keeps only the final table: a
 * cli-progress bar on a terminal, plain lines otherwise (CI logs, pipes, files).
 * Above: grade.ts calls it as runs and submissions finish.
 */
import { SingleBar } from 'cli-progress';
import type { SubmissionReport } from '../runner/grade-submission';
import type { JestRun } from '../runner/run-jest';
import type { Submission } from '../runner/submission';

export interface Progress {
  runFinished(submission: Submission, run: JestRun | null): void;
  submissionFinished(report: SubmissionReport): void;
  stop(): void;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

function verdict(report: SubmissionReport): string {
  const { grade } = report;
  return `${report.submission.name}: ${grade.score}/${grade.max} ${grade.status} (${seconds(report.durationMs)})`;
}

export function createProgress(
  totalRuns: number,
  submissions: number,
  stream: NodeJS.WriteStream = process.stderr,
): Progress {
  let finished = 0;
  if (stream.isTTY) {
    const bar = new SingleBar({
      stream,
      format: 'grading [{bar}] {value}/{total} runs · {eta_formatted} left · {last}',
      hideCursor: true,
      clearOnComplete: true,
    });
    bar.start(totalRuns, 0, { last: '' });
    return {
      runFinished: (submission) => bar.increment(1, { last: submission.name }),
      submissionFinished: (report) => {
        finished += 1;
        bar.update({ last: verdict(report) });
      },
      stop: () => bar.stop(),
    };
  }
  const several = totalRuns > submissions;
  return {
    runFinished: (submission, run) => {
      if (several && run !== null) {
        stream.write(`  ${submission.name} seed ${run.seed}: ${run.outcome}, ${run.reason}\n`);
      }
    },
    submissionFinished: (report) => {
      finished += 1;
      stream.write(`[${finished}/${submissions}] ${verdict(report)}\n`);
    },
    stop: () => undefined,
  };
}
