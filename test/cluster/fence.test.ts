// The dispatcher's writes on Redis are fenced by its lease: a store view made for epoch E
// writes while the lease says E, and is refused (changing nothing) once another instance holds
// it; the lease itself goes to one instance at a time, and on to another when it lapses.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DispatcherLease } from '../../server/cluster/dispatcher-lease.ts';
import { RedisStore } from '../../server/store/redis/redis-store.ts';
import { fakeDelivery } from '../store/contract.ts';
import { type RedisServer, startRedis } from '../helpers/redis.ts';

let redis: RedisServer;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(() => redis.cleanup());

describe('dispatcher lease and fence', () => {
  it('a fenced view writes while its epoch holds the lease, and is refused after', async () => {
    const store = await RedisStore.open({ url: redis.url, prefix: 'fence1:' });
    try {
      const key = 'fence1:dispatcher:lease';
      await store.db.client.set(key, '7 http://a');
      const fenced = store.fenced(key, '7');
      await fenced.deliveries.put(fakeDelivery('dl_1', 'pending'));
      await fenced.setClock({ virtualMs: 1, realMs: 1, scale: 60, paused: false });
      // Another instance took over.
      await store.db.client.set(key, '8 http://b');
      await expect(fenced.deliveries.put({ ...fakeDelivery('dl_1', 'failed') })).rejects.toThrow(/fenced/);
      await expect(fenced.setClock({ virtualMs: 2, realMs: 2, scale: 1, paused: true })).rejects.toThrow(/fenced/);
      await expect(fenced.runs.put({ id: 'run_1' } as never)).rejects.toThrow(/fenced/);
      expect((await store.deliveries.get('dl_1'))?.state).toBe('pending');
      expect((await store.getClock())?.scale).toBe(60);
      // The rest of the store is not fenced.
      await store.deliveries.put(fakeDelivery('dl_1', 'failed'));
      expect((await fenced.deliveries.get('dl_1'))?.state).toBe('failed');
    } finally {
      await store.close();
    }
  });

  it('one holder at a time; a clean stop hands it on at once, a lapse after its time', async () => {
    const stores = await Promise.all([0, 1].map(() => RedisStore.open({ url: redis.url, prefix: 'fence2:' })));
    const events: string[] = [];
    const leases = stores.map(
      (s, i) =>
        new DispatcherLease({
          client: s.db.client,
          prefix: 'fence2:',
          selfUrl: `http://instance-${i}`,
          ttlMs: 600,
          onAcquire: async (epoch) => void events.push(`${i} got ${epoch}`),
          onLose: async () => void events.push(`${i} lost`),
        }),
    );
    try {
      await leases[0].start();
      await leases[1].start();
      expect(leases[0].held).toBe('1');
      expect(leases[1].held).toBeNull();
      expect(await leases[1].holderUrl()).toBe('http://instance-0');
      await new Promise((r) => setTimeout(r, 1000)); // renewed meanwhile: still the same holder
      expect(leases[0].held).toBe('1');
      await leases[0].stop();
      await expect.poll(() => leases[1].held, { timeout: 3000 }).toBe('2');
      expect(events).toEqual(['0 got 1', '0 lost', '1 got 2']);
    } finally {
      for (const l of leases) await l.stop();
      for (const s of stores) await s.close();
    }
  });

  it('a renewal Redis ran late (after a stall) on a lease its holder had given up: the holder takes it again at once, with a new epoch, not after it lapses', async () => {
    // Its own client, with a short command timeout: the stall makes renewals fail quickly.
    const client = new Redis(redis.url, { commandTimeout: 200, maxRetriesPerRequest: 1 });
    const events: string[] = [];
    const lease = new DispatcherLease({
      client,
      prefix: 'fence3:',
      selfUrl: 'http://instance-a',
      ttlMs: 900,
      onAcquire: async (epoch) => void events.push(`got ${epoch}`),
      onLose: async () => void events.push('lost'),
      onError: () => {},
    });
    const pid = redis.pid!;
    try {
      await lease.start();
      expect(lease.held).toBe('1');
      process.kill(pid, 'SIGSTOP');
      try {
        await expect.poll(() => events, { timeout: 20_000 }).toEqual(['got 1', 'lost']);
      } finally {
        process.kill(pid, 'SIGCONT');
      }
      // A renewal sent during the stall, run once Redis resumed, left the lease at epoch 1 (a
      // long expiry here, so that waiting for it to lapse would show).
      const probe = new Redis(redis.url);
      try {
        await probe.set('fence3:dispatcher:lease', '1 http://instance-a', 'PX', 60_000);
        await expect.poll(() => lease.held, { timeout: 20_000 }).toBe('2');
        expect(await probe.get('fence3:dispatcher:lease')).toBe('2 http://instance-a');
      } finally {
        probe.disconnect();
      }
      expect(events).toEqual(['got 1', 'lost', 'got 2']);
    } finally {
      await lease.stop();
      client.disconnect();
    }
  });

  it("another instance's lease is not taken for a stale epoch of ours", async () => {
    const client = new Redis(redis.url);
    const lease = new DispatcherLease({ client, prefix: 'fence4:', selfUrl: 'http://instance-a', ttlMs: 600, onAcquire: async () => {}, onLose: async () => {} });
    try {
      await client.set('fence4:dispatcher:epoch', '5');
      await client.set('fence4:dispatcher:lease', '5 http://instance-b', 'PX', 60_000);
      (lease as unknown as { stale: string }).stale = '4';
      await lease.start();
      await new Promise((r) => setTimeout(r, 700));
      expect(lease.held).toBeNull();
      expect(await client.get('fence4:dispatcher:lease')).toBe('5 http://instance-b');
    } finally {
      await lease.stop();
      client.disconnect();
    }
  });
});
