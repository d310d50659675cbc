/**
 * The time factor (src/time-factor.ts): LAB9_TIME_FACTOR when set, else the load per core
 * above 1, capped; a value that is not a number ≥ 1 is refused with the variable's name.
 */
import { MAX_AUTO_TIME_FACTOR, timeFactor } from '../src/time-factor';

describe('timeFactor: how much longer every failure-path bound waits', () => {
  it('is 1 on a quiet machine and follows the load per core on a busy one', () => {
    expect(timeFactor({}, 0.5, 2)).toBe(1);
    expect(timeFactor({}, 2, 2)).toBe(1);
    expect(timeFactor({}, 5, 2)).toBe(2.5);
    expect(timeFactor({}, 7.3, 2)).toBe(3.7);
  });

  it(`never rises above ${MAX_AUTO_TIME_FACTOR} by itself`, () => {
    expect(timeFactor({}, 60, 2)).toBe(MAX_AUTO_TIME_FACTOR);
  });

  it('takes LAB9_TIME_FACTOR over the load, whatever the load', () => {
    expect(timeFactor({ LAB9_TIME_FACTOR: '6' }, 0, 2)).toBe(6);
    expect(timeFactor({ LAB9_TIME_FACTOR: '1' }, 60, 2)).toBe(1);
    expect(timeFactor({ LAB9_TIME_FACTOR: '' }, 5, 2)).toBe(2.5);
  });

  it('refuses a LAB9_TIME_FACTOR that is not a number of at least 1, naming it', () => {
    expect(() => timeFactor({ LAB9_TIME_FACTOR: '0.5' })).toThrow(
      'LAB9_TIME_FACTOR=0.5: the time factor must be a number ≥ 1',
    );
    expect(() => timeFactor({ LAB9_TIME_FACTOR: 'fast' })).toThrow(TypeError);
  });
});
