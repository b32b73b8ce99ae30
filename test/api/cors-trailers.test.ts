// Browser senders on other origins (a bin's `cors` setting, on by default): preflights are
// answered by hooklab without using a plan step, and answers let the page read them; off, the
// bin answers exactly as set. And chunked trailers, stored and shown.
import http from 'node:http';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RequestDetail } from '../../shared/api.ts';
import { send } from '../helpers/http.ts';
import { createBin, startServer, type TestServer } from '../helpers/server.ts';

let srv: TestServer;
beforeAll(async () => {
  srv = await startServer();
});
afterAll(() => srv.cleanup());

const ORIGIN = 'https://app.example.com';
const preflight = (url: string, asked = 'content-type, x-signature') =>
  send(url, { method: 'OPTIONS', headers: { origin: ORIGIN, 'access-control-request-method': 'POST', 'access-control-request-headers': asked } });
const detail = async (binId: string, id: string) => (await request(srv.base).get(`/api/bins/${binId}/requests/${id}`).expect(200)).body as RequestDetail;

describe('CORS', () => {
  it('on (the default): a preflight gets 204 allowing what it asked, uses no plan step, and is captured as a preflight', async () => {
    const bin = await createBin(srv.base);
    await request(srv.base).put(`/api/bins/${bin.id}/response`).send({ plan: [{ status: 500, headers: { 'X-Plan': 'step-1' } }] }).expect(200);
    const pre = await preflight(`${bin.url}/hooks`);
    expect(pre.status).toBe(204);
    expect(pre.headers['access-control-allow-origin']).toBe(ORIGIN);
    expect(pre.headers['access-control-allow-methods']).toBe('POST');
    expect(pre.headers['access-control-allow-headers']).toBe('content-type, x-signature');
    expect(pre.headers['access-control-allow-credentials']).toBeUndefined();
    const d = await detail(bin.id, pre.headers['x-hooklab-request-id'] as string);
    expect(d.answer).toMatchObject({ status: 204, source: 'preflight' });

    // The real request still gets the plan's first step, readable by the page.
    const real = await send(`${bin.url}/hooks`, { headers: { origin: ORIGIN, 'content-type': 'application/json' }, body: '{}' });
    expect(real.status).toBe(500);
    expect(real.headers['access-control-allow-origin']).toBe(ORIGIN);
    expect(real.headers.vary).toBe('Origin');
    expect(String(real.headers['access-control-expose-headers']).split(', ').sort()).toEqual(['X-Plan', 'x-hooklab-request-id']);
    expect((await request(srv.base).get(`/api/bins/${bin.id}/response`)).body.position.consumed).toBe(1);
    // A sender that is not a browser (no Origin) gets no Access-Control-* headers at all.
    const server = await send(`${bin.url}/hooks`, { headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(Object.keys(server.headers).filter((h) => h.startsWith('access-control-') || h === 'vary')).toEqual([]);
  });

  it("a bin's own Access-Control-* headers win; a header list that is not plain tokens is not echoed", async () => {
    const bin = await createBin(srv.base);
    await request(srv.base).put(`/api/bins/${bin.id}/response`).send({ default: { headers: { 'Access-Control-Allow-Origin': 'https://only.example' } } }).expect(200);
    const real = await send(bin.url, { headers: { origin: ORIGIN }, body: 'x' });
    expect(real.headers['access-control-allow-origin']).toBe('https://only.example');
    const odd = await preflight(bin.url, 'x-ok, bad header');
    expect(odd.status).toBe(204);
    expect(odd.headers['access-control-allow-headers']).toBeUndefined();
  });

  it('off: the bin answers exactly as set, preflights included (they use plan steps like any request)', async () => {
    const bin = await createBin(srv.base);
    const put = await request(srv.base).put(`/api/bins/${bin.id}/response`).send({ cors: false, plan: [{ status: 503 }] }).expect(200);
    expect(put.body.config.cors).toBe(false);
    const pre = await preflight(bin.url);
    expect(pre.status).toBe(503);
    expect(pre.headers['access-control-allow-origin']).toBeUndefined();
    const real = await send(bin.url, { headers: { origin: ORIGIN }, body: 'x' });
    expect(real.status).toBe(200);
    expect(real.headers['access-control-allow-origin']).toBeUndefined();
    expect((await detail(bin.id, pre.headers['x-hooklab-request-id'] as string)).answer.source).toBe('step');
    // And the setting reads back on by default.
    const other = await createBin(srv.base);
    expect((await request(srv.base).get(`/api/bins/${other.id}/response`)).body.config.cors).toBe(true);
  });
});

describe('trailers', () => {
  it('chunked trailers are stored in order and shown in the detail; the body is untouched', async () => {
    const bin = await createBin(srv.base);
    const u = new URL(`${bin.url}/upload`);
    const id = await new Promise<string>((resolve, reject) => {
      const req = http.request({ host: u.hostname, port: u.port, path: u.pathname, method: 'POST', headers: { 'content-type': 'text/plain', trailer: 'X-Checksum, X-Parts' } }, (res) => {
        res.resume();
        resolve(res.headers['x-hooklab-request-id'] as string);
      });
      req.on('error', reject);
      req.write('part one, ');
      req.write('part two');
      req.addTrailers([
        ['X-Checksum', 'sha256=abc'],
        ['X-Parts', '2'],
      ]);
      req.end();
    });
    const d = await detail(bin.id, id);
    expect(d.trailers).toEqual([
      ['X-Checksum', 'sha256=abc'],
      ['X-Parts', '2'],
    ]);
    expect(d.body).toBe('part one, part two');
    // Requests without trailers have none.
    const plain = await send(bin.url, { body: 'x' });
    expect((await detail(bin.id, plain.headers['x-hooklab-request-id'] as string)).trailers).toBeUndefined();
  });
});
