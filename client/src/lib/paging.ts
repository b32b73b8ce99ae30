// Long lists in the request detail (form fields, multipart parts, headers) are drawn a page
// at a time: 120,000 table rows drawn at once froze the page for seconds. Pure.

/** Rows drawn at first. */
export const FIRST_PAGE = 200;
/** Rows each "Show more" adds. */
export const MORE_PAGE = 1000;
/** Rows per memoized chunk: a press draws its new chunks only, not the rows already there. */
export const CHUNK = 200;

/** How many to show after one more press. */
export function showMore(shown: number, total: number, step = MORE_PAGE): number {
  return Math.min(total, shown + step);
}

/** [start, end) of each chunk of the first `shown` of `total` rows. */
export function chunkRanges(shown: number, total: number, chunk = CHUNK): [number, number][] {
  const end = Math.min(shown, total);
  const out: [number, number][] = [];
  for (let s = 0; s < end; s += chunk) out.push([s, Math.min(end, s + chunk)]);
  return out;
}
