// The failure streak the disable-after behaviours count: pure. A success ends it; the first
// failed attempt after a success starts it; each delivery that ends undelivered adds one.
import type { Behaviors } from '../../shared/api.ts';
import type { FailureStreakT } from '../store/types.ts';
import { iso } from '../time.ts';
import { count, duration } from './words.ts';

const DAY = 86_400_000;

export function streakAfterAttempt(s: FailureStreakT | null, ok: boolean, at: number): FailureStreakT | null {
  if (ok) return null;
  return s ?? { since: iso(at), deliveries: 0 };
}

export function streakAfterDeliveryEnd(s: FailureStreakT | null, undelivered: boolean): FailureStreakT | null {
  if (!undelivered || !s) return s;
  return { ...s, deliveries: s.deliveries + 1 };
}

/** Why the webhook must be disabled now, or null. */
export function disableVerdict(s: FailureStreakT | null, b: Behaviors, at: number): string | null {
  if (!s) return null;
  const failingFor = at - Date.parse(s.since);
  if (b.disableAfterDays && failingFor >= b.disableAfterDays * DAY) {
    return `every attempt has failed for ${duration(failingFor)} (since ${s.since}): disableAfterDays is ${b.disableAfterDays}`;
  }
  if (b.disableAfterDeliveries && s.deliveries >= b.disableAfterDeliveries) {
    return `${count(s.deliveries, 'delivery', 'deliveries')} in a row ended undelivered: disableAfterDeliveries is ${b.disableAfterDeliveries}`;
  }
  return null;
}
