// A header sent on several lines. A Node receiver (and so the provider's library behind it)
// gets one value, the lines joined with ", ": that value, not each line, is what gets judged.
import type { HeaderIndex } from './headers.ts';

const MAX_SHOWN_CHARS = 120;

/**
 * Headers of which Node keeps the first line and drops the rest (its IncomingMessage rules):
 * a receiver gets the first line's value, so that is what is judged.
 */
const NODE_KEEPS_FIRST = new Set(['age', 'authorization', 'content-length', 'content-type', 'etag', 'expires', 'from', 'host', 'if-modified-since', 'if-unmodified-since', 'last-modified', 'location', 'max-forwards', 'proxy-authorization', 'referer', 'retry-after', 'server', 'user-agent']);

/** The lines of `name` (lower-case) as a Node receiver is handed them: the first only, for some. */
export const nodeLines = (h: HeaderIndex, name: string): readonly string[] => {
  const values = h.get(name) ?? [];
  return NODE_KEEPS_FIRST.has(name) ? values.slice(0, 1) : values;
};

/** How Node joins a header's lines into one value (cookie with "; "). */
const joiner = (name: string) => (name === 'cookie' ? '; ' : ', ');

/** How many lines the header was sent on (0 when absent). */
export const lines = (h: HeaderIndex, name: string): number => nodeLines(h, name).length;

/** `header` (`name`, lower-case) was sent on several lines; `what` says what the provider's library makes of the joined value. */
export function repeatedMessage(h: HeaderIndex, name: string, header: string, what: string): string {
  const values = h.get(name) ?? [];
  const value = values.join(joiner(name));
  const shown = value.length > MAX_SHOWN_CHARS ? `${value.slice(0, MAX_SHOWN_CHARS)}…` : value;
  return `${header} is sent on ${values.length} lines: a Node receiver gets them as one value joined with "${joiner(name)}" ("${shown}"), ${what}. Send it once.`;
}

/** A problem for a header that the scheme's library compares whole, when it was sent on several lines. */
export function repeatedProblem(h: HeaderIndex, name: string, header: string, what: string): { cause: 'malformed_header'; message: string } | undefined {
  return lines(h, name) > 1 ? { cause: 'malformed_header', message: repeatedMessage(h, name, header, what) } : undefined;
}
