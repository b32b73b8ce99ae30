// The retry schedule: pure. Attempt 1 goes at once; retry n waits firstDelay * factor^(n-1),
// spread by ±jitter using a generator seeded per delivery; nothing is planned after the
// deadline, and the last attempt lands exactly on it.
import type { ScheduleSettings } from '../../shared/api.ts';
import { createRng } from '../rng.ts';

/** Safety net for settings that would plan absurdly many attempts (factor 1, tiny delay). */
export const MAX_ATTEMPTS = 200;

/** Delay before retry n (n = 1 is the first retry), for a uniform draw u in [0, 1). */
export function retryDelay(n: number, s: ScheduleSettings, u: number): number {
  const base = s.firstDelayMs * s.factor ** (n - 1);
  return Math.round(base * (1 + s.jitter * (2 * u - 1)));
}

/** Offsets (ms after the event) of every planned attempt, the first being 0. */
export function planAttempts(s: ScheduleSettings, seed: number): number[] {
  const rng = createRng(seed);
  const offsets = [0];
  let last = 0;
  for (let n = 1; offsets.length < MAX_ATTEMPTS; n++) {
    const next = last + retryDelay(n, s, rng());
    if (next >= s.deadlineMs) break;
    offsets.push(next);
    last = next;
  }
  if (last < s.deadlineMs) {
    if (offsets.length >= MAX_ATTEMPTS) offsets[offsets.length - 1] = s.deadlineMs;
    else offsets.push(s.deadlineMs);
  }
  return offsets;
}

/** Global settings with a webhook's (already validated) overrides on top. */
export function resolveSchedule(global: ScheduleSettings, override: Partial<ScheduleSettings> | undefined): ScheduleSettings {
  return { ...global, ...override };
}
