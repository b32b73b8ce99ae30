// The dispatcher's writes on Redis are fenced by its lease: a store view made for epoch E
// writes while the lease says E, and is refused (changing nothing) once another instance holds
// it; the lease itself goes to one instance at a time, and on to another when it lapses.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DispatcherLease } from '../../server/cluster/dispatcher-lease.ts';
import { RedisStore } from '../../server/store/redis/redis-store.ts';
import { fakeDelivery } from '../store/contract.ts';
import { type RedisServer, startRedis } from '../helpers/redis.ts';

/** An epoch's count ("3.<token>" → "3"): the token is random. */
const count = (epoch: string | null) => epoch?.split('.')[0] ?? null;

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
          db: s.db,
          prefix: 'fence2:',
          selfUrl: `http://instance-${i}`,
          ttlMs: 600,
          onAcquire: async (epoch) => void events.push(`${i} got ${count(epoch)}`),
          onLose: async () => void events.push(`${i} lost`),
        }),
    );
    try {
      await leases[0].start();
      await leases[1].start();
      expect(count(leases[0].held)).toBe('1');
      expect(count(leases[1].held)).toBeNull();
      expect(await leases[1].holderUrl()).toBe('http://instance-0');
      await new Promise((r) => setTimeout(r, 1000)); // renewed meanwhile: still the same holder
      expect(count(leases[0].held)).toBe('1');
      await leases[0].stop();
      await expect.poll(() => count(leases[1].held), { timeout: 3000 }).toBe('2');
      expect(events).toEqual(['0 got 1', '0 lost', '1 got 2']);
    } finally {
      for (const l of leases) await l.stop();
      for (const s of stores) await s.close();
    }
  });

  it('Redis stalls past the lease: the holder suspends (sends wait) but keeps its epoch, and goes on with it once Redis answers; the other instance does not take it', async () => {
    // Short command timeouts: the stall makes beats and reads fail quickly.
    const stores = await Promise.all([0, 1].map(() => RedisStore.open({ url: redis.url, prefix: 'fence3:', commandTimeoutMs: 200 })));
    const events: string[] = [];
    const leases = stores.map(
      (s, i) =>
        new DispatcherLease({
          db: s.db,
          prefix: 'fence3:',
          selfUrl: `http://instance-${i}`,
          ttlMs: 900,
          onAcquire: async (epoch) => void events.push(`${i} got ${count(epoch)}`),
          onLose: async () => void events.push(`${i} lost`),
          onSuspend: () => void events.push(`${i} suspended`),
          onResume: () => void events.push(`${i} resumed`),
          onError: () => {},
        }),
    );
    const pid = redis.pid!;
    try {
      await leases[0].start();
      await leases[1].start();
      expect(count(leases[0].held)).toBe('1');
      process.kill(pid, 'SIGSTOP');
      let sent = false;
      let sure: Promise<void> | null = null;
      try {
        await expect.poll(() => events, { timeout: 20_000 }).toEqual(['0 got 1', '0 suspended']);
        // A send asked for now waits for the lease.
        sure = leases[0].whenSure().then(() => void (sent = true));
        // Three leases' worth of stall.
        await new Promise((r) => setTimeout(r, 2700));
        expect(sent).toBe(false);
      } finally {
        process.kill(pid, 'SIGCONT');
      }
      await expect.poll(() => events, { timeout: 20_000 }).toEqual(['0 got 1', '0 suspended', '0 resumed']);
      await sure;
      expect(sent).toBe(true);
      // Two more leases: the holder beats, the other never takes it.
      await new Promise((r) => setTimeout(r, 1800));
      expect(events).toEqual(['0 got 1', '0 suspended', '0 resumed']);
      expect([count(leases[0].held), count(leases[1].held)]).toEqual(['1', null]);
    } finally {
      for (const l of leases) await l.stop();
      for (const s of stores) await s.close();
    }
  });

  it('a holder that stops beating (its instance stalled) loses the lease after a whole lease of silence; it stops when it wakes', async () => {
    const stores = await Promise.all([0, 1].map(() => RedisStore.open({ url: redis.url, prefix: 'fence5:' })));
    const events: string[] = [];
    const leases = stores.map(
      (s, i) =>
        new DispatcherLease({
          db: s.db,
          prefix: 'fence5:',
          selfUrl: `http://instance-${i}`,
          ttlMs: 600,
          onAcquire: async (epoch) => void events.push(`${i} got ${count(epoch)}`),
          onLose: async () => void events.push(`${i} lost`),
          onError: () => {},
        }),
    );
    const c0 = stores[0].db.client as unknown as { hooklabLeaseRenew: (...a: unknown[]) => Promise<number> };
    const renew = c0.hooklabLeaseRenew.bind(c0);
    try {
      await leases[0].start();
      await leases[1].start();
      expect(count(leases[0].held)).toBe('1');
      // Instance 0 stops beating (as if stalled): its beats hang.
      let wake!: () => void;
      const woken = new Promise<void>((r) => (wake = r));
      c0.hooklabLeaseRenew = async (...a: unknown[]) => {
        await woken;
        return renew(...a);
      };
      await expect.poll(() => count(leases[1].held), { timeout: 5000 }).toBe('2');
      // Unsure meanwhile: a send waits, and is let go (with nothing held) once the lease is lost.
      const sure = leases[0].whenSure().then(() => leases[0].held);
      wake();
      await expect.poll(() => events, { timeout: 5000 }).toEqual(['0 got 1', '1 got 2', '0 lost']);
      expect(await sure).toBeNull();
    } finally {
      for (const l of leases) await l.stop();
      for (const s of stores) await s.close();
    }
  });

  it('Redis back empty while a holder runs: the next instance counts epochs from 1 again, yet the old holder loses the lease and no two hold it', async () => {
    const stores = await Promise.all([0, 1].map(() => RedisStore.open({ url: redis.url, prefix: 'fence6:' })));
    const events: string[] = [];
    const leases = stores.map(
      (s, i) =>
        new DispatcherLease({
          db: s.db,
          prefix: 'fence6:',
          selfUrl: `http://instance-${i}`,
          ttlMs: 600,
          onAcquire: async (epoch) => void events.push(`${i} got ${count(epoch)}`),
          onLose: async () => void events.push(`${i} lost`),
          onError: () => {},
        }),
    );
    try {
      await leases[0].start();
      expect(count(leases[0].held)).toBe('1');
      // As a Redis restarted without persistence (or flushed): the lease, its beat and the epoch count gone.
      await stores[0].db.client.del('fence6:dispatcher:lease', 'fence6:dispatcher:beat', 'fence6:dispatcher:epoch');
      await leases[1].start();
      expect(count(leases[1].held)).toBe('1'); // counted from 1 again: the same count as the holder's
      await expect.poll(() => events, { timeout: 5000 }).toEqual(['0 got 1', '1 got 1', '0 lost']);
      // Beats go on: still one holder, the new one.
      await new Promise((r) => setTimeout(r, 800));
      expect([leases[0].held, count(leases[1].held)]).toEqual([null, '1']);
      expect(await leases[0].holderUrl()).toBe('http://instance-1');
    } finally {
      for (const l of leases) await l.stop();
      for (const s of stores) await s.close();
    }
  });

  it("another instance's lease is not taken for a stale epoch of ours", async () => {
    const client = new Redis(redis.url);
    const store = await RedisStore.open({ url: redis.url, prefix: 'fence4:' });
    const lease = new DispatcherLease({ db: store.db, prefix: 'fence4:', selfUrl: 'http://instance-a', ttlMs: 600, onAcquire: async () => {}, onLose: async () => {} });
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
      await store.close();
      client.disconnect();
    }
  });
});
