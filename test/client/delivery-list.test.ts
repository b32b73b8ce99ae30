// The dispatcher page holds one filtered page of deliveries, read from the server and kept by
// live events: what it holds after a read is that read's (plus what came live meanwhile), so a
// copy from before a disconnect cannot stay "pending"; live ones are added in the range held.
import { describe, expect, it } from 'vitest';
import type { Delivery } from '../../shared/api.ts';
import { type DeliveryFilter, EMPTY, applyLive, applyNewest, applyOlder } from '../../client/src/lib/delivery-list.ts';

const del = (id: string, state: Delivery['state'] = 'pending', attempts = 1, webhookId = 'w1') =>
  ({ id, state, webhookId, attempts: Array.from({ length: attempts }, (_, i) => ({ n: i + 1 })) }) as unknown as Delivery;
const all: DeliveryFilter = { webhookId: '', state: '' };
const ids = (h: { list: Delivery[] }) => h.list.map((d) => d.id);
/** A page as the server answers it: `more` when it names an older page. */
const page = (deliveries: Delivery[], more: boolean) => ({ deliveries, nextBefore: more ? deliveries[deliveries.length - 1].id : null });

describe('applyNewest (the read on opening, on a filter change, on each (re)join)', () => {
  it('drops a held copy the read does not cover: a delivery that ended while the page was away is not left pending', () => {
    const h = applyNewest(page([del('d3', 'failed', 6), del('d2', 'failed', 6)], true), new Map(), all, 100);
    expect(ids(h)).toEqual(['d3', 'd2']);
    expect(h.more).toBe(true); // the server named an older page
    expect(h.list.every((d) => d.state === 'failed')).toBe(true);
  });
  it('keeps what came live while the read was out: made since, or a later copy than the read', () => {
    const during = new Map([
      ['d4', del('d4')],
      ['d2', del('d2', 'failed', 6)],
      ['d0', del('d0', 'failed', 6)], // older than the read covers: paged for
      ['d5', del('d5', 'pending', 1, 'w2')], // not this filter
    ]);
    const h = applyNewest(page([del('d3'), del('d2', 'pending', 5)], true), during, { webhookId: 'w1', state: '' }, 100);
    expect(ids(h)).toEqual(['d4', 'd3', 'd2']);
    expect(h.list[2].state).toBe('failed');
  });
  it('no older page: all are held, and anything live belongs (an exactly full page too: no empty read after it)', () => {
    const h = applyNewest(page([del('d3')], false), new Map([['d1', del('d1')]]), all, 100);
    expect(ids(h)).toEqual(['d3', 'd1']);
    expect(h.more).toBe(false);
  });
});

describe('applyLive', () => {
  it('adds a new matching delivery in the range held, takes later copies, and leaves older ones to "Show more"', () => {
    const h = { list: [del('d5'), del('d3')], loaded: true, more: true };
    const next = applyLive(h, [del('d6'), del('d4'), del('d2'), del('d3', 'delivered', 2), del('d7', 'pending', 1, 'w2')], { webhookId: 'w1', state: '' }, 100);
    expect(ids(next)).toEqual(['d6', 'd5', 'd4', 'd3']);
    expect(next.list[3].state).toBe('delivered');
    // An older copy arriving after a later one does not undo it.
    expect(applyLive(next, [del('d3', 'pending', 1)], all, 100).list[3].state).toBe('delivered');
  });
  it('with everything held, any matching one is added; past the cap the oldest go and there is more again', () => {
    const h = { list: [del('d3')], loaded: true, more: false };
    expect(ids(applyLive(h, [del('d1')], all, 100))).toEqual(['d3', 'd1']);
    const cut = applyLive(h, [del('d4'), del('d5')], all, 2);
    expect(ids(cut)).toEqual(['d5', 'd4']);
    expect(cut.more).toBe(true);
  });
  it('holds nothing until the first read is in (its answer, with what came meanwhile, decides)', () => {
    expect(applyLive(EMPTY, [del('d1')], all, 100)).toBe(EMPTY);
  });
});

describe('applyOlder ("Show more" read the next page from the server)', () => {
  it('appends it, a live copy seen meanwhile winning, and says whether there may be more', () => {
    const h = { list: [del('d5'), del('d4')], loaded: true, more: true };
    const next = applyOlder(h, page([del('d3'), del('d2')], true), new Map([['d2', del('d2', 'failed', 6)]]), 100);
    expect(ids(next)).toEqual(['d5', 'd4', 'd3', 'd2']);
    expect(next.list[3].state).toBe('failed');
    expect(next.more).toBe(true);
    expect(applyOlder(next, page([del('d1')], false), new Map(), 100).more).toBe(false);
    // Exactly as many as asked for, and none older: no more.
    expect(applyOlder(h, page([del('d3'), del('d2')], false), new Map(), 100).more).toBe(false);
  });
});
