// Redis at maxmemory (noeviction): hooklab must still let the operator read what is stored and
// free memory through it (delete a capture, clear a bin, delete a bin), as lowdb lets deletes
// through on a full disk; once enough is freed, captures are accepted again. And /api/health
// tells the truth on every instance while Redis refuses writes, whether or not that instance
// has tried a write yet, without flapping (one log line per transition at most).
// Real redis-server, two compiled instances.
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { api, send } from '../helpers/http.ts';
import { type ServerProcess, spawnServer } from '../helpers/process.ts';
import { type RedisServer, startRedis } from '../helpers/redis.ts';
import { cleanUpRedisTest } from '../helpers/cluster.ts';

let redis: RedisServer | null = null;
let procs: ServerProcess[] = [];
let raw: Redis | null = null;

afterEach(async () => {
  raw?.disconnect();
  raw = null;
  await cleanUpRedisTest(redis, procs);
  redis = null;
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const MB = 1024 * 1024;

async function usedMemory(r: Redis): Promise<number> {
  return Number(/used_memory:(\d+)/.exec(await r.info('memory'))![1]);
}

async function health(base: string): Promise<{ status: number; body: { status: string; fault?: { message: string } } }> {
  const res = await fetch(`${base}/api/health`);
  return { status: res.status, body: (await res.json()) as { status: string; fault?: { message: string } } };
}

async function ids(base: string, bin: string): Promise<string[]> {
  const r = await api<{ requests: { id: string }[] }>(base, 'GET', `/api/bins/${bin}/requests?limit=100`);
  expect(r.status).toBe(200);
  return r.body.requests.map((x) => x.id);
}

describe('Redis out of memory (maxmemory, noeviction)', () => {
  it('captures can still be read, and deleted, cleared and bins deleted to free memory; then captures are accepted again', async () => {
    redis = await startRedis({ args: ['--maxmemory-policy', 'noeviction'] });
    raw = new Redis(redis.url);
    const env = { STORE: 'redis', REDIS_URL: redis.url, REDIS_PREFIX: 'oom:', DISPATCH_WORKER: 'false' };
    procs = await Promise.all([spawnServer(env), spawnServer(env)]);
    const [a, b] = procs;
    const binA = (await api<{ id: string }>(a.base, 'POST', '/api/bins', {})).body.id;
    const binB = (await api<{ id: string }>(a.base, 'POST', '/api/bins', {})).body.id;
    const binC = (await api<{ id: string }>(a.base, 'POST', '/api/bins', {})).body.id;
    const big = Buffer.alloc(MB, 'x');
    for (const bin of [binA, binB, binC]) {
      for (let i = 0; i < 3; i++) expect((await send(`${a.base}/h/${bin}/big${i}`, { body: big })).status).toBe(200);
      expect((await send(`${a.base}/h/${bin}/small`, { body: 'small' })).status).toBe(200);
    }
    const [smallA, ...bigA] = await ids(a.base, binA); // newest first
    // A chosen id with an answer plan and one small capture: its deletion frees next to nothing.
    const binD = (await api<{ id: string }>(a.base, 'POST', '/api/bins', { id: 'oom-settings-0123456789' })).body.id;
    expect((await send(`${a.base}/h/${binD}/small`, { body: 'small' })).status).toBe(200);
    expect((await api(a.base, 'PUT', `/api/bins/${binD}/response`, { plan: [{ status: 500, times: 3 }] })).status).toBe(200);

    // Redis is full: maxmemory below what it uses now (set again before each deletion below,
    // so that each is made while Redis refuses writes).
    const squeeze = async () => {
      const used = await usedMemory(raw!);
      await raw!.config('SET', 'maxmemory', String(used - MB / 4));
      return used;
    };
    await squeeze();
    const refused = await send(`${a.base}/h/${binA}/refused`, { body: 'x', timeoutMs: 20_000 });
    expect(refused.status).toBe(503);
    expect(refused.headers['retry-after']).toBeDefined();

    // Reads work, on both instances (B has not tried a write).
    for (const p of [a, b]) {
      const detail = await api<{ id: string }>(p.base, 'GET', `/api/bins/${binA}/requests/${bigA[0]}`);
      expect(detail.status, JSON.stringify(detail.body)).toBe(200);
      const rawBody = await send(`${p.base}/api/bins/${binA}/requests/${bigA[0]}/raw`, { method: 'GET' });
      expect(rawBody.status, rawBody.body.subarray(0, 300).toString()).toBe(200);
      expect(rawBody.body.equals(big)).toBe(true);
      const exp = await send(`${p.base}/api/bins/${binA}/export`, { method: 'GET' });
      expect(exp.status, exp.body.subarray(0, 300).toString()).toBe(200);
      expect(exp.body.length).toBeGreaterThan(3 * MB);
    }

    // Freeing memory works: one capture (on B), a bin cleared (on A), a bin deleted (on B).
    const before = await squeeze();
    const del = await api(b.base, 'DELETE', `/api/bins/${binA}/requests/${bigA[0]}`);
    expect(del.status, JSON.stringify(del.body)).toBe(204);
    expect(await ids(a.base, binA)).not.toContain(bigA[0]);
    expect(await ids(a.base, binA)).toContain(smallA);
    expect(await usedMemory(raw)).toBeLessThan(before - MB / 2);

    const beforeClear = await squeeze();

    const cleared = await api(a.base, 'DELETE', `/api/bins/${binB}/requests`);
    expect(cleared.status, JSON.stringify(cleared.body)).toBe(204);
    expect(await ids(b.base, binB)).toEqual([]);
    expect(await usedMemory(raw)).toBeLessThan(beforeClear - 2 * MB);

    const beforeDrop = await squeeze();

    const dropped = await api(b.base, 'DELETE', `/api/bins/${binC}`);
    expect(dropped.status, JSON.stringify(dropped.body)).toBe(204);
    expect((await api(a.base, 'GET', `/api/bins/${binC}`)).status).toBe(404);
    expect(await usedMemory(raw)).toBeLessThan(beforeDrop - 2 * MB);

    // A bin whose deletion frees next to nothing, while Redis stays full: deleted all the same
    // (its settings could not be removed: Redis refuses the settings lock's script), and those
    // waiting on it, here and on the other instance, are told so (not left to time out).
    await squeeze();
    expect((await send(`${a.base}/h/${binA}/refused-again`, { body: 'x', timeoutMs: 20_000 })).status).toBe(503);
    const waits = [a, b].map((p) => fetch(`${p.base}/api/bins/${binD}/requests/wait?path=/never&timeout=20s`).then(async (r) => ({ status: r.status, body: (await r.json()) as { error?: { code: string } } })));
    await sleep(300);
    const droppedD = await api(a.base, 'DELETE', `/api/bins/${binD}`);
    expect(droppedD.status, JSON.stringify(droppedD.body)).toBe(204);
    for (const p of [a, b]) expect((await api(p.base, 'GET', `/api/bins/${binD}`)).status).toBe(404);
    for (const w of await Promise.all(waits)) expect(w).toMatchObject({ status: 404, body: { error: { code: 'bin_deleted' } } });
    await raw.config('SET', 'maxmemory', '0');

    // Room again: captures are accepted (on both), health is 200.
    for (const p of [a, b]) {
      await expect.poll(async () => (await health(p.base)).status, { timeout: 15_000, interval: 200 }).toBe(200);
      expect((await send(`${p.base}/h/${binA}/again`, { body: 'again' })).status).toBe(200);
    }
    // Its id made again: a new bin, answering as a new bin does, not with the old plan's 500s.
    expect((await api(b.base, 'POST', '/api/bins', { id: binD })).status).toBe(201);
    expect((await send(`${b.base}/h/${binD}/fresh`, { body: 'x' })).status).toBe(200);
    // The other instance follows the note (a change reaches it within ms; polled on the settings, not by sending).
    await expect.poll(async () => (await api<{ plan?: unknown[] }>(a.base, 'GET', `/api/bins/${binD}/response`)).body.plan ?? [], { timeout: 10_000, interval: 100 }).toEqual([]);
    expect((await send(`${a.base}/h/${binD}/fresh`, { body: 'x' })).status).toBe(200);
  }, 120_000);

  it('errors on Redis do not claim anything is kept in memory, not yet on disk', async () => {
    redis = await startRedis();
    const s = await spawnServer({ STORE: 'redis', REDIS_URL: redis.url, REDIS_PREFIX: 'msg:', DISPATCH_WORKER: 'false' });
    procs = [s];
    const bin = (await api<{ id: string }>(s.base, 'POST', '/api/bins', {})).body.id;
    expect((await send(`${s.base}/h/${bin}/x`, { body: 'x' })).status).toBe(200);
    const [id] = await ids(s.base, bin);
    process.kill(redis.pid!, 'SIGSTOP');
    try {
      await expect.poll(async () => (await health(s.base)).status, { timeout: 10_000, interval: 200 }).toBe(503);
      const read = await api<{ error: { code: string; message: string } }>(s.base, 'GET', `/api/bins/${bin}/requests/${id}`);
      expect(read.status).toBe(503);
      expect(read.body.error.message).not.toMatch(/Kept in memory|on disk/);
      expect(read.body.error.message).toMatch(/Redis/);
    } finally {
      process.kill(redis.pid!, 'SIGCONT');
    }
  }, 60_000);

  it('health: every instance answers 503 out of memory while Redis refuses writes, even one that tried none; no flapping near the limit; one log line per transition', async () => {
    redis = await startRedis({ args: ['--maxmemory-policy', 'noeviction'] });
    raw = new Redis(redis.url);
    const env = { STORE: 'redis', REDIS_URL: redis.url, REDIS_PREFIX: 'hflap:', DISPATCH_WORKER: 'false' };
    procs = await Promise.all([spawnServer(env), spawnServer(env)]);
    const [a, b] = procs;
    const bin = (await api<{ id: string }>(a.base, 'POST', '/api/bins', {})).body.id;
    for (const p of procs) expect((await health(p.base)).status).toBe(200);

    // Full, and no instance has tried a write since: health asks Redis, and says so.
    await raw.config('SET', 'maxmemory', String((await usedMemory(raw)) - 64 * 1024));
    for (const p of procs) {
      const h = await health(p.base);
      expect(h.status).toBe(503);
      expect(h.body.fault?.message).toMatch(/out of memory/);
    }

    // Near the limit, under load: Redis accepts a write now and then (some room comes and
    // goes), but health does not flip with each: it stays 503 until well below the limit.
    await raw.config('SET', 'maxmemory', String((await usedMemory(raw)) + 64 * 1024));
    const body = Buffer.alloc(16 * 1024, 'y');
    const statuses: Record<string, number[]> = { a: [], b: [] };
    let sending = true;
    const load = (async () => {
      let i = 0;
      while (sending) {
        await Promise.all([a, b].map((p) => send(`${p.base}/h/${bin}/load${i}`, { body, timeoutMs: 20_000 }).catch(() => null)));
        i++;
      }
    })();
    const until = performance.now() + 5000;
    while (performance.now() < until) {
      statuses.a.push((await health(a.base)).status);
      statuses.b.push((await health(b.base)).status);
      await sleep(100);
    }
    sending = false;
    await load;
    for (const k of ['a', 'b']) {
      const flips = statuses[k].filter((x, i) => i > 0 && x !== statuses[k][i - 1]).length;
      expect(flips, `${k}: ${statuses[k].join(' ')}`).toBe(0);
      expect(statuses[k].every((x) => x === 503), `${k}: ${statuses[k].join(' ')}`).toBe(true);
    }

    // Room again: both recover by themselves, and each logged the fault once and its end once.
    await raw.config('SET', 'maxmemory', '0');
    for (const p of procs) await expect.poll(async () => (await health(p.base)).status, { timeout: 15_000, interval: 200 }).toBe(200);
    for (const p of procs) {
      expect((await send(`${p.base}/h/${bin}/after`, { body: 'after' })).status).toBe(200);
      const lines = p.output().split('\n');
      expect(lines.filter((l) => /storage fault: Redis is out of memory/.test(l)), p.output()).toHaveLength(1);
      expect(lines.filter((l) => /storage recovered/.test(l))).toHaveLength(1);
    }
  }, 120_000);
});
