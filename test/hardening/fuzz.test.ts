// Issue 7: throw random methods, paths, headers and bodies at the receiver and the API for a
// bounded number of rounds (seeded, so a failure replays), then check the server still
// answers /api/health and every stored record reads back.
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RequestDetail, RequestPage } from '../../shared/api.ts';
import { createRng } from '../../server/rng.ts';
import { createBin, startServer, type TestServer } from '../helpers/server.ts';

const SEED = Number(process.env.FUZZ_SEED ?? 20261129);
const ROUNDS = Number(process.env.FUZZ_ROUNDS ?? 600);

let srv: TestServer;
beforeAll(async () => {
  srv = await startServer({ config: { maxBodyBytes: 8192, maxRequestsPerBin: 1000 } });
});
afterAll(() => srv.cleanup());

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS', 'PROPFIND', 'PURGE', 'TRACE', 'LOCK', 'SEARCH'];
const API_PATHS = ['/api/bins', '/api/bins/:bin', '/api/bins/:bin/requests', '/api/bins/:bin/response', '/api/bins/:bin/response/reset', '/api/webhooks', '/api/runs', '/api/deliveries', '/api/clock', '/api/clock/advance', '/api/schedule/preview', '/api/bins/:bin/requests/zzz', '/api/%ff', '/api/bins/..%2f..%2fetc'];
const CTYPES = ['application/json', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/octet-stream', '', 'text/html; charset=utf-16'];

function raw(base: string, method: string, path: string, headers: Record<string, string>, body: Buffer): Promise<number> {
  const u = new URL(base);
  return new Promise((resolve) => {
    const req = http.request({ host: u.hostname, port: u.port, method, path, headers, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', () => resolve(-1));
    });
    req.setTimeout(5000, () => req.destroy());
    req.on('error', () => resolve(-1));
    req.end(method === 'GET' || method === 'HEAD' ? undefined : body);
  });
}

describe(`fuzz (seed ${SEED}, ${ROUNDS} rounds)`, () => {
  it('the server survives and every stored record reads back', async () => {
    const rnd = createRng(SEED);
    const pick = <T>(xs: readonly T[]) => xs[Math.floor(rnd() * xs.length)];
    const bins = [await createBin(srv.base), await createBin(srv.base)];
    const statuses = new Map<number, number>();
    for (let i = 0; i < ROUNDS; i++) {
      const bin = pick(bins);
      const toApi = rnd() < 0.35;
      const method = pick(METHODS);
      let path: string;
      if (toApi) path = pick(API_PATHS).replace(':bin', bin.id);
      else {
        const segs = Array.from({ length: Math.floor(rnd() * 4) }, () => encodeURIComponent(randomBytes(1 + Math.floor(rnd() * 6)).toString('latin1')));
        path = `/h/${bin.id}${segs.length ? '/' + segs.join('/') : ''}${rnd() < 0.5 ? `?a=${Math.floor(rnd() * 9)}&a=${encodeURIComponent('ü&=?')}` : ''}`;
      }
      const headers: Record<string, string> = {};
      const ct = pick(CTYPES);
      if (ct) headers['content-type'] = ct;
      for (let h = Math.floor(rnd() * 6); h > 0; h--) headers[`X-F${h}_${Math.floor(rnd() * 100)}`] = randomBytes(Math.floor(rnd() * 40)).toString('base64');
      if (rnd() < 0.1) headers['content-encoding'] = pick(['gzip', 'br', 'deflate', 'bogus']);
      const kind = rnd();
      const body =
        kind < 0.3 ? Buffer.from(JSON.stringify({ i, v: rnd() }))
        : kind < 0.5 ? Buffer.from('{"broken": [' + 'x'.repeat(Math.floor(rnd() * 50)))
        : kind < 0.7 ? randomBytes(Math.floor(rnd() * 20_000))
        : kind < 0.8 ? Buffer.from('\u0000\u0001\uffff\ud800'.repeat(Math.floor(rnd() * 10)))
        : Buffer.alloc(0);
      const status = await raw(srv.base, method, path, headers, body);
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
      expect(status === -1 || status < 500, `round ${i}: ${method} ${path} -> ${status}`).toBe(true);
    }
    expect((await request(srv.base).get('/api/health')).status).toBe(200);
    // Every record of every bin reads back: detail and raw bytes agree.
    const allBins = (await request(srv.base).get('/api/bins').expect(200)).body.bins as { id: string }[];
    let checked = 0;
    for (const b of allBins) {
      const page = (await request(srv.base).get(`/api/bins/${b.id}/requests?limit=500`).expect(200)).body as RequestPage;
      for (const r of page.requests) {
        const d = (await request(srv.base).get(`/api/bins/${b.id}/requests/${r.id}`).expect(200)).body as RequestDetail;
        const rawRes = await request(srv.base).get(`/api/bins/${b.id}/requests/${r.id}/raw`).buffer(true).parse((res, cb) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => cb(null, Buffer.concat(chunks)));
        });
        expect(rawRes.status).toBe(200);
        expect((rawRes.body as Buffer).equals(Buffer.from(d.body, d.bodyEncoding === 'base64' ? 'base64' : 'utf8'))).toBe(true);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(ROUNDS * 0.4);
  });
});
