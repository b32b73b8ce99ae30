// Issue 12: a timeline QA can trust, and the sender behaviours real providers have. The
// dispatcher with everything injected: a memory store, a virtual clock on an injected wall
// clock, and a fake receiver that takes a little (random) time, as a network would.
import { describe, expect, it } from 'vitest';
import type { Delivery, ScheduleSettings, Webhook } from '../../shared/api.ts';
import { VirtualClock } from '../../server/dispatch/clock.ts';
import { Dispatcher, type DispatcherDeps } from '../../server/dispatch/dispatcher.ts';
import type { Send, SendRequest, SendResult } from '../../server/dispatch/send.ts';
import { sortableIdFactory } from '../../server/ids.ts';
import { RecordingBus } from '../../server/live/bus.ts';
import { createRng } from '../../server/rng.ts';
import { MemoryStore } from '../../server/store/memory.ts';
import type { StoredWebhook } from '../../server/store/types.ts';
import { duration } from '../../server/dispatch/words.ts';

const SCHEDULE: ScheduleSettings = { firstDelayMs: 5000, factor: 4, jitter: 0.2, deadlineMs: 86_400_000 };
const DAY = 86_400_000;
const HOUR = 3_600_000;
const T0 = Date.parse('2026-01-01T00:00:00Z');

function answer(status: number | null, headers: [string, string][] = [], error: SendResult['error'] = null): SendResult {
  return { status, error, errorDetail: error ? 'connection reset by the receiver' : null, durationMs: 1, headers, body: '', bodyTruncated: false };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Arrival {
  url: string;
  delivery: string;
  n: number;
}

/**
 * A fake network: each request reaches its receiver after 0-`maxMs` ms (random), and is
 * answered then. `arrivals` is what each receiver saw, in the order it saw it.
 */
function network(maxMs: number, status = 500, seed = 1) {
  const rnd = createRng(seed);
  const arrivals: Arrival[] = [];
  const send: Send = async (r) => {
    await sleep(Math.floor(rnd() * (maxMs + 1)));
    arrivals.push({ url: r.url, delivery: r.headers['x-hooklab-delivery'], n: Number(r.headers['x-hooklab-attempt']) });
    return answer(status);
  };
  return { send, arrivals };
}

function dispatcher(o: { store?: MemoryStore; clock: VirtualClock; send: Send; realNow?: () => number; concurrency?: number; live?: RecordingBus; schedule?: ScheduleSettings }) {
  const store = o.store ?? new MemoryStore({ maxFinishedDeliveries: 100_000 });
  const live = o.live ?? new RecordingBus();
  let n = 0;
  const realNow = o.realNow ?? Date.now;
  const deps: DispatcherDeps = {
    store,
    clock: o.clock,
    realNow,
    send: o.send,
    live,
    schedule: o.schedule ?? SCHEDULE,
    timeoutMs: 1000,
    concurrency: o.concurrency ?? 8,
    userAgent: 'test',
    newDeliveryId: sortableIdFactory(realNow, 'dl_'),
    newMessageId: () => `msg_${++n}`,
    newRunId: () => `run_${++n}`,
    random: createRng(11),
  };
  return { d: new Dispatcher(deps), store, live };
}

async function addWebhook(store: MemoryStore, over: Partial<StoredWebhook> = {}): Promise<StoredWebhook> {
  const w: StoredWebhook = {
    id: `wh_${Math.random().toString(36).slice(2, 8)}`,
    name: 'w',
    url: 'http://receiver.test/hook',
    enabled: true,
    events: ['flow_started'],
    secret: null,
    successPolicy: '200',
    schedule: {},
    timeoutMs: null,
    createdAt: '',
    updatedAt: '',
    ...over,
  };
  await store.webhooks.put(w);
  return w;
}

async function waitAllDone(store: MemoryStore) {
  for (;;) {
    if ((await store.deliveries.query({ state: 'pending', limit: 1 })).length === 0) return;
    await sleep(5);
  }
}

/** Recorded send time of every attempt, by "delivery#n". */
async function recorded(store: MemoryStore): Promise<Map<string, Delivery['attempts'][number]>> {
  const m = new Map<string, Delivery['attempts'][number]>();
  for (const d of await store.deliveries.query({ limit: 100_000 })) for (const a of d.attempts) m.set(`${d.id}#${a.n}`, a);
  return m;
}

describe('bug 2: recorded times agree with the order receivers saw (real timers, injected clock)', () => {
  for (const scale of [1440, 86_400]) {
    it(`at ${scale}x, several deliveries to two receivers: each receiver sees attempts in the order of their recorded times, all on plan`, async () => {
      const clock = new VirtualClock(Date.now, null);
      clock.setPaused(true);
      const net = network(3);
      const { d, store } = dispatcher({ clock, send: net.send });
      // A 10-minute schedule: the whole thing takes well under a second of real time at 1440x.
      const schedule = { firstDelayMs: 5000, factor: 3, jitter: 0.3, deadlineMs: 600_000 };
      for (const url of ['http://a.test/h', 'http://b.test/h']) {
        for (let i = 0; i < 3; i++) await addWebhook(store, { url: `${url}${i}`.replace(/\d$/, ''), schedule });
      }
      await d.start();
      await d.fireRun({ durationMs: 90_000 });
      await d.fireRun({ durationMs: 30_000 });
      clock.setScale(scale);
      clock.setPaused(false);
      await waitAllDone(store);
      d.stop();
      const byAttempt = await recorded(store);
      expect(net.arrivals.length).toBe(byAttempt.size);
      expect(net.arrivals.length).toBeGreaterThan(40);
      for (const url of ['http://a.test/h', 'http://b.test/h']) {
        const seen = net.arrivals.filter((a) => a.url === url).map((a) => Date.parse(byAttempt.get(`${a.delivery}#${a.n}`)!.sentAt));
        expect(seen, url).toEqual([...seen].sort((x, y) => x - y));
      }
      for (const del of await store.deliveries.query({})) {
        expect(del.attempts.map((a) => a.sentAt)).toEqual(del.plannedAt);
        expect(Date.parse(del.attempts[del.attempts.length - 1].sentAt) - Date.parse(del.createdAt)).toBe(600_000);
      }
    });
  }
});

describe('bug 3: never after the deadline, even when the dispatcher cannot keep up', () => {
  it('200 deliveries at 86400x to one slow receiver: every planned attempt made once, on plan, none after the deadline; the clock says it is lagging', async () => {
    const clock = new VirtualClock(Date.now, null);
    clock.setPaused(true);
    const net = network(2, 500, 5);
    const { d, store } = dispatcher({ clock, send: net.send, concurrency: 16 });
    await addWebhook(store);
    await d.start();
    for (let i = 0; i < 200; i++) await d.fireRun({ durationMs: 30 * DAY });
    clock.setScale(86_400);
    clock.setPaused(false);
    let lagging = false;
    const watch = setInterval(() => (lagging ||= d.clockState().lagging), 20);
    await waitAllDone(store);
    clearInterval(watch);
    d.stop();
    const all = await store.deliveries.query({ limit: 1000 });
    expect(all).toHaveLength(200);
    let attempts = 0;
    for (const del of all) {
      const deadline = Date.parse(del.createdAt) + DAY;
      expect(del.attempts.map((a) => a.sentAt)).toEqual(del.plannedAt);
      expect(del.attempts.filter((a) => Date.parse(a.sentAt) > deadline)).toEqual([]);
      expect(Date.parse(del.attempts[del.attempts.length - 1].sentAt)).toBe(deadline);
      attempts += del.attempts.length;
    }
    expect(net.arrivals).toHaveLength(attempts);
    expect(new Set(net.arrivals.map((a) => `${a.delivery}#${a.n}`)).size).toBe(attempts);
    expect(lagging).toBe(true);
  });

  it('the clock never passes an attempt that is due and not yet sent, and never goes back', async () => {
    const wall = { t: T0 };
    const clock = new VirtualClock(() => wall.t, null);
    clock.setPaused(true);
    let release!: () => void;
    let released = false;
    const { d, store } = dispatcher({
      clock,
      realNow: () => wall.t,
      send: () => (released ? Promise.resolve(answer(500)) : new Promise((r) => (release = () => ((released = true), r(answer(500)))))),
    });
    await addWebhook(store);
    await d.start();
    await d.fireRun({ durationMs: DAY });
    const [del] = await store.deliveries.query({});
    for (let i = 0; i < 100 && !release; i++) await sleep(1);
    clock.setScale(1000);
    clock.setPaused(false);
    // Attempt 1 is in flight; its follow-up is due 5 s later: 10 real seconds pass.
    const reads = [clock.now()];
    for (let i = 0; i < 10; i++) {
      wall.t += 1000;
      reads.push(clock.now());
    }
    expect(reads).toEqual([...reads].sort((a, b) => a - b));
    expect(clock.now()).toBe(Date.parse(del.plannedAt[1]));
    expect(d.clockState()).toMatchObject({ lagging: true, nextDueAt: del.plannedAt[1] });
    release();
    for (let i = 0; i < 100 && (await store.deliveries.get(del.id))!.attempts.length < 2; i++) await sleep(1);
    expect((await store.deliveries.get(del.id))!.attempts.slice(0, 2).map((a) => a.sentAt)).toEqual(del.plannedAt.slice(0, 2));
    d.stop();
  });
});

describe('SIGTERM: attempts in flight at a stop are made again after the restart, not recorded', () => {
  it('a stop drops the answer of the attempt in flight (a reset caused by the stop itself) and the restart makes it again', async () => {
    const wall = { t: T0 };
    const store = new MemoryStore();
    const clock = new VirtualClock(() => wall.t, null);
    clock.setPaused(true);
    let cut!: () => void;
    const first = dispatcher({ store, clock, realNow: () => wall.t, send: () => new Promise((r) => (cut = () => r(answer(null, [], 'reset')))) });
    await addWebhook(store);
    await first.d.start();
    await first.d.fireRun({});
    for (let i = 0; i < 50 && !cut; i++) await sleep(1);
    const stopped = first.d.stop();
    cut(); // the stop closes the connection: the sender reports a reset
    await stopped;
    await sleep(5);
    const [owed] = await store.deliveries.query({});
    expect(owed.attempts).toEqual([]);
    expect(owed).toMatchObject({ state: 'pending', nextAttemptAt: owed.plannedAt[0], nextReason: 'restart' });

    const clock2 = new VirtualClock(() => wall.t, clock.persisted());
    const sent: SendRequest[] = [];
    const second = dispatcher({ store, clock: clock2, realNow: () => wall.t, send: async (r) => (sent.push(r), answer(200)) });
    await second.d.start();
    await second.d.advance({ ms: 0 });
    const done = (await store.deliveries.get(owed.id))!;
    expect(done.state).toBe('delivered');
    expect(done.attempts).toHaveLength(1);
    expect(done.attempts[0]).toMatchObject({ n: 1, status: 200, reason: 'restart', sentAt: owed.plannedAt[0] });
    expect(done.attempts[0].reasonDetail).toMatch(/in flight when the server stopped/);
    expect(sent[0].headers['x-hooklab-attempt']).toBe('1');
    expect(sent[0].headers['webhook-id']).toBe(owed.webhookMessageId);
    second.d.stop();
  });
});

/** A paused dispatcher with a scripted receiver: answer(i) for the i-th request (0-based). */
function scripted(script: (i: number, r: SendRequest) => SendResult, live = new RecordingBus()) {
  const wall = { t: T0 };
  const clock = new VirtualClock(() => wall.t, null);
  clock.setPaused(true);
  const sent: SendRequest[] = [];
  const x = dispatcher({ clock, realNow: () => wall.t, live, send: async (r) => (sent.push(r), script(sent.length - 1, r)) });
  return { ...x, clock, sent, wall };
}

const offsets = (d: Delivery) => d.attempts.map((a) => Date.parse(a.sentAt) - Date.parse(d.createdAt));

describe('schedule presets on the virtual clock', () => {
  it('a 3-day Stripe-like schedule runs in well under a second of wall time', async () => {
    const { d, store } = scripted(() => answer(500));
    await addWebhook(store, { schedule: { preset: 'stripe' } });
    await d.fireRun({});
    const t = performance.now();
    await d.advance({ ms: 3 * DAY });
    const wallMs = performance.now() - t;
    const [del] = await store.deliveries.query({});
    expect(del.schedule).toMatchObject({ preset: 'stripe', firstDelayMs: HOUR, factor: 2, deadlineMs: 3 * DAY });
    expect(del.state).toBe('failed');
    expect(del.endReason).toBe('deadline');
    expect(offsets(del)).toEqual(del.plannedAt.map((p) => Date.parse(p) - Date.parse(del.createdAt)));
    expect(offsets(del)[del.attempts.length - 1]).toBe(3 * DAY);
    expect(del.attempts.length).toBe(8); // 0, ~1 h, ~3 h, ~7 h, ~15 h, ~31 h, ~63 h, 72 h
    expect(wallMs).toBeLessThan(1000);
    d.stop();
  });

  it('svix: 0, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h, exactly; each attempt says why', async () => {
    const { d, store } = scripted(() => answer(500));
    await addWebhook(store, { schedule: { preset: 'svix' } });
    await d.fireRun({});
    await d.advance({ ms: 2 * DAY });
    const [del] = await store.deliveries.query({});
    const S = 1000;
    const M = 60 * S;
    expect(offsets(del)).toEqual([0, 5 * S, 5 * S + 5 * M, 5 * S + 35 * M, 5 * S + 155 * M, 5 * S + 455 * M, 5 * S + 1055 * M, 5 * S + 1655 * M]);
    expect(del.attempts.map((a) => a.reason)).toEqual(['first', 'schedule', 'schedule', 'schedule', 'schedule', 'schedule', 'schedule', 'schedule']);
    expect(del.attempts[2].reasonDetail).toBe('retry 2: waits 5 min as planned');
    expect(del).toMatchObject({ state: 'failed', endReason: 'deadline' });
    d.stop();
  });

  it('explicit delaysMs, and the portable default ends with a "deadline" attempt', async () => {
    const { d, store } = scripted(() => answer(500));
    await addWebhook(store, { id: 'list', schedule: { delaysMs: [1000, 2000, 3000] } });
    await addWebhook(store, { id: 'portable' });
    await d.fireRun({});
    await d.advance({ ms: DAY });
    const [list] = await store.deliveries.query({ webhookId: 'list' });
    expect(offsets(list)).toEqual([0, 1000, 3000, 6000]);
    const [portable] = await store.deliveries.query({ webhookId: 'portable' });
    expect(portable.attempts.at(-1)).toMatchObject({ reason: 'deadline', reasonDetail: 'the last attempt, on the 24 h deadline' });
    d.stop();
  });
});

describe('Retry-After (behaviors.retryAfter) on 429 and 503, clamped between the planned wait and twice it', () => {
  async function run(retryAfter: string, status = 503, honour = true) {
    // Attempt 2 (at ~5 s) asks to come back later; the plan's next wait is ~20 s.
    const { d, store } = scripted((i) => (i === 1 ? answer(status, [['Retry-After', retryAfter]]) : answer(500)));
    await addWebhook(store, { schedule: { jitter: 0 }, behaviors: { retryAfter: honour } });
    await d.fireRun({});
    await d.advance({ ms: 2 * DAY });
    const [del] = await store.deliveries.query({});
    d.stop();
    return del;
  }
  const S = 1000;

  it('asked within the band: the next attempt waits exactly as asked; later ones move with it; the deadline stays', async () => {
    const del = await run('30');
    expect(offsets(del).slice(0, 4)).toEqual([0, 5 * S, 35 * S, 115 * S]);
    expect(del.attempts[2]).toMatchObject({ reason: 'retry-after' });
    expect(del.attempts[2].reasonDetail).toBe('503 asked to retry after 30 s: waits 30 s instead of the planned 20 s; later attempts move with it');
    expect(del.attempts[3].reason).toBe('schedule');
    expect(offsets(del).at(-1)).toBe(DAY);
    expect(del.attempts.at(-1)!.reason).toBe('deadline');
  });

  it('asked for more than twice the wait: capped at twice; asked for less: the plan stands; 429 counts too', async () => {
    const big = await run('3600', 429);
    expect(offsets(big).slice(0, 3)).toEqual([0, 5 * S, 45 * S]);
    expect(big.attempts[2].reasonDetail).toMatch(/waits 40 s \(at most twice the planned 20 s\)/);
    const small = await run('2');
    expect(offsets(small).slice(0, 3)).toEqual([0, 5 * S, 25 * S]);
    expect(small.attempts[2].reason).toBe('schedule');
    expect(small.attempts[2].reasonDetail).toMatch(/less than the planned wait, so the plan stands/);
  });

  it('an HTTP date works; off by default (and on other statuses) the plan stands', async () => {
    const date = new Date(T0 + 60 * S).toUTCString(); // the wall clock is T0 in these tests
    expect(offsets(await run(date)).slice(0, 3)).toEqual([0, 5 * S, 5 * S + 40 * S]);
    expect(offsets(await run('30', 503, false)).slice(0, 3)).toEqual([0, 5 * S, 25 * S]);
    expect(offsets(await run('30', 500)).slice(0, 3)).toEqual([0, 5 * S, 25 * S]);
  });
});

describe('410 Gone, the abort header, and disable-after', () => {
  it('410 with disableOn410: the delivery ends "gone", the webhook is disabled with why, its other pending deliveries are cancelled, the UI is told', async () => {
    const live = new RecordingBus();
    const { d, store } = scripted((_i, r) => (r.headers['x-hooklab-event'] === 'sync_start' && r.headers['x-hooklab-attempt'] === '2' ? answer(410) : answer(500)), live);
    const wh = await addWebhook(store, { events: ['flow_started', 'flow_failed'], schedule: { jitter: 0 }, behaviors: { disableOn410: true } });
    await d.fireRun({ outcome: 'FAILED', durationMs: 1000 });
    await d.advance({ ms: 1000 }); // sync_start attempt 1, then sync_end attempt 1
    await d.advance({ to: 'next' }); // sync_start attempt 2: 410
    const all = await store.deliveries.query({});
    const start = all.find((x) => x.event === 'sync_start')!;
    const end = all.find((x) => x.event === 'sync_end')!;
    expect(start).toMatchObject({ state: 'failed', endReason: 'gone' });
    expect(start.endDetail).toMatch(/410 Gone: the webhook is disabled/);
    expect(end).toMatchObject({ state: 'cancelled', endReason: 'disabled' });
    expect(end.endDetail).toMatch(/the webhook was disabled: attempt 2 got 410 Gone/);
    const after = (await store.webhooks.get(wh.id))!;
    expect(after.enabled).toBe(false);
    expect(after.disabledBy).toMatchObject({ reason: 'gone', deliveryId: start.id });
    // Told once that it is disabled (the failure streak's changes are told too), the last word.
    const events = live.events.filter((e) => e.type === 'webhook').map((e) => e.data as Webhook);
    const off = events.filter((e) => !e.enabled);
    expect(off).toHaveLength(1);
    expect(events.at(-1)).toMatchObject({ id: wh.id, enabled: false, disabledBy: { reason: 'gone' } });
    for (const e of events) expect(JSON.stringify(e)).not.toContain('"secret"');
    // Without the behaviour a 410 is just a failure.
    const plain = scripted(() => answer(410));
    await addWebhook(plain.store);
    await plain.d.fireRun({});
    await plain.d.advance({ ms: 60_000 });
    const [p] = await plain.store.deliveries.query({});
    expect(p.state).toBe('pending');
    expect(p.attempts.length).toBeGreaterThan(2);
    d.stop();
    plain.d.stop();
  });

  it('an answer carrying the abort header ends the delivery "aborted"; other answers do not', async () => {
    const { d, store } = scripted((i) => (i === 2 ? answer(500, [['X-Abort-Retries', 'yes']]) : answer(500, [['x-other', '1']])));
    await addWebhook(store, { behaviors: { abortHeader: 'x-abort-retries' } });
    await d.fireRun({});
    await d.advance({ ms: DAY });
    const [del] = await store.deliveries.query({});
    expect(del.attempts).toHaveLength(3);
    expect(del).toMatchObject({ state: 'failed', endReason: 'aborted', nextAttemptAt: null });
    expect(del.endDetail).toBe('attempt 3 answered with x-abort-retries: yes (abortHeader): no more retries');
    d.stop();
  });

  it('disableAfterDays: after 1.2 days of unbroken failure (across deliveries) the webhook is disabled and says why', async () => {
    const live = new RecordingBus();
    const { d, store, clock } = scripted(() => answer(500), live);
    const wh = await addWebhook(store, { behaviors: { disableAfterDays: 1.2 } });
    await d.fireRun({ durationMs: 3 * DAY });
    await d.advance({ ms: DAY });
    expect((await store.webhooks.get(wh.id))!).toMatchObject({ enabled: true, failing: { since: new Date(T0).toISOString(), deliveries: 1 } });
    await d.fireRun({ durationMs: 3 * DAY });
    await d.advance({ ms: DAY });
    const after = (await store.webhooks.get(wh.id))!;
    expect(after.enabled).toBe(false);
    expect(after.disabledBy!.reason).toBe('failing');
    // The first failed attempt at or past 1.2 days: the second delivery's 8th (~1 d 7.6 h).
    const second = (await store.deliveries.query({})).find((x) => x.createdAt !== new Date(T0).toISOString())!;
    const last = Date.parse(second.attempts.at(-1)!.sentAt);
    expect(last - T0).toBeGreaterThanOrEqual(1.2 * DAY);
    expect(Date.parse(second.attempts.at(-2)!.sentAt) - T0).toBeLessThan(1.2 * DAY);
    expect(after.disabledBy!.at).toBe(new Date(last).toISOString());
    expect(after.disabledBy!.detail).toBe(`every attempt has failed for ${duration(last - T0)} (since ${new Date(T0).toISOString()}): disableAfterDays is 1.2`);
    expect(second).toMatchObject({ state: 'cancelled', endReason: 'disabled' });
    expect(live.events.some((e) => e.type === 'webhook')).toBe(true);
    expect(clock.now()).toBeGreaterThan(T0);
    d.stop();
  });

  it('disableAfterDeliveries: two deliveries in a row end undelivered: disabled; a success in between resets the count', async () => {
    let ok = false;
    const { d, store } = scripted(() => answer(ok ? 200 : 500));
    const wh = await addWebhook(store, { schedule: { deadlineMs: 10_000 }, behaviors: { disableAfterDeliveries: 2 } });
    await d.fireRun({ durationMs: DAY });
    await d.advance({ ms: 20_000 });
    expect((await store.webhooks.get(wh.id))!.failing).toMatchObject({ deliveries: 1 });
    ok = true;
    await d.fireRun({ durationMs: DAY });
    await d.advance({ ms: 20_000 });
    expect((await store.webhooks.get(wh.id))!.failing).toBeNull();
    ok = false;
    await d.fireRun({ durationMs: DAY });
    await d.advance({ ms: 20_000 });
    expect((await store.webhooks.get(wh.id))!.enabled).toBe(true);
    await d.fireRun({ durationMs: DAY });
    await d.advance({ ms: 20_000 });
    const after = (await store.webhooks.get(wh.id))!;
    expect(after.enabled).toBe(false);
    expect(after.disabledBy).toMatchObject({ reason: 'failing' });
    expect(after.disabledBy!.detail).toBe('2 deliveries in a row ended undelivered: disableAfterDeliveries is 2');
    d.stop();
  });

  it('a manual retry waiting for the receiver while a 410 disables the webhook: no deadlock, the retry is made, then the delivery is cancelled', async () => {
    const wall = { t: T0 };
    const clock = new VirtualClock(() => wall.t, null);
    clock.setPaused(true);
    let answer410!: () => void;
    const { d, store } = dispatcher({
      clock,
      realNow: () => wall.t,
      send: (r) => (r.headers['x-hooklab-attempt'] === '1' && !answer410 ? new Promise((res) => (answer410 = () => res(answer(410)))) : Promise.resolve(answer(500))),
    });
    const wh = await addWebhook(store, { schedule: { jitter: 0 }, behaviors: { disableOn410: true } });
    await d.fireRun({ durationMs: DAY }); // A: its first attempt goes now and hangs
    await d.fireRun({ durationMs: DAY }); // B: same instant, so it goes too (500)
    const all = await store.deliveries.query({});
    const a = all[all.length - 1];
    const b = all[0];
    for (let i = 0; i < 100 && !answer410; i++) await sleep(1);
    // A second of wall time later (the clock now runs at 1x), B is retried by hand: it must
    // wait for the receiver, busy with A's attempt from an earlier instant.
    wall.t += 1000;
    clock.setPaused(false);
    wall.t += 1000;
    const manual = d.retryNow(b.id);
    await sleep(5);
    answer410();
    await manual;
    for (let i = 0; i < 100 && (await store.deliveries.get(b.id))!.state === 'pending'; i++) await sleep(1);
    expect((await store.deliveries.get(a.id))!).toMatchObject({ state: 'failed', endReason: 'gone' });
    const bb = (await store.deliveries.get(b.id))!;
    expect(bb.attempts.some((x) => x.manual)).toBe(true);
    expect(bb).toMatchObject({ state: 'cancelled', endReason: 'disabled' });
    expect((await store.webhooks.get(wh.id))!.enabled).toBe(false);
    d.stop();
  });

  it('a Test event never changes the webhook, whatever it gets', async () => {
    const { d, store } = scripted(() => answer(410));
    const wh = await addWebhook(store, { behaviors: { disableOn410: true, disableAfterDeliveries: 1 } });
    const r = await d.fireTest(wh.id);
    expect(r.delivery).toMatchObject({ state: 'failed', endReason: 'test_failed' });
    expect(r.delivery.attempts[0].reason).toBe('test');
    expect((await store.webhooks.get(wh.id))!).toMatchObject({ enabled: true });
    d.stop();
  });
});

describe('the timer while an attempt is in flight', () => {
  it("another delivery due before the slow attempt's follow-up still goes on time (real timers, 1x)", async () => {
    const clock = new VirtualClock(Date.now, null);
    clock.setPaused(true);
    let release!: () => void;
    const { d, store } = dispatcher({
      clock,
      send: (r) => (r.url.endsWith('/slow') && r.headers['x-hooklab-attempt'] === '1' ? new Promise((res) => (release = () => res(answer(500)))) : Promise.resolve(answer(200))),
    });
    await addWebhook(store, { id: 'slow', url: 'http://slow.test/slow', schedule: { firstDelayMs: 60_000, jitter: 0 } });
    await d.start();
    await d.fireRun({ durationMs: 200 }); // sync_start to the slow receiver; sync_end 200 ms later
    await addWebhook(store, { id: 'quick', url: 'http://quick.test/quick', events: ['flow_succeeded'] });
    clock.setPaused(false);
    const t = performance.now();
    // The run's end (and the quick webhook's sync_end) come at +200 ms, while attempt 1 to
    // the slow receiver is still in flight with its follow-up a minute away.
    const quick = await (async () => {
      for (;;) {
        const [q] = await store.deliveries.query({ webhookId: 'quick' });
        if (q?.state === 'delivered') return q;
        await sleep(10);
      }
    })();
    expect(performance.now() - t).toBeLessThan(2000);
    expect(quick.attempts[0].sentAt).toBe(quick.createdAt);
    release();
    d.stop();
  });
});
