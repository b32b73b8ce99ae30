// Issue 12, the UI's pure parts: the run form's seconds, the clock's extrapolation (it never
// runs past what is due), the attempt table's rows and the marks' text, the JSON match field.
import { describe, expect, it } from 'vitest';
import type { Attempt, ClockState, Delivery } from '../../shared/api.ts';
import { isLagging, virtualNow } from '../../client/src/lib/clock.ts';
import { jsonEqualsText, jsonEqualsValue } from '../../client/src/lib/response-form.ts';
import { parseRunSeconds } from '../../client/src/lib/run-form.ts';
import { attemptRows, markText, planNote } from '../../client/src/lib/timeline.ts';

describe('run duration (virtual seconds)', () => {
  it('refuses what is not a number of seconds, instead of starting a 20 s run', () => {
    expect(parseRunSeconds('abc')).toEqual({ ok: false, message: 'must be a number of seconds, 0 or more (e.g. 20 or 1.5)' });
    expect(parseRunSeconds('-5').ok).toBe(false);
    expect(parseRunSeconds('1e3').ok).toBe(false);
  });
  it('says a too-large value in seconds, not milliseconds', () => {
    expect(parseRunSeconds('2592001')).toEqual({ ok: false, message: 'must be at most 2,592,000 seconds (30 days)' });
    expect(parseRunSeconds('2592000')).toEqual({ ok: true, ms: 2_592_000_000 });
  });
  it('blank is the default; decimals are fine', () => {
    expect(parseRunSeconds('  ')).toEqual({ ok: true, ms: undefined });
    expect(parseRunSeconds('1.5')).toEqual({ ok: true, ms: 1500 });
    expect(parseRunSeconds('0')).toEqual({ ok: true, ms: 0 });
  });
});

describe('client clock', () => {
  const state = (over: Partial<ClockState>): ClockState => ({ now: '2026-01-01T00:00:00.000Z', scale: 86_400, paused: false, nextDueAt: null, nextDeadlineAt: null, behindMs: 0, lagging: false, ...over });
  const t0 = Date.parse('2026-01-01T00:00:00.000Z');
  it('extrapolates at its speed, exactly, with no rounding', () => {
    expect(virtualNow({ state: state({}), receivedAt: 1000 }, 1001)).toBe(t0 + 86_400);
    expect(virtualNow({ state: state({ paused: true }), receivedAt: 1000 }, 9000)).toBe(t0);
  });
  it('never runs past what is due and not yet sent (the server holds there too)', () => {
    const c = { state: state({ nextDueAt: '2026-01-01T00:00:05.000Z' }), receivedAt: 0 };
    expect(virtualNow(c, 1000)).toBe(t0 + 5000);
    expect(isLagging(c, 1)).toBe(false);
    expect(isLagging(c, 1000)).toBe(true);
    expect(isLagging({ state: state({ lagging: true }), receivedAt: 0 }, 0)).toBe(true);
  });
});

const attempt = (over: Partial<Attempt>): Attempt => ({
  n: 1, plannedAt: '2026-01-01T00:00:00.000Z', sentAt: '2026-01-01T00:00:00.000Z', status: 500, error: null, errorDetail: null, ok: false, durationMs: 12,
  requestHeaders: [], responseHeaders: [], responseBody: '', responseBodyTruncated: false, manual: false, capturedRequestId: 'r1', ...over,
});

describe('attempt table and marks', () => {
  it('marks show the status code, or what went wrong', () => {
    expect(markText({ status: 503, error: null })).toBe('503');
    expect(markText({ status: null, error: 'timeout' })).toBe('T/O');
    expect(markText({ status: null, error: 'reset' })).toBe('RST');
  });
  it('rows: planned and sent (virtual, since the event), lateness, why, result, and who used the plan first', () => {
    const d = {
      createdAt: '2026-01-01T00:00:00.000Z',
      attempts: [
        attempt({ reason: 'first' }),
        attempt({ n: 2, plannedAt: '2026-01-01T00:00:05.000Z', sentAt: '2026-01-01T00:00:07.000Z', status: 200, ok: true, reason: 'retry-after', reasonDetail: 'x',
          planUse: { source: 'step', index: 1, others: [{ requestId: 'q', label: 'test · attempt 1' }], othersCount: 3 } }),
        attempt({ n: 3, reason: undefined, manual: true, status: null, error: 'reset' }),
      ],
    } as unknown as Delivery;
    const rows = attemptRows(d);
    expect(rows.map((r) => [r.n, r.reason, r.plannedT, r.sentT, r.lateMs, r.result, r.tone])).toEqual([
      [1, 'at the event', 0, 0, 0, '500', 'warn'],
      [2, 'Retry-After', 5000, 7000, 2000, '200 ✓', 'ok'],
      [3, 'manual', 0, 0, 0, 'reset', 'bad'],
    ]);
    expect(rows[1].planNote).toBe('plan step 2; plan steps used just before by test · attempt 1 and 2 more');
    expect(planNote(attempt({ planUse: { source: 'default', index: null, others: [], othersCount: 0 } }))).toBe('default response');
  });
  it('a step "at random" says whether its chance hit, worded as the bin page words the capture', () => {
    const use = (hit: boolean) => ({ source: 'step' as const, index: 0, roll: { p: 0.3, value: hit ? 0.1 : 0.8, hit }, others: [], othersCount: 0 });
    expect(planNote(attempt({ status: 200, ok: true, planUse: use(false) }))).toBe('default response (plan step 1: its 30% chance missed)');
    expect(planNote(attempt({ status: 503, planUse: use(true) }))).toBe('plan step 1 (its 30% chance hit)');
    // Recorded before the draw was kept: the step, as before.
    expect(planNote(attempt({ planUse: { source: 'step', index: 0, others: [], othersCount: 0 } }))).toBe('plan step 1');
  });
});

describe('JSON match value as typed', () => {
  it('numbers, true/false/null and "quoted" text read as JSON; anything else is the text', () => {
    expect(jsonEqualsValue('sync_end')).toBe('sync_end');
    expect(jsonEqualsValue('7')).toBe(7);
    expect(jsonEqualsValue('true')).toBe(true);
    expect(jsonEqualsValue('null')).toBeNull();
    expect(jsonEqualsValue('"7"')).toBe('7');
    for (const v of ['sync_end', 7, true, null, '7', 'true']) expect(jsonEqualsValue(jsonEqualsText(v))).toEqual(v);
  });
});
