// Does a capture match a search (the request list's filters, the wait API)? Cheap checks on
// the list row first; headers and the body only when the filter asks about them.
import type { RequestItem } from '../../shared/api.ts';
import type { RequestFilter } from '../../shared/schema/search.ts';
import type { Store, StoredRequest } from '../store/types.ts';
import { searchableTexts } from './body-text.ts';
import { SearchTurns } from './search-turns.ts';
import { statusMatches } from '../../shared/status-filter.ts';

export const isEmpty = (f: RequestFilter) => !f.method && !f.path && !f.status && !f.header?.length && !f.key && !f.q;

export function matchesItem(f: RequestFilter, r: RequestItem): boolean {
  if (f.key !== undefined && r.idempotencyKey !== f.key) return false;
  if (f.method && r.method.toUpperCase() !== f.method.toUpperCase()) return false;
  if (f.path && !r.path.startsWith(f.path)) return false;
  if (f.status && !statusMatches(f.status, r)) return false;
  return true;
}

/**
 * Every `header` filter is met by some header. One pass over the headers, each name lower-cased
 * at most once (only when a filter's name has its length): a capture may carry thousands of
 * headers, and a search or a waiter runs this on every capture it reads.
 */
export function matchesHeaders(f: RequestFilter, flat: readonly string[]): boolean {
  const wants = f.header;
  if (!wants?.length) return true;
  const met = new Array<boolean>(wants.length).fill(false);
  let left = wants.length;
  for (let i = 0; i < flat.length && left > 0; i += 2) {
    const name = flat[i];
    let lower: string | undefined;
    for (let j = 0; j < wants.length; j++) {
      const w = wants[j];
      if (met[j] || w.name.length !== name.length) continue;
      lower ??= name.toLowerCase();
      if (lower === w.name && (w.value === undefined || flat[i + 1] === w.value)) {
        met[j] = true;
        left--;
      }
    }
  }
  return left === 0;
}

/**
 * A body search decodes at most this much of a content-encoded body (or MAX_DECODED_BYTES, if
 * lower): it runs on the main thread, for every stored capture a search reads and for every
 * live capture someone waits on with `q`, so it must stay cheap (~1 MiB inflates in a few ms).
 */
export const SEARCH_DECODE_MAX_BYTES = 1024 * 1024;

/**
 * `q` (lower-cased) in one capture's body as the detail shows it (decoded, in its charset, a
 * form's fields: see searchableTexts). The texts are made once, when first asked, so several
 * waiters on one capture share them; the bytes as UTF-8 are tried first (nothing decoded).
 */
export function bodyMatcher(body: Buffer, headers: readonly string[], maxDecodedBytes: number): (q: string) => boolean {
  let raw: string | undefined;
  let texts: string[] | undefined;
  return (q) => {
    raw ??= body.toString('utf8').toLowerCase();
    if (raw.includes(q)) return true;
    texts ??= searchableTexts(body, headers, Math.min(maxDecodedBytes, SEARCH_DECODE_MAX_BYTES));
    return texts.some((t) => t.includes(q));
  };
}

export function matchesBody(f: RequestFilter, body: (q: string) => boolean): boolean {
  return !f.q || body(f.q.toLowerCase());
}

/** All of it, for a capture at hand (the receiver has its headers and body; `body` from bodyMatcher). */
export function matchesCapture(f: RequestFilter, r: StoredRequest, item: RequestItem, body: (q: string) => boolean): boolean {
  return matchesItem(f, item) && matchesHeaders(f, r.headers) && matchesBody(f, body);
}

/**
 * A proxied capture stored before its target answered (its status still null): the wait API
 * counts it once the answer is recorded, so a `status` filter sees what the sender got.
 */
export const proxyPending = (r: Pick<StoredRequest, 'answer'>): boolean => r.answer.source === 'proxy' && r.answer.status === null && r.answer.fault === null;

/**
 * A capture answered after a delay (the bin's `delayMs`), its sender still there when stored: a
 * `status` filter of the wait API counts it once the answer went (see RequestWaiters.answered),
 * so that it matches what the sender got (a sender that hung up first got nothing).
 */
export const answerDelayed = (r: Pick<StoredRequest, 'answer'>): boolean =>
  r.answer.delayMs > 0 && r.answer.status !== null && r.answer.source !== 'proxy' && r.answer.hungUpAfterMs === undefined;

/** answerDelayed, and not due yet at `now`. */
export const delayPending = (r: Pick<StoredRequest, 'answer' | 'receivedAt'>, now: number): boolean =>
  answerDelayed(r) && Date.parse(r.receivedAt) + r.answer.delayMs > now;

export interface SearchPage {
  rows: StoredRequest[];
  /** More may match further back (pass as `before`). */
  more: boolean;
  /** With pendingFirst: the oldest capture that matches but is not settled yet (the scan stopped there). */
  pending?: string;
  /** With oldestFirst: the newest id the scan looked at and passed over (before `pending`, if any). */
  passed?: string;
}

/**
 * Search a bin's stored captures: newest first (or, with oldestFirst, the oldest after
 * `after` first), at most `limit`. Reads headers and bodies only for rows that pass the
 * cheaper checks.
 */
export async function search(
  store: Store,
  binId: string,
  f: RequestFilter,
  q: {
    limit: number;
    before?: string;
    after?: string;
    oldestFirst?: boolean;
    maxDecodedBytes: number;
    /**
     * Only captures whose sender has its answer at this instant (the wait API): not a proxied
     * one whose target has yet to answer, nor (with a `status` filter) one whose delayed
     * answer is still to go. The wait hears of those once answered.
     */
    settledAt?: number;
    /** This instance has yet to send the capture's delayed answer (RequestWaiters.answerDelayed). */
    delayedHere?: (id: string) => boolean;
    /**
     * With settledAt and oldestFirst: stop at the oldest capture that matches every filter but
     * is not settled yet (`pending`), rather than pass it over: the wait API answers in id order,
     * so that a loop of `after=` cursors sees each capture once.
     */
    pendingFirst?: boolean;
    /**
     * With pendingFirst: a proxied capture received longer ago than this holds nothing (its
     * answer was never recorded: the instance stopped while it proxied, or the write failed);
     * it is passed over as unsettled.
     */
    proxyHoldMs?: number;
    /** Shared by the instance's body searches (see search-turns.ts); default: this one's own. */
    turns?: SearchTurns;
    /** The asker is gone (its connection closed): the search stops. */
    abandoned?: () => boolean;
  },
): Promise<SearchPage> {
  if (!f.q) return scan(store, binId, f, q, null);
  const turns = q.turns ?? new SearchTurns();
  const who = turns.join();
  try {
    return await scan(store, binId, f, q, { turns, who });
  } finally {
    turns.leave(who);
  }
}

/** A proxied capture past proxyHoldMs: its answer will not be recorded now (see proxyHoldMs). */
const orphaned = (item: RequestItem, q: { settledAt?: number; proxyHoldMs?: number }): boolean =>
  q.proxyHoldMs !== undefined && proxyPending(item) && Date.parse(item.receivedAt) + q.proxyHoldMs < (q.settledAt ?? Date.now());

/**
 * Is a capture between `after` and `before` (both excluded) still waiting for its answer, and
 * might it match `f` once it has one (list-row checks only: no headers, no body)? The wait API
 * asks before it answers a capture it was told of: when none is, that one is the oldest match.
 */
export async function unsettledBetween(
  store: Store,
  binId: string,
  f: RequestFilter,
  q: { after?: string; before: string; settledAt: number; delayedHere?: (id: string) => boolean; proxyHoldMs?: number },
): Promise<boolean> {
  const CHUNK = 500;
  let after = q.after;
  for (;;) {
    const items = await store.requests.items(binId, { limit: CHUNK, after, before: q.before, oldestFirst: true });
    for (const item of items) {
      const proxied = proxyPending(item);
      const unsettled = proxied || (!!f.status && (!!q.delayedHere?.(item.id) || delayPending(item, q.settledAt)));
      if (!unsettled || orphaned(item, q)) continue;
      if (matchesItem(proxied && f.status ? { ...f, status: undefined } : f, item)) return true;
    }
    if (items.length < CHUNK) return false;
    after = items[items.length - 1].id;
  }
}

async function scan(store: Store, binId: string, f: RequestFilter, q: Parameters<typeof search>[3], t: { turns: SearchTurns; who: object } | null): Promise<SearchPage> {
  const rows: StoredRequest[] = [];
  // Scan in chunks: the index is in memory, so each chunk is cheap.
  const CHUNK = 500;
  // Reads of cached captures resolve without giving the event loop a turn, and a body search
  // may inflate up to 1 MiB per capture: 500 compressed bodies held it for 5-12 s, everyone
  // else waiting. So bodies are matched in the search's slices, in turn (see search-turns.ts).
  let before = q.before;
  let after = q.after;
  let passed: string | undefined;
  const page = (more: boolean): SearchPage => (q.oldestFirst && passed !== undefined ? { rows, more, passed } : { rows, more });
  for (;;) {
    const items = await store.requests.items(binId, { limit: CHUNK, before, after, oldestFirst: q.oldestFirst });
    for (const item of items) {
      if (t) {
        // Its slice may have run out in reads since its last match: handed on.
        t.turns.check(t.who);
        if (q.abandoned?.()) return { rows, more: true };
      }
      const unsettled = q.settledAt !== undefined && (proxyPending(item) || (!!f.status && (!!q.delayedHere?.(item.id) || delayPending(item, q.settledAt))));
      if (unsettled && (!q.pendingFirst || orphaned(item, q))) continue; // the wait hears of it once answered
      // A proxied one's status is not known yet: it may match any. Rows passed over here never
      // match (a delayed answer's status is known, and one never sent matches no status).
      if (!matchesItem(unsettled && f.status && proxyPending(item) ? { ...f, status: undefined } : f, item)) {
        passed = item.id;
        continue;
      }
      const meta = await store.requests.get(binId, item.id);
      if (!meta || !matchesHeaders(f, meta.headers)) {
        passed = item.id;
        continue;
      }
      if (t) {
        const body = await store.requests.body(binId, item.id);
        if (!body) continue;
        const hit = await t.turns.work(t.who, () => matchesBody(f, bodyMatcher(body, meta.headers, q.maxDecodedBytes)), q.abandoned);
        if (hit === null) return { rows, more: true }; // its asker went while it waited
        if (!hit) {
          passed = item.id;
          continue;
        }
      }
      if (unsettled) return { ...page(true), pending: meta.id };
      if (rows.length === q.limit) return { rows, more: true };
      rows.push(meta);
    }
    if (items.length < CHUNK) return page(false);
    if (q.oldestFirst) after = items[items.length - 1].id;
    else before = items[items.length - 1].id;
  }
}
