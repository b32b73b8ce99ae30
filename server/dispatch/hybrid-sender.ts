// Where an attempt's HTTP call is made: on the main thread (inline) or on the sender thread.
//
// - Attempts to hooklab's own receiver URLs (the retry lab's usual target) always go inline.
//   Their receiving side runs on the main thread anyway, and through the thread each one pays
//   two cross-thread wake-ups plus the answer's write waking the other thread: measured over 64
//   receiver bins, the main thread spent ~345 us per attempt that way against ~231 us inline
//   (CPU profiles, 9,000 attempts each), so the thread made the main thread busier, not less.
// - Other attempts: those that go one at a time inline too (a lone attempt through the thread
//   pays the two wake-ups per round trip), a burst on the sender thread, where the HTTP work of
//   many at once runs on the other core. With at most `inlineMax` of those in flight here, a
//   fast-forward to remote receivers leaves the event loop to the receiver and the API.
import type { Send } from './send.ts';

export interface HybridOptions {
  /** Attempts (not to own URLs) in flight inline at most. */
  inlineMax?: number;
  /** Whether a URL is one of hooklab's own receivers (always inline). */
  isOwn?: (url: string) => boolean;
}

export function hybridSend(inline: Send, thread: Send, o: HybridOptions = {}): Send {
  const inlineMax = o.inlineMax ?? 2;
  let inFlight = 0;
  return async (req) => {
    if (o.isOwn?.(req.url)) return inline(req);
    if (inFlight >= inlineMax) return thread(req);
    inFlight++;
    try {
      return await inline(req);
    } finally {
      inFlight--;
    }
  };
}
