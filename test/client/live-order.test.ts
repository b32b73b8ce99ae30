import { describe, expect, it } from 'vitest';
import { liveOrder } from '../../client/src/lib/live-order.ts';

/** A request whose answer the test releases when it wants. */
function pending<T>() {
  let release!: (v: T) => void;
  const p = new Promise<T>((r) => (release = r));
  return { call: () => p, release };
}

describe('liveOrder', () => {
  it('an answer with no live event while it was out stands', async () => {
    const o = liveOrder();
    o.live(); // before: irrelevant
    const r = pending<{ consumed: number }>();
    const asked = o.ask(r.call);
    r.release({ consumed: 0 });
    const v = await asked;
    expect(o.overtaken(v)).toBe(false);
  });

  it('an answer a live event overtook is marked (a reset answered after the next step was shown)', async () => {
    const o = liveOrder();
    const r = pending<{ consumed: number }>();
    const asked = o.ask(r.call);
    o.live(); // the reset's own event
    o.live(); // the next request's step
    r.release({ consumed: 0 });
    const v = await asked;
    expect(o.overtaken(v)).toBe(true);
  });

  it('marks the value inside a tagged answer; answers asked after the event stand', async () => {
    const o = liveOrder();
    const first = pending<{ etag: string; value: { n: number } }>();
    const a = o.ask(first.call, (t) => t.value);
    o.live();
    const second = pending<{ etag: string; value: { n: number } }>();
    const b = o.ask(second.call, (t) => t.value);
    first.release({ etag: '"1"', value: { n: 1 } });
    second.release({ etag: '"2"', value: { n: 2 } });
    const [ta, tb] = await Promise.all([a, b]);
    expect([o.overtaken(ta.value), o.overtaken(ta), o.overtaken(tb.value)]).toEqual([true, false, false]);
  });
});
