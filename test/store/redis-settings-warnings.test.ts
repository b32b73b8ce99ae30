// The warnings about Redis's settings follow Redis across restarts: "Redis persists nothing"
// leaves /api/health's warnings once Redis is started again with appendonly yes, and comes
// (logged again) once it is started again without persistence. Checked on every reconnect, not
// only at start-up (it never cleared before). A real redis-server, restarted on its port.
import { afterAll, describe, expect, it } from 'vitest';
import { RedisStore } from '../../server/store/redis/redis-store.ts';
import { type RedisServer, type RedisServerOptions, startRedis } from '../helpers/redis.ts';

const opts: RedisServerOptions = {};
let redis: RedisServer | null = null;
let store: RedisStore | null = null;

afterAll(async () => {
  await store?.close();
  await redis?.cleanup();
}, 60_000);

const persistsNothing = () => store!.health().warnings.filter((w) => /Redis persists nothing/.test(w));

describe('Redis settings warnings', () => {
  it('"persists nothing" clears after a restart with appendonly yes, and is back after one without', async () => {
    redis = await startRedis(opts);
    const logged: string[] = [];
    store = await RedisStore.open({ url: redis.url, prefix: 'sw:', onWarning: (m) => void logged.push(m) });
    expect(persistsNothing()).toHaveLength(1);
    expect(persistsNothing()[0]).toMatch(/^\S+Z Redis persists nothing/);
    expect(logged.filter((m) => /persists nothing/.test(m))).toHaveLength(1);

    // The helper starts it again with the options as they are then.
    opts.appendonly = true;
    await redis.stop();
    await redis.start();
    await expect.poll(() => persistsNothing(), { timeout: 30_000, interval: 100 }).toEqual([]);

    opts.appendonly = false;
    await redis.stop();
    await redis.start();
    await expect.poll(() => persistsNothing().length, { timeout: 30_000, interval: 100 }).toBe(1);
    expect(logged.filter((m) => /persists nothing/.test(m))).toHaveLength(2);
    expect(store.health().fault).toBeNull();
  }, 90_000);
});
