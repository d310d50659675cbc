/**
 * `npm run grade -- <submission folder or archive> ...`: grades Lab 9 submissions with the
 * grader suites and writes grades.csv (updating the rows of an earlier grading) and
 * gradebook.csv plus, per submission, results.json (Gradescope), feedback.md and run.log. This file owns the command line, the isolation check at start (and
 * --official's refusal), the parallel schedule and the output; grader/runner/ grades one
 * submission (grade-submission.ts) and writes its files.
 * Exit code: 0 when grading ran, whatever the scores; 2 for a bad command line or kit.
 */
import { randomInt } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  realpathSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { TIME_FACTOR, TIME_FACTOR_VARIABLE } from '../../lab9/src/time-factor';
import { loadRubric, rubricTests } from '../rubric';
import { closeOutputFolder, withBatchPrivacy } from '../runner/batch-privacy';
import { killAllChildren } from '../runner/child';
import { gradeSubmission, type SubmissionReport } from '../runner/grade-submission';
import {
  DISABLE_VARIABLE,
  describeLayers,
  detectIsolation,
  type Isolation,
  KEY_LAYERS,
  LABELS,
  type LayerId,
  missingForOfficial,
} from '../runner/isolation';
import { CANARY_SETUP } from '../runner/canary';
import { CHANNEL_REPORTER } from '../runner/run-jest';
import {
  cpusPerRun,
  DEFAULT_CPUS,
  DEFAULT_MEMORY_MIB,
  MAX_CPUS,
  MIN_CPUS,
  DEFAULT_OUTPUT_KEEP_BYTES,
  DEFAULT_TIMEOUT_S,
  heapLimitMib,
  OUTPUT_FLOOD_FACTOR,
  SEED_MODULUS,
} from '../runner/limits';
import { DEFAULT_FEEDBACK_MODE, FEEDBACK_MODES, type FeedbackMode } from '../runner/feedback';
import { GRADEBOOK_FILE, GRADES_FILE, type GradeRow, readGradesCsv } from '../runner/grades';
import { submissionFiles, writeGradeFiles, writeSubmissionReport } from '../runner/report';
import { loadRoster, type Roster, unknownSubmissions } from '../runner/roster';
import { prairieLearnResults } from '../runner/prairielearn';
import { KNOWN_GOOD_PEER, runPreflight } from '../runner/preflight';
import { gradeWithoutRuns } from '../runner/score';
import { uniqueNames } from '../runner/output-names';
import { expandSubmissions, type Submission, UsageError } from '../runner/submission';
import { createProgress } from './progress';
import { classStats, renderSummary } from './summary';
import { renderTable } from './table';

const KIT_ROOT = resolve(__dirname, '..', '..');

/** Exit code of a bad command line, a missing rubric or an unreadable kit. */
const EXIT_USAGE = 2;

/** Exit code of --check-isolation on a machine where --official would refuse. */
const EXIT_NOT_OFFICIAL = 3;

/** Exit code when the reference solution did not get full marks here: nothing was graded. */
const EXIT_PREFLIGHT = 4;

/** Detects the isolation layers (probing each) and prints them, as every grading starts. */
async function checkIsolation(
  kitRoot: string,
  cpus: number,
  submissionPaths?: readonly string[],
): Promise<Isolation> {
  // What a run reads from outside its sandbox: node_modules where they really are (the kit
  // folder itself may not be readable by a run's uid, and a run never reads it).
  const modules = join(kitRoot, 'node_modules');
  const found = await detectIsolation({
    readPaths: [
      existsSync(modules) ? realpathSync(modules) : modules,
      join(KIT_ROOT, 'node_modules'),
      CHANNEL_REPORTER,
      CANARY_SETUP,
    ],
    cpus,
  });
  // Whether a run can read the rest of the batch depends on the batch's folders too.
  const isolation =
    submissionPaths === undefined ? found : withBatchPrivacy(found, submissionPaths);
  const lines = describeLayers(isolation).map((line) => `  ${line}\n`);
  process.stderr.write(`Isolation (checked at start):\n${lines.join('')}`);
  return isolation;
}

interface Options {
  readonly out: string;
  readonly jobs: number;
  readonly timeout: number;
  readonly memory: number;
  /** Absent: cpusPerRun. */
  readonly cpus?: number;
  readonly maxOutput: number;
  readonly repeat: number;
  readonly seed?: number;
  readonly keepSandboxes?: boolean;
  readonly official?: boolean;
  readonly require?: readonly LayerId[];
  readonly checkIsolation?: boolean;
  readonly kit?: string;
  readonly gradescope?: string;
  readonly prairielearn?: string;
  readonly roster?: string;
  readonly feedback: FeedbackMode;
  /** false with --no-preflight. */
  readonly preflight: boolean;
}

function positiveInt(name: string, max = Number.MAX_SAFE_INTEGER) {
  return (value: string): number => {
    const parsed = Number(value);
    if (!Number.isInteger(parsed) || parsed < 1 || parsed > max) {
      throw new InvalidArgumentError(`${name} must be a whole number from 1 to ${max}.`);
    }
    return parsed;
  };
}

/** A CPU count: 0.5 is half of one core's time. */
function cpuCount(value: string): number {
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed < MIN_CPUS || parsed > MAX_CPUS) {
    throw new InvalidArgumentError(`--cpus must be a number from ${MIN_CPUS} to ${MAX_CPUS}.`);
  }
  return parsed;
}

/** The word for KEY_LAYERS in --require: what keeps the key and hidden suites out of reach. */
const KEY_SAFETY = 'key-safety';

function layerList(value: string): LayerId[] {
  const ids = value
    .split(',')
    .map((id) => id.trim())
    .flatMap((id) => (id === KEY_SAFETY ? [...KEY_LAYERS] : [id]));
  const unknown = ids.filter((id) => !(id in LABELS));
  if (unknown.length > 0) {
    throw new InvalidArgumentError(
      `unknown layer ${unknown.join(', ')}; the layers are ${Object.keys(LABELS).join(', ')}.`,
    );
  }
  return ids as LayerId[];
}

function seedArg(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0 || parsed >= SEED_MODULUS) {
    throw new InvalidArgumentError(
      `the seed must be a whole number from 0 to ${SEED_MODULUS - 1}.`,
    );
  }
  return parsed;
}

export function buildProgram(): Command {
  return new Command()
    .name('npm run grade --')
    .description(
      "Grade Lab 9 submissions: each one's peer.ts is type-checked, then run against the " +
        'grader suites in a fresh sandbox, in a child process with a time, memory and output ' +
        'limit. A submission is a folder or archive (.zip, .tar.gz, .tgz, .tar) of a student ' +
        'repository; its peer.ts is lab9/src/peer/peer.ts, src/peer/peer.ts or peer.ts, at the ' +
        'top or inside one folder. A folder without one is a folder of submissions.',
    )
    .argument('[submissions...]', 'folders, archives, globs, or folders of submissions')
    .option('-o, --out <dir>', 'where grades.csv and the per-submission folders go', 'grades')
    .option(
      '-j, --jobs <n>',
      'submissions graded at once',
      positiveInt('--jobs', 64),
      Math.max(1, availableParallelism()),
    )
    .option(
      '--timeout <seconds>',
      'wall-clock limit of one run',
      positiveInt('--timeout'),
      DEFAULT_TIMEOUT_S,
    )
    .option(
      '--memory <MiB>',
      'resident memory limit of one run, all its processes together',
      positiveInt('--memory'),
      DEFAULT_MEMORY_MIB,
    )
    .option(
      '--cpus <n>',
      'CPU time of one run, all its processes together, in CPUs (0.5 = half a core); ' +
        'kernel-enforced where cgroups offer a cpu controller ' +
        '(default: the cores shared out among the runs at once, at least 1)',
      cpuCount,
    )
    .option(
      '--max-output <KiB>',
      `output kept per run (first and last halves); a run printing ${OUTPUT_FLOOD_FACTOR}× this is killed`,
      positiveInt('--max-output'),
      DEFAULT_OUTPUT_KEEP_BYTES / 1024,
    )
    .option(
      '--repeat <n>',
      'runs per submission, each with another seed; a test passes only if it passes every run',
      positiveInt('--repeat', 100),
      1,
    )
    .option(
      '--seed <n>',
      'seed of the first run (run i uses seed + i); random if not given',
      seedArg,
    )
    .option(
      '--roster <csv>',
      "a CSV naming each submission's student: header submission plus student_id and/or email; " +
        'fills those columns of grades.csv and identifies students in gradebook.csv',
    )
    .addOption(
      new Option(
        '--feedback <mode>',
        'what feedback.md and results.json show the student: before-deadline (hidden tests by ' +
          'name and points only) or after-deadline (every failure message)',
      )
        .choices(FEEDBACK_MODES)
        .default(DEFAULT_FEEDBACK_MODE),
    )
    .option(
      '--gradescope <results.json>',
      'grade exactly one submission, the argument itself even if it holds no peer.ts, and copy ' +
        'its results.json here too (Gradescope: /autograder/results/results.json)',
    )
    .addOption(
      new Option(
        '--prairielearn <results.json>',
        'grade exactly one submission, as --gradescope does, and write its results in ' +
          "PrairieLearn's external-grading format here (/grade/results/results.json)",
      ).conflicts('gradescope'),
    )
    .option(
      '--no-preflight',
      `do not grade ${KNOWN_GOOD_PEER} first (the grader's own tests; see Preflight below)`,
    )
    .option(
      '--keep-sandboxes',
      'leave the sandboxes in the temporary folder (debugging the grader)',
    )
    .option(
      '--official',
      'refuse to grade unless every isolation layer is available (Linux, root, bubblewrap, cgroups)',
    )
    .option(
      '--require <layers>',
      'refuse to grade unless these isolation layers are on (comma-separated ids, as in ' +
        `--check-isolation, or ${KEY_SAFETY} for those that keep the signing key and the hidden ` +
        "suites out of the student code's reach); --official requires them all",
      layerList,
    )
    .option(
      '--check-isolation',
      'only check which isolation layers this machine offers: the list on stderr, JSON on stdout; ' +
        'exit code 0 if --official could grade here, 3 if not',
    )
    .addOption(
      new Option('--kit <dir>', 'grade with the suites of another copy of the kit').hideHelp(),
    )
    .addHelpText('after', HELP_AFTER)
    .showHelpAfterError('(npm run grade -- --help for usage)');
}

const HELP_AFTER = `
Written into --out:
  grades.csv                 a row per submission: submission, score, max, status, student_id,
                             email (from --roster), points per test id. Grading into a folder that
                             has one updates the rows of the submissions graded now and keeps the
                             others; a score withheld for review is blank, not 0
  gradebook.csv              for an LMS import: student_id (or email, or submission without a
                             roster), total, status; with --roster every student, "missing" if
                             no submission was graded
  <name>/results.json        Gradescope's format; the rubric's "visible" suites give "visible" tests,
                             "hidden" suites give "after_published" (shown once grades are published)
  <name>/feedback.md         what to send the student, by --feedback: every test with its points;
                             failure messages of public tests (and of hidden ones after the
                             deadline), one section per distinct failure; compiler messages
  <name>/run.log             for you: isolation layers, reasons, then Jest's own output of each run

Status: ok (the suites ran to the end, whatever the score), compile-error, invalid (no gradable
peer.ts, or an archive refused for '..', absolute or link entries), timeout, memory-limit,
output-limit, crashed, needs-review (results that cannot be trusted: unsigned or repeated records,
tests the rubric does not have, a canary that passed; the score is withheld until reviewed:
blank in the CSV files, 0 in results.json).

Seeds: run i of a submission uses seed + i, given to the suites as LAB9_SEED, the same for every
submission. With --repeat, a test scores only if it passed in every run; tests whose result
changed between runs are listed (usually a race in the student's code).

Isolation: the layers this machine offers are checked at start and printed; every result says
which were on. Everywhere: a fresh sandbox per run, a wall-clock limit and a kill of the whole
process tree, an output cap, a signed results channel and a must-fail canary. On Linux as root,
also: an own uid per run (setpriv), kernel memory, task and CPU (--cpus) limits and kill (cgroups), pid,
network and mount namespaces and a seccomp filter (bubblewrap). --official refuses to grade
without them; ${DISABLE_VARIABLE}=strong (or bwrap,uid,cgroups,permissions) turns them off.

Preflight: before the batch, ${KNOWN_GOOD_PEER} is graded with the same limits, isolation and
first seed. Below full marks the environment is at fault (an unsupported Node, a machine too
loaded for the bounds: raise ${TIME_FACTOR_VARIABLE}); the run stops, naming it, and writes nothing.
Without ${KNOWN_GOOD_PEER} (a Gradescope package) it is skipped with a warning.

Exit code: 0 when grading ran, whatever the scores; 2 for a bad command line, a kit without
grader/rubric.json, or --official where isolation layers are missing; 4 when the preflight
failed and nothing was graded; with --check-isolation, 0 if --official could grade on this
machine and 3 if not.`;

/**
 * --gradescope, --prairielearn: the one argument is one submission. A folder is graded as it is (one without a
 * peer.ts scores 0 as invalid, with where it was looked for), never as a folder of submissions.
 */
function oneSubmission(args: readonly string[], option: string): Submission {
  const [arg] = args;
  if (args.length !== 1 || arg === undefined) {
    throw new UsageError(`${option} grades exactly one submission, not ${args.length}`);
  }
  const path = resolve(arg);
  if (existsSync(path) && statSync(path).isDirectory()) {
    const [name = 'submission'] = uniqueNames([{ path, kind: 'folder' }]);
    return { name, path, kind: 'folder' };
  }
  const [submission] = expandSubmissions([arg]);
  if (submission === undefined) throw new UsageError(`${arg} holds no submission`);
  return submission;
}

/** Runs `work` on every item, at most `limit` at once; results in item order. */
async function mapConcurrent<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next;
      next += 1;
      results[index] = await work(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

export async function main(argv: readonly string[]): Promise<number> {
  const program = buildProgram().exitOverride();
  try {
    program.parse(argv, { from: 'user' });
  } catch (error) {
    const code = (error as { code?: string }).code;
    return code === 'commander.helpDisplayed' || code === 'commander.version' ? 0 : EXIT_USAGE;
  }
  const options = program.opts<Options>();
  const kitRoot = resolve(options.kit ?? KIT_ROOT);
  const outDir = resolve(options.out);
  if (options.checkIsolation === true) {
    const isolation = await checkIsolation(kitRoot, options.cpus ?? DEFAULT_CPUS);
    process.stdout.write(`${JSON.stringify({ layers: isolation.layers }, null, 2)}\n`);
    return missingForOfficial(isolation).length === 0 ? 0 : EXIT_NOT_OFFICIAL;
  }
  if (program.args.length === 0) {
    process.stderr.write('error: no submissions given (npm run grade -- --help for usage)\n');
    return EXIT_USAGE;
  }

  let tests;
  let lab;
  let submissions: Submission[];
  let roster: Roster | null;
  let previous: GradeRow[];
  try {
    if (!existsSync(join(kitRoot, 'grader', 'rubric.json'))) {
      throw new UsageError(
        `${join(kitRoot, 'grader', 'rubric.json')} does not exist: no suites to grade with`,
      );
    }
    const rubric = loadRubric(kitRoot);
    tests = rubricTests(rubric);
    lab = rubric.lab;
    submissions =
      options.gradescope === undefined && options.prairielearn === undefined
        ? expandSubmissions(program.args)
        : [
            oneSubmission(
              program.args,
              options.gradescope === undefined ? '--prairielearn' : '--gradescope',
            ),
          ];
    roster = options.roster === undefined ? null : loadRoster(resolve(options.roster));
    previous = readGradesCsv(outDir, tests);
    if (roster !== null && options.roster !== undefined) {
      const graded = new Set(submissions.map((submission) => submission.name));
      const problem =
        unknownSubmissions(
          roster,
          submissions.map((submission) => submission.name),
          options.roster,
          ['submission to grade', 'submissions to grade'],
        ) ??
        unknownSubmissions(
          roster,
          previous.map((row) => row.submission ?? '').filter((name) => !graded.has(name)),
          options.roster,
          [
            `row of ${join(outDir, GRADES_FILE)} (kept from an earlier grading)`,
            `rows of ${join(outDir, GRADES_FILE)} (kept from an earlier grading)`,
          ],
        );
      if (problem !== null) throw problem;
    }
  } catch (error) {
    process.stderr.write(`error: ${(error as Error).message}\n`);
    return EXIT_USAGE;
  }

  const isolation = await checkIsolation(
    kitRoot,
    options.cpus ?? cpusPerRun(availableParallelism(), Math.min(options.jobs, submissions.length)),
    submissions.map((submission) => submission.path),
  );
  const lacking = isolation.layers.filter(
    (layer) => options.require?.includes(layer.id) && !layer.on,
  );
  if (lacking.length > 0) {
    const names = lacking.map((layer) => `${LABELS[layer.id]} (${layer.detail})`).join('; ');
    process.stderr.write(`error: --require names isolation layers that are off: ${names}\n`);
    return EXIT_USAGE;
  }
  const missing = missingForOfficial(isolation);
  if (missing.length > 0) {
    const names = missing.map((layer) => `${LABELS[layer.id]} (${layer.detail})`).join('; ');
    if (options.official === true) {
      process.stderr.write(
        `error: --official needs every isolation layer; missing: ${names}\n` +
          'Grade on Linux as root with bubblewrap and setpriv installed and cgroups available.\n',
      );
      return EXIT_USAGE;
    }
    process.stderr.write(
      `warning: grading without ${missing.length} isolation layer${missing.length === 1 ? '' : 's'}; ` +
        'fine for trying the grader, not for official grades (--official refuses)\n',
    );
  }

  const baseSeed = options.seed ?? randomInt(SEED_MODULUS);
  const seeds = Array.from({ length: options.repeat }, (_, i) => (baseSeed + i) % SEED_MODULUS);
  const keepBytes = options.maxOutput * 1024;
  const settings = {
    kitRoot,
    tests,
    seeds,
    limits: {
      timeoutMs: options.timeout * 1000,
      memoryBytes: options.memory * 1024 * 1024,
      outputKeepBytes: keepBytes,
      outputFloodBytes: OUTPUT_FLOOD_FACTOR * keepBytes,
    },
    heapMib: heapLimitMib(options.memory),
    sandboxExcludes: [outDir],
    keepSandboxes: options.keepSandboxes === true,
    isolation,
  };

  const interrupted = (): void => {
    process.stderr.write('\ninterrupted: stopping every run in progress\n');
    void killAllChildren().finally(() => process.exit(130));
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);

  const started = Date.now();
  if (options.preflight) {
    process.stderr.write(
      `Preflight: grading ${KNOWN_GOOD_PEER}, which must get full marks here…\n`,
    );
    const preflight = await runPreflight(settings);
    switch (preflight.kind) {
      case 'failed':
        process.stderr.write(preflight.message);
        return EXIT_PREFLIGHT;
      case 'skipped':
        process.stderr.write(preflight.message);
        break;
      case 'passed':
        process.stderr.write(
          `Preflight passed: ${preflight.report.grade.score}/${preflight.report.grade.max} ` +
            `in ${(preflight.report.durationMs / 1000).toFixed(1)} s\n`,
        );
    }
  }
  process.stderr.write(
    `Grading ${submissions.length} submission${submissions.length === 1 ? '' : 's'} · ` +
      `${seeds.length} run${seeds.length === 1 ? '' : 's'} each · seed ${baseSeed} · ` +
      `${options.jobs} at once · limits ${options.timeout} s, ${options.memory} MiB, ` +
      `${isolation.cpus === null ? 'no CPU limit' : `${isolation.cpus} CPU${isolation.cpus === 1 ? '' : 's'}`} · ` +
      `time factor ${TIME_FACTOR} (${TIME_FACTOR_VARIABLE})\n`,
  );
  const progress = createProgress(submissions.length * seeds.length, submissions.length);
  mkdirSync(outDir, { recursive: true });
  closeOutputFolder(isolation, outDir);
  const reports = await mapConcurrent(submissions, options.jobs, async (submission) => {
    let report: SubmissionReport;
    try {
      report = await gradeSubmission(submission, {
        ...settings,
        onRunFinished: (graded, run) => progress.runFinished(graded, run),
      });
    } catch (error) {
      // A fault of the grader (full disk...), not of the submission: say so, go on with the rest.
      report = {
        submission,
        peerPath: null,
        importsRewritten: 0,
        compileErrors: [],
        grade: gradeWithoutRuns(tests, 'needs-review', `the grader failed: ${String(error)}`),
        durationMs: 0,
        log: error instanceof Error ? (error.stack ?? error.message) : String(error),
        layers: isolation.layers,
      };
    }
    writeSubmissionReport(outDir, report, lab, options.feedback);
    progress.submissionFinished(report);
    return report;
  });
  progress.stop();
  const written = writeGradeFiles(outDir, reports, tests, roster, previous);
  const [only] = reports;
  if (options.gradescope !== undefined && only !== undefined) {
    const target = resolve(options.gradescope);
    mkdirSync(dirname(target), { recursive: true });
    copyFileSync(join(outDir, submissionFiles(only).results), target);
  }
  if (options.prairielearn !== undefined && only !== undefined) {
    const target = resolve(options.prairielearn);
    mkdirSync(dirname(target), { recursive: true });
    const results = prairieLearnResults(only, options.feedback);
    writeFileSync(target, `${JSON.stringify(results, null, 2)}\n`);
  }
  process.stdout.write(`\n${renderTable(reports)}`);
  const shownOut = relative(process.cwd(), outDir) || '.';
  const { merged, gradebook } = written;
  const rowsTitle =
    merged.kept > 0
      ? `${join(shownOut, GRADES_FILE)}: ${merged.rows.length} submissions, ${reports.length} graded now`
      : `${join(shownOut, GRADES_FILE)}: ${merged.rows.length} submission${merged.rows.length === 1 ? '' : 's'}`;
  process.stdout.write(`\n${renderSummary(classStats(merged.rows), rowsTitle)}`);
  if (gradebook.missing.length > 0) {
    const shown = gradebook.missing.slice(0, 10).join(', ');
    const more = gradebook.missing.length > 10 ? `, … (+${gradebook.missing.length - 10})` : '';
    process.stdout.write(
      `  missing       ${gradebook.missing.length} on the roster with no submission graded: ${shown}${more}\n`,
    );
  }
  const rowsDone =
    merged.kept + merged.updated > 0
      ? ` (${merged.updated} row${merged.updated === 1 ? '' : 's'} updated, ${merged.added} added, ${merged.kept} kept)`
      : '';
  process.stdout.write(
    `\nWrote ${join(shownOut, GRADES_FILE)}${rowsDone}, ${join(shownOut, GRADEBOOK_FILE)} ` +
      `(${gradebook.idColumn}, total, status) and ${reports.length} folder${reports.length === 1 ? '' : 's'} ` +
      `of results.json, feedback.md (${options.feedback}), run.log · ${((Date.now() - started) / 1000).toFixed(1)} s · ` +
      `same runs again: --seed ${baseSeed}${seeds.length > 1 ? ` --repeat ${seeds.length}` : ''}\n`,
  );
  return 0;
}

if (require.main === module) {
  void main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
