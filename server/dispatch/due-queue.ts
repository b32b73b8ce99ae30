// A min-heap of things due on the virtual clock. Entries are never removed in place: the
// dispatcher checks each popped entry against the stored record and skips stale ones.

export interface DueEntry {
  at: number;
  kind: 'attempt' | 'run-end';
  id: string;
  /** Owed from before a restart: planned instants that passed meanwhile are skipped. */
  resumed?: boolean;
}

export class DueQueue {
  private heap: (DueEntry & { seq: number })[] = [];
  private seq = 0;

  get size() {
    return this.heap.length;
  }

  push(e: DueEntry) {
    const h = this.heap;
    h.push({ ...e, seq: this.seq++ });
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(i, p)) break;
      [h[i], h[p]] = [h[p], h[i]];
      i = p;
    }
  }

  peek(): DueEntry | undefined {
    return this.heap[0];
  }

  pop(): DueEntry | undefined {
    const h = this.heap;
    if (h.length === 0) return undefined;
    const top = h[0];
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && this.less(l, m)) m = l;
        if (r < h.length && this.less(r, m)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m], h[i]];
        i = m;
      }
    }
    return top;
  }

  clear() {
    this.heap = [];
  }

  /** Earlier time first; ties in insertion order, so same-instant work runs as queued. */
  private less(a: number, b: number) {
    const x = this.heap[a];
    const y = this.heap[b];
    return x.at < y.at || (x.at === y.at && x.seq < y.seq);
  }
}
