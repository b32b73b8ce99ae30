// The bin page's "By key" view: the bin's captures grouped by the sender's idempotency key,
// from GET /api/bins/:id/idempotency, as list rows (most recently retried key first), which
// keys' bodies also arrived under another key (the sender gives a retry a new key, so a
// receiver cannot de-duplicate it), and the few sentences the view says. Pure, apart from
// the refresher at the end (timers only).
import type { RequestItem } from '../../../shared/api.ts';
import type { KeyGroupsT } from '../../../shared/schema/verify.ts';

export interface KeyGroupRow {
  key: string;
  attempts: number;
  firstId: string;
  latestId: string;
  /** Arrival times (ISO 8601), as the server gives them. */
  firstAt: string;
  latestAt: string;
  /** Other keys the same body also arrived under, in order of first appearance. */
  churnWith: string[];
}

/** Each key whose body also arrived under other keys, with those keys. */
export function churnByKey(keyChurn: KeyGroupsT['keyChurn']): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const c of keyChurn) {
    for (const k of c.keys) {
      const others = out.get(k) ?? [];
      for (const o of c.keys) if (o !== k && !others.includes(o)) others.push(o);
      out.set(k, others);
    }
  }
  return out;
}

/** One row per key, the key most recently retried first (ids sort by arrival). */
export function keyGroupRows(answer: KeyGroupsT): KeyGroupRow[] {
  const churn = churnByKey(answer.keyChurn);
  const rows: KeyGroupRow[] = [];
  for (const g of answer.groups) {
    if (g.ids.length === 0) continue;
    const firstId = g.ids[0];
    const latestId = g.ids[g.ids.length - 1];
    rows.push({ key: g.key, attempts: g.ids.length, firstId, latestId, firstAt: g.firstAt, latestAt: g.latestAt, churnWith: churn.get(g.key) ?? [] });
  }
  return rows.sort((a, b) => (a.latestId < b.latestId ? 1 : a.latestId > b.latestId ? -1 : 0));
}

/** A capture in a list sorted newest first by id (the bin page's list), by binary search. */
export function findById(list: readonly RequestItem[], id: string): RequestItem | undefined {
  let lo = 0;
  let hi = list.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const m = list[mid].id;
    if (m === id) return list[mid];
    if (m > id) lo = mid + 1;
    else hi = mid - 1;
  }
  return undefined;
}

const count = (n: number, one: string, many: string) => `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;

/** "1 attempt", "3 attempts". */
export const attemptsText = (n: number): string => count(n, 'attempt', 'attempts');

/** "1 capture carries no key", "12 captures carry no key". */
export const noKeyText = (n: number): string => `${count(n, 'capture carries', 'captures carry')} no key`;

/** "3 keys, 7 captures". */
export function groupsSummary(answer: KeyGroupsT): string {
  let keyed = 0;
  for (const g of answer.groups) keyed += g.ids.length;
  return `${count(answer.groups.length, 'key', 'keys')}, ${count(keyed, 'capture', 'captures')}`;
}

/** The key-churn list in one sentence, or null when every body kept its key. */
export function churnSummary(keyChurn: KeyGroupsT['keyChurn']): string | null {
  if (keyChurn.length === 0) return null;
  const keys = new Set<string>();
  for (const c of keyChurn) for (const k of c.keys) keys.add(k);
  const bodies = keyChurn.length === 1 ? 'The same body arrived' : `${keyChurn.length.toLocaleString('en-US')} bodies each arrived`;
  return `${bodies} under more than one key (${count(keys.size, 'key', 'keys')} in all): the sender gives a retry a new key, so a receiver cannot de-duplicate it.`;
}

/** What the row's flag says on hover. */
export function churnTitle(others: readonly string[]): string {
  const shown = others.slice(0, 5).join(', ') + (others.length > 5 ? ` and ${others.length - 5} more` : '');
  return `The same body also arrived under ${others.length === 1 ? 'key' : 'keys'} ${shown}: the sender's retries do not keep their key, so receivers cannot de-duplicate.`;
}

export interface Refresher {
  /** Something changed: fetch again, now or as soon as the gap allows. */
  poke(): void;
  stop(): void;
}

/**
 * Runs `load` when poked, at most once per `gapMs` (from one start to the next) and never two
 * at a time; pokes meanwhile collapse into one more run after it.
 */
export function createRefresher(load: () => Promise<void>, gapMs: number, now: () => number = Date.now): Refresher {
  let running = false;
  let dirty = false;
  let stopped = false;
  let lastStart = -Infinity;
  let timer: ReturnType<typeof setTimeout> | null = null;
  const run = () => {
    timer = null;
    if (stopped) return;
    running = true;
    dirty = false;
    lastStart = now();
    load()
      .catch(() => {})
      .finally(() => {
        running = false;
        if (dirty) schedule();
      });
  };
  const schedule = () => {
    if (stopped || timer) return;
    if (running) {
      dirty = true;
      return;
    }
    const wait = lastStart + gapMs - now();
    if (wait <= 0) run();
    else timer = setTimeout(run, wait);
  };
  return {
    poke: schedule,
    stop: () => {
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = null;
    },
  };
}
