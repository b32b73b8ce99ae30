// The clock bar's deadline line: it said the server's default ("24 h") beside a webhook whose
// own schedule ends at 20 min. Now each enabled webhook's deadline, as the server resolves it.
import { describe, expect, it } from 'vitest';
import type { ScheduleSettings } from '../../shared/api.ts';
import { SCHEDULE_PRESETS } from '../../shared/api.ts';
import { deadlineOf, resolveSchedule as sharedResolve } from '../../shared/schedule-resolve.ts';
import { resolveSchedule } from '../../server/dispatch/schedule.ts';
import { deadlineWords } from '../../client/src/lib/deadline-words.ts';

const DAY = 86_400_000;
const hook = (name: string, schedule: Partial<ScheduleSettings> = {}, enabled = true) => ({ name, enabled, schedule });

describe('deadline line', () => {
  it('no webhook, or none with its own: the server default, said to be the default', () => {
    expect(deadlineWords([], DAY)).toBe('Deadline: 24 h after each event (server default)');
    expect(deadlineWords([hook('a', { factor: 2 })], DAY)).toBe('Deadline: 24 h after each event (server default)');
    expect(deadlineWords([], null)).toBe('');
  });

  it("the only webhook's own deadline (a list of waits: twice their sum)", () => {
    expect(deadlineWords([hook('short', { delaysMs: [60_000, 540_000] })], DAY)).toBe('Deadline: 20 min after each event');
  });

  it('several: each deadline with its webhooks, shortest first; disabled ones make no deliveries', () => {
    const hooks = [hook('a'), hook('short', { delaysMs: [60_000, 540_000] }), hook('b'), hook('c'), hook('stripe', { preset: 'stripe' }), hook('off', { deadlineMs: 1000 }, false)];
    expect(deadlineWords(hooks, DAY)).toBe('Deadlines after each event: 20 min (short), 24 h (a, b +1 more), 3 d (stripe)');
  });

  it('a webhook deadline is the one the server resolves, for every preset and with numbers on top', () => {
    const global: ScheduleSettings = { firstDelayMs: 5000, factor: 4, jitter: 0.2, deadlineMs: 7 * DAY };
    const cases: Partial<ScheduleSettings>[] = [{}, { delaysMs: [1000, 2000] }, { delaysMs: [1000], deadlineMs: 5 }, { factor: 2 }];
    for (const preset of SCHEDULE_PRESETS) cases.push({ preset }, { preset, deadlineMs: 12_345 });
    for (const c of cases) expect(deadlineOf(c, global.deadlineMs), JSON.stringify(c)).toBe(resolveSchedule(global, c).deadlineMs);
    // And what that is, by the README's rules (both now share one implementation).
    expect(cases.slice(0, 4).map((c) => deadlineOf(c, global.deadlineMs))).toEqual([7 * DAY, 6000, 5, 7 * DAY]);
    expect(deadlineOf({ preset: 'stripe' }, global.deadlineMs)).toBe(3 * DAY);
  });

  it('the server resolves schedules with the code the console uses (one implementation, kept in step)', () => {
    expect(resolveSchedule).toBe(sharedResolve);
  });
});
