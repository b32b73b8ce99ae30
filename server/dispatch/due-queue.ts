// A min-heap of things due on the virtual clock. Entries are never removed in place: the
// dispatcher checks each popped entry against the stored record and skips stale ones.
import { MinHeap } from '../lib/min-heap.ts';

export interface DueEntry {
  at: number;
  kind: 'attempt' | 'run-end';
  id: string;
  /**
   * The receiver an attempt goes to (see receiver-key.ts): attempts to one receiver made at
   * different instants never overlap, so it sees them in the order of their recorded times.
   */
  key?: string;
}

type Queued = DueEntry & { seq: number };

export class DueQueue {
  // Earlier time first; ties in insertion order, so same-instant work runs as queued.
  private readonly heap = new MinHeap<Queued>((x, y) => x.at < y.at || (x.at === y.at && x.seq < y.seq));
  private seq = 0;

  get size() {
    return this.heap.size;
  }

  push(e: DueEntry) {
    this.heap.push({ ...e, seq: this.seq++ });
  }

  peek(): DueEntry | undefined {
    return this.heap.peek();
  }

  pop(): DueEntry | undefined {
    return this.heap.pop();
  }

  clear() {
    this.heap.clear();
  }
}

/**
 * A multiset of virtual instants with its minimum: the dispatcher's "not yet sent" instants
 * (started, parked, follow-ups owed). add/remove are O(log n) amortised and min() O(1)
 * amortised, where scanning every instant held would cost O(attempts in flight) each time the
 * clock's hold is refreshed, several times per attempt.
 */
export class InstantSet {
  private readonly counts = new Map<number, number>();
  /** Every instant with a count, and maybe some whose count went to 0 (dropped lazily by min()). */
  private readonly heap = new MinHeap<number>((x, y) => x < y);

  get size() {
    return this.counts.size;
  }

  add(at: number) {
    const n = this.counts.get(at);
    if (n !== undefined) {
      this.counts.set(at, n + 1);
      return;
    }
    this.counts.set(at, 1);
    this.heap.push(at);
    // Instants removed while not the earliest stay in the heap until they reach its top: keep
    // them from piling up.
    if (this.heap.size > 2 * this.counts.size + 64) {
      this.heap.clear();
      for (const t of this.counts.keys()) this.heap.push(t);
    }
  }

  /** Remove one occurrence of `at` (no-op when it holds none). */
  remove(at: number) {
    const n = this.counts.get(at);
    if (n === undefined) return;
    if (n > 1) this.counts.set(at, n - 1);
    else this.counts.delete(at);
  }

  /** The earliest instant held, or null. */
  min(): number | null {
    for (;;) {
      const t = this.heap.peek();
      if (t === undefined) return null;
      if (this.counts.has(t)) return t;
      this.heap.pop();
    }
  }
}
