// The dispatcher's lease while Redis is away: its reads and beats fail at every tick (a third
// of DISPATCHER_LEASE_MS), and each instance says so once per outage, and once when Redis
// answers again, not a WARN line per tick; a failure that is not Redis's (taking up the dispatcher) is told as
// it is. A real redis-server, stopped and started again.
import { afterAll, describe, expect, it } from 'vitest';
import { DispatcherLease } from '../../server/cluster/dispatcher-lease.ts';
import { RedisStore } from '../../server/store/redis/redis-store.ts';
import { type RedisServer, startRedis } from '../helpers/redis.ts';

let redis: RedisServer | null = null;
afterAll(() => redis?.cleanup());

describe('dispatcher lease, Redis away', () => {
  it('the holder and a watcher each tell the outage once, and its end once', async () => {
    redis = await startRedis();
    const stores = await Promise.all([0, 1].map(() => RedisStore.open({ url: redis!.url, prefix: 'lol:' })));
    const told = [0, 1].map(() => ({ errors: 0, recovered: 0 }));
    const leases = stores.map(
      (s, i) =>
        new DispatcherLease({
          db: s.db,
          prefix: 'lol:',
          selfUrl: `http://instance-${i}`,
          ttlMs: 600,
          onAcquire: async () => {},
          onLose: async () => {},
          onError: () => void told[i].errors++,
          onRecover: () => void told[i].recovered++,
        }),
    );
    try {
      for (const l of leases) await l.start();
      expect(leases[0].held).not.toBeNull();
      await redis.stop();
      await expect.poll(() => told.map((t) => t.errors)).toEqual([1, 1]);
      // Ten ticks more of the outage: nothing more said.
      await new Promise((r) => setTimeout(r, 2000));
      expect(told).toEqual([
        { errors: 1, recovered: 0 },
        { errors: 1, recovered: 0 },
      ]);
      await redis.start();
      await expect.poll(() => told.map((t) => t.recovered), { timeout: 20_000 }).toEqual([1, 1]);
      await new Promise((r) => setTimeout(r, 1000));
      expect(told).toEqual([
        { errors: 1, recovered: 1 },
        { errors: 1, recovered: 1 },
      ]);
    } finally {
      for (const l of leases) await l.stop();
      for (const s of stores) await s.close();
    }
  }, 60_000);

  it('taking up the dispatcher failing is told as it is, not as Redis away', async () => {
    redis ??= await startRedis();
    const store = await RedisStore.open({ url: redis.url, prefix: 'los:' });
    const told = { errors: 0, steps: [] as string[] };
    const lease = new DispatcherLease({
      db: store.db,
      prefix: 'los:',
      selfUrl: 'http://instance-0',
      ttlMs: 600,
      onAcquire: async () => {
        throw new Error('the dispatcher could not load its deliveries');
      },
      onLose: async () => {},
      onError: () => void told.errors++,
      onStepError: (err) => void told.steps.push(String(err)),
    });
    try {
      await lease.start();
      await expect.poll(() => told.steps.length).toBeGreaterThan(0);
      expect(told.steps[0]).toMatch(/could not load its deliveries/);
      expect(told.errors).toBe(0);
    } finally {
      await lease.stop();
      await store.close();
    }
  }, 60_000);
});
