// Imports on Redis (two compiled instances, STORE=redis): an imported capture's id is given by
// the store as it is appended, like a live capture's, so one order holds across instances. An
// id made from its original time put a future-dated import above every later capture: the
// subscribe ack named it as lastId, and a tail resuming from it skipped what came next.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RequestItem, RequestPage } from '../../shared/api.ts';
import { api, send } from '../helpers/http.ts';
import { type InstancePair, startPair } from '../helpers/cluster.ts';
import { type RedisServer, startRedis } from '../helpers/redis.ts';
import { collect, connect, subscribe } from '../helpers/socket.ts';

let redis: RedisServer;
let pair: InstancePair;

beforeAll(async () => {
  redis = await startRedis();
  pair = await startPair(redis, 'imp:', { DISPATCH_WORKER: 'false' });
}, 60_000);

afterAll(async () => {
  await pair?.stop();
  await redis?.cleanup();
});

const line = (path: string, receivedAt: string) =>
  JSON.stringify({
    id: 'from-elsewhere',
    method: 'POST',
    path,
    queryString: '',
    headers: [['Content-Type', 'text/plain']],
    ip: '203.0.113.9',
    receivedAt,
    size: 2,
    truncated: false,
    contentType: 'text/plain',
    answer: { status: 200, delayMs: 0, fault: null, source: 'default', index: null, roll: null },
    body: Buffer.from('hi').toString('base64'),
  });

describe('import on Redis', () => {
  it('imported on A between captures on B: listed in arrival order, the original times kept; a tail resuming from the subscribe ack gets the next capture', async () => {
    const { a, b } = pair;
    const bin = (await api<{ id: string }>(a.base, 'POST', '/api/bins', {})).body;
    await send(`${b.base}/h/${bin.id}/live1`, { body: 'a' });
    const body = [line('/future', '2999-01-01T00:00:00.000Z'), line('/past', '2001-01-01T00:00:00.000Z')].join('\n');
    const r = await fetch(`${a.base}/api/bins/${bin.id}/import`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body });
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ imported: 2, evicted: 0 });

    // A tail that joined after the import, went away, and resumes from where the ack put it.
    const first = await connect(b.base);
    const ack = await subscribe(first, bin.id);
    first.close();
    await send(`${b.base}/h/${bin.id}/live2`, { body: 'b' });
    const again = await connect(b.base);
    try {
      const got = collect(again, 'request');
      const resumed = await subscribe(again, bin.id, ack.lastId);
      expect(resumed.backfilled).toBe(1);
      await expect.poll(() => got.items.map((i: RequestItem) => i.path)).toEqual(['/live2']);
    } finally {
      again.close();
    }
    const page = (await api<RequestPage>(a.base, 'GET', `/api/bins/${bin.id}/requests`)).body;
    expect(page.requests.map((x) => x.path)).toEqual(['/live2', '/past', '/future', '/live1']);
    expect(page.requests.find((x) => x.path === '/future')!.receivedAt).toBe('2999-01-01T00:00:00.000Z');
    expect(page.requests.map((x) => x.id)).not.toContain('from-elsewhere');
  });
});
