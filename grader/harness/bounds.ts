/**
 * Every bound the grader waits with, each with the reason for its value. They bound only the
 * failure path: a correct peer answers in milliseconds, so a bound is never what makes a test
 * pass. Each is scaled by the kit's time factor (lab9/src/time-factor.ts, LAB9_TIME_FACTOR; the
 * grader passes its own to every run). Above: world.ts and the clients, which turn a bound that
 * ran out into a failure message.
 */
import { scaled } from '../../lab9/src/time-factor';

/** An answer a correct peer sends at once; generous because the grading machine may be busy. */
export const ANSWER_MS = scaled(3000);

/** A whole download of a few hundred KiB, which a correct peer finishes in well under a second. */
export const DOWNLOAD_MS = scaled(6000);

/** A peer thread that cannot answer a ping this long after a failure is stuck in a loop. */
export const FREEZE_PROBE_MS = scaled(1000);

/** Starting the peer process: Node, the kit and the student's module, compiled before the run. */
export const HOST_START_MS = scaled(10_000);

/** Stopping a peer or closing a socket the harness opened; past this the peer thread is replaced. */
export const TEARDOWN_MS = scaled(2000);

/**
 * Jest's bound on one scenario: above its longest failure path (a download's bound, then the
 * freeze probe), so the harness's message always wins; cleanup runs after it, in afterEach.
 */
export const SCENARIO_MS = scaled(10_000);

/**
 * One message between the harness and the peer process: a piece (1 MiB at most) or a chunk of a
 * pipe, base64 in JSON, plus its header. A longer length prefix is a hostile peer process.
 */
export const MAX_HOST_MESSAGE_BYTES = 4 * 1024 * 1024;

/**
 * Store calls (readPiece, writePiece, addFile) one peer process may have waiting in the harness
 * at once: far above what a download of the suites' files needs, low enough that a flood of
 * calls cannot grow the harness's memory without bound.
 */
export const MAX_PENDING_STORE_CALLS = 4096;
