// Issue 11, two real instances on one real redis-server: what each instance keeps to spare
// round trips per capture (the bins its receiver found, whether a bin has response settings)
// never lets it answer from an old belief. A bin created on A is capturable on B at once; a
// bin deleted on A is 404 on B at once and nothing is stored for it; settings set or changed
// on A are obeyed by B's very next request, though B had just answered with what it knew;
// the wait API hears captures made here and elsewhere (through the capture feed). Settings
// made by an instance whose note is lost hold all the same: what B answers by itself (a bin
// without a plan) is checked against Redis in the capture's own append.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisResponseControl } from '../../server/control/redis-control.ts';
import { DEFAULT_LIMITS } from '../../server/control/validate.ts';
import { RecordingBus } from '../../server/live/bus.ts';
import { RedisStore } from '../../server/store/redis/redis-store.ts';
import { api, send } from '../helpers/http.ts';
import { type InstancePair, startPair } from '../helpers/cluster.ts';
import type { ServerProcess } from '../helpers/process.ts';
import { keysOf, type RedisServer, startRedis } from '../helpers/redis.ts';

const PREFIX = 'ks:';
let redis: RedisServer;
let raw: Redis;
let pair: InstancePair;
let a: ServerProcess;
let b: ServerProcess;

const newBin = async (on: ServerProcess) => (await api<{ id: string }>(on.base, 'POST', '/api/bins', {})).body.id;

const keys = (pattern: string) => keysOf(raw, pattern);

beforeAll(async () => {
  redis = await startRedis();
  raw = new Redis(redis.url, { lazyConnect: true });
  await raw.connect();
  pair = await startPair(redis, PREFIX, { DISPATCH_WORKER: 'false' });
  ({ a, b } = pair);
}, 60_000);

afterAll(async () => {
  await pair?.stop();
  raw?.disconnect();
  await redis?.cleanup();
});

describe('two instances: nothing answered from an old belief', () => {
  it('a bin created on A is capturable on B at once', async () => {
    for (let i = 0; i < 10; i++) {
      const id = await newBin(a);
      const r = await send(`${b.base}/h/${id}/first`, { body: 'x' });
      expect(r.status, `bin ${i}`).toBe(200);
      const listed = (await api<{ requests: { path: string }[] }>(a.base, 'GET', `/api/bins/${id}/requests`)).body.requests;
      expect(listed.map((x) => x.path)).toEqual(['/first']);
    }
  });

  it('a bin deleted on A: B, which just captured for it, answers its next capture 404 and stores nothing', async () => {
    for (let i = 0; i < 10; i++) {
      const id = await newBin(a);
      expect((await send(`${b.base}/h/${id}`, { body: 'kept' })).status).toBe(200);
      expect((await api(a.base, 'DELETE', `/api/bins/${id}`)).status).toBe(204);
      const late = await send(`${b.base}/h/${id}/late`, { body: 'ghost' });
      expect(late.status, `bin ${i}`).toBe(404);
      expect(JSON.parse(late.body.toString()).error.code).toBe('bin_not_found');
      expect((await api(b.base, 'GET', `/api/bins/${id}`)).status).toBe(404);
      expect(await keys(`${PREFIX}bin:${id}*`)).toEqual([]);
      expect(await keys(`${PREFIX}body:${id}:*`)).toEqual([]);
    }
    expect(await keys(`${PREFIX}tmp:*`)).toEqual([]);
  });

  it('settings set on A are obeyed by B\'s next request though B had none; changed on A, by B\'s next again', async () => {
    for (let i = 0; i < 10; i++) {
      const id = await newBin(a);
      expect((await send(`${b.base}/h/${id}`, { body: 'x' })).status).toBe(200); // B: no settings
      expect((await api(a.base, 'PUT', `/api/bins/${id}/response`, { default: { status: 418 } })).status).toBe(200);
      expect((await send(`${b.base}/h/${id}`, { body: 'x' })).status, `bin ${i}, set`).toBe(418);
      expect((await api(a.base, 'PUT', `/api/bins/${id}/response`, { plan: [{ status: 503, times: 1 }], default: { status: 202 } })).status).toBe(200);
      expect((await send(`${b.base}/h/${id}`, { body: 'x' })).status, `bin ${i}, changed`).toBe(503);
      expect((await send(`${a.base}/h/${id}`, { body: 'x' })).status, `bin ${i}, used up`).toBe(202);
    }
  });

  it('settings set by an instance whose note never arrives: B, answering a bin without a plan by itself, obeys them at its next request, and a plan\'s step is used once', async () => {
    // The third instance: a store and response control in this process, on the same prefix,
    // that tells nobody (no cluster notes): only what is in Redis can make B obey.
    const store = await RedisStore.open({ url: redis.url, prefix: PREFIX });
    const silent = new RedisResponseControl({
      store,
      live: new RecordingBus(),
      limits: DEFAULT_LIMITS,
      randomSeed: () => 1,
      client: store.db.client,
      run: (fn) => store.db.run(() => fn()),
      prefix: store.prefix,
    });
    const answerOf = async (id: string, requestId: string) =>
      (await api<{ answer: { status: number; source: string; planUses?: number } }>(a.base, 'GET', `/api/bins/${id}/requests/${requestId}`)).body.answer;
    try {
      for (let i = 0; i < 5; i++) {
        const id = await newBin(a);
        expect((await send(`${b.base}/h/${id}`, { body: 'x' })).status).toBe(200); // B: no settings
        await silent.set(id, { default: { status: 418 } });
        expect((await send(`${b.base}/h/${id}`, { body: 'x' })).status, `bin ${i}, set`).toBe(418);
        await silent.set(id, { default: { status: 202 } });
        expect((await send(`${b.base}/h/${id}`, { body: 'x' })).status, `bin ${i}, changed`).toBe(202);
        await silent.set(id, { plan: [{ status: 503, times: 2 }], default: { status: 201 } });
        const stepped = await send(`${b.base}/h/${id}`, { body: 'x' });
        expect(stepped.status, `bin ${i}, plan`).toBe(503);
        expect(await answerOf(id, stepped.headers['x-hooklab-request-id'] as string)).toMatchObject({ status: 503, source: 'step', planUses: 1 });
        expect((await send(`${a.base}/h/${id}`, { body: 'x' })).status, `bin ${i}, second step`).toBe(503);
        expect((await send(`${b.base}/h/${id}`, { body: 'x' })).status, `bin ${i}, used up`).toBe(201);
        expect((await silent.view(id)).position.consumed).toBe(2);
        await silent.remove(id);
        expect((await send(`${b.base}/h/${id}`, { body: 'x' })).status, `bin ${i}, removed`).toBe(200);
        const listed = (await api<{ requests: unknown[] }>(a.base, 'GET', `/api/bins/${id}/requests`)).body.requests;
        expect(listed).toHaveLength(7); // each request stored once
      }
      expect(await keys(`${PREFIX}tmp:*`)).toEqual([]);
    } finally {
      await silent.close();
      await store.close();
    }
  });

  it('the wait API hears a capture made on its own instance and one made on the other', async () => {
    const id = await newBin(a);
    for (const [waitOn, sendTo] of [
      [a, a],
      [b, a],
      [a, b],
    ] as const) {
      const path = `/w${Math.random().toString(36).slice(2, 8)}`;
      const waiting = api<{ path: string }>(waitOn.base, 'GET', `/api/bins/${id}/requests/wait?path=${path}&timeout=20s`);
      await new Promise((r) => setTimeout(r, 300));
      expect((await send(`${sendTo.base}/h/${id}${path}`, { body: 'now' })).status).toBe(200);
      const w = await waiting;
      expect(w.status).toBe(200);
      expect(w.body.path).toBe(path);
    }
  });
});
