// A pending delivery's attempts still to come, and the number each will carry. One rule for the
// timeline export (server) and the timeline's hollow marks (console): the marks numbered them by
// their place in the plan, so after two manual retries they said "attempt 4" for the send that
// goes out as attempt 6.
import type { Delivery } from './api.ts';

export interface PlannedAttempt {
  /** The attempt number the dispatcher will give it: each attempt is the one after those made, manual retries included. */
  n: number;
  /** Its place in the delivery's plan (`plannedAt`). */
  index: number;
  /** When, in (virtual) ms. */
  at: number;
}

/** The planned instants from the next attempt on, numbered on from the attempts made; none unless pending. */
export function plannedAttempts(d: Pick<Delivery, 'state' | 'nextAttemptAt' | 'plannedAt' | 'attempts'>): PlannedAttempt[] {
  if (d.state !== 'pending' || !d.nextAttemptAt) return [];
  const next = Date.parse(d.nextAttemptAt);
  const out: PlannedAttempt[] = [];
  let n = d.attempts.length;
  d.plannedAt.forEach((p, index) => {
    const at = Date.parse(p);
    if (at >= next) out.push({ n: ++n, index, at });
  });
  return out;
}
