/**
 * Jest's bound on each scenario and hook, SCENARIO_MS (already scaled by the time factor):
 * above every bound a scenario waits with, so the harness's message always wins. Loaded before
 * every suite (setupFilesAfterEnv in grader/jest.config.js).
 */
import { SCENARIO_MS } from './bounds';

jest.setTimeout(SCENARIO_MS);
