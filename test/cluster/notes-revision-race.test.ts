// The periodic revision check reads notes:rev on one connection while notes arrive on
// another: notes counted after the GET ran can arrive before its reply. The check then saw
// notes:rev behind the notes received and took it for Redis having lost its data: a false
// "the notes count in Redis went back" and a reload of every bin's settings, under any burst
// of settings writes. Real Redis, two RedisClusters; the check's reply is held while the other
// instance's notes arrive.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisCluster } from '../../server/cluster/redis-cluster.ts';
import type { Logger } from '../../server/log.ts';
import { type RedisServer, startRedis } from '../helpers/redis.ts';

let redis: RedisServer;
let a: RedisCluster;
let b: RedisCluster;
const logged: string[] = [];
const log: Logger = { info: (m) => void logged.push(m), warn: (m) => void logged.push(m), error: (m) => void logged.push(m) };
let reloads = 0;

beforeAll(async () => {
  redis = await startRedis();
  // No periodic check of their own: the test runs B's.
  const options = { url: redis.url, prefix: 'race:', streamMaxLen: 100, revisionCheckMs: 3_600_000 };
  a = new RedisCluster(options);
  b = new RedisCluster(options);
  b.onResync(async () => void reloads++);
  await a.start();
  await b.start(log);
}, 60_000);

afterAll(async () => {
  await a?.close();
  await b?.close();
  await redis?.cleanup();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('the notes revision check', () => {
  it('notes that arrive while its read of notes:rev is on the way are not taken for Redis losing its data', async () => {
    const received: string[] = [];
    b.on('bin', (binId) => void received.push(binId));
    const pub = (b as unknown as { pub: { get: (k: string) => Promise<string | null> } }).pub;
    const get = pub.get.bind(pub);
    let replied!: () => void;
    const gate = new Promise<void>((r) => (replied = r));
    // The read runs in Redis now; its reply reaches B only once A's notes have.
    pub.get = async (k: string) => {
      const v = await get(k);
      await gate;
      return v;
    };
    const check = (b as unknown as { checkRevision: () => Promise<void> }).checkRevision();
    for (let i = 0; i < 5; i++) a.note('bin', `bin-${i}`);
    for (let i = 0; i < 200 && received.length < 5; i++) await sleep(10);
    expect(received).toHaveLength(5);
    replied();
    await check;
    pub.get = get;
    await sleep(50);
    expect(logged.filter((m) => m.includes('went back'))).toEqual([]);
    expect(reloads).toBe(0);
  });

  it('a count that really went back (Redis lost its data) is still caught, and everything reloaded', async () => {
    const raw = new Redis(redis.url);
    try {
      expect(Number(await raw.get('race:notes:rev'))).toBeGreaterThan(0);
      await raw.del('race:notes:rev');
    } finally {
      raw.disconnect();
    }
    await (b as unknown as { checkRevision: () => Promise<void> }).checkRevision();
    for (let i = 0; i < 200 && reloads === 0; i++) await sleep(10);
    expect(logged.filter((m) => m.includes('went back'))).toHaveLength(1);
    expect(reloads).toBe(1);
  });
});
