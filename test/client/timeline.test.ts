// The delivery timeline's geometry.
import { describe, expect, it } from 'vitest';
import type { Attempt, Delivery } from '../../shared/api.ts';
import { attemptTone, deliveryMarks, ticks, timeToFraction } from '../../client/src/lib/timeline.ts';

const DAY = 86_400_000;

describe('timeToFraction', () => {
  it('runs 0 -> 1 from the event to the deadline, clamped', () => {
    expect(timeToFraction(0, DAY)).toBe(0);
    expect(timeToFraction(DAY, DAY)).toBe(1);
    expect(timeToFraction(2 * DAY, DAY)).toBe(1);
    expect(timeToFraction(-5, DAY)).toBe(0);
  });
  it('gives seconds and hours both room (log scale)', () => {
    const f = (t: number) => timeToFraction(t, DAY);
    expect(f(1000)).toBeGreaterThan(0.05); // the first second is visible
    expect(f(60_000)).toBeGreaterThan(0.3); // a minute is a third of the way
    expect(f(3_600_000)).toBeLessThan(0.75); // and the last 23 hours still have a quarter
    const pts = [0, 500, 1000, 5000, 60_000, 600_000, 3_600_000, 21_600_000, DAY].map(f);
    expect([...pts].sort((a, b) => a - b)).toEqual(pts);
  });
  it('ticks at 1 s, 1 min, 1 h up to the deadline', () => {
    expect(ticks(DAY).filter((t) => t.major).map((t) => t.label)).toEqual(['0', '1 s', '1 min', '1 h']);
    expect(ticks(90_000).map((t) => t.label)).toEqual(['0', '1 s', '10 s', '1 min']);
  });
});

const attempt = (over: Partial<Attempt>): Attempt => ({
  n: 1,
  plannedAt: '2026-01-01T00:00:00.000Z',
  sentAt: '2026-01-01T00:00:00.000Z',
  status: 200,
  error: null,
  errorDetail: null,
  ok: true,
  durationMs: 3,
  requestHeaders: [],
  responseHeaders: [],
  responseBody: '',
  responseBodyTruncated: false,
  manual: false,
  capturedRequestId: null,
  ...over,
});

describe('marks', () => {
  it('green for success, amber for another status, red without one', () => {
    expect(attemptTone(attempt({}))).toBe('ok');
    expect(attemptTone(attempt({ ok: false, status: 503 }))).toBe('warn');
    expect(attemptTone(attempt({ ok: false, status: 301, error: 'redirect' }))).toBe('warn');
    expect(attemptTone(attempt({ ok: false, status: null, error: 'timeout' }))).toBe('bad');
  });

  it('made attempts at their time since the event; planned ones only while pending, from the next one on', () => {
    const t0 = Date.parse('2026-01-01T00:00:00.000Z');
    const iso = (ms: number) => new Date(t0 + ms).toISOString();
    const d = {
      createdAt: iso(0),
      state: 'pending',
      nextAttemptAt: iso(25_000),
      plannedAt: [0, 5_000, 25_000, 100_000, DAY].map(iso),
      schedule: { firstDelayMs: 5000, factor: 4, jitter: 0, deadlineMs: DAY },
      attempts: [
        attempt({ n: 1, sentAt: iso(0), ok: false, status: 500 }),
        attempt({ n: 2, sentAt: iso(5_000), ok: false, status: null, error: 'timeout' }),
      ],
    } as unknown as Delivery;
    const m = deliveryMarks(d);
    expect(m.deadlineMs).toBe(DAY);
    expect(m.attempts.map((a) => [a.n, a.t, a.tone])).toEqual([
      [1, 0, 'warn'],
      [2, 5000, 'bad'],
    ]);
    expect(m.planned).toEqual([
      { index: 3, t: 25_000 },
      { index: 4, t: 100_000 },
      { index: 5, t: DAY },
    ]);
    expect(deliveryMarks({ ...d, state: 'delivered', nextAttemptAt: null }).planned).toEqual([]);
  });
});
