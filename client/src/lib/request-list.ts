// The bin page's list of captured requests, newest first, by id (ids sort by arrival).
// Pure helpers so merging live events, backfill and older pages is easy to test.
import type { RequestItem } from '../../../shared/api.ts';

const byIdDesc = (a: RequestItem, b: RequestItem) => (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);

/**
 * Merge `incoming` (any order, may repeat or overlap) into `list` (newest first, unique).
 * Answers the new list and the ids that were really new.
 */
export function mergeRequests(list: RequestItem[], incoming: RequestItem[], known: Set<string>): { list: RequestItem[]; added: RequestItem[] } {
  const added: RequestItem[] = [];
  for (const r of incoming) {
    if (known.has(r.id)) continue;
    known.add(r.id);
    added.push(r);
  }
  if (added.length === 0) return { list, added };
  added.sort(byIdDesc);
  // Fast paths: all newer than the head (live) or all older than the tail (paging).
  if (list.length === 0 || added[added.length - 1].id > list[0].id) return { list: added.concat(list), added };
  if (added[0].id < list[list.length - 1].id) return { list: list.concat(added), added };
  const out: RequestItem[] = new Array(list.length + added.length);
  let i = 0;
  let j = 0;
  let k = 0;
  while (i < list.length && j < added.length) out[k++] = list[i].id > added[j].id ? list[i++] : added[j++];
  while (i < list.length) out[k++] = list[i++];
  while (j < added.length) out[k++] = added[j++];
  return { list: out, added };
}

/** Drop the given ids (or everything). */
export function removeRequests(list: RequestItem[], ids: string[] | 'all', known: Set<string>): RequestItem[] {
  if (ids === 'all') {
    known.clear();
    return [];
  }
  const gone = new Set(ids);
  for (const id of ids) known.delete(id);
  return list.filter((r) => !gone.has(r.id));
}

/** Rows that changed in place (a signature checked, a forward done): same order, new objects. */
export function replaceRequests(list: RequestItem[], changed: Map<string, RequestItem>): RequestItem[] {
  let out: RequestItem[] | null = null;
  let left = changed.size;
  for (let i = 0; i < list.length && left > 0; i++) {
    const r = changed.get(list[i].id);
    if (!r) continue;
    out ??= list.slice();
    out[i] = r;
    left--;
  }
  return out ?? list;
}
