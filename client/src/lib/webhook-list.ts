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

/**
 * One webhook put in the list (a save's or a create's answer): the version there already stays
 * when it is newer. The change's own live event goes out before its answer, and a later change
 * (another tab, the dispatcher disabling it) may be announced before the answer arrives.
 */
export function upsertWebhook(cur: Webhook[] | null, w: Webhook): Webhook[] {
  const list = cur ?? [];
  const k = list.find((x) => x.id === w.id);
  if (!k) return [...list, w];
  return k.updatedAt > w.updatedAt ? list : list.map((x) => (x.id === w.id ? w : x));
}
