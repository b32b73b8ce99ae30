// The lock that makes settings changes to one resource go one at a time across instances
// (server/cluster/settings-lock.ts), on a real redis-server: holders take turns; a holder
// waits SETTINGS_LOCK_WAIT_MS, then is busy, unless patient (a removal, the dispatcher's own
// change), which waits out a lock its dead holder left; and a holder that outlived its lock
// does not free the next holder's.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SettingsLock, SettingsLockBusyError } from '../../server/cluster/settings-lock.ts';
import { type RedisServer, startRedis } from '../helpers/redis.ts';
import { until } from '../helpers/until.ts';

let redis: RedisServer;
const clients: Redis[] = [];
beforeAll(async () => {
  redis = await startRedis();
}, 60_000);
afterAll(async () => {
  for (const c of clients) c.disconnect();
  await redis?.cleanup();
});

/** A lock as one instance holds it: its own connection. */
function instance(ttlMs = 10_000, waitMs = 5000) {
  const client = new Redis(redis.url);
  clients.push(client);
  return { client, lock: new SettingsLock({ client, prefix: 't:', run: (fn) => fn(), ttlMs, waitMs }) };
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('the settings lock', () => {
  it('holders on two connections take turns, and each frees it when done', async () => {
    const [a, b] = [instance(), instance()];
    const log: string[] = [];
    const work = (who: string) => async () => {
      log.push(`${who} in`);
      await sleep(50);
      log.push(`${who} out`);
      return who;
    };
    const results = await Promise.all([a.lock.hold('forward:x', work('a')), b.lock.hold('forward:x', work('b')), a.lock.hold('verify:x', async () => 'other resource')]);
    expect(results).toEqual(['a', 'b', 'other resource']);
    // One in at a time on forward:x, whichever got it first.
    const first = log[0][0];
    const second = first === 'a' ? 'b' : 'a';
    expect(log).toEqual([`${first} in`, `${first} out`, `${second} in`, `${second} out`]);
    // Released as each ends (sent, not awaited: on its holder's connection).
    await until(async () => (await a.client.exists('t:lock:forward:x', 't:lock:verify:x')) === 0, 'both locks released', 5000);
  });

  it('freed when the work throws', async () => {
    const a = instance();
    await expect(a.lock.hold('forward:y', async () => Promise.reject(new Error('no')))).rejects.toThrow('no');
    await until(async () => (await a.client.exists('t:lock:forward:y')) === 0, 'the lock released', 5000);
  });

  it('a lock held elsewhere: busy after the wait; a patient holder waits until its holder frees it or it expires', async () => {
    const a = instance(10_000, 200);
    // Left by an instance that died holding it: it expires on its own.
    await a.client.set('t:lock:webhook:w', 'dead-instance', 'PX', 700);
    const t0 = Date.now();
    await expect(a.lock.hold('webhook:w', async () => 'x')).rejects.toBeInstanceOf(SettingsLockBusyError);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(100);
    expect(await a.lock.hold('webhook:w', async () => 'patient', true)).toBe('patient');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(600);
  });

  it('a lock found without an expiry (set by hand, kept by a restore) is given one and frees; a patient holder gives up after 3 ttl', async () => {
    const a = instance(300, 100);
    await a.client.set('t:lock:verify:n', 'no-expiry');
    expect(await a.lock.hold('verify:n', async () => 'got it', true)).toBe('got it');
    // Held longer than a patient holder waits (3 x its 300 ms ttl): busy, said, not a wait for good.
    await a.client.set('t:lock:verify:m', 'long', 'PX', 60_000);
    const t0 = Date.now();
    await expect(a.lock.hold('verify:m', async () => 'x', true)).rejects.toBeInstanceOf(SettingsLockBusyError);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(700);
  });

  it("a holder that outlived its lock does not free the next holder's", async () => {
    const [a, b] = [instance(150), instance()];
    let bHolds = false;
    const slow = a.lock.hold('response:z', async () => {
      await sleep(800); // past its 150 ms: the lock expired meanwhile and B took it
      expect(bHolds).toBe(true);
    });
    await sleep(200);
    const bDone = b.lock.hold('response:z', async () => {
      bHolds = true;
      await sleep(900); // A finishes (and releases) while B still holds it
      return await b.client.get('t:lock:response:z');
    });
    await slow;
    const held = await bDone;
    expect(held).not.toBeNull(); // B's token was still there after A's release
  });
});
