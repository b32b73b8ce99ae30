// The dispatcher page's deliveries: one filtered view, read from the server a page at a time
// (newest first, `before` the oldest held), kept up to date by live `delivery` events. Pure.
//
// What is held is every delivery matching the filter from the newest down to the oldest held
// one (a copy that stopped matching, say ended under "Pending", stays held but is not shown):
// so a live event is added when it falls in that range, and older ones are paged for.
import type { Delivery, DeliveryPage, DeliveryState } from '../../../shared/api.ts';

export interface DeliveryFilter {
  webhookId: string;
  state: '' | DeliveryState;
}

export interface HeldDeliveries {
  /** Newest first. */
  list: Delivery[];
  /** False until the first read is in. */
  loaded: boolean;
  /** The server may have older ones matching the filter (read them with before = the last id). */
  more: boolean;
}

export const EMPTY: HeldDeliveries = { list: [], loaded: false, more: false };

export const matches = (d: Delivery, f: DeliveryFilter) => (!f.webhookId || d.webhookId === f.webhookId) && (!f.state || d.state === f.state);

/** Which of two copies of a delivery is later (events and reads can cross). */
export function later(a: Delivery, b: Delivery): Delivery {
  if (a.attempts.length !== b.attempts.length) return a.attempts.length > b.attempts.length ? a : b;
  if (a.state === 'pending' && b.state !== 'pending') return b;
  return a.state !== 'pending' && b.state === 'pending' ? a : b;
}

const newestFirst = (a: Delivery, b: Delivery) => (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);

/** At most `keep`, newest first: cutting the oldest leaves more to page for. */
function capped(list: Delivery[], loaded: boolean, more: boolean, keep: number): HeldDeliveries {
  list.sort(newestFirst);
  return list.length > keep ? { list: list.slice(0, keep), loaded, more: true } : { list, loaded, more };
}

/** Is `id` within what the list covers (newer than its oldest, or anything once all are held)? */
const inRange = (h: HeldDeliveries, id: string) => !h.more || (h.list.length > 0 && id > h.list[h.list.length - 1].id);

/**
 * Live events: a held delivery takes the later copy; one not held is added when it matches the
 * filter and falls in the range held (older ones come with "Show more").
 */
export function applyLive(h: HeldDeliveries, incoming: Delivery[], f: DeliveryFilter, keep: number): HeldDeliveries {
  if (!h.loaded) return h; // the first read is still out: it (or the events after it) brings them
  const byId = new Map(h.list.map((d) => [d.id, d]));
  for (const d of incoming) {
    const prev = byId.get(d.id);
    if (prev) byId.set(d.id, later(prev, d));
    else if (matches(d, f) && inRange(h, d.id)) byId.set(d.id, d);
  }
  return capped([...byId.values()], true, h.more, keep);
}

/**
 * The answer to a read of the newest (on opening, on a filter change, on every (re)join
 * of the live events): it decides what is held. A held copy it does not cover is dropped (an
 * ended delivery must not stay "pending" from before a disconnect; older ones are paged for
 * again), unless a live event for it came while the read was out (`during`: made since, or
 * changed since), as such an event's copy is the later one.
 */
export function applyNewest(answer: DeliveryPage, during: Map<string, Delivery>, f: DeliveryFilter, keep: number): HeldDeliveries {
  const page = answer.deliveries;
  const more = answer.nextBefore !== null;
  const oldest = page.length ? page[page.length - 1].id : null;
  const byId = new Map(page.map((d) => [d.id, d]));
  for (const [id, d] of during) {
    const got = byId.get(id);
    if (got) byId.set(id, later(got, d));
    else if (matches(d, f) && (!more || (oldest !== null && id > oldest))) byId.set(id, d);
  }
  return capped([...byId.values()], true, more, keep);
}

/** The answer to a read of the next page older than the list's oldest: appended. */
export function applyOlder(h: HeldDeliveries, answer: DeliveryPage, during: Map<string, Delivery>, keep: number): HeldDeliveries {
  const page = answer.deliveries;
  const byId = new Map(h.list.map((d) => [d.id, d]));
  for (const d of page) {
    const seen = during.get(d.id);
    const prev = byId.get(d.id);
    byId.set(d.id, [prev, seen].reduce<Delivery>((a, b) => (b ? later(a, b) : a), d));
  }
  // The cap cuts the oldest: keep what was just read by letting the list grow past it here.
  return capped([...byId.values()], true, answer.nextBefore !== null, Math.max(keep, byId.size));
}
