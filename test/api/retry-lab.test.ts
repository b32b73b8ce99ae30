// Issue 12 over real HTTP: our own bins as receivers (their plans answering 503 + Retry-After,
// 410, an abort header, or failing one event only), real lowdb files, the virtual clock
// stepped or running. What QA sees: the timeline agrees with the bin, each attempt says why,
// captures say which attempt they were, and timelines export.
import { rm } from 'node:fs/promises';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Delivery, RequestDetail, RequestPage, Run, SchedulePreview, Timeline, Webhook } from '../../shared/api.ts';
import * as D from '../../shared/schema/dispatch.ts';
import { LowdbStore } from '../../server/store/lowdb.ts';
import { deliveriesOf, stepUntilDone, until } from '../helpers/dispatch.ts';
import { createBin, json, startServer, tempDir, type TestServer } from '../helpers/server.ts';

const DAY = 86_400_000;
let srv: TestServer;

beforeAll(async () => {
  srv = await startServer({ config: { maxRequestsPerBin: 5000 } });
  await json(srv.base, 'PUT', '/api/clock', { paused: true });
});
afterAll(() => srv.cleanup());

const api = () => request(srv.base);

async function binWithPlan(response: unknown) {
  const bin = await createBin(srv.base);
  if (response) await api().put(`/api/bins/${bin.id}/response`).send(response).expect(200);
  return bin;
}

async function webhook(body: Record<string, unknown>): Promise<Webhook> {
  return (await api().post('/api/webhooks').send(body).expect(201)).body;
}

async function runFor(webhookId: string, input: Record<string, unknown> = {}) {
  const run = (await api().post('/api/runs').send(input).expect(201)).body as Run;
  return { run, deliveries: await deliveriesOf(srv.base, `?runId=${run.id}&webhookId=${webhookId}`) };
}

/** Every capture of a bin, oldest first (ids sort by arrival). */
async function captures(binId: string) {
  const page = (await json<RequestPage>(srv.base, 'GET', `/api/bins/${binId}/requests?limit=500`)).body;
  return page.requests.reverse();
}

describe('webhook settings: presets, lists of waits, behaviours', () => {
  it('saves and shows them; all off when absent', async () => {
    const plain = await webhook({ url: 'http://127.0.0.1:9/x' });
    expect(plain).toMatchObject({ behaviors: {}, disabledBy: null, failing: null, schedule: {} });
    const w = await webhook({
      url: 'http://127.0.0.1:9/x',
      schedule: { preset: 'svix', jitter: 0.1 },
      behaviors: { retryAfter: true, disableOn410: true, abortHeader: 'X-Abort-Retries', disableAfterDays: 5 },
    });
    expect(w.schedule).toEqual({ preset: 'svix', jitter: 0.1 });
    expect(w.behaviors).toEqual({ retryAfter: true, disableOn410: true, abortHeader: 'x-abort-retries', disableAfterDays: 5 });
    const p = (await api().patch(`/api/webhooks/${w.id}`).send({ schedule: { delaysMs: [1000, 60_000] }, behaviors: {} }).expect(200)).body as Webhook;
    expect(p).toMatchObject({ schedule: { delaysMs: [1000, 60_000] }, behaviors: {} });
    for (const x of [plain, w]) await api().delete(`/api/webhooks/${x.id}`).expect(204);
  });

  it.each([
    [{ schedule: { preset: 'sendgrid' } }, 'schedule.preset', 'must be one of: portable, svix, standard-webhooks, stripe, linear'],
    [{ schedule: { preset: 'svix', factor: 2 } }, 'schedule.factor', 'does not apply to the svix preset (a list of waits)'],
    [{ schedule: { delaysMs: [1000], firstDelayMs: 5 } }, 'schedule.firstDelayMs', 'does not apply to delaysMs (a list of waits)'],
    [{ schedule: { delaysMs: [1000], preset: 'stripe' } }, 'schedule.delaysMs', 'give either a preset or delaysMs, not both'],
    [{ schedule: { delaysMs: [] } }, 'schedule.delaysMs', 'must list at least one wait'],
    [{ schedule: { delaysMs: [0] } }, 'schedule.delaysMs[0]', 'must be from 1 to 2592000000'],
    [{ behaviors: { retryAfter: 'yes' } }, 'behaviors.retryAfter', 'must be true or false'],
    [{ behaviors: { abortHeader: 'bad header' } }, 'behaviors.abortHeader', undefined],
    [{ behaviors: { disableAfterDays: 0 } }, 'behaviors.disableAfterDays', 'must be from 0.001 to 365'],
    [{ behaviors: { disableOn401: true } }, 'behaviors.disableOn401', undefined],
  ])('refuses %j naming %s', async (extra, field, message) => {
    const r = await api().post('/api/webhooks').send({ url: 'http://example.com', ...extra }).expect(400);
    expect(r.body.error.field).toBe(field);
    if (message) expect(r.body.error.fields[0].message).toBe(message);
  });
});

describe('schedule preview', () => {
  it('?preset=svix previews Svix, two presets can be asked side by side, each attempt with why', async () => {
    const svix = (await api().get('/api/schedule/preview?preset=svix').expect(200)).body as SchedulePreview;
    expect(svix.attempts.map((a) => a.offsetMs / 1000)).toEqual([0, 5, 305, 2105, 9305, 27305, 63305, 99305]);
    expect(svix.attempts.map((a) => a.reason)).toEqual(['first', 'schedule', 'schedule', 'schedule', 'schedule', 'schedule', 'schedule', 'schedule']);
    expect(svix.settings.preset).toBe('svix');
    const stripe = (await api().get('/api/schedule/preview?preset=stripe&seed=4').expect(200)).body as SchedulePreview;
    expect(stripe.attempts.at(-1)).toMatchObject({ offsetMs: 3 * DAY, reason: 'deadline' });
    const list = (await api().get('/api/schedule/preview?delaysMs=1000,2000').expect(200)).body as SchedulePreview;
    expect(list.attempts.map((a) => a.offsetMs)).toEqual([0, 1000, 3000]);
    expect((await api().get('/api/schedule/preview?delaysMs=1,x').expect(400)).body.error.field).toBe('delaysMs');
  });

  it('shows what Retry-After and disableAfterDays would do', async () => {
    const moved = (await api().get('/api/schedule/preview?jitter=0&retryAfter=true&retryAfterS=3600').expect(200)).body as SchedulePreview;
    // Each wait doubles (capped at twice the planned) until the deadline, which stays.
    expect(moved.attempts.map((a) => a.reason)).toContain('retry-after');
    expect(moved.attempts.at(-1)).toMatchObject({ offsetMs: DAY, reason: 'deadline' });
    // 5 s doubled to 10 s, then 20 s doubled to 40 s: 0, 10 s, 50 s, …
    expect(moved.attempts.slice(0, 3).map((a) => a.offsetMs)).toEqual([0, 10_000, 50_000]);
    expect(moved.attempts[1].detail).toBe('503 asked to retry after 1 h: waits 10 s (at most twice the planned 5 s); later attempts move with it');
    expect(moved.notes.join(' ')).toMatch(/Retry-After: 3600/);
    const off = (await api().get('/api/schedule/preview?jitter=0&retryAfterS=3600').expect(200)).body as SchedulePreview;
    expect(off.attempts.map((a) => a.offsetMs)).toEqual([0, 5000, 25_000, 105_000, 425_000, 1_705_000, 6_825_000, 27_305_000, DAY]);
    expect(off.notes.join(' ')).toMatch(/not honoured/);
    const dis = (await api().get('/api/schedule/preview?jitter=0&disableAfterDays=0.1').expect(200)).body as SchedulePreview;
    expect(dis.endsBy).toBe('disabled');
    expect(dis.attempts.at(-1)!.offsetMs).toBe(27_305_000); // the first failed attempt at or past 2.4 h
  });
});

describe('bug 2 over HTTP: the order of recorded times equals the order of captures in the bin', () => {
  for (const scale of [1440, 86_400]) {
    it(`at ${scale}x with a shared "500 x3 then 200" plan and several deliveries`, async () => {
      const bin = await binWithPlan({ plan: [{ status: 500, times: 3 }] });
      const schedule = { firstDelayMs: 2000, factor: 3, jitter: 0.3, deadlineMs: 600_000 };
      const hooks: Webhook[] = [];
      for (let i = 0; i < 4; i++) hooks.push(await webhook({ url: `${bin.url}/hook${i}`, events: ['flow_started', 'flow_succeeded'], schedule }));
      await json(srv.base, 'PUT', '/api/clock', { paused: true });
      await api().post('/api/runs').send({ durationMs: 3000 }).expect(201);
      await api().post('/api/runs').send({ durationMs: 7000 }).expect(201);
      await json(srv.base, 'PUT', '/api/clock', { paused: false, scale });
      const ids = new Set(hooks.map((h) => h.id));
      const done = await until(
        () => deliveriesOf(srv.base, '?limit=500').then((ds) => ds.filter((d) => ids.has(d.webhookId))),
        (ds) => ds.length === 16 && ds.every((d) => d.state !== 'pending'),
      );
      await json(srv.base, 'PUT', '/api/clock', { paused: true, scale: 1 });
      const byCapture = new Map<string, { sentAt: string; plannedAt: string }>();
      for (const d of done) for (const a of d.attempts) byCapture.set(a.capturedRequestId!, a);
      const caps = await captures(bin.id);
      expect(caps.length).toBe(byCapture.size);
      const times = caps.map((c) => Date.parse(byCapture.get(c.id)!.sentAt));
      expect(times).toEqual([...times].sort((a, b) => a - b));
      // Each capture says which attempt and when, in virtual time, as recorded.
      for (const c of caps) expect(c.dispatch!.virtualAt).toBe(byCapture.get(c.id)!.sentAt);
      for (const d of done) expect(d.attempts.map((a) => a.sentAt)).toEqual(d.attempts.map((a) => a.plannedAt));
      // The plan was shared: exactly three 500s, whoever got them.
      expect(done.flatMap((d) => d.attempts).filter((a) => a.status === 500)).toHaveLength(3);
      for (const h of hooks) await api().delete(`/api/webhooks/${h.id}`);
    });
  }
});

describe('sender behaviours against a real bin', () => {
  it('Retry-After: the bin answers 503 + Retry-After: 60 on attempt 2; attempt 3 waits 40 s (twice the planned 20 s) and says so', async () => {
    const bin = await binWithPlan({ default: { status: 500 }, plan: [{ status: 500 }, { status: 503, headers: { 'retry-after': '60' } }] });
    const w = await webhook({ url: bin.url, events: ['flow_started'], schedule: { jitter: 0 }, behaviors: { retryAfter: true } });
    const { deliveries } = await runFor(w.id);
    for (let i = 0; i < 3; i++) await json(srv.base, 'POST', '/api/clock/advance', { to: 'next' });
    const d = (await json<Delivery>(srv.base, 'GET', `/api/deliveries/${deliveries[0].id}`)).body;
    const off = d.attempts.map((a) => Date.parse(a.sentAt) - Date.parse(d.createdAt));
    expect(off).toEqual([0, 5000, 45_000]);
    expect(d.attempts[2]).toMatchObject({ reason: 'retry-after', status: 500 });
    expect(d.attempts[2].reasonDetail).toBe('503 asked to retry after 1 min: waits 40 s (at most twice the planned 20 s); later attempts move with it');
    expect(Date.parse(d.plannedAt.at(-1)!) - Date.parse(d.createdAt)).toBe(DAY);
    await api().delete(`/api/webhooks/${w.id}`);
  });

  it('410 Gone: the webhook is disabled (with why), the delivery ends "gone", its other pending delivery is cancelled', async () => {
    const bin = await binWithPlan({ default: { status: 500 }, plan: [{ status: 500 }, { status: 410 }] });
    const w = await webhook({ url: bin.url, events: ['flow_started'], schedule: { jitter: 0 }, behaviors: { disableOn410: true } });
    const a = await runFor(w.id);
    const b = await runFor(w.id);
    await json(srv.base, 'POST', '/api/clock/advance', { ms: 0 }); // both first attempts: 500, then 410
    const gone = (await json<Delivery>(srv.base, 'GET', `/api/deliveries/${b.deliveries[0].id}`)).body;
    expect(gone).toMatchObject({ state: 'failed', endReason: 'gone' });
    const other = (await json<Delivery>(srv.base, 'GET', `/api/deliveries/${a.deliveries[0].id}`)).body;
    expect(other).toMatchObject({ state: 'cancelled', endReason: 'disabled' });
    const after = (await api().get(`/api/webhooks/${w.id}`).expect(200)).body as Webhook;
    expect(after).toMatchObject({ enabled: false, disabledBy: { reason: 'gone', deliveryId: gone.id } });
    // Enabled again by a person: the note goes.
    expect((await api().patch(`/api/webhooks/${w.id}`).send({ enabled: true }).expect(200)).body).toMatchObject({ enabled: true, disabledBy: null, failing: null });
    await api().delete(`/api/webhooks/${w.id}`);
  });

  it('abort header: the delivery ends "aborted" after the answer that carries it', async () => {
    const bin = await binWithPlan({ default: { status: 500 }, plan: [{ status: 500 }, { status: 503, headers: { 'x-abort-retries': '1' } }] });
    const w = await webhook({ url: bin.url, events: ['flow_started'], behaviors: { abortHeader: 'x-abort-retries' } });
    const { deliveries } = await runFor(w.id);
    const d = await stepUntilDone(srv.base, deliveries[0].id);
    expect(d).toMatchObject({ state: 'failed', endReason: 'aborted' });
    expect(d.attempts).toHaveLength(2);
    await api().delete(`/api/webhooks/${w.id}`);
  });
});

describe('plans that target one event, and who used a plan step', () => {
  it('"fail sync_end only" by a JSON body match; a Test event that used a step is named on the attempt that came after it', async () => {
    const bin = await binWithPlan({ plan: [{ status: 500, times: 2, match: { json: { path: 'event', equals: 'sync_end' } } }] });
    const w = await webhook({ url: bin.url, events: ['flow_started', 'flow_succeeded'], schedule: { jitter: 0 } });
    const { run, deliveries } = await runFor(w.id, { durationMs: 1000 });
    await json(srv.base, 'POST', '/api/clock/advance', { ms: 1000 });
    const all = await deliveriesOf(srv.base, `?runId=${run.id}`);
    const start = all.find((d) => d.event === 'sync_start')!;
    const end = all.find((d) => d.event === 'sync_end')!;
    expect(start.id).toBe(deliveries[0].id);
    expect(start).toMatchObject({ state: 'delivered' });
    expect(start.attempts[0].planUse).toMatchObject({ source: 'default', othersCount: 0 });
    expect(end.attempts[0]).toMatchObject({ status: 500, planUse: { source: 'step', index: 0, othersCount: 0 } });
    // QA presses Test, which is not sync_end: it leaves the plan alone.
    await api().post(`/api/webhooks/${w.id}/test`).expect(200);
    const done = await stepUntilDone(srv.base, end.id);
    expect(done.attempts.map((a) => a.status)).toEqual([500, 500, 200]);

    // A plain plan shared with a Test event: the Test uses step 1's second 500.
    const shared = await binWithPlan({ plan: [{ status: 500, times: 2 }] });
    const w2 = await webhook({ url: shared.url, events: ['flow_started'], schedule: { jitter: 0 } });
    const r2 = await runFor(w2.id);
    await json(srv.base, 'POST', '/api/clock/advance', { ms: 0 });
    const t = (await api().post(`/api/webhooks/${w2.id}/test`).expect(200)).body;
    expect(t.status).toBe(500);
    const d2 = await stepUntilDone(srv.base, r2.deliveries[0].id);
    expect(d2.attempts.map((a) => a.status)).toEqual([500, 200]);
    expect(d2.attempts[1].planUse).toMatchObject({ source: 'default', othersCount: 1, others: [{ label: 'test · attempt 1' }] });
    for (const x of [w, w2]) await api().delete(`/api/webhooks/${x.id}`);
  });

  it('a step "at random" (30% 503): each attempt says whether its draw hit, as the capture does, so a 200 is not put down to the step', async () => {
    const bin = await binWithPlan({ plan: [{ status: 503, probability: 0.3 }], afterPlan: 'loop', seed: 7 });
    const w = await webhook({ url: bin.url, events: ['flow_started'] });
    const seen = new Set<boolean>();
    for (let i = 0; i < 12; i++) {
      const t = (await api().post(`/api/webhooks/${w.id}/test`).expect(200)).body as { delivery: Delivery };
      const [a] = t.delivery.attempts;
      const answer = (await json<RequestDetail>(srv.base, 'GET', `/api/bins/${bin.id}/requests/${a.capturedRequestId}`)).body.answer;
      expect(answer.roll).not.toBeNull();
      expect(a.planUse).toMatchObject({ source: 'step', index: 0, roll: answer.roll });
      expect(a.planUse!.roll!.hit).toBe(a.status === 503);
      expect(D.Delivery.safeParse(t.delivery).success).toBe(true);
      seen.add(a.planUse!.roll!.hit);
    }
    expect([...seen].sort()).toEqual([false, true]); // both outcomes were checked
    // Stored with the delivery, not only in the answer.
    const stored = (await deliveriesOf(srv.base, `?webhookId=${w.id}`)).flatMap((d) => d.attempts);
    expect(stored.every((a) => a.planUse?.roll?.hit === (a.status === 503))).toBe(true);
    await api().delete(`/api/webhooks/${w.id}`);
  });

  it('a capture the dispatcher made says which delivery, attempt, event and virtual time', async () => {
    const bin = await binWithPlan(null);
    const w = await webhook({ url: bin.url, events: ['flow_started'] });
    const { deliveries } = await runFor(w.id);
    await json(srv.base, 'POST', '/api/clock/advance', { ms: 0 });
    const d = (await json<Delivery>(srv.base, 'GET', `/api/deliveries/${deliveries[0].id}`)).body;
    const [row] = await captures(bin.id);
    expect(row.dispatch).toEqual({ deliveryId: d.id, attempt: 1, event: 'sync_start', virtualAt: d.attempts[0].sentAt });
    const detail = (await json<RequestDetail>(srv.base, 'GET', `/api/bins/${bin.id}/requests/${row.id}`)).body;
    expect(detail.dispatch).toEqual(row.dispatch);
    // Anything else has no such label.
    await fetch(bin.url, { method: 'POST', body: 'x' });
    expect((await captures(bin.id))[1].dispatch).toBeUndefined();
    await api().delete(`/api/webhooks/${w.id}`);
  });
});

describe('timeline export', () => {
  it("a delivery's and a run's timeline as JSON and CSV: made and planned attempts, virtual times, lateness, why", async () => {
    const bin = await binWithPlan({ default: { status: 500 } });
    const w = await webhook({ url: bin.url, events: ['flow_started', 'flow_succeeded'], name: 'Orders, "EU"' });
    const { run, deliveries } = await runFor(w.id, { durationMs: 2000 });
    await json(srv.base, 'POST', '/api/clock/advance', { ms: 6000 });
    const t = (await api().get(`/api/deliveries/${deliveries[0].id}/timeline`).expect(200)).body as Timeline;
    expect(D.Timeline.safeParse(t).success).toBe(true);
    const [tl] = t.deliveries;
    expect(tl.attempts.filter((a) => a.status === 'made').map((a) => a.reason)).toEqual(['first', 'schedule']);
    expect(tl.attempts[0]).toMatchObject({ n: 1, httpStatus: 500, lateMs: 0, offsetMs: 0 });
    // Planned attempts are numbered on from the ones made, as the dispatcher will number them.
    const planned = tl.attempts.filter((a) => a.status === 'planned');
    expect(planned.map((a) => a.n)).toEqual(planned.map((_, i) => 3 + i));
    expect(planned.at(-1)).toMatchObject({ reason: 'deadline', offsetMs: DAY, n: 2 + planned.length });

    const csv = await api().get(`/api/deliveries/${deliveries[0].id}/timeline?format=csv`).expect(200);
    expect(csv.headers['content-type']).toMatch(/^text\/csv/);
    expect(csv.headers['content-disposition']).toMatch(/^attachment; filename="?delivery-dl_\w+-timeline\.csv"?$/);
    const lines = csv.text.trimEnd().split('\r\n');
    expect(lines[0]).toBe('delivery_id,run_id,event,webhook,url,delivery_state,end_reason,end_detail,event_at,deadline_at,attempt,status,reason,reason_detail,planned_at,sent_at,offset_ms,late_ms,http_status,error,ok,duration_ms,manual,captured_request_id');
    expect(lines).toHaveLength(1 + tl.attempts.length);
    expect(lines[1]).toContain(',"Orders, ""EU""",');
    expect(lines[1]).toContain(',1,made,first,at the event,');

    const rt = (await api().get(`/api/runs/${run.id}/timeline`).expect(200)).body as Timeline;
    expect(rt.deliveries.map((d) => d.event)).toEqual(['sync_start', 'sync_end']);
    const rcsv = (await api().get(`/api/runs/${run.id}/timeline?format=csv`).expect(200)).text;
    expect(rcsv.split('\r\n').filter((l) => l.includes(',sync_end,')).length).toBeGreaterThan(1);
    expect((await api().get(`/api/runs/${run.id}/timeline?format=xml`).expect(400)).body.error.field).toBe('format');
    await api().get('/api/runs/nope/timeline').expect(404);
    await api().delete(`/api/webhooks/${w.id}`);
  });
});

describe('data saved before this change still loads', () => {
  it('old webhooks and deliveries (no behaviours, reasons or presets) load, answer to schema, and keep working', async () => {
    const dataDir = await tempDir();
    const store = await LowdbStore.open({ dataDir, flushIntervalMs: 10, maxRequestsPerBin: 100, maxStoreBytes: 1e9, cacheBytes: 1e7, maxFinishedDeliveries: 100 });
    const at = '2026-01-01T00:00:00.000Z';
    await store.webhooks.put({ id: 'wh_old', name: 'old', url: 'http://127.0.0.1:9/old', enabled: true, events: ['flow_started'], secret: null, successPolicy: '200', schedule: { factor: 2 }, timeoutMs: null, createdAt: at, updatedAt: at });
    const old = {
      id: 'dl_0old', webhookId: 'wh_old', webhookName: 'old', url: 'http://127.0.0.1:9/old', runId: null, event: 'sync_start',
      payload: { created: '2026-01-01T00:00:00Z', destination_id: 1, destination_type: 'bigquery', event: 'sync_start', flow_id: 1, run_attempt_id: 1, source_id: 1, source_type: 'hubspot_crm' },
      webhookMessageId: 'msg_old', state: 'pending', createdAt: at, nextAttemptAt: '2026-01-01T00:00:05.000Z',
      plannedAt: [at, '2026-01-01T00:00:05.000Z', '2026-01-02T00:00:00.000Z'], schedule: { firstDelayMs: 5000, factor: 4, jitter: 0, deadlineMs: DAY }, seed: 1,
      attempts: [{ n: 1, plannedAt: at, sentAt: at, status: 500, error: null, errorDetail: null, ok: false, durationMs: 3, requestHeaders: [], responseHeaders: [], responseBody: '', responseBodyTruncated: false, manual: false, capturedRequestId: null }],
      endReason: null, binId: null,
    } as unknown as Delivery;
    await store.deliveries.put(old);
    await store.setClock({ virtualMs: Date.parse(at), realMs: Date.now(), scale: 1, paused: true });
    await store.close();
    const s2 = await startServer({ dataDir });
    try {
      const w = (await json<Webhook>(s2.base, 'GET', '/api/webhooks/wh_old')).body;
      expect(D.Webhook.safeParse(w).success).toBe(true);
      expect(w).toMatchObject({ behaviors: {}, disabledBy: null, failing: null });
      const d = (await json<Delivery>(s2.base, 'GET', '/api/deliveries/dl_0old')).body;
      expect(D.Delivery.safeParse(d).success).toBe(true);
      expect((await json<Timeline>(s2.base, 'GET', '/api/deliveries/dl_0old/timeline')).body.deliveries[0].attempts[0]).toMatchObject({ reason: null, n: 1 });
      await json(s2.base, 'POST', '/api/clock/advance', { to: 'next' });
      const after = (await json<Delivery>(s2.base, 'GET', '/api/deliveries/dl_0old')).body;
      expect(after.attempts[1]).toMatchObject({ n: 2, reason: 'schedule', sentAt: '2026-01-01T00:00:05.000Z', error: 'refused' });
    } finally {
      await s2.cleanup();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
