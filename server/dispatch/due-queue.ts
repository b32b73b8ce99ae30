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
