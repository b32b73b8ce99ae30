// What the retry presets set, and a list's default deadline: shared so that the console can say
// a webhook's deadline without asking (schedule-resolve.ts puts a webhook's schedule together).
import type { ScheduleSettings } from './api.ts';

const SEC = 1000;
const MIN = 60 * SEC;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

type Preset = NonNullable<ScheduleSettings['preset']>;

/** What each preset sets over the global settings ("portable" is the global settings). */
export const PRESETS: Record<Preset, Partial<ScheduleSettings>> = {
  portable: {},
  // Svix's documented schedule: immediately, then 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h.
  svix: { delaysMs: [5 * SEC, 5 * MIN, 30 * MIN, 2 * HOUR, 5 * HOUR, 10 * HOUR, 10 * HOUR], jitter: 0 },
  // The Standard Webhooks spec's example schedule (75 h 35 min 5 s in all).
  'standard-webhooks': { delaysMs: [5 * SEC, 5 * MIN, 30 * MIN, 2 * HOUR, 5 * HOUR, 10 * HOUR, 14 * HOUR, 20 * HOUR, 24 * HOUR], jitter: 0 },
  // Stripe documents "up to three days with an exponential back off"; the exact waits are
  // not published, so: 1 h doubling, ±10%, for 3 days.
  stripe: { firstDelayMs: HOUR, factor: 2, jitter: 0.1, deadlineMs: 3 * DAY },
  linear: { firstDelayMs: HOUR, factor: 1, jitter: 0, deadlineMs: DAY },
};

const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);

/**
 * A list's deadline when none is given: twice its waits' sum, the most Retry-After can stretch
 * them to (each to at most twice; see moveForRetryAfter). A list counts its attempts, as Svix
 * does: at the sum alone, the first Retry-After pushed the last attempt past it, and it was lost.
 */
export const listDeadline = (delaysMs: readonly number[]) => 2 * sum(delaysMs);
