// Redis away while nothing polls /api/health: each instance learns of it from its own
// background commands (the dispatcher lease's), so a sender gets its 503 at once, not after
// the 5 s command timeout; and the dispatcher API on an instance that does not run it answers
// 503 storage_unavailable with Retry-After (it was a 500 "internal error"). Two real
// instances, a real redis-server.
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

/** Two instances; answers [the one running the dispatcher, the other]. */
async function pair(prefix: string): Promise<[ServerProcess, ServerProcess]> {
  redis = await startRedis();
  const env = { STORE: 'redis', REDIS_URL: redis.url, REDIS_PREFIX: prefix, DISPATCHER_LEASE_MS: '1500', DISPATCH_WORKER: 'false' };
  procs = await Promise.all([spawnServer(env), spawnServer(env)]);
  const runs = await Promise.all(procs.map(async (p) => (await api<{ dispatcher?: { runsHere: boolean } }>(p.base, 'GET', '/api/health')).body.dispatcher?.runsHere));
  expect(runs.filter(Boolean)).toHaveLength(1);
  return runs[0] ? [procs[0], procs[1]] : [procs[1], procs[0]];
}

async function timed<T>(f: () => Promise<T>): Promise<[T, number]> {
  const t = performance.now();
  const r = await f();
  return [r, performance.now() - t];
}

describe('Redis away, /api/health not polled', () => {
  it('stalled: a capture well into the stall gets 503 + Retry-After at once on every instance', async () => {
    const [holder, other] = await pair('unp1:');
    const bin = (await api<{ id: string }>(other.base, 'POST', '/api/bins', {})).body.id;
    process.kill(redis!.pid!, 'SIGSTOP');
    // Past the 5 s command timeout and a lease tick (500 ms): each instance's lease commands timed out by now.
    await new Promise((r) => setTimeout(r, 8000));
    for (const p of [holder, other]) {
      const [cap, ms] = await timed(() => send(`${p.base}/h/${bin}/stalled`, { body: 'x', timeoutMs: 20_000 }));
      expect(cap.status).toBe(503);
      expect(cap.headers['retry-after']).toBeDefined();
      // Half the command timeout: the commit of this fix answered in milliseconds, before it after 5 s.
      expect(ms).toBeLessThan(2500);
    }
    const [clock, clockMs] = await timed(() => fetch(`${other.base}/api/clock`, { signal: AbortSignal.timeout(20_000) }));
    expect(clock.status).toBe(503);
    expect(((await clock.json()) as { error: { code: string } }).error.code).toBe('storage_unavailable');
    expect(clockMs).toBeLessThan(2500);
  }, 60_000);

  it('down: the clock on the instance not running the dispatcher answers 503 storage_unavailable with Retry-After', async () => {
    const [, other] = await pair('unp2:');
    await redis!.kill();
    const r = await fetch(`${other.base}/api/clock`);
    expect(r.status).toBe(503);
    expect(r.headers.get('retry-after')).toBe('5');
    expect(((await r.json()) as { error: { code: string } }).error.code).toBe('storage_unavailable');
  }, 60_000);
});
