/**
 * Jest's own bound on each test and hook (its default, 5 s) scaled by the kit's time factor
 * (lab9/src/time-factor.ts), so a loaded machine gets more time before Jest gives up. Loaded
 * before every test file (setupFilesAfterEnv in jest.config.js); a test that names its own
 * bound scales it itself. Processes the tests start (the grading CLI) get the same factor.
 */
import { scaled, TIME_FACTOR, TIME_FACTOR_VARIABLE } from '../../src/time-factor';

process.env[TIME_FACTOR_VARIABLE] ??= String(TIME_FACTOR);
jest.setTimeout(scaled(5_000));
