/**
 * Jest's globalSetup for the grader suites: compiles the peer process's code once, before any
 * test starts (launch.ts then finds it in the cache), so that no scenario's time bound pays for
 * it. A graded run has its compile from the runner already and skips this.
 */
import { tmpdir } from 'node:os';
import { REPO_ROOT, peerModulePath } from '../implementation';
import { compileCached } from './compile';
import { PEER_HOST_VARIABLE } from './launch';

export default function globalSetup(): void {
  if ((process.env[PEER_HOST_VARIABLE] ?? '') !== '') return;
  compileCached({ root: REPO_ROOT, peerModule: peerModulePath() }, tmpdir());
}
