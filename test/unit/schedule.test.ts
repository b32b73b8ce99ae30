// Issue 4: the retry schedule is one pure function; 24 hours of it run in microseconds.
import { describe, expect, it } from 'vitest';
import type { ScheduleSettings } from '../../shared/api.ts';
import { previewSchedule } from '../../server/dispatch/preview.ts';
import { MAX_ATTEMPTS, mergeOverrides, moveForRetryAfter, parseRetryAfter, planAttempts, resolveSchedule, retryDelay } from '../../server/dispatch/schedule.ts';

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

  it('a jittered 1 ms wait never rounds to 0: offsets strictly increase, and the preview sends every planned attempt', () => {
    // firstDelayMs 1 with ±99%: the first wait rounds to 0 ms for seeds 1, 4 and 5 (two attempts at once, one skipped).
    const s: ScheduleSettings = { firstDelayMs: 1, factor: 100, jitter: 0.99, deadlineMs: 20_000 };
    for (let seed = 0; seed < 200; seed++) {
      const t = planAttempts(s, seed);
      for (let i = 1; i < t.length; i++) expect(t[i], `seed ${seed}: ${t.join(',')}`).toBeGreaterThan(t[i - 1]);
      const p = previewSchedule(s, seed, {});
      expect(p.attempts.map((a) => a.offsetMs), `seed ${seed}`).toEqual(t);
    }
  });

  it('degenerate settings are capped at MAX_ATTEMPTS, still ending on the deadline', () => {
    const t = planAttempts({ firstDelayMs: 1, factor: 1, jitter: 0, deadlineMs: 86_400_000 }, 1);
    expect(t).toHaveLength(MAX_ATTEMPTS);
    expect(t[t.length - 1]).toBe(86_400_000);
  });
});

// Issue 12: presets, lists of waits, and Retry-After moves.
describe('schedule presets and lists (pure)', () => {
  const M = 60 * SEC;
  it('resolves each preset over the global settings; portable is the global settings', () => {
    expect(resolveSchedule(S, {})).toEqual(S);
    expect(resolveSchedule(S, { preset: 'portable' })).toEqual({ ...S, preset: 'portable' });
    expect(resolveSchedule(S, { preset: 'svix' })).toMatchObject({ preset: 'svix', jitter: 0, delaysMs: [5 * SEC, 5 * M, 30 * M, 2 * HOUR, 5 * HOUR, 10 * HOUR, 10 * HOUR], deadlineMs: 2 * (27 * HOUR + 35 * M + 5 * SEC) });
    expect(resolveSchedule(S, { preset: 'standard-webhooks' }).deadlineMs).toBe(2 * (75 * HOUR + 35 * M + 5 * SEC));
    expect(resolveSchedule(S, { preset: 'stripe' })).toMatchObject({ firstDelayMs: HOUR, factor: 2, deadlineMs: 72 * HOUR });
    expect(resolveSchedule(S, { preset: 'linear' })).toMatchObject({ firstDelayMs: HOUR, factor: 1, jitter: 0, deadlineMs: 24 * HOUR });
    // The numbers given win over the preset's.
    expect(resolveSchedule(S, { preset: 'stripe', deadlineMs: 2 * HOUR })).toMatchObject({ deadlineMs: 2 * HOUR, factor: 2 });
    expect(resolveSchedule(S, { delaysMs: [1000, 2000] })).toEqual({ ...S, jitter: 0, delaysMs: [1000, 2000], deadlineMs: 6000 });
  });

  it('the Standard Webhooks example schedule, exactly as the spec lists it', () => {
    expect(planAttempts(resolveSchedule(S, { preset: 'standard-webhooks' }), 1).map((t) => t / SEC)).toEqual([0, 5, 305, 2105, 9305, 27305, 63305, 113705, 185705, 272105]);
  });

  it('linear: every hour, on the deadline; a list is taken as given: none past its deadline, none added on it', () => {
    expect(planAttempts(resolveSchedule(S, { preset: 'linear' }), 1)).toEqual(Array.from({ length: 25 }, (_, i) => i * HOUR));
    expect(planAttempts(resolveSchedule(S, { delaysMs: [1000, 2000, 3000], deadlineMs: 4000 }), 1)).toEqual([0, 1000, 3000]);
    const jittered = planAttempts(resolveSchedule(S, { delaysMs: [10_000, 10_000], jitter: 0.5 }), 3);
    expect(jittered).toHaveLength(3);
    expect(jittered[1]).toBeGreaterThanOrEqual(5000);
    expect(jittered[1]).toBeLessThanOrEqual(15_000);
  });

  it('mergeOverrides: a preset or list replaces the first override whole, numbers go on top', () => {
    expect(mergeOverrides({ factor: 2, jitter: 0 }, { deadlineMs: 5 })).toEqual({ factor: 2, jitter: 0, deadlineMs: 5 });
    expect(mergeOverrides({ factor: 2, jitter: 0 }, { preset: 'svix' })).toEqual({ preset: 'svix' });
  });
});

describe('Retry-After (pure)', () => {
  const plan = [10_000, 30_000, 100_000];
  it('keeps the next wait between the planned one and twice it, and moves the rest with it', () => {
    expect(moveForRetryAfter(plan, 5000, 8000, 100_000, true)).toEqual({ plan: [13_000, 33_000, 100_000], scheduledMs: 5000, askedMs: 8000, usedMs: 8000 });
    expect(moveForRetryAfter(plan, 5000, 1000, 100_000, true).plan).toEqual(plan);
    expect(moveForRetryAfter(plan, 5000, 60_000, 100_000, true)).toMatchObject({ usedMs: 10_000, plan: [15_000, 35_000, 100_000] });
  });
  it('never past the deadline: moved attempts beyond it are dropped; one on the deadline stays when the schedule ends there', () => {
    expect(moveForRetryAfter([50_000, 90_000, 100_000], 0, 90_000, 100_000, true).plan).toEqual([90_000, 100_000]);
    expect(moveForRetryAfter([50_000, 90_000, 100_000], 0, 90_000, 100_000, false).plan).toEqual([90_000]);
  });
  it('reads delay-seconds and HTTP dates (against the wall clock)', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:01:00 GMT', now)).toBe(60_000);
    expect(parseRetryAfter('soon', now)).toBeNull();
    expect(parseRetryAfter(undefined, now)).toBeNull();
  });
});

describe('a list counts its attempts, as Svix does', () => {
  it('Retry-After on every attempt stretches the svix waits, and all 8 attempts are still made', () => {
    const svix = resolveSchedule(S, { preset: 'svix' });
    for (const retryAfterS of [1, 60, 3600, 86_400]) {
      const p = previewSchedule(svix, 1, { retryAfter: true }, { retryAfterS });
      expect(p.attempts, `Retry-After: ${retryAfterS}`).toHaveLength(8);
      // Each wait is the planned one or more, at most twice it.
      p.attempts.slice(1).forEach((a, i) => {
        expect(a.delayMs).toBeGreaterThanOrEqual(svix.delaysMs![i]);
        expect(a.delayMs).toBeLessThanOrEqual(2 * svix.delaysMs![i]);
      });
    }
    // A deadline given is kept: attempts pushed past it are dropped, as documented.
    const tight = resolveSchedule(S, { preset: 'svix', deadlineMs: 27 * HOUR + 35 * MIN + 5 * SEC });
    expect(previewSchedule(tight, 1, { retryAfter: true }, { retryAfterS: 60 }).attempts.length).toBeLessThan(8);
  });
});
