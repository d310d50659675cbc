/**
 * Grading hostile submissions (fixtures/hostile/, expectations in fixtures/hostile.json): one
 * `npm run grade` of every fixture and the reference solution, two at once, on a copy of the kit
 * with three of the real suites; then, per fixture, its status and score, what its log shows it
 * tried, and that no process of it still runs; and once, that the solution graded beside them
 * got full marks and that the kit, the grading tool and node_modules are byte-identical.
 * Uses the isolation this machine offers (npm run grade -- --check-isolation): a fixture that
 * needs a layer the machine lacks is skipped, with a warning naming the layer.
 */
import { execFile, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  cpSync,
  existsSync,
  lstatSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { z } from 'zod';
import { RubricSchema } from '../rubric';
import { detectCgroupLayout } from '../runner/cgroup';
import { RUN_TAG_VARIABLE } from '../runner/child';
import { LABELS, type LayerId } from '../runner/isolation';
import { type GradescopeResults, GradescopeResultsSchema } from '../runner/results';
import { forwardProgress, GRADE, REPO, TSX, standInKitBase, tempDir } from './cli-fixtures';
import { scaled, TIME_FACTOR } from '../../lab9/src/time-factor';

const FIXTURES = join(REPO, 'fixtures', 'hostile');

const LayerIdSchema = z.enum(Object.keys(LABELS) as [LayerId, ...LayerId[]]);

const ManifestSchema = z.object({
  seed: z.number().int(),
  suites: z.array(z.string()).min(1),
  timeoutSeconds: z.number().int().positive(),
  memoryMib: z.number().int().positive(),
  fixtures: z
    .array(
      z.object({
        name: z.string().regex(/^[a-z0-9-]+$/),
        attack: z.string(),
        status: z.enum([
          'ok',
          'timeout',
          'memory-limit',
          'output-limit',
          'crashed',
          'needs-review',
        ]),
        score: z.number().nonnegative(),
        withheld: z.number().nonnegative().optional(),
        requires: z.array(LayerIdSchema).default([]),
        log: z.array(z.object({ text: z.string(), layer: LayerIdSchema.optional() })).default([]),
        absent: z.array(z.string()).default([]),
        reasons: z.array(z.string()).default([]),
      }),
    )
    .min(15),
});
type Fixture = z.infer<typeof ManifestSchema>['fixtures'][number];

const MANIFEST = ManifestSchema.parse(
  JSON.parse(readFileSync(join(REPO, 'fixtures', 'hostile.json'), 'utf8')),
);

/** The layers as the grader finds them here; decided before the tests are collected. */
function layersHere(): Map<LayerId, boolean> {
  const check = spawnSync(process.execPath, [TSX, GRADE, '--check-isolation'], {
    encoding: 'utf8',
  });
  const parsed = z
    .object({ layers: z.array(z.object({ id: LayerIdSchema, on: z.boolean() })) })
    .parse(JSON.parse(check.stdout));
  return new Map(parsed.layers.map((layer) => [layer.id, layer.on]));
}
const LAYERS = layersHere();
const on = (layer: LayerId): boolean => LAYERS.get(layer) === true;
const missingFor = (fixture: Fixture): LayerId[] => fixture.requires.filter((id) => !on(id));
const GRADED = MANIFEST.fixtures.filter((fixture) => missingFor(fixture).length === 0);
const SKIPPED = MANIFEST.fixtures.filter((fixture) => missingFor(fixture).length > 0);

/** SHA-256 of every file under `root` (links by target), path by path. */
function hashTree(root: string): Map<string, string> {
  const hashes = new Map<string, string>();
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      const stat = lstatSync(path);
      const key = relative(root, path);
      if (stat.isSymbolicLink()) hashes.set(key, `link to ${readlinkSync(path)}`);
      else if (stat.isDirectory()) walk(path);
      else hashes.set(key, createHash('sha256').update(readFileSync(path)).digest('hex'));
    }
  };
  walk(root);
  return hashes;
}

/** node_modules is large: size, mode and modification time of every file, not its bytes. */
function fingerprintTree(root: string): string {
  const hash = createHash('sha256');
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      const stat = lstatSync(path);
      hash.update(`${relative(root, path)} ${stat.size} ${stat.mode} ${stat.mtimeMs}\n`);
      if (stat.isDirectory()) walk(path);
    }
  };
  walk(root);
  return hash.digest('hex');
}

/** A kit with the real lab9/src, harness and a few real suites, its rubric cut to them. */
function buildKit(kit: string): void {
  standInKitBase(kit);
  for (const suite of MANIFEST.suites) cpSync(join(REPO, suite), join(kit, suite));
  const rubric = RubricSchema.parse(
    JSON.parse(readFileSync(join(REPO, 'grader', 'rubric.json'), 'utf8')),
  );
  const suites = rubric.suites.filter((suite) => MANIFEST.suites.includes(suite.file));
  writeFileSync(join(kit, 'grader', 'rubric.json'), JSON.stringify({ ...rubric, suites }));
}

interface Graded {
  readonly results: GradescopeResults;
  readonly csvRow: string[];
  readonly log: string;
  readonly feedback: string;
}

/** Every live process whose environment carries one of `tags`, or whose uid is one of `uids`. */
function survivors(tags: ReadonlySet<string>, uids: ReadonlySet<number>): string[] {
  const found: string[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      if (/\) [ZX] /.test(stat)) continue;
      const uid = statSync(`/proc/${name}`).uid;
      const environ = readFileSync(`/proc/${name}/environ`, 'latin1').split('\0');
      const tagged = environ.some((entry) => tags.has(entry));
      if (tagged || uids.has(uid)) found.push(`${name} (uid ${uid}): ${stat.slice(0, 60)}`);
    } catch {
      // Gone while we looked.
    }
  }
  return found;
}

/** Files owned by one of `uids` in the folders every user may write to, two levels deep. */
function filesOf(uids: ReadonlySet<number>): string[] {
  const found: string[] = [];
  const look = (dir: string, depth: number): void => {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return;
    }
    for (const name of names) {
      const path = join(dir, name);
      try {
        const stat = lstatSync(path);
        if (uids.has(stat.uid)) found.push(`file ${path} of uid ${stat.uid}`);
        else if (stat.isDirectory() && depth > 0) look(path, depth - 1);
      } catch {
        // Gone while we looked.
      }
    }
  };
  for (const dir of ['/tmp', '/var/tmp', '/dev/shm', '/run/lock']) look(dir, 1);
  return found;
}

const tmp = tempDir('hostile');
const kit = join(tmp.path, 'kit');
const out = join(tmp.path, 'out');
const graded = new Map<string, Graded>();
let cli = { code: 0, stdout: '', stderr: '' };
let before: { kit: Map<string, string>; tool: Map<string, string>; modules: string };
let after: typeof before;
let leftovers: string[] = [];
let header: string[] = [];

function snapshot(): typeof before {
  return {
    kit: hashTree(kit),
    tool: new Map([
      ...hashTree(join(REPO, 'grader', 'runner')),
      ...hashTree(join(REPO, 'grader', 'cli')),
    ]),
    modules: fingerprintTree(join(REPO, 'node_modules')),
  };
}

beforeAll(async () => {
  if (SKIPPED.length > 0) {
    console.warn(
      `hostile fixtures not graded on this machine (an isolation layer they need is off):\n${SKIPPED.map(
        (f) => `  ${f.name}: needs ${missingFor(f).join(', ')}`,
      ).join('\n')}`,
    );
  }
  buildKit(kit);
  before = snapshot();
  // The grader must find the very layers the check found, or refuse: a fixture graded without
  // the layer it needs would get to do what it tries.
  const layersOn = [...LAYERS.entries()].filter(([, isOn]) => isOn).map(([id]) => id);
  const args = [
    TSX,
    GRADE,
    '--require',
    layersOn.join(','),
    '--kit',
    kit,
    '--out',
    out,
    '--seed',
    String(MANIFEST.seed),
    '--jobs',
    '2',
    '--timeout',
    // Scaled like every wall-clock bound: the reference among them must not time out on a busy machine.
    String(Math.ceil(MANIFEST.timeoutSeconds * TIME_FACTOR)),
    '--memory',
    String(MANIFEST.memoryMib),
    ...GRADED.map((fixture) => join(FIXTURES, fixture.name)),
    join(REPO, 'solution'),
  ];
  try {
    const grading = promisify(execFile)(process.execPath, args, {
      cwd: tmp.path,
      maxBuffer: 64 * 1024 * 1024,
    });
    forwardProgress('hostile.test.ts', grading.child.stderr);
    const { stdout, stderr } = await grading;
    cli = { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    cli = { code: failed.code ?? -1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
  const rows = existsSync(join(out, 'grades.csv'))
    ? readFileSync(join(out, 'grades.csv'), 'utf8').trim().split('\n')
    : [];
  header = rows[0]?.split(',') ?? [];
  const tags = new Set<string>();
  const uids = new Set<number>();
  for (const row of rows.slice(1)) {
    const cells = row.split(',');
    const name = cells[0] ?? '';
    const results = GradescopeResultsSchema.parse(
      JSON.parse(readFileSync(join(out, name, 'results.json'), 'utf8')),
    );
    for (const run of results.extra_data.runs) {
      if (run.tag !== null) tags.add(`${RUN_TAG_VARIABLE}=${run.tag}`);
      if (run.uid !== null) uids.add(run.uid);
    }
    graded.set(name, {
      results,
      csvRow: cells,
      log: readFileSync(join(out, name, 'run.log'), 'utf8'),
      feedback: readFileSync(join(out, name, 'feedback.md'), 'utf8'),
    });
  }
  leftovers = [...survivors(tags, uids), ...filesOf(uids)];
  const layout = detectCgroupLayout();
  for (const results of [...graded.values()].map((g) => g.results)) {
    for (const run of results.extra_data.runs) {
      if (run.cgroup === null) continue;
      for (const parent of [layout.v2, layout.v1Memory, layout.v1Pids]) {
        if (parent !== null && existsSync(join(parent, run.cgroup))) {
          leftovers.push(`cgroup ${join(parent, run.cgroup)} still exists`);
        }
      }
    }
  }
  after = snapshot();
}, scaled(900_000));

afterAll(() => tmp.remove());

describe('npm run grade on hostile submissions', () => {
  test('prints the isolation layers it checked at start, and grades everything', () => {
    expect(cli.stderr).toContain('Isolation (checked at start):');
    for (const label of Object.values(LABELS)) expect(cli.stderr).toContain(label);
    expect(cli.code).toBe(0);
    expect([...graded.keys()].sort()).toEqual(
      [...GRADED.map((fixture) => fixture.name), 'solution'].sort(),
    );
  });

  test('the reference solution, graded in the same run beside them two at a time, gets full marks', () => {
    const solution = graded.get('solution');
    expect(solution?.csvRow.slice(1, 4)).toEqual([solution?.csvRow[2], solution?.csvRow[2], 'ok']);
    expect(header.slice(0, 4)).toEqual(['submission', 'score', 'max', 'status']);
  });

  test('afterwards the kit, the grading tool and node_modules are byte-identical', () => {
    expect(after.kit).toEqual(before.kit);
    expect(after.tool).toEqual(before.tool);
    expect(after.modules).toBe(before.modules);
  });

  test('afterwards nothing of any run is left: no process with its tag, uid or cgroup, no file of its uid', () => {
    expect(leftovers).toEqual([]);
  });

  test('every result says which isolation layers the run had', () => {
    for (const { results } of graded.values()) {
      expect(results.extra_data.isolation.map((layer) => [layer.layer, layer.on])).toEqual([
        ...LAYERS.entries(),
      ]);
    }
  });

  describe.each(GRADED)('$name: $attack', (fixture) => {
    test(`ends as ${fixture.status} with ${fixture.score} points`, () => {
      const result = graded.get(fixture.name);
      expect(result?.csvRow[3]).toBe(fixture.status);
      expect(result?.results.score).toBe(fixture.score);
      if (fixture.withheld !== undefined) {
        expect(result?.results.extra_data.withheld_score).toBe(fixture.withheld);
      }
      for (const reason of fixture.reasons) expect(result?.results.output).toContain(reason);
    });

    const logged = fixture.log.filter((line) => line.layer === undefined || on(line.layer));
    (logged.length > 0 ? test : test.skip)(
      'its log shows what it tried and how that failed',
      () => {
        for (const line of logged) expect(graded.get(fixture.name)?.log).toContain(line.text);
      },
    );

    (fixture.absent.length > 0 ? test : test.skip)(
      'nothing it must not achieve shows in its log, feedback or results',
      () => {
        const result = graded.get(fixture.name);
        const everything = [result?.log, result?.feedback, JSON.stringify(result?.results)].join(
          '\n',
        );
        for (const text of fixture.absent) expect(everything).not.toContain(text);
      },
    );
  });

  for (const fixture of SKIPPED) {
    test.skip(`${fixture.name}: not graded here, needs ${missingFor(fixture).join(', ')}`, () =>
      undefined);
  }
});
