// Long lists in the request detail (form fields, multipart parts, headers) are drawn a page
// at a time: 120,000 table rows drawn at once froze the page for seconds. Pure.

/** Rows drawn at first. */
export const FIRST_PAGE = 200;
/** Rows each "Show more" adds. */
export const MORE_PAGE = 1000;
/** Rows per memoized chunk: a press draws its new chunks only, not the rows already there. */
export const CHUNK = 200;

/**
 * Rows of a multipart body kept in the page at most (plus up to a chunk). Taking 17,138
 * drawn parts out of the page again (the detail left for another request) froze it for 6-9 s.
 */
export const KEEP = 2000;

/** The first row drawn when rows up to `shown` are: at most `keep` (+ a chunk) before it, from a chunk's start. */
export function windowStart(shown: number, keep = KEEP, chunk = CHUNK): number {
  return Math.max(0, Math.floor((shown - keep) / chunk) * chunk);
}

/** How many to show after one more press. */
export function showMore(shown: number, total: number, step = MORE_PAGE): number {
  return Math.min(total, shown + step);
}

/** [start, end) of each chunk of the first `shown` of `total` rows (from row `from`, a chunk's start). */
export function chunkRanges(shown: number, total: number, chunk = CHUNK, from = 0): [number, number][] {
  const end = Math.min(shown, total);
  const out: [number, number][] = [];
  for (let s = from; s < end; s += chunk) out.push([s, Math.min(end, s + chunk)]);
  return out;
}
