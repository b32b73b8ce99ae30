// Issue 11, two real instances on one real redis-server: what each instance keeps to spare
// round trips per capture (the bins its receiver found, whether a bin has response settings)
// never lets it answer from an old belief. A bin created on A is capturable on B at once; a
// bin deleted on A is 404 on B at once and nothing is stored for it; settings set or changed
// on A are obeyed by B's very next request, though B had just answered with what it knew;
// the wait API hears captures made here and elsewhere (through the capture feed).
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, send } from '../helpers/http.ts';
import { type ServerProcess, spawnServer } from '../helpers/process.ts';
import { keysOf, type RedisServer, startRedis } from '../helpers/redis.ts';

const PREFIX = 'ks:';
let redis: RedisServer;
let raw: Redis;
let a: ServerProcess;
let b: ServerProcess;

const newBin = async (on: ServerProcess) => (await api<{ id: string }>(on.base, 'POST', '/api/bins', {})).body.id;

const keys = (pattern: string) => keysOf(raw, pattern);

beforeAll(async () => {
  redis = await startRedis();
  raw = new Redis(redis.url, { lazyConnect: true });
  await raw.connect();
  const env = { STORE: 'redis', REDIS_URL: redis.url, REDIS_PREFIX: PREFIX, DISPATCH_WORKER: 'false' };
  [a, b] = await Promise.all([spawnServer(env), spawnServer(env)]);
}, 60_000);

afterAll(async () => {
  for (const p of [a, b]) p?.proc.kill('SIGTERM');
  await Promise.all([a?.exited, b?.exited]);
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
