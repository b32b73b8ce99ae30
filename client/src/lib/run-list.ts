// The dispatcher page's runs, kept from fetches and live events (`run`).
import type { Run } from '../../../shared/api.ts';

const newestFirst = (a: Run, b: Run) => (a.startedAt < b.startedAt ? 1 : a.startedAt > b.startedAt ? -1 : 0);

/**
 * A fetched run list, keeping what live events made newer: the page re-fetches as it joins the
 * live events, and that read may be answered after a run it did not see was started (or
 * ended) and announced. A run only goes from running to ended, so the ended copy is the newer.
 */
export function mergeRuns(cur: Run[], fetched: Run[]): Run[] {
  const byId = new Map(fetched.map((r) => [r.id, r]));
  for (const r of cur) {
    const f = byId.get(r.id);
    if (!f || (r.ended && !f.ended)) byId.set(r.id, r);
  }
  return [...byId.values()].sort(newestFirst);
}

/** A run's live event: in order, so it replaces what the list holds. */
export const upsertRun = (cur: Run[], r: Run): Run[] => [r, ...cur.filter((x) => x.id !== r.id)].sort(newestFirst);
