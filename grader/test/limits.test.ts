/** The grader's defaults that depend on the machine (grader/runner/limits.ts). */
import { cpusPerRun, DEFAULT_CPUS } from '../runner/limits';

describe('the CPU limit of a run when --cpus is not given', () => {
  test('shares the cores among the runs that go at once, in whole cores', () => {
    expect(cpusPerRun(2, 2)).toBe(1);
    expect(cpusPerRun(8, 2)).toBe(4);
    expect(cpusPerRun(8, 3)).toBe(2);
  });

  test('gives one submission graded alone every core', () => {
    expect(cpusPerRun(2, 1)).toBe(2);
    expect(cpusPerRun(16, 1)).toBe(16);
  });

  test('never goes below one core per run, even with more runs than cores', () => {
    expect(cpusPerRun(2, 8)).toBe(DEFAULT_CPUS);
    expect(cpusPerRun(1, 1)).toBe(DEFAULT_CPUS);
  });

  test('counts no runs at once as one', () => {
    expect(cpusPerRun(4, 0)).toBe(4);
  });
});
