/**
 * How the peer process is started: the command line (Node under its permission model, reading
 * only the compiled folder, with no child process, worker or addon; behind setpriv under a uid
 * of its own when the runner gives one), its empty environment and its descriptors (stdio only).
 * The runner describes a graded run in PEER_HOST_VARIABLE; outside the runner the suites compile
 * on demand and run the peer process under the permission model alone.
 * Above: host.ts. Below: compile.ts, grader/runner/node-flags.ts.
 */
import { tmpdir } from 'node:os';
import { z } from 'zod';
import type { PermissionGrants } from '../../runner/node-flags';
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
 * The shell's own PWD goes too: the peer process gets an empty environment.
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

/** What the peer process may do: read its compiled folder, use sockets; nothing else. */
export function peerGrants(compiled: CompiledPeerHost): PermissionGrants {
  return { read: [compiled.dir], write: [], net: true };
}

export function peerHostPlan(): PeerHostPlan {
  const given = process.env[PEER_HOST_VARIABLE];
  if (given !== undefined && given !== '') return PlanSchema.parse(JSON.parse(given));
  // Outside the runner (the kit's own tests): the kit's grader/runner is there, unlike in a
  // sandbox, which gets the flags in the plan.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { permissionFlags } =
    require('../../runner/node-flags') as typeof import('../../runner/node-flags');
  const compiled = compileCached({ root: REPO_ROOT, peerModule: peerModulePath() }, tmpdir());
  return {
    compiled,
    permissions: permissionFlags(peerGrants(compiled)),
    uid: null,
    setpriv: null,
    heapMib: null,
  };
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
    env: {},
    // Not the compiled folder: the harness's uid cannot enter it, only the peer's can.
    cwd: '/',
    dir: compiled.dir,
  };
}
