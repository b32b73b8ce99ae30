// A Redis outage longer than the dispatcher's lease (stalled, or killed and restarted from its
// AOF) while attempts are in flight: nobody can take the lease over meanwhile, so the holder
// keeps it. It sends nothing more until Redis answers, keeps the answers it got meanwhile and
// records them then: the receiver gets each attempt once (before, the holder gave up its lease,
// and the attempts answered but not yet recorded were made again). Two real instances, a real
// redis-server, a real receiver.
import { afterEach, describe, expect, it } from 'vitest';
import { api } from '../helpers/http.ts';
import { type ServerProcess, spawnServer } from '../helpers/process.ts';
import { type RedisServer, startRedis } from '../helpers/redis.ts';
import { cleanUpRedisTest } from '../helpers/cluster.ts';
import { type RecordingTarget, recordingTarget } from '../helpers/target.ts';

const LEASE_MS = 1500;
let redis: RedisServer | null = null;
let procs: ServerProcess[] = [];
let target: RecordingTarget | null = null;

afterEach(async () => {
  target?.close();
  target = null;
  await cleanUpRedisTest(redis, procs);
  redis = null;
});

interface D {
  id: string;
  state: string;
  attempts: { n: number; status: number | null; reason: string }[];
}

const header = (raw: string[], name: string) => {
  for (let i = 0; i < raw.length; i += 2) if (raw[i].toLowerCase() === name) return raw[i + 1];
  return undefined;
};

/** Three deliveries in flight to a receiver that answers after 2 s; `outage` runs meanwhile. */
async function attemptsThrough(outage: (r: RedisServer) => Promise<void>) {
  redis = await startRedis({ appendonly: true, appendfsync: 'always' });
  const env = { STORE: 'redis', REDIS_URL: redis.url, REDIS_PREFIX: 'od:', DISPATCHER_LEASE_MS: String(LEASE_MS), DISPATCH_WORKER: 'false' };
  procs = await Promise.all([spawnServer(env), spawnServer(env)]);
  target = await recordingTarget((_q, res) => void setTimeout(() => res.end('ok'), 2000));
  const base = procs[1].base;
  for (let i = 0; i < 3; i++) {
    expect((await api(base, 'POST', '/api/webhooks', { url: `${target.base}/w${i}`, events: ['flow_started'] })).status).toBe(201);
  }
  expect((await api(base, 'POST', '/api/runs', {})).status).toBe(201);
  await expect.poll(() => target!.got.length, { timeout: 10_000, interval: 20 }).toBe(3);
  // The answers come during the outage (three leases long).
  await outage(redis);
  let ds: D[] = [];
  await expect
    .poll(
      async () => {
        const r = await api<{ deliveries: D[] }>(base, 'GET', '/api/deliveries');
        ds = r.status === 200 ? r.body.deliveries : [];
        return ds.length === 3 && ds.every((d) => d.state !== 'pending');
      },
      { timeout: 30_000, interval: 250 },
    )
    .toBe(true);
  // Whatever would be sent again has had its time.
  await new Promise((r) => setTimeout(r, 2 * LEASE_MS));
  const ids = target.got.map((g) => `${header(g.headers, 'webhook-id')} #${header(g.headers, 'x-hooklab-attempt')}`);
  expect(ids, JSON.stringify(ds, null, 1)).toHaveLength(3);
  expect(new Set(ids).size).toBe(3);
  for (const d of ds) expect(d.attempts.map((a) => `${a.n}:${a.status}:${a.reason}`)).toEqual(['1:200:first']);
}

describe('a Redis outage longer than the lease, attempts in flight', () => {
  it('Redis stalled (SIGSTOP, then SIGCONT): each attempt is sent once and recorded once', async () => {
    await attemptsThrough(async (r) => {
      process.kill(r.pid!, 'SIGSTOP');
      await new Promise((res) => setTimeout(res, 3 * LEASE_MS));
      process.kill(r.pid!, 'SIGCONT');
    });
  }, 120_000);

  it('Redis killed (SIGKILL) and started again from its AOF: each attempt is sent once and recorded once', async () => {
    await attemptsThrough(async (r) => {
      await r.kill();
      await new Promise((res) => setTimeout(res, 3 * LEASE_MS));
      await r.start();
    });
  }, 120_000);
});
