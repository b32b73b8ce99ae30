// A wait's `after` is a cursor, not a lookup: "newer than this id", whether or not the bin still
// holds it (evicted or deleted ones are ordinary cursors, and the wait answers the next match).
// But an id whose time part is past the server's clock can have nothing newer for a long while:
// `hooklab wait BIN --after <typo>` waited out its timeout in silence. Refused at once instead.
import { idTime } from '../ids.ts';
import { invalid } from '../http/errors.ts';
import type { ApiContext } from './context.ts';

/**
 * How far past the clock an id may be and still be taken as one: ids follow the newest stored
 * one after the clock stepped back, and the instances of a cluster mint ids by their own clocks.
 */
const CLOCK_SLACK_MS = 60 * 60_000;
/** The last instant a Date can show as ISO text with a 4-digit year. */
const MAX_DATE_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/** Throws a 400 on `after` when it cannot be an id this server gave (its time is ahead of every one it gave). */
export async function refuseFutureAfter(ctx: ApiContext, binId: string, after: string): Promise<void> {
  const t = idTime(after);
  if (!t || t.ms <= ctx.now() + CLOCK_SLACK_MS) return;
  // Ahead of the clock: still fine when the bin's newest capture is too (the clock stepped back).
  const [newest] = await ctx.store.requests.items(binId, { limit: 1 });
  const newestMs = newest ? (idTime(newest.id)?.ms ?? 0) : 0;
  if (t.ms <= newestMs + CLOCK_SLACK_MS) return;
  const when = t.ms <= MAX_DATE_MS ? new Date(t.ms).toISOString() : 'a time past year 9999';
  throw invalid('after', `"${after}" is no capture id this server gave: its time part is ${when}, ahead of the clock and of every capture, so nothing would be newer (a capture's id is its "id", or its X-Hooklab-Request-Id)`);
}
