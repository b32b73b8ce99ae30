// MAX_SCHEDULE_ATTEMPTS: a schedule that would plan more attempts per delivery than it allows is
// refused where it is given (a webhook, the preview, the config file, the RETRY_* variables), in
// words that say how many and what to change. One stored before (or under a higher limit, or
// other RETRY_* values) keeps working, cut at the limit as planAttempts cuts it, and says so.
import type { ScheduleSettings } from '../../shared/api.ts';
import { planWith } from './schedule.ts';

/** Counting stops past this: factor 1 with a wait of 1 ms would plan billions. */
const COUNT_UP_TO = 100_000;

/** The most attempts any seed can plan (every jittered wait at its shortest); COUNT_UP_TO + 1 stands for more. */
export function mostAttempts(s: ScheduleSettings): number {
  const key = JSON.stringify([s.firstDelayMs, s.factor, s.jitter, s.deadlineMs, s.delaysMs ?? null]);
  const known = counted.get(key);
  if (known !== undefined) return known;
  const n = planWith(s, () => 0, COUNT_UP_TO + 1).length;
  // Every webhook's view counts its schedule (see cutNote): a stored one past the limit can
  // take 100,000 steps, on every list and live event. Few distinct schedules exist.
  if (counted.size >= COUNTS_KEPT) counted.clear();
  counted.set(key, n);
  return n;
}
const counted = new Map<string, number>();
const COUNTS_KEPT = 1000;

/** Whether two resolved schedules plan alike (a preset's name aside): a save that sends the stored one back changes nothing. */
export function sameSchedule(a: ScheduleSettings, b: ScheduleSettings): boolean {
  const list = (x: ScheduleSettings) => JSON.stringify(x.delaysMs ?? null);
  return a.firstDelayMs === b.firstDelayMs && a.factor === b.factor && a.jitter === b.jitter && a.deadlineMs === b.deadlineMs && list(a) === list(b);
}

/** "plans 1441", "can plan up to 289", "plans more than 100,000". */
function plans(s: ScheduleSettings, n: number): string {
  const verb = s.jitter > 0 ? 'can plan' : 'plans';
  if (n > COUNT_UP_TO) return `${verb} more than ${COUNT_UP_TO.toLocaleString('en-US')}`;
  return `${verb} ${s.jitter > 0 ? 'up to ' : ''}${n}`;
}

/** What the advice calls the settings: the API's field names, or the RETRY_* variables. */
export interface ScheduleNames {
  firstDelayMs: string;
  factor: string;
  deadlineMs: string;
}
const API_NAMES: ScheduleNames = { firstDelayMs: 'firstDelayMs', factor: 'factor', deadlineMs: 'deadlineMs' };

/** Why `s` cannot be used under a limit of `max` attempts, or null when it fits. */
export function tooManyAttempts(s: ScheduleSettings, max: number, names: ScheduleNames = API_NAMES): string | null {
  const n = mostAttempts(s);
  if (n <= max) return null;
  const jittered = s.jitter > 0 ? ' (every wait jittered to its shortest)' : '';
  const fix = s.delaysMs ? `give fewer waits, or a shorter ${names.deadlineMs}` : `raise ${names.firstDelayMs} or ${names.factor}, or shorten ${names.deadlineMs}`;
  return `${plans(s, n)} attempts per delivery${jittered}; at most ${max} (MAX_SCHEDULE_ATTEMPTS): ${fix}`;
}

/** The field a refusal names: what the override gives that sets the count, the most telling first. */
const FIELD_ORDER = ['delaysMs', 'firstDelayMs', 'factor', 'deadlineMs', 'jitter', 'preset'] as const;

/**
 * A schedule given in a request (`given`, which made `resolved`) that plans past `max`: the
 * field to name and why. null when it fits, when the request gave no schedule field, or when
 * it comes to the one `stored` already (what is stored is not refused, see cutNote: a form
 * sends the schedule back with every other change, turning the webhook off say).
 */
export function scheduleRefusal(resolved: ScheduleSettings, given: Partial<ScheduleSettings> | undefined, max: number, stored?: ScheduleSettings): { field: string; message: string } | null {
  const field = FIELD_ORDER.find((k) => given?.[k] !== undefined);
  if (!field) return null;
  if (stored && sameSchedule(resolved, stored)) return null;
  const why = tooManyAttempts(resolved, max);
  return why ? { field, message: why } : null;
}

/** What a delivery makes of a stored schedule past `max`, or null when it fits. */
export function cutNote(s: ScheduleSettings, max: number): string | null {
  const n = mostAttempts(s);
  if (n <= max) return null;
  const who = s.jitter > 0 ? 'a delivery that plans more' : 'a delivery';
  const makes = s.delaysMs ? `the first ${max}` : `the first ${max - 1}, then one on the deadline`;
  return `This schedule ${plans(s, n)} attempts per delivery, more than MAX_SCHEDULE_ATTEMPTS (${max}): ${who} makes ${makes}.`;
}
