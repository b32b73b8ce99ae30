// Stepping through the request list from the open request, loaded or not, and scrolling its
// row into view.
import { describe, expect, it } from 'vitest';
import { type FetchPage, MAX_GAP_PAGES, fetchStep, keptRows, rankOf, scrollToShow, stepFrom, stepQueue } from '../../client/src/lib/list-step.ts';

/** Ids that sort like the real ones: "r0010" is older than "r0011". */
const id = (n: number) => `r${String(n).padStart(4, '0')}`;
/** The `n` newest of `total` stored, newest first, as the page holds them. */
const rows = (from: number, to: number) => {
  const out: { id: string }[] = [];
  for (let n = from; n >= to; n--) out.push({ id: id(n) });
  return out;
};

/** The list API over stored ids 1..total: newest first within (after, before), `limit` of them. */
function fakeApi(total: number): { fetchPage: FetchPage; calls: { limit: number; before?: string; after?: string }[] } {
  const calls: { limit: number; before?: string; after?: string }[] = [];
  const fetchPage: FetchPage = async (q) => {
    calls.push(q);
    const all = rows(total, 1).filter((r) => (q.before === undefined || r.id < q.before) && (q.after === undefined || r.id > q.after));
    const page = all.slice(0, q.limit);
    return { requests: page, nextBefore: all.length > q.limit ? page[page.length - 1].id : null };
  };
  return { fetchPage, calls };
}

describe('rankOf', () => {
  it('counts the rows newer than an id, present or not', () => {
    const list = rows(100, 91);
    expect(rankOf(list, id(100))).toBe(0);
    expect(rankOf(list, id(95))).toBe(5);
    expect(rankOf(list, id(101))).toBe(0);
    expect(rankOf(list, id(50))).toBe(10);
    expect(rankOf([], id(1))).toBe(0);
  });
});

describe('stepFrom', () => {
  const list = rows(100, 91); // ten loaded rows

  it('steps from a loaded row, clamped to the loaded ones', () => {
    expect(stepFrom(list, id(95), 1, true)).toEqual({ index: 6 });
    expect(stepFrom(list, id(95), -1, true)).toEqual({ index: 4 });
    expect(stepFrom(list, id(100), -1, true)).toEqual({ index: 0 });
    expect(stepFrom(list, id(91), 1, false)).toEqual({ index: 9 });
    expect(stepFrom(list, id(97), 8, true)).toEqual({ index: 9 });
  });

  it('starts above the first row when nothing is selected', () => {
    expect(stepFrom(list, null, 1, true)).toEqual({ index: 0 });
    expect(stepFrom(list, null, -1, true)).toEqual({ index: 0 });
    expect(stepFrom(list, null, 4, true)).toEqual({ index: 3 });
    expect(stepFrom([], null, 1, false)).toBeNull();
  });

  it('asks the API when the selection is older than every loaded row and more exist: never the top', () => {
    expect(stepFrom(list, id(50), 1, true)).toBe('fetch');
    expect(stepFrom(list, id(50), -1, true)).toBe('fetch');
  });

  it('steps from where an unlisted selection would sit (deleted, or not matching the filter)', () => {
    const gappy = [{ id: id(100) }, { id: id(98) }, { id: id(96) }];
    expect(stepFrom(gappy, id(97), 1, true)).toEqual({ index: 2 });
    expect(stepFrom(gappy, id(97), -1, true)).toEqual({ index: 1 });
    // Older than all, and nothing older stored: up goes to the last row, down nowhere.
    expect(stepFrom(gappy, id(50), -1, false)).toEqual({ index: 2 });
    expect(stepFrom(gappy, id(50), 1, false)).toBeNull();
    // Newer than all: down to the first row, up nowhere.
    expect(stepFrom(gappy, id(200), 1, true)).toEqual({ index: 0 });
    expect(stepFrom(gappy, id(200), -1, true)).toBeNull();
  });
});

describe('fetchStep', () => {
  it('down: the next older ones in one call', async () => {
    const api = fakeApi(5000);
    expect(await fetchStep(api.fetchPage, rows(5000, 4801), id(1000), 1)).toBe(id(999));
    expect(await fetchStep(api.fetchPage, rows(5000, 4801), id(1000), 10)).toBe(id(990));
    expect(await fetchStep(api.fetchPage, rows(5000, 4801), id(3), 10)).toBe(id(1));
    expect(await fetchStep(api.fetchPage, rows(5000, 4801), id(1), 1)).toBeNull();
    expect(api.calls).toHaveLength(4);
  });

  it('up: reads the gap between the loaded rows and the selection, down to the selection', async () => {
    const api = fakeApi(5000);
    const loaded = rows(5000, 4801);
    // A gap of 3,800 rows (4800..1001): eight pages.
    expect(await fetchStep(api.fetchPage, loaded, id(1000), -1)).toBe(id(1001));
    expect(api.calls).toHaveLength(8);
    expect(api.calls[0]).toEqual({ after: id(1000), before: id(4801), limit: 500 });
    // A step of 3 across a page boundary of the gap.
    expect(await fetchStep(api.fetchPage, loaded, id(4200), -3)).toBe(id(4203));
  });

  it('up: a gap shorter than the step carries on into the loaded rows', async () => {
    const api = fakeApi(5000);
    expect(await fetchStep(api.fetchPage, rows(5000, 4801), id(4798), -5)).toBe(id(4803));
    expect(await fetchStep(api.fetchPage, rows(5000, 4801), id(4798), -500)).toBe(id(5000));
  });

  it(`up: gives up past ${MAX_GAP_PAGES} pages of gap`, async () => {
    const api = fakeApi(30_000);
    expect(await fetchStep(api.fetchPage, rows(30_000, 29_801), id(10), -1)).toBeNull();
    expect(api.calls).toHaveLength(MAX_GAP_PAGES);
  });
});

describe('scrollToShow', () => {
  // Rows of 56 px in a view of 560 px (ten rows).
  it('leaves a row wholly in view where it is', () => {
    expect(scrollToShow(0, 56, 0, 560)).toBeNull();
    expect(scrollToShow(504, 56, 0, 560)).toBeNull();
  });
  it('brings the neighbour just past an edge to that edge', () => {
    expect(scrollToShow(560, 56, 0, 560)).toBe(56);
    expect(scrollToShow(530, 56, 0, 560)).toBe(26);
    expect(scrollToShow(560, 56, 600, 560)).toBe(560);
  });
  it('brings a row further away to the middle', () => {
    expect(scrollToShow(110 * 56, 56, 0, 560)).toBe(110 * 56 + 28 - 280);
    expect(scrollToShow(56, 56, 5000, 560)).toBe(0);
  });
});

describe('keptRows: what a live batch trims', () => {
  const o = { keep: 3000, slack: 500, margin: 50, lastVisible: 20, selectedIndex: -1, floor: 0 };
  it('trims a long list back to keep, but not what is on screen', () => {
    expect(keptRows(3400, o)).toBe(3400);
    expect(keptRows(3600, o)).toBe(3000);
    expect(keptRows(3600, { ...o, lastVisible: 2990 })).toBe(3600);
  });
  it("keeps the open request's row, as if on screen", () => {
    expect(keptRows(6000, { ...o, selectedIndex: 5100 })).toBe(6000);
    expect(keptRows(3600, { ...o, selectedIndex: 10 })).toBe(3000);
  });
  it('never trims below the floor: the rows loaded down to the open request', () => {
    expect(keptRows(3600, { ...o, floor: 6200 })).toBe(3600);
    expect(keptRows(6800, { ...o, floor: 6200 })).toBe(6200);
  });

  // The page's loop, with live captures on a busy bin: "Load down to it" reached 6,200 rows
  // for a request 5,000 rows down; a page of 500 older, then a live batch, and again. The
  // trim took the list back to 3,000 after each page, and the pages were loaded for ever.
  it('lets the page reach the open request while live captures arrive: a bounded number of pages', () => {
    const stored = 20_000;
    const target = 5000; // the open request's row, counted from the newest when the page opened
    let newest = stored;
    let length = 3200;
    const reach = length + 3000;
    let pages = 0;
    const selectedBelow = () => target + (newest - stored) >= length;
    while (selectedBelow() && length < reach && pages < 100) {
      length += 500; // an older page
      pages++;
      newest += 20; // a live batch
      length += 20;
      const sel = selectedBelow() ? -1 : target + (newest - stored);
      length = keptRows(length, { ...o, selectedIndex: sel, floor: selectedBelow() ? reach : 0 });
    }
    expect(pages).toBeLessThanOrEqual(10);
    expect(selectedBelow()).toBe(false);
    // And later batches keep its row.
    for (let i = 0; i < 50; i++) {
      newest += 20;
      length = keptRows(length + 20, { ...o, selectedIndex: target + (newest - stored), floor: 0 });
    }
    expect(selectedBelow()).toBe(false);
  });
});

describe('stepQueue', () => {
  const deferred = () => {
    let resolve!: () => void;
    const promise = new Promise<void>((r) => (resolve = r));
    return { promise, resolve };
  };
  it('runs steps one after another, each after the last settled', async () => {
    const q = stepQueue(4);
    const order: string[] = [];
    const a = deferred();
    q(() => {
      order.push('a');
      return a.promise;
    });
    q(() => void order.push('b'));
    expect(order).toEqual(['a']);
    a.resolve();
    await new Promise((r) => setTimeout(r, 0));
    expect(order).toEqual(['a', 'b']);
    // Nothing pending: a step that needs no API runs at once.
    q(() => void order.push('c'));
    expect(order).toEqual(['a', 'b', 'c']);
  });
  it('ignores a held-down key while a step is pending, and queues a few at most', async () => {
    const q = stepQueue(4);
    let calls = 0;
    const slow = deferred();
    const task = () => {
      calls++;
      return slow.promise;
    };
    expect(q(task, true)).toBe(true); // the first press of a held key is taken
    let taken = 0;
    for (let i = 0; i < 40; i++) if (q(task, true)) taken++;
    expect(taken).toBe(0);
    for (let i = 0; i < 40; i++) if (q(task)) taken++;
    expect(taken).toBe(3);
    slow.resolve();
    await new Promise((r) => setTimeout(r, 0));
    expect(calls).toBe(4);
    expect(q(task, true)).toBe(true);
  });
});
