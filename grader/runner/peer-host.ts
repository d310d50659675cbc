/**
 * The runner's part in hosting the student's Peer: before a Jest run, compiles the sandbox's
 * lab9/src, the student's peer.ts and the peer-process side of the harness to JavaScript in a
 * folder of its own (outside the sandbox), and, when the run has its own uid, gives the run's
 * peer uid read access to that folder only: the folder is root's, group of the peer uid, 0750;
 * the sandbox's grader/ (suites, harness, the run's Jest config) becomes the run uid's, 0700.
 * The harness learns the plan from PEER_HOST_VARIABLE. Above: run-jest.ts. Below: the harness's
 * compile.ts and launch.ts.
 */
import { chmodSync, chownSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compilePeerHost } from '../harness/peer-host/compile';
import { PEER_HOST_VARIABLE, type PeerHostPlan, peerGrants } from '../harness/peer-host/launch';
import { permissionFlags } from './node-flags';
import type { Sandbox } from './sandbox';
import { SANDBOX_PEER_PATH } from './submission';

export { PEER_HOST_VARIABLE };

export interface PreparedPeerHost {
  /** The compiled folder (mounted read-only in a mount namespace). */
  readonly dir: string;
  /** Closes grader/ to the peer uid and opens the compiled folder to it; no-op without uids. */
  lockFor(runUid: number | null, peerUid: number | null): void;
  /** @param permissions false: the run has no permission model (turned off or missing) */
  plan(
    setpriv: string | null,
    peerUid: number | null,
    heapMib: number,
    permissions: boolean,
  ): PeerHostPlan;
  remove(): void;
}

export function preparePeerHost(sandbox: Sandbox): PreparedPeerHost {
  const base = mkdtempSync(join(tmpdir(), 'lab9-grade-peer-'));
  const dir = join(base, 'js');
  const compiled = compilePeerHost(
    { root: sandbox.root, peerModule: SANDBOX_PEER_PATH.replace(/\.ts$/, '') },
    dir,
  );
  return {
    dir: base,
    lockFor(runUid, peerUid) {
      if (runUid === null || peerUid === null) return;
      const grader = join(sandbox.root, 'grader');
      chownSync(grader, runUid, runUid);
      chmodSync(grader, 0o700);
      chownSync(base, 0, peerUid);
      chmodSync(base, 0o750);
    },
    plan: (setpriv, peerUid, heapMib, permissions) => ({
      compiled,
      permissions: permissions ? permissionFlags(peerGrants(compiled)) : null,
      uid: peerUid,
      setpriv: peerUid === null ? null : setpriv,
      heapMib,
    }),
    remove: () => rmSync(base, { recursive: true, force: true, maxRetries: 3 }),
  };
}
