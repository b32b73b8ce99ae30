// Issue 4: the reference dispatcher end to end over real HTTP, with our own bins (and their
// response plans) as receivers. The virtual clock is paused and stepped: no test waits hours.
import { createHmac } from 'node:crypto';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Delivery, DeliveryPage, RequestDetail, RequestPage, ResponseConfig, Run, SchedulePreview, TestResult, Webhook } from '../../shared/api.ts';
import { deliveriesOf, stepUntilDone, until } from '../helpers/dispatch.ts';
import { createBin, json, startServer, type TestServer } from '../helpers/server.ts';
import { collect, connect } from '../helpers/socket.ts';
import { initialPlanState } from '../../server/control/engine.ts';

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const DAY = 86_400_000;
let srv: TestServer;

beforeAll(async () => {
  srv = await startServer();
  await json(srv.base, 'PUT', '/api/clock', { paused: true });
});
afterAll(() => srv.cleanup());

async function binWithPlan(response: unknown) {
  const bin = await createBin(srv.base);
  if (response) await request(srv.base).put(`/api/bins/${bin.id}/response`).send(response).expect(200);
  return bin;
}

async function webhook(body: Record<string, unknown>): Promise<Webhook> {
  const r = await request(srv.base).post('/api/webhooks').send(body).expect(201);
  return r.body;
}

async function captured(binId: string): Promise<RequestDetail[]> {
  const page = (await json<RequestPage>(srv.base, 'GET', `/api/bins/${binId}/requests?limit=500`)).body;
  const out: RequestDetail[] = [];
  for (const r of page.requests.reverse()) out.push((await json<RequestDetail>(srv.base, 'GET', `/api/bins/${binId}/requests/${r.id}`)).body);
  return out;
}

const header = (r: RequestDetail, name: string) => r.headers.find(([n]) => n.toLowerCase() === name)?.[1];

/** Fire a run and answer the deliveries it created for one webhook. */
async function runFor(webhookId: string, input: Record<string, unknown> = {}): Promise<{ run: Run; deliveries: Delivery[] }> {
  const run = (await request(srv.base).post('/api/runs').send(input).expect(201)).body as Run;
  const deliveries = await deliveriesOf(srv.base, `?runId=${run.id}&webhookId=${webhookId}`);
  return { run, deliveries };
}

describe('webhooks API', () => {
  it('creates with defaults, never returns the secret, updates and deletes', async () => {
    const w = await webhook({ url: 'http://127.0.0.1:9/x', secret: SECRET });
    expect(w).toMatchObject({ enabled: true, events: ['flow_started', 'flow_succeeded', 'flow_failed'], hasSecret: true, successPolicy: '200', name: '127.0.0.1:9' });
    expect(JSON.stringify(w)).not.toContain(SECRET.slice(6));
    const got = (await request(srv.base).get(`/api/webhooks/${w.id}`).expect(200)).body;
    expect(JSON.stringify(got)).not.toContain(SECRET.slice(6));
    const list = (await request(srv.base).get('/api/webhooks').expect(200)).body.webhooks as Webhook[];
    expect(JSON.stringify(list)).not.toContain(SECRET.slice(6));
    const p = (await request(srv.base).patch(`/api/webhooks/${w.id}`).send({ name: 'Prod', events: ['flow_failed'], secret: null }).expect(200)).body;
    expect(p).toMatchObject({ name: 'Prod', events: ['flow_failed'], hasSecret: false, url: w.url });
    await request(srv.base).delete(`/api/webhooks/${w.id}`).expect(204);
    await request(srv.base).get(`/api/webhooks/${w.id}`).expect(404);
  });

  it.each([
    [{}, 'url'],
    [{ url: 'ftp://example.com' }, 'url'],
    [{ url: 'http://user:pw@example.com/' }, 'url'],
    [{ url: 'http://example.com', events: ['flow_exploded'] }, 'events[0]'],
    [{ url: 'http://example.com', secret: 'hunter2' }, 'secret'],
    [{ url: 'http://example.com', enabled: 'yes' }, 'enabled'],
    [{ url: 'http://example.com', schedule: { factor: 0 } }, 'schedule.factor'],
    [{ url: 'http://example.com', successPolicy: '3xx' }, 'successPolicy'],
  ])('rejects %j naming %s (and never echoes a secret)', async (body, field) => {
    const r = await request(srv.base).post('/api/webhooks').send(body).expect(400);
    expect(r.body.error.field).toBe(field);
    expect(JSON.stringify(r.body)).not.toContain('hunter2');
  });

  it('has a budget: past MAX_WEBHOOKS a new one is 409 too_many_webhooks (nothing stored); deleting one makes room', async () => {
    const few = await startServer({ storage: 'memory', config: { maxWebhooks: 2 } });
    try {
      const make = () => request(few.base).post('/api/webhooks').send({ url: 'http://127.0.0.1:9/x' });
      const a = (await make().expect(201)).body as Webhook;
      await make().expect(201);
      const over = await make().expect(409);
      expect(over.body.error).toMatchObject({ code: 'too_many_webhooks' });
      expect(over.body.error.message).toMatch(/MAX_WEBHOOKS/);
      expect((await request(few.base).get('/api/webhooks').expect(200)).body.webhooks).toHaveLength(2);
      await request(few.base).delete(`/api/webhooks/${a.id}`).expect(204);
      await make().expect(201);
    } finally {
      await few.cleanup();
    }
  });
});

describe('test events and request shape', () => {
  it('Test sends one signed `test` event now and answers the outcome', async () => {
    // Put the virtual clock two days ahead of the wall clock.
    await json(srv.base, 'POST', '/api/clock/advance', { ms: 2 * DAY });
    const bin = await binWithPlan(null);
    const w = await webhook({ url: bin.url, secret: SECRET });
    const res = (await request(srv.base).post(`/api/webhooks/${w.id}/test`).expect(200)).body as TestResult;
    expect(res).toMatchObject({ status: 200, error: null, ok: true });
    expect(res.durationMs).toBeGreaterThanOrEqual(0);
    expect(res.delivery).toMatchObject({ event: 'test', state: 'delivered', binId: bin.id });
    const [req] = await captured(bin.id);
    expect(res.delivery.attempts[0].capturedRequestId).toBe(req.id);
    expect(req.method).toBe('POST');
    expect(header(req, 'content-type')).toBe('application/json');
    expect(header(req, 'user-agent')).toMatch(/^hooklab/);
    expect(header(req, 'x-hooklab-attempt')).toBe('1');
    const id = header(req, 'webhook-id')!;
    const ts = header(req, 'webhook-timestamp')!;
    expect(id).toBe(res.delivery.webhookMessageId);
    // Wall-clock seconds (verifiers compare it with their own clock), even on a virtual clock.
    expect(Math.abs(Number(ts) - Date.now() / 1000)).toBeLessThan(60);
    expect(Date.parse(res.delivery.attempts[0].sentAt) - Date.now()).toBeGreaterThan(DAY);
    // Verify the signature as a receiver would, over the exact bytes received.
    const key = Buffer.from(SECRET.slice(6), 'base64');
    const expected = 'v1,' + createHmac('sha256', key).update(`${id}.${ts}.${req.body}`).digest('base64');
    expect(header(req, 'webhook-signature')).toBe(expected);
    // The attempt records exactly the headers sent.
    const sent = Object.fromEntries(res.delivery.attempts[0].requestHeaders);
    expect(sent).toMatchObject({ 'webhook-id': id, 'webhook-timestamp': ts, 'webhook-signature': header(req, 'webhook-signature'), 'user-agent': header(req, 'user-agent') });
    const body = JSON.parse(req.body);
    expect(body.event).toBe('test');
    expect(body).toEqual(res.delivery.payload);
    await request(srv.base).delete(`/api/webhooks/${w.id}`);
  });

  it('a test to a dead port answers `refused` quickly', async () => {
    const w = await webhook({ url: 'http://127.0.0.1:9/dead' });
    const res = (await request(srv.base).post(`/api/webhooks/${w.id}/test`).expect(200)).body as TestResult;
    expect(res).toMatchObject({ status: null, error: 'refused', ok: false });
    expect(res.delivery.state).toBe('failed');
    await request(srv.base).delete(`/api/webhooks/${w.id}`);
  });
});

describe('runs, events and subscriptions', () => {
  it('a run sends sync_start now and sync_end when it ends, to subscribed webhooks only', async () => {
    const bin = await binWithPlan(null);
    const all = await webhook({ url: bin.url });
    const onlyFailed = await webhook({ url: bin.url + '/failed', events: ['flow_failed'] });
    const disabled = await webhook({ url: bin.url + '/off', enabled: false });
    const { run, deliveries } = await runFor(all.id, { outcome: 'SUCCESSFUL', durationMs: 60_000, flow_id: 6953148655 });
    expect(run).toMatchObject({ flow_id: 6953148655, outcome: 'SUCCESSFUL', ended: false });
    expect(run.run_attempt_id).toBeGreaterThan(1e9);
    expect(deliveries.map((d) => d.event)).toEqual(['sync_start']);
    await stepUntilDone(srv.base, deliveries[0].id);
    expect(await deliveriesOf(srv.base, `?webhookId=${onlyFailed.id}`)).toEqual([]);
    expect(await deliveriesOf(srv.base, `?webhookId=${disabled.id}`)).toEqual([]);

    // Advance to the run's end: sync_end goes out, stamped at the end time.
    const now = (await json<{ now: string }>(srv.base, 'GET', '/api/clock')).body.now;
    await json(srv.base, 'POST', '/api/clock/advance', { ms: Date.parse(run.endsAt) - Date.parse(now) });
    const ds = await deliveriesOf(srv.base, `?runId=${run.id}&webhookId=${all.id}`);
    const end = ds.find((d) => d.event === 'sync_end')!;
    expect(end.payload).toMatchObject({ event: 'sync_end', status: 'SUCCESSFUL', details: 'sync completed successfully', run_attempt_id: run.run_attempt_id });
    expect(end.payload.created).toBe(run.endsAt.replace(/\.\d{3}Z$/, 'Z'));
    expect(end.state).toBe('delivered');
    expect((await request(srv.base).get(`/api/runs/${run.id}`).expect(200)).body.ended).toBe(true);
    expect(await deliveriesOf(srv.base, `?webhookId=${onlyFailed.id}`)).toEqual([]);
    for (const w of [all, onlyFailed, disabled]) await request(srv.base).delete(`/api/webhooks/${w.id}`);
  });

  it('a failed run sends sync_end with FAILED and a reason, to flow_failed subscribers', async () => {
    const bin = await binWithPlan(null);
    const w = await webhook({ url: bin.url, events: ['flow_failed'] });
    const run = (await request(srv.base).post('/api/runs').send({ outcome: 'FAILED', durationMs: 1000 }).expect(201)).body as Run;
    expect(await deliveriesOf(srv.base, `?webhookId=${w.id}`)).toEqual([]);
    await json(srv.base, 'POST', '/api/clock/advance', { ms: 1000 });
    const [d] = await deliveriesOf(srv.base, `?webhookId=${w.id}`);
    expect(d.payload).toMatchObject({ event: 'sync_end', status: 'FAILED', run_attempt_id: run.run_attempt_id });
    expect(d.payload.details).toMatch(/fail/i);
    await request(srv.base).delete(`/api/webhooks/${w.id}`);
  });

  it('rejects bad run input', async () => {
    const r = await request(srv.base).post('/api/runs').send({ outcome: 'MAYBE' }).expect(400);
    expect(r.body.error.field).toBe('outcome');
  });
});

describe('retries on the virtual clock', () => {
  it('"always 500": attempts on schedule until the deadline, one captured request per attempt, same webhook-id, then failed', async () => {
    const bin = await binWithPlan({ default: { status: 500 } });
    const w = await webhook({ url: bin.url, events: ['flow_started'] });
    const { deliveries } = await runFor(w.id);
    const d = await stepUntilDone(srv.base, deliveries[0].id);
    expect(d.state).toBe('failed');
    expect(d.endReason).toBe('deadline');
    expect(d.nextAttemptAt).toBeNull();
    expect(d.attempts.length).toBe(d.plannedAt.length);
    expect(d.attempts.map((a) => a.plannedAt)).toEqual(d.plannedAt);
    expect(d.attempts.every((a) => a.status === 500 && !a.ok && a.sentAt === a.plannedAt)).toBe(true);
    const created = Date.parse(d.createdAt);
    const last = Date.parse(d.attempts[d.attempts.length - 1].sentAt);
    expect(last - created).toBe(DAY); // the last attempt lands on the deadline, not after
    const firstRetry = Date.parse(d.attempts[1].sentAt) - created;
    expect(firstRetry).toBeGreaterThanOrEqual(4000);
    expect(firstRetry).toBeLessThanOrEqual(6000);
    const reqs = await captured(bin.id);
    expect(reqs).toHaveLength(d.attempts.length);
    expect(new Set(reqs.map((r) => header(r, 'webhook-id')))).toEqual(new Set([d.webhookMessageId]));
    expect(reqs.map((r) => header(r, 'x-hooklab-attempt'))).toEqual(d.attempts.map((a) => String(a.n)));
    expect(d.attempts.map((a) => a.capturedRequestId)).toEqual(reqs.map((r) => r.id));
    // Nothing more, ever.
    await json(srv.base, 'POST', '/api/clock/advance', { ms: 2 * DAY });
    expect(await captured(bin.id)).toHaveLength(d.attempts.length);
    await request(srv.base).delete(`/api/webhooks/${w.id}`);
  });

  it('"500 three times then 200": delivered on attempt 4, no attempt after', async () => {
    const bin = await binWithPlan({ plan: [{ status: 500, times: 3 }] });
    const w = await webhook({ url: bin.url, events: ['flow_started'] });
    const { deliveries } = await runFor(w.id);
    const d = await stepUntilDone(srv.base, deliveries[0].id);
    expect(d.state).toBe('delivered');
    expect(d.attempts.map((a) => a.status)).toEqual([500, 500, 500, 200]);
    expect(d.attempts[3].ok).toBe(true);
    await json(srv.base, 'POST', '/api/clock/advance', { ms: 2 * DAY });
    expect(await captured(bin.id)).toHaveLength(4);
    expect((await json<Delivery>(srv.base, 'GET', `/api/deliveries/${d.id}`)).body.attempts).toHaveLength(4);
    await request(srv.base).delete(`/api/webhooks/${w.id}`);
  });

  it('a receiver that hangs is recorded as a timeout, and the attempt is still linked to its capture', async () => {
    const bin = await binWithPlan({ plan: [{ fault: 'timeout' }] });
    const w = await webhook({ url: bin.url, events: ['flow_started'], timeoutMs: 200 });
    const { deliveries } = await runFor(w.id);
    const d = await until(
      () => json<Delivery>(srv.base, 'GET', `/api/deliveries/${deliveries[0].id}`).then((r) => r.body),
      (x) => x.attempts.length === 1,
    );
    expect(d.attempts[0]).toMatchObject({ status: null, error: 'timeout', ok: false });
    expect(d.attempts[0].durationMs).toBeGreaterThanOrEqual(190);
    expect(d.attempts[0].capturedRequestId).toBe((await captured(bin.id))[0].id);
    expect(d.state).toBe('pending');
    const done = await stepUntilDone(srv.base, d.id);
    expect(done.state).toBe('delivered'); // the plan hangs once, then 200
    await request(srv.base).delete(`/api/webhooks/${w.id}`);
  });

  it('a reset is recorded as `reset`; a redirect is a failure and is not followed', async () => {
    const target = await binWithPlan(null);
    const bin = await binWithPlan({ plan: [{ fault: 'reset' }, { status: 302, headers: { location: target.url } }] });
    const w = await webhook({ url: bin.url, events: ['flow_started'] });
    const { deliveries } = await runFor(w.id);
    const d = await stepUntilDone(srv.base, deliveries[0].id);
    expect(d.attempts[0]).toMatchObject({ error: 'reset', status: null });
    expect(d.attempts[1]).toMatchObject({ error: 'redirect', status: 302, ok: false });
    expect(d.attempts[1].errorDetail).toContain(target.url);
    expect(d.attempts[2]).toMatchObject({ status: 200, ok: true });
    expect(await captured(target.id)).toHaveLength(0);
    await request(srv.base).delete(`/api/webhooks/${w.id}`);
  });

  it('success means 200 unless the webhook opts into any 2xx', async () => {
    const bin = await binWithPlan({ default: { status: 204 } });
    const strict = await webhook({ url: bin.url, events: ['flow_started'] });
    const lax = await webhook({ url: bin.url, events: ['flow_started'], successPolicy: '2xx' });
    const run = (await request(srv.base).post('/api/runs').send({}).expect(201)).body as Run;
    const [s] = await deliveriesOf(srv.base, `?runId=${run.id}&webhookId=${strict.id}`);
    const [l] = await deliveriesOf(srv.base, `?runId=${run.id}&webhookId=${lax.id}`);
    await json(srv.base, 'POST', '/api/clock/advance', { ms: 0 });
    const ls = await stepUntilDone(srv.base, l.id);
    expect(ls.state).toBe('delivered');
    expect(ls.attempts).toHaveLength(1);
    const ss = (await json<Delivery>(srv.base, 'GET', `/api/deliveries/${s.id}`)).body;
    expect(ss.attempts[0]).toMatchObject({ status: 204, ok: false });
    expect(ss.state).toBe('pending');
    for (const w of [strict, lax]) await request(srv.base).delete(`/api/webhooks/${w.id}`);
  });

  it('per-webhook schedule: a 1-minute deadline with 10 s first delay, no jitter', async () => {
    const bin = await binWithPlan({ default: { status: 500 } });
    const w = await webhook({ url: bin.url, events: ['flow_started'], schedule: { firstDelayMs: 10_000, factor: 2, jitter: 0, deadlineMs: 60_000 } });
    const { deliveries } = await runFor(w.id);
    const d = await stepUntilDone(srv.base, deliveries[0].id);
    const offsets = d.attempts.map((a) => Date.parse(a.sentAt) - Date.parse(d.createdAt));
    expect(offsets).toEqual([0, 10_000, 30_000, 60_000]);
    await request(srv.base).delete(`/api/webhooks/${w.id}`);
  });
});

describe('manual retry, disable, delete', () => {
  it('a manual retry makes one extra attempt now and can deliver a failed delivery', async () => {
    const bin = await binWithPlan({ plan: [{ status: 500, times: 2 }] });
    const w = await webhook({ url: bin.url, events: ['flow_started'], schedule: { deadlineMs: 4000 } });
    const { deliveries } = await runFor(w.id);
    const failed = await stepUntilDone(srv.base, deliveries[0].id);
    expect(failed.state).toBe('failed');
    expect(failed.attempts).toHaveLength(2);
    const r = (await request(srv.base).post(`/api/deliveries/${failed.id}/retry`).expect(200)).body as Delivery;
    expect(r.state).toBe('delivered');
    expect(r.attempts[2]).toMatchObject({ n: 3, manual: true, status: 200, ok: true });
    await request(srv.base).delete(`/api/webhooks/${w.id}`);
  });

  it('disabling a webhook cancels its pending deliveries; it gets no new attempts', async () => {
    const bin = await binWithPlan({ default: { status: 500 } });
    const w = await webhook({ url: bin.url, events: ['flow_started'] });
    const { deliveries } = await runFor(w.id);
    await json(srv.base, 'POST', '/api/clock/advance', { ms: 0 });
    await until(() => json<Delivery>(srv.base, 'GET', `/api/deliveries/${deliveries[0].id}`).then((x) => x.body), (x) => x.attempts.length === 1);
    await request(srv.base).patch(`/api/webhooks/${w.id}`).send({ enabled: false }).expect(200);
    // At once, or (the attempt's bookkeeping still under way) once that is recorded.
    const d = await until(() => json<Delivery>(srv.base, 'GET', `/api/deliveries/${deliveries[0].id}`).then((x) => x.body), (x) => x.state !== 'pending');
    expect(d).toMatchObject({ state: 'cancelled', endReason: 'webhook_disabled', nextAttemptAt: null });
    expect(d.endDetail).toMatch(/^the webhook was disabled through the API or the console while this delivery was pending/);
    await json(srv.base, 'POST', '/api/clock/advance', { ms: 2 * DAY });
    expect(await captured(bin.id)).toHaveLength(1);
    const retry = await request(srv.base).post(`/api/deliveries/${d.id}/retry`).expect(409);
    expect(retry.body.error.code).toBe('webhook_disabled');
    // A run while disabled creates nothing for it.
    const { deliveries: none } = await runFor(w.id);
    expect(none).toEqual([]);
    await request(srv.base).delete(`/api/webhooks/${w.id}`);
  });

  it('deleting a webhook cancels its pending deliveries', async () => {
    const bin = await binWithPlan({ default: { status: 500 } });
    const w = await webhook({ url: bin.url, events: ['flow_started'] });
    const { deliveries } = await runFor(w.id);
    await request(srv.base).delete(`/api/webhooks/${w.id}`).expect((r) => expect([202, 204]).toContain(r.status));
    const d = await until(() => json<Delivery>(srv.base, 'GET', `/api/deliveries/${deliveries[0].id}`).then((x) => x.body), (x) => x.state !== 'pending');
    expect(d).toMatchObject({ state: 'cancelled', endReason: 'webhook_deleted' });
    expect(d.endDetail).toMatch(/^the webhook was deleted through the API or the console while this delivery was pending/);
    // The timeline export says it too.
    const t = (await request(srv.base).get(`/api/deliveries/${d.id}/timeline`).expect(200)).body;
    expect(t.deliveries[0]).toMatchObject({ endReason: 'webhook_deleted', endDetail: d.endDetail });
  });

  it('disabling or deleting a webhook answers at once while its attempt hangs; the delivery ends cancelled once that attempt is recorded, never attempted again', async () => {
    const live = await connect(srv.base);
    try {
      await new Promise<void>((r) => live.emit('dispatcher:subscribe', () => r()));
      const changed = collect(live, 'webhook');
      const deleted = collect(live, 'webhook:deleted');
      for (const how of ['disable', 'delete'] as const) {
        // A receiver that hangs: the attempt lasts the webhook's whole 3 s timeout.
        const bin = await binWithPlan({ plan: [{ fault: 'timeout' }] });
        const w = await webhook({ url: bin.url, events: ['flow_started'], timeoutMs: 3000 });
        const { deliveries } = await runFor(w.id);
        const delivery = () => json<Delivery>(srv.base, 'GET', `/api/deliveries/${deliveries[0].id}`).then((x) => x.body);
        await until(() => captured(bin.id), (c) => c.length === 1); // the attempt is under way
        if (how === 'disable') {
          const r = await request(srv.base).patch(`/api/webhooks/${w.id}`).send({ enabled: false }).expect(200);
          expect(r.body).toMatchObject({ enabled: false, cancelling: 1 });
          expect((await changed.until(1)).at(-1)).toMatchObject({ id: w.id, enabled: false, cancelling: 1 });
          // The settings' revision is not the answer's note: a GET's ETag is the PATCH's.
          expect((await request(srv.base).get(`/api/webhooks/${w.id}`).expect(200)).headers.etag).toBe(r.headers.etag);
        } else {
          const r = await request(srv.base).delete(`/api/webhooks/${w.id}`).expect(202);
          expect(r.body).toEqual({ id: w.id, cancelling: 1 });
          expect((await deleted.until(1)).at(-1)).toEqual({ id: w.id, cancelling: 1 });
        }
        // Answered before the attempt ended (before: only once its 3 s timeout was up).
        expect(await delivery()).toMatchObject({ state: 'pending', attempts: [] });
        const d = await until(delivery, (x) => x.state !== 'pending');
        const reason = how === 'disable' ? 'webhook_disabled' : 'webhook_deleted';
        expect(d).toMatchObject({ state: 'cancelled', endReason: reason, nextAttemptAt: null });
        expect(d.endDetail).toContain(`the webhook was ${how}d through the API or the console`);
        // The attempt under way is recorded once, as the timeout it was; none follows it.
        expect(d.attempts).toHaveLength(1);
        expect(d.attempts[0]).toMatchObject({ n: 1, error: 'timeout', capturedRequestId: (await captured(bin.id))[0].id });
        await json(srv.base, 'POST', '/api/clock/advance', { ms: 2 * DAY });
        expect(await captured(bin.id)).toHaveLength(1);
        expect((await delivery()).attempts).toHaveLength(1);
        if (how === 'disable') await request(srv.base).delete(`/api/webhooks/${w.id}`).expect(204);
      }
    } finally {
      live.disconnect();
    }
  });
  it('"Retry now" on a delivery being cancelled is refused at once (409 cancelling), not after the attempt under way; one already waiting for it is refused then; no attempt is made', async () => {
    for (const how of ['disable', 'delete'] as const) {
      // A receiver that hangs for the webhook's whole 10 s timeout.
      const bin = await binWithPlan({ plan: [{ fault: 'timeout' }] });
      const w = await webhook({ url: bin.url, events: ['flow_started'], timeoutMs: 10_000 });
      const { deliveries } = await runFor(w.id);
      const id = deliveries[0].id;
      const delivery = () => json<Delivery>(srv.base, 'GET', `/api/deliveries/${id}`).then((x) => x.body);
      await until(() => captured(bin.id), (c) => c.length === 1); // the attempt is under way
      // Asked before the webhook is turned off: it waits for the attempt's turn.
      const early = request(srv.base).post(`/api/deliveries/${id}/retry`).then((r) => r);
      await new Promise((r) => setTimeout(r, 100));
      if (how === 'disable') await request(srv.base).patch(`/api/webhooks/${w.id}`).send({ enabled: false }).expect(200);
      else await request(srv.base).delete(`/api/webhooks/${w.id}`).expect(202);
      const late = await request(srv.base).post(`/api/deliveries/${id}/retry`);
      const waited = await early;
      for (const r of [late, waited]) {
        expect(r.status).toBe(409);
        expect(r.body.error.code).toBe('cancelling');
        expect(r.body.error.message).toBe(`the webhook of this delivery was ${how}d: the attempt under way is finishing, then the delivery is cancelled; no more attempts`);
      }
      // Both answered while the attempt was still under way (before: only once it timed out).
      expect(await delivery()).toMatchObject({ state: 'pending', attempts: [] });
      const d = await until(delivery, (x) => x.state !== 'pending');
      expect(d).toMatchObject({ state: 'cancelled', endReason: how === 'disable' ? 'webhook_disabled' : 'webhook_deleted' });
      expect(d.attempts).toHaveLength(1);
      expect(await captured(bin.id)).toHaveLength(1);
      // Once cancelled, the usual answer.
      const after = await request(srv.base).post(`/api/deliveries/${id}/retry`).expect(409);
      expect(after.body.error.code).toBe(how === 'disable' ? 'webhook_disabled' : 'webhook_deleted');
      if (how === 'disable') await request(srv.base).delete(`/api/webhooks/${w.id}`).expect(204);
    }
  });

  it('"Retry now" whose own attempt is the one under way when the webhook is turned off gets that attempt, not 409', async () => {
    // The first attempt fails at once; the manual one is answered 200 after 2 s.
    const bin = await binWithPlan({ plan: [{ status: 500 }, { status: 200, delayMs: 2000 }] });
    const w = await webhook({ url: bin.url, events: ['flow_started'], timeoutMs: 10_000 });
    const { deliveries } = await runFor(w.id);
    const id = deliveries[0].id;
    const delivery = () => json<Delivery>(srv.base, 'GET', `/api/deliveries/${id}`).then((x) => x.body);
    await until(delivery, (d) => d.attempts.length === 1);
    const retry = request(srv.base).post(`/api/deliveries/${id}/retry`).then((r) => r);
    await until(() => captured(bin.id), (c) => c.length === 2); // the retry's own attempt is under way
    const off = await request(srv.base).patch(`/api/webhooks/${w.id}`).send({ enabled: false }).expect(200);
    expect(off.body).toMatchObject({ enabled: false, cancelling: 1 });
    const r = await retry;
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ id, state: 'delivered' });
    expect(r.body.attempts.map((a: { status: number | null; manual: boolean }) => [a.status, a.manual])).toEqual([
      [500, false],
      [200, true],
    ]);
    expect(await captured(bin.id)).toHaveLength(2);
    await request(srv.base).delete(`/api/webhooks/${w.id}`).expect(204);
  });
});

describe('clock and schedule API', () => {
  it('reads, sets scale and pause, and advances by ms', async () => {
    const c0 = (await request(srv.base).get('/api/clock').expect(200)).body;
    expect(c0).toMatchObject({ paused: true });
    const c1 = (await request(srv.base).put('/api/clock').send({ scale: 1440 }).expect(200)).body;
    expect(c1.scale).toBe(1440);
    const c2 = (await request(srv.base).post('/api/clock/advance').send({ ms: 3_600_000 }).expect(200)).body;
    expect(Date.parse(c2.now) - Date.parse(c0.now)).toBe(3_600_000);
    await request(srv.base).put('/api/clock').send({ scale: 1 }).expect(200);
    expect((await request(srv.base).put('/api/clock').send({ scale: -1 }).expect(400)).body.error.field).toBe('scale');
    expect((await request(srv.base).post('/api/clock/advance').send({ ms: 1, to: 'next' }).expect(400)).body.error.field).toBe('body');
    expect((await request(srv.base).post('/api/clock/advance').send({ to: 'later' }).expect(400)).body.error.field).toBe('to');
  });

  it('previews the schedule for a setting', async () => {
    const p = (await request(srv.base).get('/api/schedule/preview?jitter=0').expect(200)).body as SchedulePreview;
    expect(p.settings).toEqual({ firstDelayMs: 5000, factor: 4, jitter: 0, deadlineMs: DAY });
    expect(p.attempts.map((a) => a.offsetMs)).toEqual([0, 5000, 25_000, 105_000, 425_000, 1_705_000, 6_825_000, 27_305_000, DAY]);
    expect(p.attempts[2].delayMs).toBe(20_000);
    const q = (await request(srv.base).get('/api/schedule/preview?seed=5').expect(200)).body as SchedulePreview;
    const q2 = (await request(srv.base).get('/api/schedule/preview?seed=5').expect(200)).body as SchedulePreview;
    expect(q).toEqual(q2);
    expect((await request(srv.base).get('/api/schedule/preview?factor=abc').expect(400)).body.error.field).toBe('factor');
  });
});

describe('links and paging', () => {
  it('an attempt links to the capture only when our bin really holds it', async () => {
    // The bin answers with a forged request id; the link must point at the real capture.
    // Settings can no longer name it (400); ones an earlier build saved could.
    const bin = await binWithPlan(null);
    await request(srv.base).put(`/api/bins/${bin.id}/response`).send({ default: { headers: { 'x-hooklab-request-id': 'forged' } } }).expect(400);
    const config = (await request(srv.base).get(`/api/bins/${bin.id}/response`)).body.config as ResponseConfig;
    const forged = { ...config, default: { ...config.default, headers: { 'x-hooklab-request-id': 'forged' } } };
    await srv.store.responses.put({ id: bin.id, config: forged, state: initialPlanState(forged) });
    await srv.app.control.load();
    const w = await webhook({ url: bin.url });
    const r = (await request(srv.base).post(`/api/webhooks/${w.id}/test`).expect(200)).body as TestResult;
    const [real] = await captured(bin.id);
    expect(r.delivery.attempts[0].capturedRequestId).toBe(real.id);
    // A URL that only looks like a bin is not linked.
    const fake = await webhook({ url: `${srv.base}/h/NotARealBinIdAtAll123` });
    const r2 = (await request(srv.base).post(`/api/webhooks/${fake.id}/test`).expect(200)).body as TestResult;
    expect(r2.delivery.binId).toBeNull();
    expect(r2.delivery.attempts[0].capturedRequestId).toBeNull();
    for (const x of [w, fake]) await request(srv.base).delete(`/api/webhooks/${x.id}`);
  });

  it('pages deliveries newest first with a before cursor', async () => {
    const bin = await binWithPlan(null);
    const w = await webhook({ url: bin.url });
    for (let i = 0; i < 5; i++) await request(srv.base).post(`/api/webhooks/${w.id}/test`).expect(200);
    const all = await deliveriesOf(srv.base, `?webhookId=${w.id}`);
    expect(all).toHaveLength(5);
    const page = await deliveriesOf(srv.base, `?webhookId=${w.id}&limit=2&before=${all[1].id}`);
    expect(page.map((d) => d.id)).toEqual([all[2].id, all[3].id]);
    // Each page names the next one's cursor, and the last says there is none.
    const pages: string[][] = [];
    for (let before: string | null = ''; before !== null; ) {
      const p = (await request(srv.base).get(`/api/deliveries?webhookId=${w.id}&limit=2${before ? `&before=${before}` : ''}`).expect(200)).body as DeliveryPage;
      pages.push(p.deliveries.map((d) => d.id));
      before = p.nextBefore;
    }
    expect(pages).toEqual([[all[0].id, all[1].id], [all[2].id, all[3].id], [all[4].id]]);
    // Exactly full: no empty page after it.
    expect((await request(srv.base).get(`/api/deliveries?webhookId=${w.id}&limit=5`).expect(200)).body.nextBefore).toBeNull();
    // A cursor that is not a delivery id is a 400 naming it, as the request list's `before`
    // is (it was compared as an id: `before=nope` answered 200 with every delivery).
    for (const bad of ['nope', '1', all[1].id.slice(3), `${all[1].id}!`]) {
      const r = await request(srv.base).get(`/api/deliveries?before=${encodeURIComponent(bad)}`);
      expect({ bad, status: r.status }).toEqual({ bad, status: 400 });
      expect(r.body.error).toMatchObject({ field: 'before', message: expect.stringContaining('must be a delivery id, as the API gives them') });
    }
    await request(srv.base).delete(`/api/webhooks/${w.id}`);
  });
});
