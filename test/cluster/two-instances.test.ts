// Issue 11 with real processes: two hooklab instances (A and B, the compiled server with
// STORE=redis) on one real redis-server. Captures keep one arrival order and reach viewers
// on either instance; a plan is used up exactly once per request across both, answering as
// the pure engine run serially would; settings changed on A hold on B at once; the wait API
// on B sees a capture made on A; with Redis down both answer 503 and come back by themselves.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RequestItem, ResponseConfig } from '../../shared/api.ts';
import { decide, initialPlanState, type RequestFacts } from '../../server/control/engine.ts';
import { api, send } from '../helpers/http.ts';
import { type InstancePair, startPair } from '../helpers/cluster.ts';
import type { ServerProcess } from '../helpers/process.ts';
import { type RedisServer, startRedis } from '../helpers/redis.ts';
import { collect, connect, subscribe } from '../helpers/socket.ts';

let redis: RedisServer;
let pair: InstancePair;
let a: ServerProcess;
let b: ServerProcess;

beforeAll(async () => {
  redis = await startRedis({ appendonly: true, appendfsync: 'always' });
  pair = await startPair(redis, 'two:', { DISPATCH_WORKER: 'false' });
  ({ a, b } = pair);
}, 60_000);

afterAll(async () => {
  await pair?.stop();
  await redis?.cleanup();
});

describe('two instances on one Redis', () => {
  it('200 concurrent captures split across A and B reach a viewer on each: all, once, in id order', async () => {
    const bin = (await api<{ id: string }>(a.base, 'POST', '/api/bins', {})).body;
    const [va, vb] = await Promise.all([connect(a.base), connect(b.base)]);
    try {
      const got = [collect(va, 'request'), collect(vb, 'request')];
      expect((await subscribe(va, bin.id)).ok).toBe(true);
      expect((await subscribe(vb, bin.id)).ok).toBe(true);
      const sent = await Promise.all(
        Array.from({ length: 200 }, (_, i) => send(`${(i % 2 ? a : b).base}/h/${bin.id}/n${i}`, { body: String(i) })),
      );
      expect(sent.every((r) => r.status === 200)).toBe(true);
      const ids = sent.map((r) => r.headers['x-hooklab-request-id'] as string);
      for (const g of got) {
        const items = await g.until(200);
        const seen = items.map((r: RequestItem) => r.id);
        expect(new Set(seen).size).toBe(200);
        expect(new Set(seen)).toEqual(new Set(ids));
        const sorted = [...seen].sort();
        const bad = seen.map((s, i) => (s === sorted[i] ? null : `${i}:${s}/${sorted[i]}`)).filter(Boolean);
        expect(bad.slice(0, 6)).toEqual([]); // arrival order, one for the whole cluster
        expect(items.map((r) => r.seq)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
      }
    } finally {
      va.close();
      vb.close();
    }
  });

  it('a plan used alternately from A and B answers exactly as the engine run serially', async () => {
    const bin = (await api<{ id: string }>(a.base, 'POST', '/api/bins', {})).body;
    const input = {
      rules: [{ status: 204, match: { pathPrefix: '/health' } }],
      plan: [
        { status: 500, times: 3 },
        { status: 503, probability: 0.5, times: 6 },
        { status: 429, match: { header: { name: 'x-kind', value: 'b' } }, times: 2 },
        { status: 201 },
      ],
      afterPlan: 'loop',
      seed: 7,
    };
    const put = await api<{ config: ResponseConfig }>(a.base, 'PUT', `/api/bins/${bin.id}/response`, input);
    expect(put.status).toBe(200);
    // The same 40 arrivals, serially through the pure engine.
    const facts: RequestFacts[] = Array.from({ length: 40 }, (_, i) => ({
      method: 'POST',
      path: i % 9 === 4 ? '/health' : '/hook',
      headers: ['x-kind', i % 3 === 0 ? 'b' : 'a'],
    }));
    let state = initialPlanState(put.body.config);
    const expected = facts.map((f) => {
      const r = decide(put.body.config, state, f);
      state = r.state;
      return r.decision.outcome.status;
    });
    const answered: number[] = [];
    for (const [i, f] of facts.entries()) {
      const r = await send(`${(i % 2 ? b : a).base}/h/${bin.id}${f.path}`, { headers: [['x-kind', f.headers[1]]], body: 'x' });
      answered.push(r.status);
    }
    expect(answered).toEqual(expected);
    const pos = (await api<{ position: { consumed: number } }>(b.base, 'GET', `/api/bins/${bin.id}/response`)).body.position;
    expect(pos.consumed).toBe(state.consumed);
  });

  it('50 concurrent requests from both instances use "500 x3 then 200" exactly once', async () => {
    const bin = (await api<{ id: string }>(b.base, 'POST', '/api/bins', {})).body;
    await api(b.base, 'PUT', `/api/bins/${bin.id}/response`, { plan: [{ status: 500, times: 3 }] });
    const res = await Promise.all(Array.from({ length: 50 }, (_, i) => send(`${(i % 2 ? a : b).base}/h/${bin.id}`, { body: 'x' })));
    expect(res.filter((r) => r.status === 500)).toHaveLength(3);
    expect(res.filter((r) => r.status === 200)).toHaveLength(47);
  });

  it('settings changed on A are obeyed by B at once (plan, CORS, forward targets); the wait API on B sees a capture on A', async () => {
    const bin = (await api<{ id: string }>(a.base, 'POST', '/api/bins', {})).body;
    expect((await send(`${b.base}/h/${bin.id}`, { body: 'x' })).status).toBe(200);
    await api(a.base, 'PUT', `/api/bins/${bin.id}/response`, { default: { status: 418 }, cors: false });
    expect((await send(`${b.base}/h/${bin.id}`, { body: 'x' })).status).toBe(418);
    // CORS off is read from a note between instances: prompt, though not in the same step.
    await expect
      .poll(async () => (await send(`${b.base}/h/${bin.id}`, { headers: { origin: 'https://x.example' }, body: 'x' })).headers['access-control-allow-origin'] ?? 'none')
      .toBe('none');

    const waiting = api<{ path: string }>(b.base, 'GET', `/api/bins/${bin.id}/requests/wait?path=/late&timeout=20s`);
    await new Promise((r) => setTimeout(r, 300));
    await send(`${a.base}/h/${bin.id}/late`, { body: 'now' });
    const w = await waiting;
    expect(w.status).toBe(200);
    expect(w.body.path).toBe('/late');
  });

  it("a wait on B: answered 404 when A deletes the bin; in proxy mode, told of A's capture once the target answered", async () => {
    const gone = (await api<{ id: string }>(a.base, 'POST', '/api/bins', {})).body;
    const waitGone = api(b.base, 'GET', `/api/bins/${gone.id}/requests/wait?timeout=10m`);
    await new Promise((r) => setTimeout(r, 300)); // (registered or not: either way it must not wait 10 minutes)
    expect((await api(a.base, 'DELETE', `/api/bins/${gone.id}`)).status).toBe(204);
    expect((await waitGone).status).toBe(404);

    const http = await import('node:http');
    const target = http.createServer((_req, res) => res.writeHead(503).end('down'));
    await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
    try {
      const bin = (await api<{ id: string }>(a.base, 'POST', '/api/bins', {})).body;
      const url = `http://127.0.0.1:${(target.address() as { port: number }).port}/t`;
      expect((await api(a.base, 'PUT', `/api/bins/${bin.id}/forward`, { targets: [{ url }], answerWith: 'target' })).status).toBe(200);
      const waiting = api<{ id: string; status: number | null }>(b.base, 'GET', `/api/bins/${bin.id}/requests/wait?status=503&timeout=20s`);
      await new Promise((r) => setTimeout(r, 300));
      const sent = await send(`${a.base}/h/${bin.id}/p`, { body: 'x' });
      expect(sent.status).toBe(503);
      const w = await waiting;
      expect(w.status).toBe(200);
      expect(w.body).toMatchObject({ id: sent.headers['x-hooklab-request-id'], status: 503 });
    } finally {
      target.closeAllConnections();
      target.close();
    }
  });

  it('one dispatcher for both: at 86400x, runs fired on A and B to an always-500 bin make 9 attempts each, recorded once, captured once', async () => {
    const health = await Promise.all([a, b].map(async (s) => (await api<{ dispatcher?: { runsHere: boolean } }>(s.base, 'GET', '/api/health')).body.dispatcher?.runsHere));
    expect(health.filter(Boolean)).toHaveLength(1); // exactly one runs it
    const bin = (await api<{ id: string }>(a.base, 'POST', '/api/bins', {})).body;
    await api(b.base, 'PUT', `/api/bins/${bin.id}/response`, { default: { status: 500 } });
    const wh = (await api<{ id: string }>(b.base, 'POST', '/api/webhooks', { url: `${a.base}/h/${bin.id}`, events: ['flow_started'] })).body;
    // The clock is one for the cluster: set on B, read on A.
    await api(b.base, 'PUT', '/api/clock', { paused: true, scale: 86_400 });
    expect((await api<{ scale: number; paused: boolean }>(a.base, 'GET', '/api/clock')).body).toMatchObject({ scale: 86_400, paused: true });
    for (let i = 0; i < 10; i++) expect((await api((i % 2 ? a : b).base, 'POST', '/api/runs', {})).status).toBe(201);
    await api(a.base, 'PUT', '/api/clock', { paused: false });
    let deliveries: { id: string; webhookMessageId: string; state: string; attempts: { n: number }[] }[] = [];
    await expect
      .poll(
        async () => {
          deliveries = (await api<{ deliveries: typeof deliveries }>(b.base, 'GET', `/api/deliveries?webhookId=${wh.id}`)).body.deliveries;
          return deliveries.length === 10 && deliveries.every((d) => d.state === 'failed');
        },
        { timeout: 60_000, interval: 250 },
      )
      .toBe(true);
    for (const d of deliveries) expect(d.attempts.map((x) => x.n)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const captured = (await api<{ requests: { id: string }[] }>(a.base, 'GET', `/api/bins/${bin.id}/requests?limit=500`)).body.requests;
    expect(captured).toHaveLength(90);
    const perMessage = new Map<string, number>();
    for (const r of captured) {
      const d = (await api<{ headers: [string, string][] }>(b.base, 'GET', `/api/bins/${bin.id}/requests/${r.id}`)).body;
      const msg = d.headers.find(([k]) => k.toLowerCase() === 'webhook-id')![1];
      perMessage.set(msg, (perMessage.get(msg) ?? 0) + 1);
    }
    expect(new Set(deliveries.map((d) => d.webhookMessageId))).toEqual(new Set(perMessage.keys()));
    expect([...perMessage.values()].every((n) => n === 9)).toBe(true);
  }, 120_000);

  it('a webhook disabled on either instance while its attempt hangs: answered at once; the delivery ends webhook_disabled once that attempt is recorded, attempted once', async () => {
    await api(a.base, 'PUT', '/api/clock', { paused: true });
    const runsHere = async (s: ServerProcess) => (await api<{ dispatcher?: { runsHere: boolean } }>(s.base, 'GET', '/api/health')).body.dispatcher?.runsHere;
    const holder = (await runsHere(a)) ? a : b;
    const other = holder === a ? b : a;
    type D = { state: string; endReason: string | null; endDetail: string | null; attempts: { n: number; error: string | null }[] };
    for (const at of [other, holder]) {
      const bin = (await api<{ id: string }>(a.base, 'POST', '/api/bins', {})).body;
      await api(a.base, 'PUT', `/api/bins/${bin.id}/response`, { plan: [{ fault: 'timeout' }] });
      // The attempt hangs for the webhook's whole 3 s timeout.
      const wh = (await api<{ id: string }>(at.base, 'POST', '/api/webhooks', { url: `${a.base}/h/${bin.id}`, events: ['flow_started'], timeoutMs: 3000 })).body;
      expect((await api(at.base, 'POST', '/api/runs', {})).status).toBe(201);
      const captures = async () => (await api<{ requests: unknown[] }>(a.base, 'GET', `/api/bins/${bin.id}/requests`)).body.requests.length;
      await expect.poll(captures, { timeout: 10_000 }).toBe(1);
      const off = await api<{ enabled: boolean; cancelling: number }>(at.base, 'PATCH', `/api/webhooks/${wh.id}`, { enabled: false });
      const where = at === holder ? 'on the instance running the dispatcher' : 'on the other instance';
      expect(off.body, where).toMatchObject({ enabled: false, cancelling: 1 });
      const delivery = async () => (await api<{ deliveries: D[] }>(b.base, 'GET', `/api/deliveries?webhookId=${wh.id}`)).body.deliveries[0];
      // Answered before the attempt ended (before: the holder's answer waited for its timeout).
      expect(await delivery(), where).toMatchObject({ state: 'pending', attempts: [] });
      await expect.poll(async () => (await delivery()).state, { timeout: 15_000 }).toBe('cancelled');
      const d = await delivery();
      expect(d, where).toMatchObject({ endReason: 'webhook_disabled', attempts: [{ n: 1, error: 'timeout' }] });
      expect(d.endDetail, where).toMatch(/^the webhook was disabled through the API or the console/);
      await api(at.base, 'POST', '/api/clock/advance', { ms: 2 * 86_400_000 });
      expect(await captures(), where).toBe(1);
    }
  }, 60_000);

  it('Redis down: both answer 503 with the reason and health says so; back up (AOF), everything acknowledged is there', async () => {
    const bin = (await api<{ id: string }>(a.base, 'POST', '/api/bins', {})).body;
    const before = await send(`${a.base}/h/${bin.id}/kept`, { body: "acknowledged" });
    expect(before.status).toBe(200);
    await redis.kill();
    for (const s of [a, b]) {
      await expect.poll(async () => (await api(s.base, 'GET', '/api/health')).status, { timeout: 15_000 }).toBe(503);
      const r = await send(`${s.base}/h/${bin.id}`, { body: 'while down' });
      expect(r.status).toBe(503);
      expect(r.headers['retry-after']).toBeDefined();
    }
    await redis.start();
    for (const s of [a, b]) await expect.poll(async () => (await api(s.base, 'GET', '/api/health')).status, { timeout: 20_000 }).toBe(200);
    const list = (await api<{ requests: RequestItem[] }>(b.base, 'GET', `/api/bins/${bin.id}/requests`)).body.requests;
    expect(list.map((r) => r.path)).toEqual(['/kept']);
    expect((await send(`${b.base}/h/${bin.id}/after`, { body: 'y' })).status).toBe(200);
  }, 90_000);
});
