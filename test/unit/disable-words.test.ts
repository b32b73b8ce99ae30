// The words for a webhook hooklab disables: its disabledBy detail and the schedule preview's
// notes say what the check does (">=": an attempt exactly on N days disables), in good English
// for a count of one.
import { describe, expect, it } from 'vitest';
import { previewSchedule } from '../../server/dispatch/preview.ts';
import { resolveSchedule } from '../../server/dispatch/schedule.ts';
import { disableVerdict } from '../../server/dispatch/webhook-health.ts';

const HOUR = 3_600_000;
const T0 = Date.parse('2026-01-01T00:00:00Z');
const GLOBAL = { firstDelayMs: 5000, factor: 4, jitter: 0.2, deadlineMs: 24 * HOUR };

describe('disableVerdict', () => {
  it('one delivery: "1 delivery in a row", not "1 deliveries"', () => {
    const streak = { since: new Date(T0).toISOString(), deliveries: 1 };
    expect(disableVerdict(streak, { disableAfterDeliveries: 1 }, T0)).toBe('1 delivery in a row ended undelivered: disableAfterDeliveries is 1');
    expect(disableVerdict({ ...streak, deliveries: 3 }, { disableAfterDeliveries: 3 }, T0)).toBe('3 deliveries in a row ended undelivered: disableAfterDeliveries is 3');
  });
});

describe('schedule preview notes', () => {
  it('disableAfterDays 0.5 on an hourly schedule: disabled at the attempt exactly on 12 h, and the note says "at or past"', () => {
    const p = previewSchedule(resolveSchedule(GLOBAL, { preset: 'linear' }), 1, { disableAfterDays: 0.5 });
    expect(p.endsBy).toBe('disabled');
    expect(p.attempts.at(-1)!.offsetMs).toBe(12 * HOUR);
    expect(p.notes).toContain('Disabled after 12 h of unbroken failure: the webhook is turned off at the first failed attempt at or past it.');
  });

  it('disableAfterDeliveries: "1 delivery in a row ends", "2 deliveries in a row end"', () => {
    expect(previewSchedule(GLOBAL, 1, { disableAfterDeliveries: 1 }).notes).toContain('Disabled after 1 delivery in a row ends undelivered.');
    expect(previewSchedule(GLOBAL, 1, { disableAfterDeliveries: 2 }).notes).toContain('Disabled after 2 deliveries in a row end undelivered.');
  });
});
