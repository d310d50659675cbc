/**
 * `npm run mutation` is only worth its score if a mutant reaches the Peer under test, which runs
 * in the harness's peer host, not in Jest's realm. Stryker's Jest runner sets
 * __STRYKER_ACTIVE_MUTANT__ in the environment of the process that runs the graded suites; the
 * host must pass it on to the peer's thread or process. This runs the graded PING scenario as
 * Stryker would, against a Peer with one hand-made mutant (probe-peer.ts), which must be killed.
 * A host that gives the peer an environment of its own would let every mutant survive.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { PROBE_MUTANT } from './probe-peer';

const REPO = join(__dirname, '..', '..', '..');
const JEST = join(REPO, 'node_modules', 'jest', 'bin', 'jest.js');
const PING_TEST = 'answers PING with a PONG carrying the same nonce';
/** The nonce the graded PING scenario sends, plus the probe mutant's 1. */
const MUTATED_NONCE = 0xc0ffee + 1;

function gradedPingRun(env: NodeJS.ProcessEnv): Promise<{ code: number | null; output: string }> {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, FORCE_COLOR: '0', ...env };
  delete childEnv.JEST_WORKER_ID;
  const args = [JEST, '-c', 'grader/jest.config.js', 'grader/suites/requests.test.ts'];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...args, '-t', PING_TEST], { cwd: REPO, env: childEnv });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

describe('mutant activation through the peer host (npm run mutation)', () => {
  test('the graded PING scenario kills the probe mutant when __STRYKER_ACTIVE_MUTANT__ names it', async () => {
    const { code, output } = await gradedPingRun({
      LAB9_PEER_MODULE: join(__dirname, 'probe-peer'),
      __STRYKER_ACTIVE_MUTANT__: PROBE_MUTANT,
    });
    // If this fails with exit code 0, the mutant never reached the peer: the host did not pass
    // __STRYKER_ACTIVE_MUTANT__ to the peer's thread or process (grader/harness/peer-host/).
    expect({
      code,
      killedByNonce: output.includes(`the PONG carries nonce ${MUTATED_NONCE}`),
    }).toEqual({ code: 1, killedByNonce: true });
  }, 120_000);

  test('the same run passes with no mutant active: the probe changes nothing else', async () => {
    const { code, output } = await gradedPingRun({
      LAB9_PEER_MODULE: join(__dirname, 'probe-peer'),
      __STRYKER_ACTIVE_MUTANT__: '',
    });
    // On failure, the end of the run's output says which test failed and why.
    expect(code === 0 ? 'passed' : output.slice(-600)).toBe('passed');
  }, 120_000);
});
