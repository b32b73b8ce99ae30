// The dispatcher page's webhook list, kept from fetches and live events.
import type { Webhook } from '../../../shared/api.ts';

/**
 * A fetched webhook list, keeping what live events changed while the read was out (`during`:
 * per id, the last `webhook` event's copy, or null for `webhook:deleted`). The page re-reads as
 * it joins the live events, and that read may be answered after a change it did not see: a
 * webhook made meanwhile stays, one deleted meanwhile does not come back, and a copy a live
 * event made newer is kept. Otherwise the read decides which exist (one deleted while the page
 * was disconnected goes).
 */
export function mergeWebhooks(cur: Webhook[] | null, fetched: Webhook[], during: Map<string, Webhook | null> = new Map()): Webhook[] {
  const known = new Map((cur ?? []).map((w) => [w.id, w]));
  const newer = (a: Webhook | undefined, b: Webhook) => (a && a.updatedAt > b.updatedAt ? a : b);
  // A live event during the read wins a tie: a failure streak's change keeps updatedAt (not a settings change).
  const live = (a: Webhook | undefined, b: Webhook) => (a && a.updatedAt >= b.updatedAt ? a : b);
  const out = fetched.filter((w) => during.get(w.id) !== null).map((w) => (during.has(w.id) ? live : newer)(known.get(w.id), w));
  const listed = new Set(out.map((w) => w.id));
  for (const [id, w] of during) if (w && !listed.has(id)) out.push(newer(known.get(id), w));
  return out;
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
  // As new (the same updatedAt): the listed copy is the change's own live event, or a later one
  // that kept it (a failure streak's change keeps updatedAt), so it stays.
  return k.updatedAt >= w.updatedAt ? list : list.map((x) => (x.id === w.id ? w : x));
}
