// The dispatcher with everything injected: a memory store, a virtual clock on a fake wall
// clock, and a fake sender. No network, no real time.
import { describe, expect, it } from 'vitest';
import type { Delivery, ScheduleSettings } from '../../shared/api.ts';
import { END_OF_TIME, VirtualClock } from '../../server/dispatch/clock.ts';
import { Dispatcher } from '../../server/dispatch/dispatcher.ts';
import type { Send, SendResult } from '../../server/dispatch/send.ts';
import { sortableIdFactory } from '../../server/ids.ts';
import { RecordingBus } from '../../server/live/bus.ts';
import { createRng } from '../../server/rng.ts';
import { MemoryStore } from '../../server/store/memory.ts';
import { StoreUnavailableError } from '../../server/store/types.ts';

const SCHEDULE: ScheduleSettings = { firstDelayMs: 5000, factor: 4, jitter: 0.2, deadlineMs: 86_400_000 };
const T0 = Date.parse('2026-01-01T00:00:00Z');

function answer(status: number | null, error: SendResult['error'] = null): SendResult {
  return { status, error, errorDetail: null, durationMs: 1, headers: [], body: '', bodyTruncated: false };
}

function deps(store: MemoryStore, wall: { t: number }, send: Send = async () => answer(500)) {
  let n = 0;
  return {
    store,
    realNow: () => wall.t,
    send,
    live: new RecordingBus(),
    schedule: SCHEDULE,
    timeoutMs: 1000,
    concurrency: 8,
    userAgent: 'test',
    newDeliveryId: sortableIdFactory(() => wall.t, 'dl_'),
    newMessageId: () => `msg_r${++n}`,
    newRunId: () => `run_r${++n}`,
    random: createRng(9),
    storeRetryMs: { first: 10, max: 50 },
  };
}

function setup(opts: { send?: Send; store?: MemoryStore; wall?: { t: number } } = {}) {
  const wall = opts.wall ?? { t: T0 };
  const store = opts.store ?? new MemoryStore();
  const sent: { url: string; headers: Record<string, string> }[] = [];
  const clock = new VirtualClock(() => wall.t, null);
  clock.setPaused(true);
  const send: Send =
    opts.send ??
    (async (r) => {
      sent.push({ url: r.url, headers: r.headers });
      return answer(500);
    });
  const d = new Dispatcher({ ...deps(store, wall, send), clock, random: createRng(7) });
  return { d, store, clock, sent, wall };
}

async function webhook(store: MemoryStore, extra: Record<string, unknown> = {}) {
  await store.webhooks.put({
    id: 'wh_1', name: 'w', url: 'http://receiver.test/hook', enabled: true, events: ['flow_started'], secret: null,
    successPolicy: '200', schedule: {}, timeoutMs: null, createdAt: '', updatedAt: '', ...extra,
  });
}

describe('dispatcher (injected clock, store, sender)', () => {
  it('"Retry now" while the lease cannot be confirmed answers 503 after its bound, sending nothing and recording nothing', async () => {
    const wall = { t: T0 };
    const store = new MemoryStore();
    const sent: string[] = [];
    const clock = new VirtualClock(() => wall.t, null);
    clock.setPaused(true);
    let sure = true;
    let confirm!: () => void;
    const d = new Dispatcher({
      ...deps(store, wall, async (r) => {
        sent.push(r.url);
        return answer(500);
      }),
      clock,
      random: createRng(7),
      beforeSend: () => (sure ? Promise.resolve() : new Promise<void>((r) => (confirm = r))),
      sureWaitMs: 50,
    });
    await webhook(store);
    await d.start();
    await d.fireRun({});
    const [del] = await store.deliveries.query({});
    const made = (await d.retryNow(del.id)).attempts.length;
    expect(made).toBeGreaterThan(0);
    expect(sent).toHaveLength(made);
    sure = false; // the lease's beat cannot go through from now on
    await expect(d.retryNow(del.id)).rejects.toMatchObject({ status: 503, code: 'dispatcher_unsure' });
    expect(sent).toHaveLength(made);
    expect((await store.deliveries.get(del.id))!.attempts).toHaveLength(made);
    confirm();
    d.stop();
  });

  it('fast-forwards a whole day: every planned attempt is made at its planned virtual time, then failed', async () => {
    const { d, store, sent } = setup();
    await webhook(store);
    await d.start();
    await d.fireRun({});
    await d.advance({ ms: 86_400_000 });
    const [del] = await store.deliveries.query({});
    expect(del.state).toBe('failed');
    expect(del.attempts.map((a) => a.sentAt)).toEqual(del.plannedAt);
    expect(sent).toHaveLength(del.plannedAt.length);
    expect(new Set(sent.map((s) => s.headers['webhook-id']))).toEqual(new Set([del.webhookMessageId]));
    expect(sent.map((s) => s.headers['x-hooklab-attempt'])).toEqual(del.attempts.map((a) => String(a.n)));
    d.stop();
  });

  it('the clock says when the first pending delivery gives up (the console shows it), also after a restart, and null once none is pending', async () => {
    const { d, store } = setup();
    await webhook(store, { schedule: { deadlineMs: 3_600_000 } });
    await d.start();
    expect(d.clockState().nextDeadlineAt).toBe(null);
    await d.fireRun({});
    await d.advance({ ms: 60_000 });
    await d.fireRun({});
    const [second, first] = await store.deliveries.query({});
    expect([first.state, second.state]).toEqual(['pending', 'pending']);
    const deadlineOf = (x: Delivery) => new Date(Date.parse(x.createdAt) + 3_600_000).toISOString();
    expect(d.clockState().nextDeadlineAt).toBe(deadlineOf(first));
    d.stop();
    const again = setup({ store, wall: { t: T0 + 60_000 } });
    await again.d.start();
    expect(again.d.clockState().nextDeadlineAt).toBe(deadlineOf(first));
    await again.d.advance({ ms: 3_600_000 - 60_000 }); // the first ends, the second is left
    expect((await store.deliveries.get(first.id))!.state).toBe('failed');
    expect(again.d.clockState().nextDeadlineAt).toBe(deadlineOf(second));
    await again.d.advance({ ms: 60_000 });
    expect(again.d.clockState().nextDeadlineAt).toBe(null);
    again.d.stop();
  });

  it('at start, a webhook re-enabled (on another instance) after the list was read keeps what it owed; one still disabled has it cancelled', async () => {
    const first = setup();
    await webhook(first.store);
    await webhook(first.store, { id: 'wh_2', url: 'http://other.test/hook' });
    await first.d.fireRun({});
    first.d.stop();
    const store = first.store;
    // Both disabled while no dispatcher ran; wh_1 is enabled again right after start() read the list.
    for (const id of ['wh_1', 'wh_2']) await store.webhooks.put({ ...(await store.webhooks.get(id))!, enabled: false });
    const list = store.webhooks.list.bind(store.webhooks);
    store.webhooks.list = async () => {
      const snapshot = (await list()).map((w) => ({ ...w }));
      await store.webhooks.put({ ...(await store.webhooks.get('wh_1'))!, enabled: true });
      return snapshot;
    };
    const again = setup({ store, wall: first.wall });
    await again.d.start();
    const byHook = new Map((await store.deliveries.query({})).map((x) => [x.webhookId, x]));
    expect(byHook.get('wh_1')).toMatchObject({ state: 'pending' });
    expect(byHook.get('wh_2')).toMatchObject({ state: 'cancelled', endReason: 'webhook_disabled' });
    // And wh_1's is still scheduled: its next attempt is made.
    await again.d.advance({ ms: 86_400_000 });
    expect(again.sent.filter((x) => x.url === 'http://receiver.test/hook').length).toBeGreaterThan(0);
    again.d.stop();
  });

  it('the same random source replays the same schedule', async () => {
    const a = setup();
    const b = setup();
    for (const x of [a, b]) {
      await webhook(x.store);
      await x.d.fireRun({});
    }
    const [da] = await a.store.deliveries.query({});
    const [db] = await b.store.deliveries.query({});
    expect(da.plannedAt).toEqual(db.plannedAt);
    expect(da.seed).toBe(db.seed);
    a.d.stop();
    b.d.stop();
  });

  it('after a late restart, the clock resumes at the first owed attempt: each is made at its planned instant, none skipped', async () => {
    const wall = { t: T0 };
    const first = setup({ wall });
    await webhook(first.store);
    await first.d.fireRun({});
    await first.d.advance({ ms: 0 }); // attempt 1 at T0
    first.d.stop();
    const [before] = await first.store.deliveries.query({});
    expect(before.attempts).toHaveLength(1);

    // Down for two hours of wall time; the clock was running (scale 1) all along.
    const saved = { virtualMs: T0, realMs: T0, scale: 1, paused: false };
    wall.t = T0 + 2 * 3_600_000;
    const store = first.store;
    const clock = new VirtualClock(() => wall.t, saved);
    // The receiver holds the first answer until we have looked at the clock.
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const again = new Dispatcher({ ...deps(store, wall, async () => (await gate, answer(500))), clock });
    await again.start();
    // Held where the dispatcher stopped keeping up, not at wall time.
    expect(clock.now()).toBe(Date.parse(before.nextAttemptAt!));
    expect(again.clockState()).toMatchObject({ behindMs: 2 * 3_600_000 - (Date.parse(before.nextAttemptAt!) - T0), lagging: true });
    release();
    for (let i = 0; i < 200 && (await store.deliveries.get(before.id))!.attempts.length < 7; i++) await new Promise((r) => setTimeout(r, 1));
    const after = (await store.deliveries.get(before.id)) as Delivery;
    // Every instant planned within the two hours was made, at that instant, in order.
    const owed = before.plannedAt.filter((t) => Date.parse(t) <= wall.t);
    expect(after.attempts.map((a) => a.sentAt)).toEqual(owed);
    expect(after.attempts.map((a) => a.plannedAt)).toEqual(owed);
    // Then the clock has caught up with its speed, and waits for the next planned one.
    expect(clock.now()).toBe(wall.t);
    expect(Date.parse(after.nextAttemptAt!)).toBeGreaterThan(wall.t);
    again.stop();
  });

  it('attempts of one delivery never overlap: a manual retry waits for the one in flight', async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    const send: Send = async () => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await new Promise((r) => setTimeout(r, 5));
      inFlight--;
      return answer(500);
    };
    const { d, store } = setup({ send });
    await webhook(store);
    await d.fireRun({});
    const [del] = await store.deliveries.query({});
    const all = await Promise.all([d.advance({ ms: 0 }), d.retryNow(del.id), d.retryNow(del.id)]);
    expect(all).toHaveLength(3);
    expect(maxInFlight).toBe(1);
    const done = (await store.deliveries.get(del.id))!;
    expect(done.attempts.map((a) => a.n)).toEqual([1, 2, 3]);
    expect(done.attempts.filter((a) => a.manual)).toHaveLength(2);
    expect(done.state).toBe('pending');
    d.stop();
  });

  it('a webhook disabled behind its back gets no attempt when one falls due', async () => {
    const { d, store, sent } = setup();
    await webhook(store);
    await d.fireRun({});
    await d.advance({ ms: 0 });
    await webhook(store, { enabled: false });
    await d.advance({ to: 'next' });
    const [del] = await store.deliveries.query({});
    expect(del).toMatchObject({ state: 'cancelled', endReason: 'webhook_disabled' });
    expect(sent).toHaveLength(1);
    d.stop();
  });
});

describe('dispatcher: review fixes', () => {
  it('stopping during an advance ends the advance (the rest stays owed) instead of spinning', async () => {
    let calls = 0;
    const { d, store } = setup({
      send: async () => {
        calls++;
        await new Promise((r) => setTimeout(r, 5));
        return answer(500);
      },
    });
    await webhook(store);
    for (let i = 0; i < 3; i++) await d.fireRun({});
    const advancing = d.advance({ ms: 86_400_000 });
    await new Promise((r) => setTimeout(r, 1));
    d.stop();
    await advancing; // resolves: the loop noticed the stop
    const pending = await store.deliveries.query({ state: 'pending' });
    expect(pending.length).toBeGreaterThan(0);
    expect(calls).toBeLessThan(27);
  });

  it('at 86400x in real time, every planned attempt is made, and the last lands on the deadline', async () => {
    const store = new MemoryStore();
    const clock = new VirtualClock(Date.now, null);
    clock.setScale(86_400); // 24 h in one real second
    const d = new Dispatcher({
      store,
      clock,
      realNow: Date.now,
      send: async () => answer(500),
      live: new RecordingBus(),
      schedule: SCHEDULE,
      timeoutMs: 1000,
      concurrency: 8,
      userAgent: 'test',
      newDeliveryId: sortableIdFactory(Date.now, 'dl_'),
      newMessageId: () => 'msg_1',
      newRunId: () => 'run_1',
      random: createRng(3),
    });
    await webhook(store);
    await d.start();
    await d.fireRun({ durationMs: 86_400_000 * 10 });
    let del: Delivery | undefined;
    for (;;) {
      [del] = await store.deliveries.query({});
      if (del.state !== 'pending') break;
      await new Promise((r) => setTimeout(r, 20));
    }
    d.stop();
    expect(del.state).toBe('failed');
    expect(del.attempts).toHaveLength(del.plannedAt.length);
    expect(del.attempts.map((a) => a.plannedAt)).toEqual(del.plannedAt);
    expect(del.attempts[del.attempts.length - 1].sentAt).toBe(new Date(Date.parse(del.createdAt) + 86_400_000).toISOString());
  });
});

/** A memory store that can be made to fail (as Redis away or out of memory does), its health saying so meanwhile. */
function faultyStore() {
  const store = new MemoryStore();
  // down: nothing answers (Redis away); full: reads work, writes are refused (out of memory);
  // silent: writes are taken but may never be written (lowdb on a full disk keeps them in memory).
  const fault = { down: false, full: false, silent: false };
  const guard = <A extends unknown[], R>(o: Record<string, unknown>, name: string) => {
    const orig = (o[name] as (...a: A) => Promise<R>).bind(o);
    o[name] = async (...a: A) => {
      if (fault.down || (fault.full && name === 'put')) throw new StoreUnavailableError('Redis is unreachable or full (test)');
      return orig(...a);
    };
  };
  for (const c of [store.deliveries, store.webhooks, store.runs, store.bins] as unknown as Record<string, unknown>[]) for (const m of ['get', 'put', 'list', 'query']) if (typeof c[m] === 'function') guard(c, m);
  for (const m of ['has', 'page']) guard(store.requests as unknown as Record<string, unknown>, m);
  const healthy = store.health.bind(store);
  store.health = () => (fault.down || fault.full || fault.silent ? { fault: { code: 'redis_unavailable', message: 'down (test)', since: new Date(0).toISOString() }, warnings: [] } : healthy());
  return { store, fault };
}

describe('dispatcher, store faults (Redis away, out of memory)', () => {
  it('a due attempt whose delivery cannot be read waits the fault out: made once, at its planned time, none dropped', async () => {
    const { store, fault } = faultyStore();
    const { d, sent } = setup({ store });
    await webhook(store);
    await d.start();
    await d.fireRun({});
    fault.down = true;
    const advanced = d.advance({ ms: 86_400_000 });
    await new Promise((r) => setTimeout(r, 300));
    expect(sent).toHaveLength(0); // nothing could be read: nothing sent yet
    fault.down = false;
    await advanced;
    const [del] = await store.deliveries.query({});
    expect(del.state).toBe('failed');
    expect(del.attempts.map((a) => a.sentAt)).toEqual(del.plannedAt);
    expect(sent).toHaveLength(del.plannedAt.length);
    d.stop();
  });

  it('an attempt sent while the store fails is recorded once the store is back, and not sent again', async () => {
    const { store, fault } = faultyStore();
    let attempts = 0;
    const { d, sent } = setup({
      store,
      send: async (r) => {
        sent.push({ url: r.url, headers: r.headers });
        // The third attempt's answer comes while the store is away, for 300 ms.
        if (++attempts === 3) {
          fault.down = true;
          setTimeout(() => (fault.down = false), 300);
        }
        return answer(500);
      },
    });
    await webhook(store);
    await d.start();
    await d.fireRun({});
    await d.advance({ ms: 86_400_000 });
    const [del] = await store.deliveries.query({});
    expect(del.state).toBe('failed');
    expect(del.attempts.map((a) => a.n)).toEqual(del.plannedAt.map((_, i) => i + 1));
    expect(sent.map((s) => s.headers['x-hooklab-attempt'])).toEqual(del.attempts.map((a) => String(a.n)));
    d.stop();
  });
});

describe('dispatcher, a fault its writes do not show (a full disk)', () => {
  it('sends no attempt while the store reports it, the clock held, the lease asked only after it; all are made once it clears', async () => {
    const { store, fault } = faultyStore();
    const wall = { t: T0 };
    const clock = new VirtualClock(() => wall.t, null);
    clock.setPaused(true);
    const sent: string[] = [];
    let leaseAskedInFault = 0;
    const d = new Dispatcher({
      ...deps(store, wall, async (r) => {
        sent.push(r.headers['x-hooklab-attempt']);
        return answer(500);
      }),
      clock,
      random: createRng(7),
      beforeSend: () => {
        if (fault.silent) leaseAskedInFault++;
        return Promise.resolve();
      },
    });
    await webhook(store);
    await d.start();
    await d.fireRun({});
    fault.silent = true;
    const advanced = d.advance({ ms: 86_400_000 });
    await new Promise((r) => setTimeout(r, 600));
    expect(sent).toEqual([]);
    expect(clock.now()).toBe(T0); // held at the first attempt
    // An API call is refused at once, and leaves nothing behind.
    await expect(d.fireTest('wh_1')).rejects.toMatchObject({ message: 'down (test)' });
    expect((await store.deliveries.query({})).filter((x) => x.event === 'test')).toEqual([]);
    fault.silent = false;
    await advanced;
    const [del] = await store.deliveries.query({});
    expect(del.state).toBe('failed');
    expect(sent).toEqual(del.attempts.map((a) => String(a.n)));
    expect(leaseAskedInFault).toBe(0);
    d.stop();
  });
});

describe('dispatcher, API calls during a store fault', () => {
  it('do not wait behind an attempt that waits the fault out: Retry now answers 503, disabling the webhook returns (its delivery is cancelled once its attempt is recorded)', async () => {
    const { store, fault } = faultyStore();
    let release = () => {};
    const { d, sent } = setup({
      store,
      send: async (r) => {
        sent.push({ url: r.url, headers: r.headers });
        // The first attempt's answer comes while the store refuses everything, until released.
        if (sent.length === 1) {
          fault.full = true;
          await new Promise<void>((r2) => (release = r2));
        }
        return answer(500);
      },
    });
    await webhook(store);
    await d.start();
    await d.fireRun({});
    const [del] = await store.deliveries.query({});
    const advanced = d.advance({ ms: 1000 });
    await new Promise((r) => setTimeout(r, 50));
    release();
    await new Promise((r) => setTimeout(r, 50)); // the attempt now waits the fault out, holding its lock
    await expect(d.retryNow(del.id)).rejects.toMatchObject({ status: 503, code: 'storage_unavailable' });
    fault.full = false;
    await store.webhooks.put({ ...(await store.webhooks.get('wh_1'))!, enabled: false });
    fault.full = true;
    await d.cancelFor('wh_1', 'webhook_disabled'); // returns, though the store is still refusing writes
    fault.full = false;
    await advanced;
    await d.advance({ ms: 86_400_000 });
    const [after] = await store.deliveries.query({});
    expect(after.attempts).toHaveLength(1); // recorded once the store was back
    expect(after.state).toBe('cancelled'); // once its attempt was recorded: the webhook is off
    expect(sent).toHaveLength(1);
    d.stop();
  });
});

describe('dispatcher, the streak write failing after a 410', () => {
  it('the webhook is still disabled (disableOn410): a failed streak write dropped the disable with it', async () => {
    const store = new MemoryStore();
    const { d } = setup({ store, send: async () => answer(410) });
    await webhook(store, { behaviors: { disableOn410: true } });
    // The streak's write (the first write to the webhook after the attempt) fails once.
    const put = store.webhooks.put.bind(store.webhooks);
    let failOnce = true;
    store.webhooks.put = async (w) => {
      if (failOnce && w.failing !== undefined && w.enabled) {
        failOnce = false;
        throw new StoreUnavailableError('a blip (test)');
      }
      return put(w);
    };
    await d.start();
    await d.fireRun({});
    await d.advance({ ms: 0 });
    expect(failOnce).toBe(false); // the streak write was the one refused
    expect(await store.webhooks.get('wh_1')).toMatchObject({ enabled: false, disabledBy: { reason: 'gone' } });
    d.stop();
  });
});

describe('dispatcher, the end of time', () => {
  it('an advance past year 9999 stops there: what is planned past it falls due at it, once, and every time written is RFC 3339', async () => {
    const { d, store, clock, sent } = setup();
    await webhook(store);
    clock.jumpTo(END_OF_TIME - 20_000);
    await d.start();
    await d.fireRun({});
    await d.advance({ ms: 1e15 });
    expect(clock.now()).toBe(END_OF_TIME);
    const [del] = await store.deliveries.query({});
    const stamps = [del.createdAt, del.nextAttemptAt ?? '', ...del.plannedAt, ...del.attempts.map((a) => a.sentAt)].filter(Boolean);
    for (const t of stamps) expect(t).toMatch(/^\d{4}-\d\d-\d\dT/);
    // Attempt 1 at the event, the first retries seconds later; those planned after the end are
    // written as it: one attempt is made there, and the delivery ends (time does too).
    expect(del.attempts.at(-1)!.sentAt).toBe('9999-12-31T23:59:59.999Z');
    expect(del.attempts.filter((a) => a.sentAt === '9999-12-31T23:59:59.999Z')).toHaveLength(1);
    expect(sent).toHaveLength(del.attempts.length);
    expect(del.state).toBe('failed');
    expect(d.clockState().now).toBe('9999-12-31T23:59:59.999Z');
    d.stop();
  });
});

describe('dispatcher, a webhook turned off while an attempt is under way', () => {
  /** An attempt that hangs until released, then answers `status`. */
  function held(status: number) {
    let release = () => {};
    const sent: string[] = [];
    const send: Send = async (r) => {
      sent.push(r.headers['x-hooklab-attempt']);
      if (sent.length === 1) await new Promise<void>((r2) => (release = r2));
      return answer(status);
    };
    return { send, sent, release: () => release() };
  }
  const until = async (check: () => boolean) => {
    while (!check()) await new Promise((r) => setTimeout(r, 5));
  };

  it('cancelFor does not wait for it: it answers how many are left; the delivery ends once the attempt is recorded, and is not attempted again', async () => {
    const h = held(500);
    const { d, store } = setup({ send: h.send });
    await webhook(store);
    await d.start();
    await d.fireRun({});
    const advanced = d.advance({ ms: 0 });
    await until(() => h.sent.length === 1);
    await webhook(store, { enabled: false });
    // Before: this waited for the attempt (its whole timeout, up to 10 minutes).
    expect(await d.cancelFor('wh_1', 'webhook_disabled')).toBe(1);
    const [del] = await store.deliveries.query({});
    expect(del).toMatchObject({ state: 'pending', attempts: [] });
    h.release();
    await advanced;
    const ended = (await store.deliveries.get(del.id))!;
    expect(ended).toMatchObject({ state: 'cancelled', endReason: 'webhook_disabled', nextAttemptAt: null });
    expect(ended.endDetail).toMatch(/^the webhook was disabled through the API or the console/);
    expect(ended.attempts.map((a) => [a.n, a.status])).toEqual([[1, 500]]);
    await d.advance({ ms: 86_400_000 });
    expect(h.sent).toEqual(['1']);
    d.stop();
  });

  it('an attempt under way that delivers it: the delivery is delivered, not cancelled', async () => {
    const h = held(200);
    const { d, store } = setup({ send: h.send });
    await webhook(store);
    await d.start();
    await d.fireRun({});
    const advanced = d.advance({ ms: 0 });
    await until(() => h.sent.length === 1);
    await webhook(store, { enabled: false });
    expect(await d.cancelFor('wh_1', 'webhook_disabled')).toBe(1);
    h.release();
    await advanced;
    const [del] = await store.deliveries.query({});
    expect(del).toMatchObject({ state: 'delivered', endReason: 'delivered' });
    d.stop();
  });

  it('a stop before the attempt is recorded: the next start ends the delivery, saying it found the webhook off, and sends nothing again', async () => {
    const h = held(500);
    const first = setup({ send: h.send });
    const store = first.store;
    await webhook(store);
    await first.d.start();
    await first.d.fireRun({});
    void first.d.advance({ ms: 0 });
    await until(() => h.sent.length === 1);
    await webhook(store, { enabled: false });
    expect(await first.d.cancelFor('wh_1', 'webhook_disabled')).toBe(1);
    await first.d.stop();
    h.release();
    const again = setup({ store, wall: first.wall, send: h.send });
    await again.d.start();
    const [del] = await store.deliveries.query({});
    expect(del).toMatchObject({ state: 'cancelled', endReason: 'webhook_disabled', attempts: [] });
    expect(del.endDetail).toMatch(/found when the dispatcher started/);
    await again.d.advance({ ms: 86_400_000 });
    expect(h.sent).toEqual(['1']);
    again.d.stop();
  });

  it('a webhook a behaviour disabled, found off at start-up: its deliveries end as that behaviour ends them, with its sentence', async () => {
    const first = setup();
    await webhook(first.store);
    await first.d.fireRun({});
    first.d.stop();
    const detail = 'attempt 1 got 410 Gone: the webhook is disabled (disableOn410)';
    await webhook(first.store, { enabled: false, disabledBy: { reason: 'gone', at: new Date(T0).toISOString(), deliveryId: null, detail } });
    const again = setup({ store: first.store, wall: first.wall });
    await again.d.start();
    const [del] = await first.store.deliveries.query({});
    // Before: webhook_disabled, with no endDetail.
    expect(del).toMatchObject({ state: 'cancelled', endReason: 'disabled', endDetail: `the webhook was disabled: ${detail}` });
    again.d.stop();
  });

  it('a clock nobody saved is saved at start (tried again while the store refuses it); a saved one is not written over', async () => {
    const store = new MemoryStore();
    const wall = { t: T0 };
    const setClock = store.setClock.bind(store);
    let refusals = 2;
    let writes = 0;
    store.setClock = async (c) => {
      writes++;
      if (refusals-- > 0) throw new StoreUnavailableError('store away (test)');
      return setClock(c);
    };
    const d = new Dispatcher({ ...deps(store, wall), clock: new VirtualClock(() => wall.t, null) });
    await d.start();
    // Without it, a start after a crash made a clock anchored at its own instant, past what fell due.
    await expect.poll(() => store.getClock(), { timeout: 5000 }).toEqual({ virtualMs: T0, realMs: T0, scale: 1, paused: false });
    expect(writes).toBe(3);
    d.stop();

    wall.t = T0 + 60_000;
    const again = new Dispatcher({ ...deps(store, wall), clock: new VirtualClock(() => wall.t, await store.getClock()) });
    await again.start();
    expect(writes).toBe(3);
    expect(await store.getClock()).toEqual({ virtualMs: T0, realMs: T0, scale: 1, paused: false });
    again.stop();
  });
});
