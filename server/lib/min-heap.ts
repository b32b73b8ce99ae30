// A binary min-heap ordered by a `less` function. Used for the dispatcher's due queue and for
// finding the oldest capture across bins.

export class MinHeap<T> {
  private items: T[] = [];

  constructor(private readonly less: (a: T, b: T) => boolean) {}

  get size(): number {
    return this.items.length;
  }

  push(x: T): void {
    // Sift up with a hole: parents move down, x is written once where it stops.
    const h = this.items;
    const less = this.less;
    let i = h.length;
    h.push(x);
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = h[p];
      if (!less(x, parent)) break;
      h[i] = parent;
      i = p;
    }
    h[i] = x;
  }

  peek(): T | undefined {
    return this.items[0];
  }

  pop(): T | undefined {
    const h = this.items;
    if (h.length === 0) return undefined;
    const top = h[0];
    const last = h.pop()!;
    const n = h.length;
    if (n > 0) {
      // Sift the last item down from the root with a hole (one write per level, no swaps).
      const less = this.less;
      let i = 0;
      for (;;) {
        let c = 2 * i + 1;
        if (c >= n) break;
        if (c + 1 < n && less(h[c + 1], h[c])) c++;
        if (!less(h[c], last)) break;
        h[i] = h[c];
        i = c;
      }
      h[i] = last;
    }
    return top;
  }

  /** Keep only what `keep` accepts (rebuilds the heap: O(n log n)). */
  filter(keep: (x: T) => boolean): void {
    const old = this.items;
    this.items = [];
    for (const x of old) if (keep(x)) this.push(x);
  }

  clear(): void {
    this.items = [];
  }
}
