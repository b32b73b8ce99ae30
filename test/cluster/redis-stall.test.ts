// Redis stalled (SIGSTOP: a frozen VM, a long fork): once the instance knows Redis does not
// answer (its health probe, or a command that timed out), captures and API calls get their
// 503 + Retry-After at once, not after the 5 s command timeout each (senders with shorter
// timeouts gave up, connections piled up). Recovery is seen promptly after SIGCONT, and no
// acknowledged capture is lost. Real redis-server, the compiled server.
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { api, send } from '../helpers/http.ts';
import { type ServerProcess, spawnServer } from '../helpers/process.ts';
import { type RedisServer, startRedis } from '../helpers/redis.ts';
import { cleanUpRedisTest } from '../helpers/cluster.ts';
import { connect, subscribe } from '../helpers/socket.ts';

let redis: RedisServer | null = null;
let procs: ServerProcess[] = [];

afterEach(async () => {
  await cleanUpRedisTest(redis, procs);
  redis = null;
});

const healthStatus = async (base: string) => (await fetch(`${base}/api/health`, { signal: AbortSignal.timeout(5000) })).status;

async function timed<T>(f: () => Promise<T>): Promise<[T, number]> {
  const t = performance.now();
  const r = await f();
  return [r, performance.now() - t];
}

describe('a stalled Redis', () => {
  it('captures and API reads fail fast (503 + Retry-After) while the instance knows Redis does not answer; recovery is prompt; nothing acknowledged is lost', async () => {
    redis = await startRedis();
    const s = await spawnServer({ STORE: 'redis', REDIS_URL: redis.url, REDIS_PREFIX: 'stall:', DISPATCH_WORKER: 'false' });
    procs = [s];
    const seen = (await api<{ id: string }>(s.base, 'POST', '/api/bins', {})).body.id;
    // A bin this instance has not received for: its look-up goes to Redis (as a bin found
    // more than 10 s ago does again).
    const unseen = (await api<{ id: string }>(s.base, 'POST', '/api/bins', {})).body.id;
    const acked: string[] = [];
    const r0 = await send(`${s.base}/h/${seen}/before`, { body: 'before' });
    expect(r0.status).toBe(200);
    acked.push('/before');

    process.kill(redis.pid!, 'SIGSTOP');
    await expect.poll(() => healthStatus(s.base), { timeout: 10_000, interval: 200 }).toBe(503);

    // Each answers within a fraction of the 5 s command timeout (the goal: at once).
    for (let i = 0; i < 3; i++) {
      const [cap, capMs] = await timed(() => send(`${s.base}/h/${unseen}/stalled${i}`, { body: 'x', timeoutMs: 20_000 }));
      expect(cap.status).toBe(503);
      expect(cap.headers['retry-after']).toBeDefined();
      expect(capMs).toBeLessThan(2000);
      const [list, listMs] = await timed(() => api(s.base, 'GET', `/api/bins/${seen}/requests`));
      expect(list.status).toBe(503);
      expect(listMs).toBeLessThan(2000);
      const [bin, binMs] = await timed(() => api(s.base, 'GET', `/api/bins/${unseen}`));
      expect(bin.status).toBe(503);
      expect(binMs).toBeLessThan(2000);
    }

    process.kill(redis.pid!, 'SIGCONT');
    const t1 = performance.now();
    await expect.poll(() => healthStatus(s.base), { timeout: 10_000, interval: 50 }).toBe(200);
    expect(performance.now() - t1).toBeLessThan(3000);
    for (const bin of [seen, unseen]) {
      const r = await send(`${s.base}/h/${bin}/after`, { body: 'after' });
      expect(r.status).toBe(200);
      if (bin === seen) acked.push('/after');
    }
    const rows = (await api<{ requests: { path: string }[] }>(s.base, 'GET', `/api/bins/${seen}/requests`)).body.requests;
    for (const p of acked) expect(rows.map((x) => x.path)).toContain(p);
  }, 90_000);

  it('a live viewer that subscribes while Redis does not answer gets a retryable error (store unavailable, retryAfterMs), then subscribes once it is back', async () => {
    redis = await startRedis();
    const s = await spawnServer({ STORE: 'redis', REDIS_URL: redis.url, REDIS_PREFIX: 'sub:', DISPATCH_WORKER: 'false' });
    procs = [s];
    const bin = (await api<{ id: string }>(s.base, 'POST', '/api/bins', {})).body.id;
    const sock = await connect(s.base);
    try {
      expect(await subscribe(sock, 'no-such-bin')).toMatchObject({ ok: false, error: 'bin not found' });
      process.kill(redis.pid!, 'SIGSTOP');
      await expect.poll(() => healthStatus(s.base), { timeout: 10_000, interval: 200 }).toBe(503);
      const ack = await subscribe(sock, bin);
      expect(ack).toMatchObject({ ok: false, error: 'store unavailable' });
      expect(ack.retryAfterMs).toBeGreaterThan(0);
      process.kill(redis.pid!, 'SIGCONT');
      await expect.poll(() => healthStatus(s.base), { timeout: 10_000, interval: 50 }).toBe(200);
      expect(await subscribe(sock, bin)).toMatchObject({ ok: true });
    } finally {
      sock.disconnect();
    }
  }, 60_000);

  it('that was out of memory first: the stall is said and captures fail fast again (the fault already raised hid it: each waited the 5 s command timeout)', async () => {
    redis = await startRedis({ args: ['--maxmemory-policy', 'noeviction'] });
    const raw = new Redis(redis.url);
    try {
      const s = await spawnServer({ STORE: 'redis', REDIS_URL: redis.url, REDIS_PREFIX: 'oomstall:', DISPATCH_WORKER: 'false' });
      procs = [s];
      const bin = (await api<{ id: string }>(s.base, 'POST', '/api/bins', {})).body.id;
      expect((await send(`${s.base}/h/${bin}/before`, { body: 'before' })).status).toBe(200);
      const used = Number(/used_memory:(\d+)/.exec(await raw.info('memory'))![1]);
      await raw.config('SET', 'maxmemory', String(used - 64 * 1024));
      const fault = async () => ((await (await fetch(`${s.base}/api/health`, { signal: AbortSignal.timeout(5000) })).json()) as { fault?: { message: string } }).fault?.message ?? '';
      await expect.poll(fault, { timeout: 10_000, interval: 200 }).toMatch(/out of memory/);

      process.kill(redis.pid!, 'SIGSTOP');
      await expect.poll(fault, { timeout: 15_000, interval: 200 }).toMatch(/does not answer in time/);
      for (let i = 0; i < 3; i++) {
        const [cap, capMs] = await timed(() => send(`${s.base}/h/${bin}/stalled${i}`, { body: 'x', timeoutMs: 20_000 }));
        expect(cap.status).toBe(503);
        expect(capMs).toBeLessThan(2000);
      }

      // Back: the stall ends; still full (maxmemory set again below what Redis uses, which moves
      // as client buffers come and go): said so again; with room, captures are taken.
      process.kill(redis.pid!, 'SIGCONT');
      await expect.poll(fault, { timeout: 15_000, interval: 200 }).not.toMatch(/does not answer/);
      await raw.config('SET', 'maxmemory', String(Number(/used_memory:(\d+)/.exec(await raw.info('memory'))![1]) - 64 * 1024));
      await expect.poll(fault, { timeout: 15_000, interval: 200 }).toMatch(/out of memory/);
      // The stall's end did not claim that writes succeed again: Redis still refused them.
      expect(s.output()).not.toMatch(/storage recovered/);
      await raw.config('SET', 'maxmemory', '0');
      await expect.poll(() => healthStatus(s.base), { timeout: 15_000, interval: 200 }).toBe(200);
      expect((await send(`${s.base}/h/${bin}/after`, { body: 'after' })).status).toBe(200);
      expect(s.output().match(/storage recovered/g)).toHaveLength(1);
    } finally {
      raw.disconnect();
    }
  }, 90_000);
});
