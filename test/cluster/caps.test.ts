// MAX_BINS and MAX_WEBHOOKS hold cluster-wide under concurrent creation: the check and the
// insert are one Redis script (a count, then a put, let 20 concurrent POSTs past a cap of 5),
// and one slug asked for on both instances at once is made once. Two compiled instances on a
// real redis-server.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type InstancePair, startPair } from '../helpers/cluster.ts';
import { api } from '../helpers/http.ts';
import { type RedisServer, startRedis } from '../helpers/redis.ts';

let redis: RedisServer;
let pair: InstancePair;

beforeAll(async () => {
  redis = await startRedis();
  pair = await startPair(redis, 'caps:', { MAX_BINS: '5', MAX_WEBHOOKS: '3' });
}, 60_000);

afterAll(async () => {
  await pair?.stop();
  await redis?.cleanup();
});

const statuses = (rs: { status: number }[]) => rs.map((r) => r.status).sort();

describe('caps under concurrent creation, two instances', () => {
  it('20 bins asked for at once across A and B: exactly MAX_BINS made, the rest 409 too_many_bins; one slug on both at once: made once', async () => {
    const { a, b } = pair;
    const rs = await Promise.all(Array.from({ length: 20 }, (_, i) => api<{ error?: { code: string } }>((i % 2 ? a : b).base, 'POST', '/api/bins', {})));
    expect(statuses(rs).filter((s) => s === 201)).toHaveLength(5);
    for (const r of rs.filter((x) => x.status !== 201)) expect(r.body.error?.code).toBe('too_many_bins');
    expect((await api<{ bins: unknown[] }>(a.base, 'GET', '/api/bins')).body.bins).toHaveLength(5);

    // Room for one more: the same slug from both instances, several times each.
    const list = (await api<{ bins: { id: string }[] }>(a.base, 'GET', '/api/bins')).body.bins;
    expect((await api(a.base, 'DELETE', `/api/bins/${list[0].id}`)).status).toBe(204);
    const same = await Promise.all(Array.from({ length: 8 }, (_, i) => api<{ error?: { code: string } }>((i % 2 ? a : b).base, 'POST', '/api/bins', { id: 'one-slug-for-both-0123' })));
    expect(statuses(same).filter((s) => s === 201)).toHaveLength(1);
    for (const r of same.filter((x) => x.status !== 201)) expect(r.body.error?.code).toBe('bin_exists');
  });

  it('10 webhooks asked for at once across A and B: exactly MAX_WEBHOOKS made', async () => {
    const { a, b } = pair;
    const rs = await Promise.all(
      Array.from({ length: 10 }, (_, i) => api<{ error?: { code: string } }>((i % 2 ? a : b).base, 'POST', '/api/webhooks', { name: `w${i}`, url: 'http://127.0.0.1:9/x' })),
    );
    expect(statuses(rs).filter((s) => s === 201)).toHaveLength(3);
    for (const r of rs.filter((x) => x.status !== 201)) expect(r.body.error?.code).toBe('too_many_webhooks');
    expect((await api<{ webhooks: unknown[] }>(b.base, 'GET', '/api/webhooks')).body.webhooks).toHaveLength(3);
  });
});
