/**
 * Jest's own bound on each test and hook (its default, 5 s) scaled by the kit's time factor
 * (lab9/src/time-factor.ts), so a loaded machine gets more time before Jest gives up. Loaded
 * before every test file (setupFilesAfterEnv in jest.config.js); a test that names its own
 * bound scales it itself.
 */
import { scaled } from '../../src/time-factor';

jest.setTimeout(scaled(5_000));
