// A bin deleted on one instance and made again under the same id (a slug a CI reuses) must not
// keep, on the other instance, the answer, forward targets or signature settings of the deleted one.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RequestDetail } from '../../shared/api.ts';
import { type InstancePair, startPair } from '../helpers/cluster.ts';
import { api, send } from '../helpers/http.ts';
import { type RedisServer, startRedis } from '../helpers/redis.ts';

let redis: RedisServer;
let pair: InstancePair;
let hits = 0;
let target: http.Server;
let targetUrl = '';

beforeAll(async () => {
  redis = await startRedis();
  pair = await startPair(redis, 'recreate:');
  target = http.createServer((req, res) => {
    hits++;
    req.resume();
    req.on('end', () => res.end('ok'));
  });
  await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
  targetUrl = `http://127.0.0.1:${(target.address() as AddressInfo).port}/old`;
}, 60_000);

afterAll(async () => {
  target?.close();
  await pair?.stop();
  await redis?.cleanup();
});

describe('a bin made again under the id of a deleted one', () => {
  it("the other instance forgets the deleted bin's answer, forward targets and signature settings", async () => {
    const { a, b } = pair;
    const id = 'ci-run-slug-7h3k9q2m';
    const idOf = (r: { headers: Record<string, unknown> }) => r.headers['x-hooklab-request-id'] as string;
    expect((await api(a.base, 'POST', '/api/bins', { id })).status).toBe(201);
    expect((await api(a.base, 'PUT', `/api/bins/${id}/forward`, { targets: [{ url: targetUrl }] })).status).toBe(200);
    expect((await api(a.base, 'PUT', `/api/bins/${id}/verify`, { schemes: [{ type: 'github', secrets: ['old-secret'] }] })).status).toBe(200);
    expect((await api(a.base, 'PUT', `/api/bins/${id}/response`, { default: { status: 418 }, cors: false })).status).toBe(200);
    await expect.poll(async () => (await send(`${b.base}/h/${id}`, { body: 'teapot?' })).status).toBe(418);
    // B has heard of both: a capture there is forwarded and checked.
    await expect.poll(async () => {
      const r = await send(`${b.base}/h/${id}`, { body: 'first' });
      return (await api<RequestDetail>(b.base, 'GET', `/api/bins/${id}/requests/${idOf(r)}`)).body.verification?.status;
    }).toBe('missing');
    await expect.poll(() => hits).toBeGreaterThan(0);

    // Deleted on A and made again, bare.
    expect((await api(a.base, 'DELETE', `/api/bins/${id}`)).status).toBe(204);
    expect((await api(a.base, 'POST', '/api/bins', { id })).status).toBe(201);
    expect((await api(b.base, 'GET', `/api/bins/${id}/forward`)).body).toMatchObject({ targets: [] });
    // B must not forward to the old target, nor check with the old secret.
    await new Promise((r) => setTimeout(r, 300));
    const before = hits;
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await send(`${b.base}/h/${id}`, { body: `again ${i}` });
      // The new bin's own (default) answer, not the deleted one's 418.
      expect(r.status).toBe(200);
      ids.push(idOf(r));
    }
    await new Promise((r) => setTimeout(r, 500));
    expect(hits).toBe(before);
    for (const rid of ids) {
      const d = (await api<RequestDetail>(b.base, 'GET', `/api/bins/${id}/requests/${rid}`)).body;
      expect(d.verification).toBeUndefined();
      expect(d.forwards).toEqual([]);
    }
  });
});
