// /api/health's Redis probe (RedisStore.check) calls Redis stalled only when Redis is late, not
// when this thread was: a probe whose answer came while the event loop was busy past the
// probe's bound (a long search) is read before it is called late. Real redis-server.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisStore } from '../../server/store/redis/redis-store.ts';
import { type RedisServer, startRedis } from '../helpers/redis.ts';

let server: RedisServer;
let store: RedisStore;

beforeAll(async () => {
  server = await startRedis();
  store = await RedisStore.open({ url: server.url, prefix: 'probe:' });
}, 60_000);

afterAll(async () => {
  await store?.close();
  await server?.cleanup();
}, 60_000);

describe('the health probe', () => {
  it('a busy event loop past the bound is not a Redis stall', async () => {
    const checking = store.check(200);
    const until = performance.now() + 600; // this thread busy, Redis answering meanwhile
    while (performance.now() < until);
    expect(await checking).toBeNull();
    expect(store.health().fault ?? null).toBeNull();
  });

  it('a Redis that really does not answer is one', async () => {
    process.kill(server.pid!, 'SIGSTOP');
    try {
      const fault = await store.check(200);
      expect(fault).toMatchObject({ code: 'redis_unavailable' });
    } finally {
      process.kill(server.pid!, 'SIGCONT');
    }
    await expect.poll(async () => (await store.check(2000)) ?? null, { timeout: 10_000 }).toBeNull();
  });
});
