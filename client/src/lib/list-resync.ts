// After a reconnect the subscribe replays the captures that arrived meanwhile, but nothing
// that left the bin (a clear, deletions, the cap pushing the oldest out, a smaller cap after a
// restart): the loaded rows are read again, newest first, down to the oldest loaded one, and
// the list becomes what the server holds in that range. Pure, but for the API call passed in.

interface Row {
  id: string;
}

/** The list API (the filter bound): a page newest first, and the cursor of the next older one. */
export type FetchPage<R extends Row> = (q: { limit: number; before?: string }) => Promise<{ requests: R[]; nextBefore: string | null }>;

const PAGE = 500;
/**
 * Pages read again at most (10,000 rows): a list loaded further (End on a huge bin) is cut
 * there, and its older rows are paged again when scrolled to.
 */
export const MAX_RESYNC_PAGES = 20;

/**
 * The stored rows from the newest down to `downTo` (the oldest loaded id; null: an empty list,
 * one page), or further to the end of the page that reaches it: a contiguous newest-first run,
 * with the cursor for the next older page (null: the run ends at the bin's oldest capture).
 */
export async function readDown<R extends Row>(fetchPage: FetchPage<R>, downTo: string | null, maxPages = MAX_RESYNC_PAGES): Promise<{ rows: R[]; nextBefore: string | null }> {
  const rows: R[] = [];
  let before: string | undefined;
  for (let pages = 1; ; pages++) {
    const page = await fetchPage({ limit: PAGE, before });
    rows.push(...page.requests);
    const last = page.requests.at(-1);
    if (!page.nextBefore || !last || downTo === null || last.id <= downTo || pages >= maxPages) return { rows, nextBefore: page.nextBefore };
    before = page.nextBefore;
  }
}

/**
 * Why the open request left while the page was away, when the read says it is gone: 'evicted'
 * when the bin is at its cap and the request is older than every capture it still holds (the
 * cap pushes the oldest out); else 'deleted' (a clear, or someone deleted it).
 */
export function goneWhy(id: string, o: { oldestStored: string | null; complete: boolean; stored: number; max: number | undefined }): 'evicted' | 'deleted' {
  const atCap = !!o.max && o.stored >= o.max;
  return atCap && o.complete && (o.oldestStored === null || id < o.oldestStored) ? 'evicted' : 'deleted';
}

/** How many rows of a newest-first list have an id after `from` and up to `upTo`: those a reconnect filled in. */
export function countBetween(list: readonly Row[], from: string | null, upTo: string | null): number {
  if (upTo === null) return 0;
  let n = 0;
  for (const r of list) {
    if (r.id <= (from ?? '')) break;
    if (r.id <= upTo) n++;
  }
  return n;
}

/**
 * The rows loaded before a reconnect that its read says left the bin: those not in the list it
 * made (`kept`), within the read's reach, i.e. not older than its last row (all of them when it
 * went down to the bin's oldest). A read cut short (MAX_RESYNC_PAGES) says nothing of older
 * rows: they are dropped from the list and paged again on scroll, not gone. `skip`: already
 * told gone (deleted live while the read was out).
 */
export function goneRows(old: readonly Row[], kept: ReadonlySet<string>, read: { rows: readonly Row[]; nextBefore: string | null }, skip: ReadonlySet<string> = new Set()): string[] {
  const complete = read.nextBefore === null;
  const reach = read.rows.at(-1)?.id;
  if (!complete && reach === undefined) return [];
  return old.filter((r) => !kept.has(r.id) && !skip.has(r.id) && (complete || r.id >= reach!)).map((r) => r.id);
}

/**
 * May a reconnect skip reading the loaded rows again? Only when nothing can have left the bin
 * meanwhile: the bin holds exactly what the page counted before the drop (known exact: a read
 * of the bin with no event since it was sent) plus the captures announced since (the replay,
 * live ones), and its cap is the same (a smaller one after a restart pushes the oldest out). Any capture deleted or
 * pushed out makes it hold fewer; one the page was not told of makes it hold more: either way
 * the rows are read again. With a filter the list is read again too (rows can change matching).
 */
export function canSkipReread(o: { filtered: boolean; before: number | null; announced: number; stored: number; maxBefore: number | undefined; maxNow: number | undefined }): boolean {
  return !o.filtered && o.before !== null && o.maxBefore === o.maxNow && o.stored === o.before + o.announced;
}
