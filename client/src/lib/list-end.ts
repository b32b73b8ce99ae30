// What the bin page says about its request count: on the Requests tab, and at the end of
// the list, where a bin at its cap (MAX_REQUESTS_PER_BIN) says that older captures were (or may
// have been) pushed out rather than ending as if there had never been more. Pure.
import { formatCount } from './format.ts';

export interface CountInput {
  /** Rows loaded (matching the filter, with one). */
  loaded: number;
  /** Older pages exist beyond the loaded rows. */
  hasOlder: boolean;
  loading: boolean;
  filtered: boolean;
  /** How many the bin holds (live), or null before it was read. */
  stored: number | null;
}

/**
 * The Requests tab's count. Unfiltered, how many the bin holds: the loaded rows when they are
 * all of them, else the bin's count (never fewer than are loaded). With a filter, how many
 * match so far, "+" while more pages may hold more, as the matches are not counted ahead.
 */
export function tabCount(c: CountInput): string {
  if (c.filtered) return `${formatCount(c.loaded)}${c.hasOlder ? '+' : ''}`;
  if (!c.hasOlder && !c.loading) return formatCount(c.loaded);
  if (c.stored === null) return `${formatCount(c.loaded)}${c.hasOlder ? '+' : ''}`;
  return formatCount(Math.max(c.stored, c.loaded));
}

export interface EndInput {
  /** Rows in the list (all of them: this is said once no older page is left). */
  n: number;
  filtered: boolean;
  /** How many the bin holds (live), or null when not known. */
  stored: number | null;
  /** MAX_REQUESTS_PER_BIN, when the server tells it. */
  max: number | null | undefined;
  /** Captures pushed out by a cap while the page was open. */
  pushedOut: number;
}

const requests = (n: number) => `${formatCount(n)} request${n === 1 ? '' : 's'}`;

/** The line at the end of a list that has no older page left (and at least one row). */
export function listEndText(e: EndInput): string {
  const atCap = !!e.max && Math.max(e.stored ?? 0, e.filtered ? 0 : e.n) >= e.max;
  const watched = e.pushedOut > 0 ? ` ${e.pushedOut === 1 ? 'One was' : `${formatCount(e.pushedOut)} were`} pushed out while this page was open.` : '';
  // At the cap, older ones were pushed out only if more ever came: a bin that got exactly its
  // cap lost none. Definite when this page saw one go; else hedged (before the page opened,
  // the client cannot tell).
  const older = e.pushedOut > 0 ? 'older ones were' : 'any older ones were';
  if (atCap && !e.filtered) {
    return `That is all the bin keeps: its newest ${requests(e.max!)} (MAX_REQUESTS_PER_BIN); ${older} pushed out as new ones came.${watched}`;
  }
  if (atCap) {
    return `That is all: ${requests(e.n)}. The bin keeps only its newest ${formatCount(e.max!)} (MAX_REQUESTS_PER_BIN): ${older} pushed out, matching or not.${watched}`;
  }
  if (e.pushedOut > 0) {
    // Under the per-bin cap now: the store-wide one (MAX_STORE_BYTES), or deletions since.
    return `That is all: ${requests(e.n)}. ${e.pushedOut === 1 ? 'One older one was' : `${formatCount(e.pushedOut)} older ones were`} pushed out by a cap (MAX_REQUESTS_PER_BIN, MAX_STORE_BYTES) while this page was open.`;
  }
  return `That is all: ${requests(e.n)}.`;
}
