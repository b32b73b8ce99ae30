// Forward and verify settings live in each instance's memory, kept fresh by notes between
// instances (Redis pub/sub). A note lost to a dropped pub/sub connection (a network blip, a
// failover: here CLIENT KILL TYPE pubsub, over and over while A changes the settings) must not
// leave B on the old settings: B reloads everything when its subscriber is back. A note lost
// without any drop B could see (simulated: the settings changed in Redis and the notes'
// revision moved on, no message) is caught by B's periodic revision check.
import { createHmac } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RequestDetail } from '../../shared/api.ts';
import { type InstancePair, startPair } from '../helpers/cluster.ts';
import { api, send } from '../helpers/http.ts';
import type { ServerProcess } from '../helpers/process.ts';
import { type RedisServer, startRedis } from '../helpers/redis.ts';

const PREFIX = 'resync:';
let redis: RedisServer;
let raw: Redis;
let pair: InstancePair;
let a: ServerProcess;
let b: ServerProcess;
let hits = 0;
let target: http.Server;
let targetUrl = '';

beforeAll(async () => {
  redis = await startRedis();
  raw = new Redis(redis.url, { lazyConnect: true, connectionName: 'test-killer' });
  await raw.connect();
  pair = await startPair(redis, PREFIX, { DISPATCH_WORKER: 'false', FORWARD_WORKER: 'false' });
  ({ a, b } = pair);
  target = http.createServer((req, res) => {
    hits++;
    req.resume();
    req.on('end', () => res.writeHead(202).end('from target'));
  });
  await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
  targetUrl = `http://127.0.0.1:${(target.address() as AddressInfo).port}/t`;
}, 60_000);

afterAll(async () => {
  target?.closeAllConnections();
  target?.close();
  raw?.disconnect();
  await pair?.stop();
  await redis?.cleanup();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const sign = (secret: string, body: string) => `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

/** Send a capture to `on` signed with `secret`; answers the verdict `on` stored for it. */
async function verdict(on: ServerProcess, binId: string, secret: string): Promise<string | undefined> {
  const body = `{"n":${Math.random()}}`;
  const r = await send(`${on.base}/h/${binId}`, { body, headers: { 'content-type': 'application/json', 'x-hub-signature-256': sign(secret, body) } });
  const rid = r.headers['x-hooklab-request-id'] as string;
  for (let i = 0; i < 40; i++) {
    const d = (await api<RequestDetail>(on.base, 'GET', `/api/bins/${binId}/requests/${rid}`)).body;
    if (d.verification) return d.verification.status;
    await sleep(50);
  }
  return undefined;
}

/**
 * Kill every pub/sub connection every few ms for `ms`, running `during` meanwhile (after a
 * moment): whatever notes it publishes reach no subscriber, or almost surely none.
 */
async function withoutPubSub(ms: number, during: () => Promise<void>): Promise<void> {
  let on = true;
  const killer = (async () => {
    while (on) {
      await raw.call('CLIENT', 'KILL', 'TYPE', 'pubsub').catch(() => {});
      await sleep(2);
    }
  })();
  try {
    await sleep(100);
    await during();
    await sleep(ms);
  } finally {
    on = false;
    await killer;
  }
}

describe('a settings note lost to a pub/sub drop', () => {
  it('B follows forward and verify settings changed on A while the notes were lost (within 10 s)', async () => {
    const bin = (await api<{ id: string }>(a.base, 'POST', '/api/bins', {})).body.id;
    expect((await api(a.base, 'PUT', `/api/bins/${bin}/forward`, { targets: [{ url: targetUrl }], answerWith: 'target' })).status).toBe(200);
    expect((await api(a.base, 'PUT', `/api/bins/${bin}/verify`, { schemes: [{ type: 'github', secrets: ['old-secret-1234'] }] })).status).toBe(200);
    // B has heard of both: it proxies to the target and checks with the old secret.
    await expect.poll(async () => (await send(`${b.base}/h/${bin}`, { body: 'x' })).status, { timeout: 10_000 }).toBe(202);
    await expect.poll(() => verdict(b, bin, 'old-secret-1234'), { timeout: 10_000 }).toBe('valid');

    await withoutPubSub(300, async () => {
      expect((await api(a.base, 'DELETE', `/api/bins/${bin}/forward`)).status).toBe(204);
      expect((await api(a.base, 'PUT', `/api/bins/${bin}/verify`, { schemes: [{ type: 'github', secrets: ['new-secret-5678'] }] })).status).toBe(200);
    });

    // B's own view and behaviour follow, without a restart.
    await expect.poll(async () => (await api<{ targets: unknown[] }>(b.base, 'GET', `/api/bins/${bin}/forward`)).body.targets, { timeout: 10_000, interval: 200 }).toEqual([]);
    const before = hits;
    const r = await send(`${b.base}/h/${bin}`, { body: 'after' });
    expect(r.status).toBe(200); // the bin's own answer, not the deleted target's 202
    await sleep(300);
    expect(hits).toBe(before);
    await expect.poll(() => verdict(b, bin, 'new-secret-5678'), { timeout: 10_000, interval: 200 }).toBe('valid');
  });

  it('a note lost with no drop B could see is caught by the revision check (within 10 s)', async () => {
    const bin = (await api<{ id: string }>(a.base, 'POST', '/api/bins', {})).body.id;
    expect((await api(a.base, 'PUT', `/api/bins/${bin}/forward`, { targets: [{ url: targetUrl }], answerWith: 'target' })).status).toBe(200);
    await expect.poll(async () => (await api<{ targets: unknown[] }>(b.base, 'GET', `/api/bins/${bin}/forward`)).body.targets.length, { timeout: 10_000 }).toBe(1);
    // What A's DELETE does in Redis, and the note's revision, without the note itself.
    await raw.eval(
      "redis.call('HDEL', KEYS[1], ARGV[1]); redis.call('ZREM', KEYS[2], ARGV[1]); return redis.call('INCR', KEYS[3])",
      3,
      `${PREFIX}forwards`,
      `${PREFIX}forwards:order`,
      `${PREFIX}notes:rev`,
      bin,
    );
    await expect.poll(async () => (await api<{ targets: unknown[] }>(b.base, 'GET', `/api/bins/${bin}/forward`)).body.targets, { timeout: 10_000, interval: 200 }).toEqual([]);
    expect((await send(`${b.base}/h/${bin}`, { body: 'after' })).status).toBe(200);
  });
});
