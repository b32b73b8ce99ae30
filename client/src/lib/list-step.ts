// Stepping through the bin page's request list (newest first; ids sort by arrival) from the
// open request, also when its row is not among the loaded ones: a link or a reload can open
// any stored request, and j/k and the arrows must carry on from it, never from the top.
// Pure, but for the API call passed in.

interface Row {
  id: string;
}

/** How many rows of a newest-first list are newer than `id`: its index, or where it would be. */
export function rankOf(list: readonly Row[], id: string): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (list[mid].id > id) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * The row `delta` steps from the selection (positive: down, to older ones): `{ index }` among
 * the loaded rows; 'fetch' when the rows on the way are not loaded (the selection is older
 * than all of them and older pages exist); null when there is nowhere to go. With nothing
 * selected, the steps start above the first row.
 */
export function stepFrom(list: readonly Row[], selectedId: string | null, delta: number, hasOlder: boolean): { index: number } | 'fetch' | null {
  const n = list.length;
  const clamp = (i: number) => ({ index: Math.max(0, Math.min(n - 1, i)) });
  if (selectedId === null) return n ? clamp(delta > 0 ? delta - 1 : 0) : null;
  const r = rankOf(list, selectedId);
  if (r < n && list[r].id === selectedId) return clamp(r + delta);
  // Not loaded (or gone, or not matching the filter): step from where it would sit.
  if (r >= n && hasOlder) return 'fetch';
  if (delta > 0) return r < n ? clamp(r + delta - 1) : null;
  return r > 0 ? clamp(r + delta) : null;
}

/** Pages of the gap above an unloaded selection read at most, looking for the rows just above it. */
export const MAX_GAP_PAGES = 40;
const PAGE = 500;

/** The list API (`api.listRequests`, the filter bound): a page newest first, and whether more are older. */
export type FetchPage = (q: { limit: number; before?: string; after?: string }) => Promise<{ requests: readonly Row[]; nextBefore: string | null }>;

/**
 * For stepFrom's 'fetch': the id `delta` rows from the selection, asked of the list API.
 * Down: the next older ones, one call. Up: the rows between the selection and the loaded
 * ones come newest first, so the gap is read down to the selection (bounded: null past
 * MAX_GAP_PAGES pages), keeping only its last rows; a short gap carries on into `list`.
 */
export async function fetchStep(fetchPage: FetchPage, list: readonly Row[], selectedId: string, delta: number): Promise<string | null> {
  if (delta > 0) {
    const page = await fetchPage({ before: selectedId, limit: Math.min(delta, PAGE) });
    return page.requests.at(-1)?.id ?? null;
  }
  const k = -delta;
  const n = list.length;
  let before = n ? list[n - 1].id : undefined;
  let last: Row[] = [];
  let gap = 0;
  for (let pages = 0; ; pages++) {
    if (pages === MAX_GAP_PAGES) return null;
    const page = await fetchPage({ after: selectedId, before, limit: PAGE });
    gap += page.requests.length;
    last = last.concat(page.requests).slice(-k);
    if (!page.nextBefore) break;
    before = page.nextBefore;
  }
  if (gap >= k) return last[0].id;
  return n ? list[Math.max(0, n - (k - gap))].id : (last[0]?.id ?? null);
}

/**
 * Where to scroll a list so the row at `top` (px, `rowH` high) is in view: null when it is
 * already whole in view; a neighbour just past an edge comes to that edge (stepping moves
 * the view a row at a time); a row further away comes to the middle, with rows around it.
 */
export function scrollToShow(top: number, rowH: number, scrollTop: number, viewH: number): number | null {
  const bottom = top + rowH;
  if (top >= scrollTop && bottom <= scrollTop + viewH) return null;
  if (top < scrollTop && top >= scrollTop - rowH) return top;
  if (bottom > scrollTop + viewH && bottom <= scrollTop + viewH + rowH) return bottom - viewH;
  return Math.max(0, Math.round(top + rowH / 2 - viewH / 2));
}

/**
 * How many rows of a newest-first list a live batch leaves in memory (the rest are paged from
 * the API again when scrolled to): `keep`, once the list is past it by `slack`, but never
 * fewer than `floor` (the page is loading older rows down to the open request: trimming them
 * would move the cursor back up, and the page would load them again, for ever), nor any row
 * up to `margin` past the last one on screen or past the open request's row (-1: not loaded).
 */
export function keptRows(length: number, o: { keep: number; slack: number; margin: number; lastVisible: number; selectedIndex: number; floor: number }): number {
  const cut = Math.max(o.keep, o.floor);
  const guard = Math.max(o.lastVisible, o.selectedIndex);
  return length > cut + o.slack && guard < cut - o.margin ? cut : length;
}

/**
 * Steps run one after another (each may wait for the API, and the next carries on from where
 * it landed), at most `max` pending at a time; a key held down (`repeat`) adds none while one
 * is pending: it would queue a call to the API per repeat. True when the step was taken on.
 */
export function stepQueue(max: number) {
  let tail: Promise<void> | null = null;
  let pending = 0;
  return (task: () => Promise<void> | void, repeat = false): boolean => {
    if (pending > 0 && (repeat || pending >= max)) return false;
    const run = tail ? tail.then(task) : task();
    if (!run) return true;
    pending++;
    const p: Promise<void> = run.then(
      () => {},
      () => {},
    );
    tail = p;
    void p.then(() => {
      pending--;
      if (tail === p) tail = null;
    });
    return true;
  };
}
