// /api/health on Redis tells what Redis does now, not what the last command found: a Redis
// that stops answering (SIGSTOP: a stall, a frozen VM) is a 503 within about a second, not
// after the 5 s command timeout, and health itself never hangs; once Redis answers again
// health says so at once. A Redis that comes back empty (restarted without persistence:
// every bin gone) is noticed by every instance: a warning in /api/health and one log line.
import { afterEach, describe, expect, it } from 'vitest';
import { api } from '../helpers/http.ts';
import { type ServerProcess, spawnServer } from '../helpers/process.ts';
import { type RedisServer, startRedis } from '../helpers/redis.ts';
import { cleanUpRedisTest } from '../helpers/cluster.ts';

let redis: RedisServer | null = null;
let procs: ServerProcess[] = [];

afterEach(async () => {
  await cleanUpRedisTest(redis, procs);
  redis = null;
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Health {
  ok: boolean;
  status: string;
  fault?: { code: string; message: string };
  warnings: string[];
}

/** GET /api/health, timed; a client timeout (3 s) is an answer of its own (status 0). */
async function health(base: string): Promise<{ status: number; body: Health | null; ms: number }> {
  const t = performance.now();
  try {
    const res = await fetch(`${base}/api/health`, { signal: AbortSignal.timeout(3000) });
    return { status: res.status, body: (await res.json()) as Health, ms: performance.now() - t };
  } catch {
    return { status: 0, body: null, ms: performance.now() - t };
  }
}

const LOST = /came back empty/;

describe('health on Redis', () => {
  it('a stalled Redis (SIGSTOP) is a 503 well before the 5 s command timeout; health never hangs; back to 200 at once after SIGCONT', async () => {
    redis = await startRedis();
    const s = await spawnServer({ STORE: 'redis', REDIS_URL: redis.url, REDIS_PREFIX: 'hl:', DISPATCH_WORKER: 'false' });
    procs = [s];
    expect((await health(s.base)).status).toBe(200);

    process.kill(redis.pid!, 'SIGSTOP');
    const t0 = performance.now();
    let first: Awaited<ReturnType<typeof health>> | null = null;
    while (performance.now() - t0 < 8000) {
      const h = await health(s.base);
      expect(h.ms).toBeLessThan(2500); // bounded by its own probe (~1 s), never the 5 s timeout
      if (h.status === 503) {
        first = h;
        break;
      }
      await sleep(100);
    }
    const after = performance.now() - t0;
    expect(first?.body).toMatchObject({ ok: false, status: 'storage_fault', fault: { code: 'redis_unavailable' } });
    expect(first!.body!.fault!.message).toMatch(/does not answer/);
    expect(after).toBeLessThan(4000);
    // Still stalled: still 503, still fast.
    await sleep(1500);
    const again = await health(s.base);
    expect(again.status).toBe(503);
    expect(again.ms).toBeLessThan(2500);

    process.kill(redis.pid!, 'SIGCONT');
    const t1 = performance.now();
    await expect.poll(async () => (await health(s.base)).status, { timeout: 5000, interval: 50 }).toBe(200);
    expect(performance.now() - t1).toBeLessThan(1500);
  });

  it('a Redis that comes back empty (restarted without persistence) is a warning on every instance, logged once each', async () => {
    redis = await startRedis(); // no AOF, no save points: a restart loses everything
    const env = { STORE: 'redis', REDIS_URL: redis.url, REDIS_PREFIX: 'empty:', DISPATCH_WORKER: 'false' };
    procs = await Promise.all([spawnServer(env), spawnServer(env)]);
    const [a, b] = procs;
    const bin = (await api<{ id: string }>(a.base, 'POST', '/api/bins', {})).body.id;
    for (const p of procs) expect((await health(p.base)).body!.warnings.some((w) => LOST.test(w))).toBe(false);

    await redis.kill();
    await redis.start();
    for (const p of [a, b]) {
      await expect
        .poll(async () => (await health(p.base)).body?.warnings.find((w) => LOST.test(w)) ?? null, { timeout: 10_000, interval: 200 })
        .toMatch(/every bin/);
      expect((await health(p.base)).status).toBe(200); // it works again, empty: a warning, not a fault
    }
    expect((await api(b.base, 'GET', `/api/bins/${bin}`)).status).toBe(404);
    await sleep(1000);
    for (const p of [a, b]) expect(p.output().split('\n').filter((l) => LOST.test(l))).toHaveLength(1);
  });
});
