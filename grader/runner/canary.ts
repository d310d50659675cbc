/**
 * The must-fail canary, parent side: canary-setup.js adds a test that must fail to every graded
 * test file, and checks after the file that the assertions still fail what must fail. This
 * module checks a run's verified records for it and takes its results out before scoring:
 * a canary that passed, or is missing from a file whose tests ran, is an anomaly (review).
 * Above: run-jest.ts, on the records channel.ts verified.
 */
import { join } from 'node:path';
import type { ChannelRecord } from './channel';

/** The setup file Jest runs in every test file: from the kit's own tree, never a sandbox. */
export const CANARY_SETUP = join(__dirname, 'canary-setup.js');

/** The canary's full name (keep in step with canary-setup.js). No rubric test has it. */
export const CANARY_TEST = 'grader canary: this assertion must fail';

/** The error canary-setup.js throws after a file whose assertions passed what must fail. */
export const CANARY_TAMPERED = 'grader canary: the assertion library passed what must fail';

export interface CanaryCheck {
  /** The records without the canary's results. */
  readonly records: ChannelRecord[];
  readonly anomalies: string[];
}

export function checkCanaries(records: readonly ChannelRecord[]): CanaryCheck {
  const anomalies: string[] = [];
  const kept: ChannelRecord[] = [];
  for (const record of records) {
    if (record.kind === 'case') {
      if (record.name !== CANARY_TEST) {
        kept.push(record);
      } else if (record.status !== 'failed') {
        anomalies.push(`the canary test of ${record.file} ${record.status}: it must fail`);
      }
      continue;
    }
    if (record.kind !== 'file') {
      kept.push(record);
      continue;
    }
    if (record.error?.includes(CANARY_TAMPERED) === true) {
      anomalies.push(`in ${record.file} the assertion library passed what must fail`);
    }
    const canaries = record.tests.filter((test) => test.name === CANARY_TEST);
    // A file that failed to load ran no test at all: nothing of it scores, nothing to check.
    const ran = record.tests.length > 0 || record.error === null;
    if (ran && canaries.length === 0) {
      anomalies.push(`the canary test of ${record.file} is missing from its results`);
    }
    for (const canary of canaries) {
      if (canary.status !== 'failed') {
        anomalies.push(`the canary test of ${record.file} ${canary.status}: it must fail`);
      }
    }
    kept.push({ ...record, tests: record.tests.filter((test) => test.name !== CANARY_TEST) });
  }
  return { records: kept, anomalies: [...new Set(anomalies)] };
}
