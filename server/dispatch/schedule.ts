// The retry schedule: pure. Two kinds of schedule:
//  - exponential (portable, stripe, linear): attempt 1 at once, retry n waits
//    firstDelay * factor^(n-1) spread by ±jitter (a generator seeded per delivery); nothing is
//    planned after the deadline, and the last attempt lands exactly on it (as Portable does);
//  - a list of waits (svix, standard-webhooks, or `delaysMs`): attempt 1 at once, then one
//    attempt after each wait in turn, taken as given: none past the deadline, and none added
//    on it. Its deadline defaults to twice the waits' sum (see listDeadline).
// A Retry-After answer moves what is left of a delivery's plan (moveForRetryAfter).
import type { ScheduleSettings } from '../../shared/api.ts';
import { createRng } from '../rng.ts';
import { listDeadline, PRESETS } from '../../shared/schedule-presets.ts';
// Shared with the console, which says each webhook's deadline as resolved here.
import { resolveSchedule } from '../../shared/schedule-resolve.ts';

export { listDeadline, PRESETS, resolveSchedule };

/**
 * Default of MAX_SCHEDULE_ATTEMPTS: the most attempts one delivery plans. Schedules past it are
 * refused when given (see schedule-limit.ts); one stored before is cut here, and says so.
 */
export const MAX_ATTEMPTS = 200;

/** Delay before retry n (n = 1 is the first retry), for a uniform draw u in [0, 1). */
export function retryDelay(n: number, s: ScheduleSettings, u: number): number {
  const base = s.delaysMs ? s.delaysMs[n - 1] : s.firstDelayMs * s.factor ** (n - 1);
  return Math.round(base * (1 + s.jitter * (2 * u - 1)));
}

/** Is the schedule's last planned attempt pinned to its deadline (exponential schedules)? */
export function endsOnDeadline(s: ScheduleSettings): boolean {
  return !s.delaysMs;
}

/** Offsets (ms after the event) of every planned attempt, the first being 0; at most `maxAttempts`. */
export function planAttempts(s: ScheduleSettings, seed: number, maxAttempts = MAX_ATTEMPTS): number[] {
  return planWith(s, createRng(seed), maxAttempts);
}

/** planAttempts with its draws from `draw` (always 0: every wait at its shortest). */
export function planWith(s: ScheduleSettings, draw: () => number, maxAttempts: number): number[] {
  const offsets = [0];
  let last = 0;
  if (s.delaysMs) {
    for (let n = 1; n <= s.delaysMs.length && offsets.length < maxAttempts; n++) {
      const next = last + Math.max(1, retryDelay(n, s, draw()));
      if (next > s.deadlineMs) break;
      offsets.push(next);
      last = next;
    }
    return offsets;
  }
  for (let n = 1; offsets.length < maxAttempts; n++) {
    // At least 1 ms, as in a list: a jittered 1 ms wait rounds to 0, and two attempts planned
    // at one instant were one sent (the dispatcher skips an instant already past).
    const next = last + Math.max(1, retryDelay(n, s, draw()));
    if (next >= s.deadlineMs) break;
    offsets.push(next);
    last = next;
  }
  if (last < s.deadlineMs) {
    if (offsets.length >= maxAttempts) offsets[offsets.length - 1] = s.deadlineMs;
    else offsets.push(s.deadlineMs);
  }
  return offsets;
}

/** Two overrides, the second on top; a preset or list in the second replaces the first whole. */
export function mergeOverrides(a: Partial<ScheduleSettings> | undefined, b: Partial<ScheduleSettings>): Partial<ScheduleSettings> {
  if (b.preset !== undefined || b.delaysMs !== undefined) return { ...b };
  return { ...a, ...Object.fromEntries(Object.entries(b).filter(([, v]) => v !== undefined)) };
}

// ---------------------------------------------------------------------- Retry-After

export interface RetryAfterMove {
  /** The remaining plan (absolute instants after the failed attempt), moved. */
  plan: number[];
  /** The wait the schedule had, the one asked for, and the one used. */
  scheduledMs: number;
  askedMs: number;
  usedMs: number;
}

/**
 * A failed attempt at `sentAt` got Retry-After `askedMs`. The next wait becomes the asked one
 * kept between the scheduled wait and twice it (as Svix does); the rest of the plan moves by
 * as much, keeping its own waits. The deadline does not move: attempts pushed past it are
 * dropped, and an attempt planned on the deadline stays there (exponential schedules).
 */
export function moveForRetryAfter(remaining: readonly number[], sentAt: number, askedMs: number, deadlineAt: number, pinned: boolean): RetryAfterMove {
  if (remaining.length === 0) return { plan: [], scheduledMs: 0, askedMs, usedMs: 0 };
  const scheduledMs = remaining[0] - sentAt;
  const usedMs = Math.min(Math.max(askedMs, scheduledMs), 2 * scheduledMs);
  const shift = usedMs - scheduledMs;
  if (shift <= 0) return { plan: [...remaining], scheduledMs, askedMs, usedMs: scheduledMs };
  const onDeadline = pinned && remaining[remaining.length - 1] === deadlineAt;
  const plan = remaining.map((t) => t + shift).filter((t) => t < deadlineAt || (!onDeadline && t === deadlineAt));
  if (onDeadline) plan.push(deadlineAt);
  return { plan, scheduledMs, askedMs, usedMs };
}

/**
 * A Retry-After value in ms: delay-seconds, or an HTTP date compared with the wall clock
 * (the receiver's clock is real, not virtual). null when absent or unreadable.
 */
export function parseRetryAfter(value: string | undefined, realNow: number): number | null {
  if (value === undefined) return null;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const t = Date.parse(v);
  if (!Number.isFinite(t) || !/[a-z]/i.test(v)) return null;
  return Math.max(0, t - realNow);
}
