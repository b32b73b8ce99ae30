// The CLI's line times (hooklab tail, hooklab forward) are local, as the developer's own logs are.
import { afterEach, describe, expect, it } from 'vitest';
import { clockTime } from '../../server/cli/clock-time.ts';

const saved = process.env.TZ;
afterEach(() => {
  if (saved === undefined) delete process.env.TZ;
  else process.env.TZ = saved;
});

describe('clockTime', () => {
  it("prints the server's UTC time in this machine's time zone, to the millisecond", () => {
    process.env.TZ = 'Asia/Kolkata'; // UTC+5:30: a half-hour offset shows a wrong one
    expect(clockTime('2026-12-03T21:04:05.007Z')).toBe('02:34:05.007');
    process.env.TZ = 'America/New_York';
    expect(clockTime('2026-12-03T21:04:05.120Z')).toBe('16:04:05.120');
    process.env.TZ = 'UTC';
    expect(clockTime('2026-12-03T21:04:05.120Z')).toBe('21:04:05.120');
  });

  it('gives back what is not a time as it came', () => {
    expect(clockTime('soon')).toBe('soon');
  });
});
