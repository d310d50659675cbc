// @ts-check
/**
 * The must-fail canary of a graded run, run by Jest in every test file after its environment
 * (setupFilesAfterEnv, loaded from the kit by absolute path, never from a sandbox). It adds a
 * test that fails in every honest run, and after the file's tests checks that the assertion
 * library still fails what must fail. canary.ts reads the results: a canary that passed, or is
 * missing, means expect or Object.is was tampered with, and the submission goes to review.
 */
'use strict';

/** Keep in step with CANARY_TEST and CANARY_TAMPERED in canary.ts. */
const CANARY_TEST = 'grader canary: this assertion must fail';
const CANARY_TAMPERED = 'grader canary: the assertion library passed what must fail';

test(CANARY_TEST, () => {
  expect(1).toBe(2);
});

afterAll(() => {
  const mustFail = [
    () => expect(1).toBe(2),
    () => expect({ a: 1 }).toEqual({ a: 2 }),
    () => expect(() => undefined).toThrow(),
  ];
  let failed = 0;
  for (const check of mustFail) {
    try {
      check();
    } catch {
      failed += 1;
    }
  }
  if (failed !== mustFail.length || Object.is(1, 2) || !Object.is(Number.NaN, Number.NaN)) {
    throw new Error(CANARY_TAMPERED);
  }
});
