// Issue 4: the retry schedule is one pure function; 24 hours of it run in microseconds.
import { describe, expect, it } from 'vitest';
import type { ScheduleSettings } from '../../shared/api.ts';
import { MAX_ATTEMPTS, planAttempts, retryDelay } from '../../server/dispatch/schedule.ts';

const S: ScheduleSettings = { firstDelayMs: 5000, factor: 4, jitter: 0.2, deadlineMs: 86_400_000 };
const SEC = 1000;
const MIN = 60 * SEC;
const HOUR = 60 * MIN;

describe('retry schedule', () => {
  it('first attempt at once, first retry in seconds, later ones minutes then hours, last at the deadline', () => {
    const t = planAttempts(S, 12345);
    expect(t[0]).toBe(0);
    expect(t[1]).toBeGreaterThanOrEqual(4 * SEC);
    expect(t[1]).toBeLessThanOrEqual(6 * SEC);
    expect(t.some((x) => x >= MIN && x < HOUR)).toBe(true);
    expect(t.some((x) => x >= HOUR && x < 24 * HOUR)).toBe(true);
    expect(t[t.length - 1]).toBe(S.deadlineMs);
    for (let i = 1; i < t.length; i++) expect(t[i]).toBeGreaterThan(t[i - 1]);
  });

  it('exact offsets without jitter: 5 s, then x4 each time, then the deadline', () => {
    const t = planAttempts({ ...S, jitter: 0 }, 1);
    expect(t).toEqual([0, 5 * SEC, 25 * SEC, 105 * SEC, 425 * SEC, 1705 * SEC, 6825 * SEC, 27305 * SEC, 86_400 * SEC]);
  });

  it('never plans an attempt after the deadline, for any seed', () => {
    for (let seed = 0; seed < 500; seed++) {
      const t = planAttempts(S, seed);
      expect(Math.max(...t)).toBe(S.deadlineMs);
      expect(t.filter((x) => x === S.deadlineMs)).toHaveLength(1);
    }
  });

  it('each delay stays within ±jitter of the nominal delay', () => {
    for (let seed = 0; seed < 200; seed++) {
      const t = planAttempts(S, seed);
      for (let n = 1; n < t.length - 1; n++) {
        const nominal = S.firstDelayMs * S.factor ** (n - 1);
        const d = t[n] - t[n - 1];
        expect(d).toBeGreaterThanOrEqual(Math.floor(nominal * 0.8));
        expect(d).toBeLessThanOrEqual(Math.ceil(nominal * 1.2));
      }
    }
  });

  it('the same seed gives the same schedule; another seed a different one', () => {
    expect(planAttempts(S, 7)).toEqual(planAttempts(S, 7));
    expect(planAttempts(S, 7)).not.toEqual(planAttempts(S, 8));
  });

  it('retryDelay maps the draw linearly onto the jitter band', () => {
    expect(retryDelay(1, S, 0)).toBe(4000);
    expect(retryDelay(1, S, 0.5)).toBe(5000);
    expect(retryDelay(1, S, 0.999999)).toBe(6000);
    expect(retryDelay(3, { ...S, jitter: 0 }, 0.3)).toBe(80_000);
  });

  it('a deadline shorter than the first delay gives two attempts: now and the deadline', () => {
    expect(planAttempts({ ...S, deadlineMs: 3000 }, 1)).toEqual([0, 3000]);
  });

  it('degenerate settings are capped at MAX_ATTEMPTS, still ending on the deadline', () => {
    const t = planAttempts({ firstDelayMs: 1, factor: 1, jitter: 0, deadlineMs: 86_400_000 }, 1);
    expect(t).toHaveLength(MAX_ATTEMPTS);
    expect(t[t.length - 1]).toBe(86_400_000);
  });
});
