// The request index every store driver shares: the per-bin cap, the store-wide byte budget
// (oldest capture across bins goes first) and what it keeps to find that oldest capture.
import { describe, expect, it } from 'vitest';
import type { RequestItem } from '../../shared/api.ts';
import { type IndexEntry, RequestIndex } from '../../server/store/request-index.ts';

let n = 0;
const entry = (binId: string, bytes = 10, head = 0): IndexEntry => {
  const id = `r${String(++n).padStart(8, '0')}`;
  return { id, binId, bytes, head, item: { id, binId } as RequestItem };
};

describe('RequestIndex', () => {
  it('evicts a bin oldest first at its cap, never the new entry', () => {
    const ix = new RequestIndex<IndexEntry>(Infinity);
    const a = [entry('a'), entry('a'), entry('a')];
    expect(ix.add(a[0], 2)).toEqual([]);
    expect(ix.add(a[1], 2)).toEqual([]);
    expect(ix.add(a[2], 2).map((e) => e.id)).toEqual([a[0].id]);
    expect(a[0].gone).toBe(true);
    expect(ix.entries('a').map((e) => e.id)).toEqual([a[1].id, a[2].id]);
    expect(ix.totalBytes).toBe(20);
  });

  it('keeps the byte budget by evicting the oldest capture across bins', () => {
    const ix = new RequestIndex<IndexEntry>(30);
    const a1 = entry('a');
    const b1 = entry('b');
    const a2 = entry('a');
    for (const e of [a1, b1, a2]) expect(ix.add(e, 100)).toEqual([]);
    const b2 = entry('b');
    expect(ix.add(b2, 100).map((e) => e.id)).toEqual([a1.id]);
    const c1 = entry('c', 25);
    expect(ix.add(c1, 100).map((e) => e.id)).toEqual([b1.id, a2.id, b2.id]);
    expect(ix.totalBytes).toBe(25);
  });

  it('counts each entry\'s head with its body, in and out (a header-heavy capture with no body still counts)', () => {
    const ix = new RequestIndex<IndexEntry>(100);
    const a1 = entry('a', 0, 40);
    const b1 = entry('b', 10, 30);
    expect(ix.add(a1, 100)).toEqual([]);
    expect(ix.add(b1, 100)).toEqual([]);
    expect(ix.totalBytes).toBe(80);
    // 80 + 30 is over 100: the oldest (a1, all head) goes.
    const a2 = entry('a', 0, 30);
    expect(ix.add(a2, 100).map((e) => e.id)).toEqual([a1.id]);
    expect(ix.totalBytes).toBe(70);
    ix.remove('b', b1.id);
    expect(ix.totalBytes).toBe(30);
    ix.clear('a');
    expect(ix.totalBytes).toBe(0);
  });

  it('does not pile up heads while a bin at its cap keeps receiving (memory stays flat)', () => {
    // Each eviction notes the bin's new oldest capture; stale notes must be dropped, or a
    // bin at its cap would grow the index by one note per capture for as long as it runs.
    const ix = new RequestIndex<IndexEntry>(1e12);
    for (let i = 0; i < 20_000; i++) ix.add(entry(`bin${i % 4}`), 50);
    expect(ix.heads).toBeLessThan(4 * 4 + 64 + 1);
    // ... and the budget still finds the oldest across bins after compaction.
    const small = new RequestIndex<IndexEntry>(100);
    const first = entry('x');
    small.add(first, 5);
    for (let i = 0; i < 5_000; i++) small.add(entry(`y${i % 3}`, 15), 3);
    expect(small.heads).toBeLessThan(3 * 4 + 64 + 2);
    expect(first.gone).toBe(true);
    expect(small.totalBytes).toBeLessThanOrEqual(100);
  });

  it('evicts exactly what a plain model says, over random adds, removes and dropped bins', () => {
    // The model: every live entry in one list; the cap takes the bin's oldest, then the budget
    // the oldest across bins (never the new entry).
    let seed = 7;
    const rnd = (k: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % k;
    };
    const MAX = 400;
    const CAP = 6;
    const ix = new RequestIndex<IndexEntry>(MAX);
    let live: IndexEntry[] = [];
    const bins = ['a', 'b', 'c', 'd', 'e'];
    for (let step = 0; step < 6_000; step++) {
      const op = rnd(20);
      if (op === 0 && live.length) {
        const e = live[rnd(live.length)];
        expect(ix.remove(e.binId, e.id)).toBe(e);
        live = live.filter((x) => x !== e);
      } else if (op === 1) {
        const bin = bins[rnd(bins.length)];
        ix.dropBin(bin);
        live = live.filter((x) => x.binId !== bin);
      } else {
        const e = entry(bins[rnd(bins.length)], 1 + rnd(60));
        live.push(e);
        const expected: string[] = [];
        const mine = live.filter((x) => x.binId === e.binId);
        for (let i = 0; i < mine.length - CAP; i++) expected.push(mine[i].id);
        live = live.filter((x) => !expected.includes(x.id));
        let total = live.reduce((t, x) => t + x.bytes, 0);
        while (total > MAX && live[0] !== e) {
          expected.push(live[0].id);
          total -= live[0].bytes;
          live = live.slice(1);
        }
        expect(ix.add(e, CAP).map((x) => x.id)).toEqual(expected);
      }
      expect(ix.totalBytes).toBe(live.reduce((t, x) => t + x.bytes, 0));
    }
    for (const bin of bins) expect(ix.entries(bin).map((e) => e.id)).toEqual(live.filter((x) => x.binId === bin).map((x) => x.id));
    expect(ix.heads).toBeLessThan(4 * bins.length + 64 + bins.length + 1);
  });
});

