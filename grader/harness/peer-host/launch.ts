/**
 * How the peer process is started: the command line (Node under its permission model, reading
 * only the compiled folder, with no child process, worker or addon; behind setpriv under a uid
 * of its own when the runner gives one), its empty environment and its descriptors (stdio only).
 * The runner describes a graded run in PEER_HOST_VARIABLE; outside the runner the suites compile
 * on demand and run the peer process under the permission model alone.
 * Above: host.ts. Below: compile.ts, grader/runner/node-flags.ts.
 */
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { REPO_ROOT, peerModulePath } from '../implementation';
import { type CompiledPeerHost, compileCached } from './compile';

/** Set by the runner for a graded run: JSON of a PeerHostPlan. */
export const PEER_HOST_VARIABLE = 'LAB9_PEER_HOST';

/** What the runner prepared for the peer processes of one run. */
export interface PeerHostPlan {
  readonly compiled: CompiledPeerHost;
  /** The permission-model flags of the peer process (peerGrants); null: Node has none. */
  readonly permissions: readonly string[] | null;
  /** The uid (and gid) of the peer processes, and setpriv to switch to it; null: the harness's. */
  readonly uid: number | null;
  readonly setpriv: string | null;
  /** V8 heap limit of the peer process, MiB. */
  readonly heapMib: number | null;
}

const PlanSchema = z.object({
  compiled: z.object({ dir: z.string(), entry: z.string(), peerModule: z.string() }),
  permissions: z.array(z.string()).nullable(),
  uid: z.number().int().positive().nullable(),
  setpriv: z.string().nullable(),
  heapMib: z.number().int().positive().nullable(),
});

/**
 * Closes every descriptor from 3 to 9 before the rest runs. Node opens its own descriptors
 * close-on-exec, but one it inherited (the results channel on fd 3 of the Jest process) it
 * would pass on: libuv does not close them. Nothing above 9 is inherited by the Jest process.
 * The shell's own PWD goes too: the peer process gets an empty environment
 * (but for Stryker's active mutant, under npm run mutation).
 */
const CLOSE_FDS = 'exec 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&-; unset PWD OLDPWD; exec "$@"';

export interface PeerLaunch {
  readonly command: string;
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly cwd: string;
  /** The compiled folder: paths inside it are taken out of messages. */
  readonly dir: string;
}

/**
 * What the peer process may do: read its compiled folder, use sockets; nothing else. (The
 * PermissionGrants of grader/runner/node-flags.ts, which the student kit does not ship.)
 */
export function peerGrants(compiled: CompiledPeerHost): {
  readonly read: readonly string[];
  readonly write: readonly string[];
  readonly net: boolean;
} {
  return { read: [compiled.dir], write: [], net: true };
}

/** grader/runner/node-flags.ts, where it exists: in this repository, not in the student kit. */
const NODE_FLAGS = join(__dirname, '..', '..', 'runner', 'node-flags.ts');

export function peerHostPlan(): PeerHostPlan {
  const given = process.env[PEER_HOST_VARIABLE];
  if (given !== undefined && given !== '') return PlanSchema.parse(JSON.parse(given));
  // Outside the runner: the kit's own tests, where grader/runner is there (a sandbox gets the
  // flags in the plan), or a student's self-check, where nothing is secret and it is not.
  const compiled = compileCached({ root: REPO_ROOT, peerModule: peerModulePath() }, tmpdir());
  let permissions: string[] | null = null;
  if (existsSync(NODE_FLAGS)) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const flags = require(NODE_FLAGS) as {
      permissionFlags(grants: ReturnType<typeof peerGrants>): string[] | null;
    };
    permissions = flags.permissionFlags(peerGrants(compiled));
  }
  return {
    compiled,
    permissions,
    uid: null,
    setpriv: null,
    heapMib: null,
  };
}

/**
 * The one variable the peer process may inherit: Stryker's active mutant (npm run mutation),
 * which the instrumented peer.ts reads in the process it runs in. Not a secret, and never set
 * in a graded run (run-jest.ts builds that environment from nothing).
 */
const ACTIVE_MUTANT = '__STRYKER_ACTIVE_MUTANT__';

function inheritedEnv(): Record<string, string> {
  const mutant = process.env[ACTIVE_MUTANT];
  return mutant === undefined || mutant === '' ? {} : { [ACTIVE_MUTANT]: mutant };
}

export function peerLaunch(plan: PeerHostPlan): PeerLaunch {
  const { compiled } = plan;
  const node = [
    process.execPath,
    ...(plan.permissions ?? []),
    '--disable-warning=ExperimentalWarning',
    '--enable-source-maps',
    ...(plan.heapMib === null ? [] : [`--max-old-space-size=${plan.heapMib}`]),
    compiled.entry,
    compiled.peerModule,
  ];
  const user =
    plan.uid === null || plan.setpriv === null
      ? []
      : [
          plan.setpriv,
          `--reuid=${plan.uid}`,
          `--regid=${plan.uid}`,
          '--clear-groups',
          '--inh-caps=-all',
          '--no-new-privs',
          '--',
        ];
  return {
    command: '/bin/sh',
    args: ['-c', CLOSE_FDS, 'lab9-peer', ...user, ...node],
    env: inheritedEnv(),
    // Not the compiled folder: the harness's uid cannot enter it, only the peer's can.
    cwd: '/',
    dir: compiled.dir,
  };
}
