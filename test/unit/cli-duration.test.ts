// The CLI's durations (--timeout, --give-up): a unit is required, hours included.
import { describe, expect, it } from 'vitest';
import { durationMs } from '../../server/cli/duration.ts';

describe('durationMs', () => {
  it.each([
    ['500ms', 500],
    ['30s', 30_000],
    ['1.5s', 1_500],
    ['2m', 120_000],
    ['8h', 28_800_000],
    [' 10s ', 10_000],
  ])('%s is %d ms', (text, ms) => {
    expect(durationMs(text, '--give-up')).toBe(ms);
  });

  it('a bare number or an unknown unit is refused, naming the flag', () => {
    expect(() => durationMs('30', '--give-up')).toThrow('--give-up 30 has no unit: write 30s, 30ms or 30m');
    expect(() => durationMs('2d', '--give-up')).toThrow('--give-up must be a duration such as 30s, 500ms or 2m, got "2d"');
    expect(() => durationMs('h', '--give-up')).toThrow(/must be a duration/);
  });
});
