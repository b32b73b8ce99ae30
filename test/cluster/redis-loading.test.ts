// A Redis restarted with AOF answers -LOADING while it reads its data back. hooklab must say
// so (not "unreachable": Redis answers), and be back within about a second of the load's end,
// not after Redis's loading estimate (ioredis waited up to 10 s between ready checks). Real
// redis-server, slowed down while loading (key-load-delay) so that the load takes seconds.
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { api, send } from '../helpers/http.ts';
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

async function health(base: string): Promise<{ status: number; message: string | null }> {
  try {
    const res = await fetch(`${base}/api/health`, { signal: AbortSignal.timeout(3000) });
    const body = (await res.json()) as { fault?: { message: string } };
    return { status: res.status, message: body.fault?.message ?? null };
  } catch {
    return { status: 0, message: null };
  }
}

describe('Redis loading its data after a restart', () => {
  it('health says Redis is loading, and every instance is back within about a second of the load ending', async () => {
    // 12,000 small keys at 150 µs each, then 30 of 1 MiB: a load of a few seconds, answering LOADING
    // meanwhile, whose bytes come slowly first and fast at the end (so Redis's own estimate of
    // the time left, early on, is far too long: the case that kept instances down ~10 s).
    redis = await startRedis({
      appendonly: true,
      appendfsync: 'always',
      args: ['--key-load-delay', '150', '--loading-process-events-interval-bytes', '1024'],
      startTimeoutMs: 60_000,
    });
    const env = { STORE: 'redis', REDIS_URL: redis.url, REDIS_PREFIX: 'load:', DISPATCH_WORKER: 'false' };
    procs = await Promise.all([spawnServer(env), spawnServer(env)]);
    const bin = (await api<{ id: string }>(procs[0].base, 'POST', '/api/bins', {})).body.id;
    expect((await send(`${procs[0].base}/h/${bin}/before`, { body: 'before' })).status).toBe(200);
    const raw = new Redis(redis.url);
    for (let i = 0; i < 12_000; i += 1000) {
      const p = raw.pipeline();
      for (let j = i; j < i + 1000; j++) p.set(`filler:${j}`, 'x');
      await p.exec();
    }
    for (let i = 0; i < 30; i++) await raw.set(`big:${i}`, Buffer.alloc(1024 * 1024, 'z'));
    raw.disconnect();

    await redis.stop();
    const messages = new Set<string>();
    let polling = true;
    const poll = (async () => {
      while (polling) {
        for (const p of procs) {
          const h = await health(p.base);
          if (h.message) messages.add(h.message);
        }
        await sleep(100);
      }
    })();
    const t0 = performance.now();
    await redis.start(); // resolves once Redis answers PING with PONG: loaded
    const loadedMs = performance.now() - t0;
    const loaded = performance.now();
    const backMs: number[] = [];
    for (const p of procs) {
      await expect.poll(async () => (await health(p.base)).status, { timeout: 20_000, interval: 50 }).toBe(200);
      backMs.push(performance.now() - loaded);
    }
    polling = false;
    await poll;
    console.log(`loaded in ${Math.round(loadedMs)} ms; instances back ${backMs.map(Math.round).join(', ')} ms after; health said: ${[...messages].join(' | ')}`);
    expect(loadedMs, 'the load was meant to take seconds').toBeGreaterThan(2000);
    // Goal: within ~1 s of the load's end (ioredis's default waited up to 10 s).
    expect(Math.max(...backMs), `back after ${backMs.map(Math.round).join(', ')} ms`).toBeLessThan(4000);
    expect([...messages].some((m) => /loading its data/.test(m)), [...messages].join(' | ')).toBe(true);
    for (const p of procs) expect((await send(`${p.base}/h/${bin}/after`, { body: 'after' })).status).toBe(200);
  }, 120_000);
});
