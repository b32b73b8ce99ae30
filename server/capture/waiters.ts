// Waiters of the wait API (GET /api/bins/:id/requests/wait): each holds a filter and a
// callback; the receiver tells the registry about every capture it stores. Waiting costs a
// map entry and a timer, nothing while idle; a client that goes away removes its waiter.
import type { RequestFilter } from '../../shared/schema/search.ts';
import { toItem } from '../store/request-index.ts';
import type { CapturedRequest } from '../store/types.ts';
import { answerDelayed, bodyMatcher, matchesCapture, proxyPending } from './filter.ts';

interface Waiter {
  filter: RequestFilter;
  after: string | null;
  onMatch: (id: string) => void;
  onBinGone: () => void;
  onOther?: (id: string) => void;
}

export class RequestWaiters {
  private readonly byBin = new Map<string, Set<Waiter>>();
  /** Captures whose delayed answer this instance has yet to send (see delaying). */
  private readonly delayed = new Set<string>();

  /** `maxDecodedBytes`: how far a body search decodes (MAX_DECODED_BYTES; see matchesBody). */
  constructor(private readonly maxDecodedBytes: number) {}

  /**
   * Wait for captures of a bin matching `filter` (newer than `after`); answers a remover.
   * `onBinGone`: the bin was deleted (nothing will match any more); the waiter is removed.
   * `onOther`: a capture of the bin was told that does not match (it may be one the wait was
   * held by, now answered otherwise).
   */
  add(binId: string, filter: RequestFilter, after: string | null, onMatch: (id: string) => void, onBinGone: () => void, onOther?: (id: string) => void): () => void {
    let set = this.byBin.get(binId);
    if (!set) this.byBin.set(binId, (set = new Set()));
    const w: Waiter = { filter, after, onMatch, onBinGone, onOther };
    set.add(w);
    return () => {
      set.delete(w);
      if (set.size === 0 && this.byBin.get(binId) === set) this.byBin.delete(binId);
    };
  }

  /**
   * A capture's delayed answer waits (true) or was written whole, or its connection closed
   * (false). A capture's `receivedAt + delayMs` can pass before its answer goes (the delay runs
   * from when it was stored, after the disk when writes are behind; an answer pipelined behind a
   * slower one is held until that one went): a wait's scan asks this first.
   */
  delaying(id: string, on: boolean): void {
    if (on) this.delayed.add(id);
    else this.delayed.delete(id);
  }

  /** This instance has yet to send the capture's delayed answer. */
  answerDelayed(id: string): boolean {
    return this.delayed.has(id);
  }

  /** Does anyone wait on this bin? */
  wants(binId: string): boolean {
    return this.byBin.has(binId);
  }

  /** A bin was deleted (here, or on another instance): its waiters are told, and dropped. */
  binGone(binId: string): void {
    const set = this.byBin.get(binId);
    if (!set) return;
    this.byBin.delete(binId);
    for (const w of set) w.onBinGone();
  }

  /**
   * A capture was stored (called by the receiver: one map lookup when nobody waits). A proxied
   * one is told once its answer is recorded (see `answered`, and proxyPending); one whose answer
   * waits out a delay is told to waiters with a `status` filter once it went (answerDelayed).
   * `settled`: its answer is long gone (an import).
   */
  captured(r: CapturedRequest, settled = false): void {
    if (settled) this.tell(r, 'all');
    else if (proxyPending(r)) return;
    else this.tell(r, answerDelayed(r) ? 'no-status' : 'all');
  }

  /**
   * A capture's answer went: `r` as stored now. A proxied one's (with the status the sender
   * got): every waiter; a delayed one's: those with a `status` filter (the rest heard of it when
   * it was stored).
   */
  answered(r: CapturedRequest): void {
    this.tell(r, r.answer.source === 'proxy' ? 'all' : 'status');
  }

  /** `which`: every waiter, only those with a `status` filter, or only those without one. */
  private tell(r: CapturedRequest, which: 'all' | 'status' | 'no-status'): void {
    const set = this.byBin.get(r.binId);
    if (!set) return;
    const item = toItem(r);
    // One per capture: its searchable texts are made once, for all who wait with `q`.
    const body = bodyMatcher(r.body, r.headers, this.maxDecodedBytes);
    for (const w of [...set]) {
      if (w.after && r.id <= w.after) continue;
      if (which !== 'all' && !!w.filter.status !== (which === 'status')) continue;
      if (matchesCapture(w.filter, r, item, body)) w.onMatch(r.id);
      else w.onOther?.(r.id);
    }
  }

  get size(): number {
    let n = 0;
    for (const s of this.byBin.values()) n += s.size;
    return n;
  }
}
