// Settings written with If-Match at the same moment: each write checks the revision the one
// before it stored, so of several naming the same revision exactly one applies and the others
// get 412. Before, on Redis (a store write is a round trip), all passed their check while the
// first one's write was under way, and the last silently replaced the others: for signature
// settings, a stale tab's reference to a saved secret could bring back a secret another tab
// had just removed. Across two instances on one Redis too: in its turn a write holds the
// resource's lock in Redis and reads the resource again (server/cluster/settings-lock.ts);
// before, each instance checked its own copy, and one write on each applied. On the local store a write is in
// memory at once, so there this is a guard, not a reproduction: test/api/settings-write-turns.test.ts
// holds a write there to show the line.
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type InstancePair, startPair } from '../helpers/cluster.ts';
import { type ServerProcess, spawnServer } from '../helpers/process.ts';
import { until } from '../helpers/until.ts';
import { etagOf } from '../../server/http/etag.ts';
import { type RedisServer, startRedis } from '../helpers/redis.ts';
import { createBin, startServer, type TestServer } from '../helpers/server.ts';

let redis: RedisServer;
let onRedis: ServerProcess;
let local: TestServer;
let pair: InstancePair;
beforeAll(async () => {
  redis = await startRedis();
  [onRedis, local, pair] = await Promise.all([spawnServer({ STORE: 'redis', REDIS_URL: redis.url, REDIS_PREFIX: 'race:' }), startServer(), startPair(redis, 'race2:', { SETTINGS_LOCK_WAIT_MS: '2000' })]);
}, 60_000);
afterAll(async () => {
  onRedis?.proc.kill('SIGTERM');
  await onRedis?.exited;
  await pair?.stop();
  await local?.cleanup();
  await redis?.cleanup();
});

/** A JSON call, with its answer's headers. */
async function api(base: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(base + path, { method, headers: { 'content-type': 'application/json', ...headers }, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: (text ? JSON.parse(text) : null) as unknown };
}

const N = 8;
const oneWins = [200, ...Array(N - 1).fill(412)];

/**
 * N writes with the same If-Match sent at the same moment: N connections opened first, then
 * each request written whole in one turn, so that they reach the server together (with two
 * bases, every other one goes to the second). Their statuses, sorted.
 */
async function race(base: string | string[], method: string, path: string, etag: string, body: (i: number) => unknown): Promise<number[]> {
  const bases = (Array.isArray(base) ? base : [base]).map((b) => new URL(b));
  const urlOf = (i: number) => bases[i % bases.length];
  const socks = await Promise.all(
    Array.from({ length: N }, (_, i) => new Promise<net.Socket>((resolve, reject) => {
      const s = net.connect(Number(urlOf(i).port), urlOf(i).hostname, () => resolve(s));
      s.once('error', reject);
    })),
  );
  const answers = socks.map(
    (s) => new Promise<number>((resolve, reject) => {
      let text = '';
      s.on('data', (d: Buffer) => {
        text += d.toString('latin1');
        const m = /^HTTP\/1\.1 (\d{3}) /.exec(text);
        if (m) resolve(Number(m[1]));
      });
      s.once('error', reject);
      s.once('close', () => reject(new Error(`closed with no answer: ${text.slice(0, 200)}`)));
    }),
  );
  socks.forEach((s, i) => {
    const json = JSON.stringify(body(i));
    s.write(`${method} ${path} HTTP/1.1\r\nHost: ${urlOf(i).host}\r\nContent-Type: application/json\r\nIf-Match: ${etag}\r\nContent-Length: ${Buffer.byteLength(json)}\r\nConnection: close\r\n\r\n${json}`);
  });
  try {
    return (await Promise.all(answers)).sort();
  } finally {
    for (const s of socks) s.destroy();
  }
}

describe.each([
  ['Redis', () => onRedis.base],
  ['the local store', () => local.base],
])('settings writes at once with the same If-Match, on %s', (_, baseOf) => {
  it('signature settings: one applies, the others get 412; a secret removed cannot come back by reference', async () => {
    const base = baseOf();
    const bin = await createBin(base);
    const first = await api(base, 'PUT', `/api/bins/${bin.id}/verify`, { schemes: [{ type: 'github', secrets: ['gh-old-secret-0123', 'gh-new-secret-4567'] }] });
    expect(first.status).toBe(200);
    const etag = first.headers.get('etag')!;
    // Tab i: the new secret only (i even), or the old one kept by reference (i odd).
    const statuses = await race(base, 'PUT', `/api/bins/${bin.id}/verify`, etag, (i) => ({
      schemes: [{ type: 'github', secrets: [i % 2 ? { keep: { scheme: 0, secret: 0 } } : 'gh-new-secret-4567'] }],
    }));
    expect(statuses).toEqual(oneWins);
    const now = await api(base, 'GET', `/api/bins/${bin.id}/verify`);
    expect((now.body as { schemes: { secrets: unknown[] }[] }).schemes[0].secrets).toHaveLength(1);
  });

  it('forward targets, response settings and webhooks the same', async () => {
    const base = baseOf();
    const bin = await createBin(base);
    const fwd = await api(base, 'GET', `/api/bins/${bin.id}/forward`);
    expect(await race(base, 'PUT', `/api/bins/${bin.id}/forward`, fwd.headers.get('etag')!, (i) => ({ targets: [{ url: `http://127.0.0.1:9/t${i}` }] }))).toEqual(oneWins);
    const resp = await api(base, 'GET', `/api/bins/${bin.id}/response`);
    expect(await race(base, 'PUT', `/api/bins/${bin.id}/response`, resp.headers.get('etag')!, (i) => ({ default: { status: 200 + i } }))).toEqual(oneWins);
    const wh = await api(base, 'POST', '/api/webhooks', { name: 'w', url: 'http://127.0.0.1:9/x' });
    expect(wh.status).toBe(201);
    const id = (wh.body as { id: string }).id;
    expect(await race(base, 'PATCH', `/api/webhooks/${id}`, wh.headers.get('etag')!, (i) => ({ name: `w${i}` }))).toEqual(oneWins);
  });
});

describe('settings writes at once with the same If-Match, split over two instances on one Redis', () => {
  const both = () => [pair.a.base, pair.b.base];

  it('signature settings: one applies on either instance, the others get 412', async () => {
    const bin = await createBin(pair.a.base);
    const first = await api(pair.a.base, 'PUT', `/api/bins/${bin.id}/verify`, { schemes: [{ type: 'github', secrets: ['gh-old-secret-0123', 'gh-new-secret-4567'] }] });
    expect(first.status).toBe(200);
    const etag = first.headers.get('etag')!;
    // B has heard of A's write (its copy answers the same ETag) before the race.
    await until(async () => (await api(pair.b.base, 'GET', `/api/bins/${bin.id}/verify`)).headers.get('etag') === etag, "B's copy of the settings");
    const statuses = await race(both(), 'PUT', `/api/bins/${bin.id}/verify`, etag, (i) => ({
      schemes: [{ type: 'github', secrets: [i % 2 ? { keep: { scheme: 0, secret: 0 } } : 'gh-new-secret-4567'] }],
    }));
    expect(statuses).toEqual(oneWins);
  });

  it('forward targets, response settings and webhooks the same', async () => {
    const bin = await createBin(pair.a.base);
    const etagOn = async (path: string) => {
      const a = (await api(pair.a.base, 'GET', path)).headers.get('etag')!;
      await until(async () => (await api(pair.b.base, 'GET', path)).headers.get('etag') === a, `B's copy of ${path}`);
      return a;
    };
    const fwd = `/api/bins/${bin.id}/forward`;
    expect(await race(both(), 'PUT', fwd, await etagOn(fwd), (i) => ({ targets: [{ url: `http://127.0.0.1:9/t${i}` }] }))).toEqual(oneWins);
    const resp = `/api/bins/${bin.id}/response`;
    expect(await race(both(), 'PUT', resp, await etagOn(resp), (i) => ({ default: { status: 200 + i } }))).toEqual(oneWins);
    const wh = await api(pair.a.base, 'POST', '/api/webhooks', { name: 'w', url: 'http://127.0.0.1:9/x' });
    expect(wh.status).toBe(201);
    const id = (wh.body as { id: string }).id;
    expect(await race(both(), 'PATCH', `/api/webhooks/${id}`, wh.headers.get('etag')!, (i) => ({ name: `w${i}` }))).toEqual(oneWins);
  });

  it("a write naming a change this instance has not heard of yet applies (its ETag is current in the store)", async () => {
    const bin = await createBin(pair.a.base);
    const path = `/api/bins/${bin.id}/forward`;
    const before = (await api(pair.b.base, 'GET', path)).headers.get('etag');
    // A change made elsewhere whose note has not come (written to the store directly, no note).
    const changed = { targets: [{ url: 'http://127.0.0.1:9/elsewhere' }], answerWith: 'bin' as const };
    const { createClient } = await redisClient();
    const c = createClient();
    try {
      await c.hset('race2:forwards', bin.id, JSON.stringify({ id: bin.id, ...changed }));
    } finally {
      c.disconnect();
    }
    expect((await api(pair.b.base, 'GET', path)).headers.get('etag')).toBe(before); // B's copy: stale
    const put = await api(pair.b.base, 'PUT', path, { targets: [{ url: 'http://127.0.0.1:9/next' }] }, { 'if-match': etagOf(changed) });
    expect({ status: put.status, body: put.body }).toMatchObject({ status: 200, body: { targets: [{ url: 'http://127.0.0.1:9/next' }] } });
    // And one naming B's stale revision is refused: the store has moved on.
    const stale = await api(pair.b.base, 'PUT', path, { targets: [] }, { 'if-match': before! });
    expect(stale.status).toBe(412);
  });

  it('a write whose lock another instance holds past SETTINGS_LOCK_WAIT_MS gets 503 busy with Retry-After, and changes nothing', async () => {
    const bin = await createBin(pair.a.base);
    const path = `/api/bins/${bin.id}/forward`;
    const etag = (await api(pair.a.base, 'GET', path)).headers.get('etag')!;
    // The lock as an instance holds it (a random token, expiring): taken here, by hand.
    const { createClient } = await redisClient();
    const c = createClient();
    try {
      await c.set(`race2:lock:forward:${bin.id}`, 'someone-else', 'PX', 60_000);
      const busy = await api(pair.b.base, 'PUT', path, { targets: [{ url: 'http://127.0.0.1:9/late' }] }, { 'if-match': etag });
      expect({ status: busy.status, body: busy.body, retryAfter: busy.headers.get('retry-after') }).toMatchObject({ status: 503, body: { error: { code: 'busy' } }, retryAfter: '1' });
      expect((await api(pair.a.base, 'GET', path)).body).toMatchObject({ targets: [] });
      await c.del(`race2:lock:forward:${bin.id}`);
      const put = await api(pair.b.base, 'PUT', path, { targets: [{ url: 'http://127.0.0.1:9/late' }] }, { 'if-match': etag });
      expect({ status: put.status, body: put.body }).toMatchObject({ status: 200 });
      // Released by its holder: nothing left behind.
      await until(async () => (await c.exists(`race2:lock:forward:${bin.id}`)) === 0, 'the lock released');
    } finally {
      c.disconnect();
    }
  }, 30_000);
});

async function redisClient() {
  const { Redis } = await import('ioredis');
  return { createClient: () => new Redis(redis.url, { lazyConnect: false, maxRetriesPerRequest: 1 }) };
}
