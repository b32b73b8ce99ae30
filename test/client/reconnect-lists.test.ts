// What the bin page keeps straight across a reconnect and a busy stream: the unread captures
// (client/src/lib/unread.ts), the list read again after a reconnect (list-resync.ts) and the
// note that says what was filled in (backfill-note.ts).
import { describe, expect, it } from 'vitest';
import { backfillText } from '../../client/src/lib/backfill-note.ts';
import { canSkipReread, countBetween, goneRows, goneWhy, readDown } from '../../client/src/lib/list-resync.ts';
import { Unread } from '../../client/src/lib/unread.ts';

const id = (n: number) => `id${String(n).padStart(6, '0')}`;

describe('Unread', () => {
  it('counts every capture after the newest as the page opened, once, whatever is kept in memory', () => {
    const u = new Unread();
    u.arrived(id(1));
    expect(u.count).toBe(0); // not started: the first page is being read
    u.start(id(10));
    for (let i = 5; i <= 10_010; i++) u.arrived(id(i));
    expect(u.count).toBe(10_000);
    // A repeat (a replay overlapping live ones) counts once.
    for (let i = 9_000; i <= 10_010; i++) u.arrived(id(i));
    expect(u.count).toBe(10_000);
    expect(u.has(id(10))).toBe(false);
    expect(u.has(id(11))).toBe(true);
  });

  it('reading, deleting and clearing take from it; a bin holding fewer caps it; a complete read counts exactly', () => {
    const u = new Unread();
    u.start('');
    for (let i = 1; i <= 20; i++) u.arrived(id(i));
    expect(u.read(id(3))).toBe(true);
    expect(u.read(id(3))).toBe(false);
    expect(u.has(id(3))).toBe(false);
    u.gone([id(3), id(4), id(5)]);
    expect(u.count).toBe(17);
    u.atMost(12);
    expect(u.count).toBe(12);
    u.read(id(20));
    u.recount([id(20), id(19), id(18)]);
    expect(u.count).toBe(2);
    u.allRead(id(20));
    expect(u.count).toBe(0);
    expect(u.has(id(19))).toBe(false);
    u.arrived(id(21));
    expect(u.count).toBe(1);
    expect(u.covers(id(21), false)).toBe(false);
    expect(u.covers(id(20), false)).toBe(true);
    expect(u.covers(null, true)).toBe(true);
  });
});

describe('Unread: one capture said twice counts once', () => {
  const five = () => {
    const u = new Unread();
    u.start('');
    for (let i = 1; i <= 5; i++) u.arrived(id(i));
    return u;
  };

  it('gone twice for the same capture (deleted live, then by the reconnect read) takes one off', () => {
    const u = five();
    u.gone([id(3)]);
    u.gone([id(3)]);
    expect(u.count).toBe(4);
    const v = five();
    v.read(id(2));
    v.gone([id(2)]);
    v.gone([id(2)]);
    expect(v.count).toBe(4);
    expect(v.has(id(2))).toBe(false);
  });

  it('a live event after a recount that counted its capture is a repeat', () => {
    const u = new Unread();
    u.start('');
    for (let i = 1; i <= 3; i++) u.arrived(id(i));
    u.recount([id(4), id(3), id(2), id(1)]);
    expect(u.count).toBe(4);
    expect(u.arrived(id(4))).toBe(false);
    expect(u.count).toBe(4);
  });
});

describe('goneRows', () => {
  const rows = (...ns: number[]) => ns.map((n) => ({ id: id(n) }));

  it('counts gone only the rows within the read, not older ones a cut read did not reach, nor ones already said', () => {
    const old = rows(10, 9, 8, 7, 6, 5, 4, 3, 2, 1);
    // Cut at id 6 (more to read): 8 is gone; 5..1 lie beyond the read.
    const cut = { rows: rows(10, 9, 7, 6), nextBefore: id(6) };
    expect(goneRows(old, new Set(cut.rows.map((r) => r.id)), cut)).toEqual([id(8)]);
    // Complete: every missing one is gone, less those deleted live meanwhile.
    const all = { rows: rows(10, 9, 7, 6, 4), nextBefore: null };
    expect(goneRows(old, new Set(all.rows.map((r) => r.id)), all, new Set([id(3)]))).toEqual([id(8), id(5), id(2), id(1)]);
  });

  it('leaves the unread count of rows beyond a cut read alone', () => {
    const u = new Unread();
    u.start('');
    for (let i = 1; i <= 10; i++) u.arrived(id(i));
    const old = rows(10, 9, 8, 7, 6, 5, 4, 3, 2, 1);
    const cut = { rows: rows(10, 9, 8, 7, 6), nextBefore: id(6) };
    u.gone(goneRows(old, new Set(cut.rows.map((r) => r.id)), cut));
    expect(u.count).toBe(10);
  });
});

describe('canSkipReread', () => {
  const base = { filtered: false, before: 100, announced: 5, stored: 105, maxBefore: 500, maxNow: 500 };
  it('skips only when the bin holds exactly what was counted plus what was announced, under the same cap', () => {
    expect(canSkipReread(base)).toBe(true);
    expect(canSkipReread({ ...base, stored: 104 })).toBe(false); // one deleted or pushed out
    expect(canSkipReread({ ...base, stored: 106 })).toBe(false); // one not announced
    expect(canSkipReread({ ...base, maxNow: 300 })).toBe(false);
    expect(canSkipReread({ ...base, before: null })).toBe(false); // the count was not exact
    expect(canSkipReread({ ...base, filtered: true })).toBe(false);
  });
});

describe('readDown', () => {
  const stored = Array.from({ length: 1200 }, (_, i) => ({ id: id(1200 - i) }));
  const fetchPage = async (q: { limit: number; before?: string }) => {
    const from = q.before ? stored.findIndex((r) => r.id < q.before!) : 0;
    const requests = from < 0 ? [] : stored.slice(from, from + q.limit);
    const more = from >= 0 && from + q.limit < stored.length;
    return { requests, nextBefore: more ? requests.at(-1)!.id : null };
  };

  it('reads newest first down to the oldest loaded row, whole pages, with the next cursor', async () => {
    const r = await readDown(fetchPage, id(600));
    expect(r.rows).toHaveLength(1000);
    expect(r.nextBefore).toBe(id(201));
    expect((await readDown(fetchPage, null)).rows).toHaveLength(500);
    const all = await readDown(fetchPage, id(1));
    expect(all.rows).toHaveLength(1200);
    expect(all.nextBefore).toBeNull();
    expect((await readDown(fetchPage, id(1), 2)).rows).toHaveLength(1000);
  });
});

describe('goneWhy and countBetween', () => {
  it('says pushed out only for one older than every capture a full bin holds', () => {
    expect(goneWhy(id(1), { oldestStored: id(5), complete: true, stored: 500, max: 500 })).toBe('evicted');
    expect(goneWhy(id(1), { oldestStored: id(5), complete: true, stored: 5, max: 500 })).toBe('deleted');
    expect(goneWhy(id(7), { oldestStored: id(5), complete: true, stored: 500, max: 500 })).toBe('deleted');
    expect(goneWhy(id(1), { oldestStored: id(5), complete: false, stored: 500, max: 500 })).toBe('deleted');
  });

  it('counts the rows a reconnect filled in', () => {
    const list = [9, 8, 7, 5, 3, 1].map((n) => ({ id: id(n) }));
    expect(countBetween(list, id(3), id(8))).toBe(3);
    expect(countBetween(list, null, id(9))).toBe(6);
    expect(countBetween(list, id(3), null)).toBe(0);
  });
});

describe('backfillText', () => {
  it('says how many arrived and, with a filter, how many match', () => {
    expect(backfillText(5)).toBe('Reconnected: 5 requests that arrived meanwhile were filled in.');
    expect(backfillText(1)).toBe('Reconnected: 1 request that arrived meanwhile was filled in.');
    expect(backfillText(400, 100)).toBe('Reconnected: 400 requests arrived meanwhile; 100 match the search and were filled in.');
    expect(backfillText(4, 1)).toBe('Reconnected: 4 requests arrived meanwhile; 1 matches the search and was filled in.');
    expect(backfillText(4, 0)).toBe('Reconnected: 4 requests arrived meanwhile; none match the search.');
    expect(backfillText(4, null)).toBe('Reconnected: 4 requests arrived meanwhile; those that match the search were filled in.');
  });
});
