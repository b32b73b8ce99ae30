// A header sent on several lines. A Node receiver (and so the provider's library behind it)
// gets one value, the lines joined with ", ": that value, not each line, is what gets judged.
import type { HeaderIndex } from './headers.ts';

const MAX_SHOWN_CHARS = 120;

/** How many lines the header was sent on (0 when absent). */
export const lines = (h: HeaderIndex, name: string): number => h.get(name)?.length ?? 0;

/** `header` (`name`, lower-case) was sent on several lines; `what` says what the provider's library makes of the joined value. */
export function repeatedMessage(h: HeaderIndex, name: string, header: string, what: string): string {
  const values = h.get(name) ?? [];
  const value = values.join(', ');
  const shown = value.length > MAX_SHOWN_CHARS ? `${value.slice(0, MAX_SHOWN_CHARS)}…` : value;
  return `${header} is sent on ${values.length} lines: a Node receiver gets them as one value joined with ", " ("${shown}"), ${what}. Send it once.`;
}

/** A problem for a header that the scheme's library compares whole, when it was sent on several lines. */
export function repeatedProblem(h: HeaderIndex, name: string, header: string, what: string): { cause: 'malformed_header'; message: string } | undefined {
  return lines(h, name) > 1 ? { cause: 'malformed_header', message: repeatedMessage(h, name, header, what) } : undefined;
}
