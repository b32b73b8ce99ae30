// The dispatcher page's webhook list, kept from fetches and live events.
import type { Webhook } from '../../../shared/api.ts';

/**
 * A fetched webhook list, keeping what a live event already made newer: a fetch answered just
 * before a change (the page re-fetches when it joins the live events) may arrive after that
 * change's event.
 */
export function mergeWebhooks(cur: Webhook[] | null, fetched: Webhook[]): Webhook[] {
  const known = new Map((cur ?? []).map((w) => [w.id, w]));
  return fetched.map((w) => {
    const k = known.get(w.id);
    return k && k.updatedAt > w.updatedAt ? k : w;
  });
}
