// Settings written with If-Match at the same moment: each write checks the revision the one
// before it stored, so of several naming the same revision exactly one applies and the others
// get 412. Before, on Redis (a store write is a round trip), all passed their check while the
// first one's write was under way, and the last silently replaced the others: for signature
// settings, a stale tab's reference to a saved secret could bring back a secret another tab
// had just removed. (Per instance: see server/lib/keyed-queue.ts.) On the local store a write is in
// memory at once, so there this is a guard, not a reproduction: test/api/settings-write-turns.test.ts
// holds a write there to show the line.
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ServerProcess, spawnServer } from '../helpers/process.ts';
import { type RedisServer, startRedis } from '../helpers/redis.ts';
import { createBin, startServer, type TestServer } from '../helpers/server.ts';

let redis: RedisServer;
let onRedis: ServerProcess;
let local: TestServer;
beforeAll(async () => {
  redis = await startRedis();
  [onRedis, local] = await Promise.all([spawnServer({ STORE: 'redis', REDIS_URL: redis.url, REDIS_PREFIX: 'race:' }), startServer()]);
}, 60_000);
afterAll(async () => {
  onRedis?.proc.kill('SIGTERM');
  await onRedis?.exited;
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
 * each request written whole in one turn, so that they reach the server together. Their
 * statuses, sorted.
 */
async function race(base: string, method: string, path: string, etag: string, body: (i: number) => unknown): Promise<number[]> {
  const u = new URL(base);
  const socks = await Promise.all(
    Array.from({ length: N }, () => new Promise<net.Socket>((resolve, reject) => {
      const s = net.connect(Number(u.port), u.hostname, () => resolve(s));
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
    s.write(`${method} ${path} HTTP/1.1\r\nHost: ${u.host}\r\nContent-Type: application/json\r\nIf-Match: ${etag}\r\nContent-Length: ${Buffer.byteLength(json)}\r\nConnection: close\r\n\r\n${json}`);
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
