// Issue 2: every request to a receiver URL is captured byte-exact and read back over the API.
import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RequestDetail, RequestPage } from '../../shared/api.ts';
import { createBin, startServer, type TestServer } from '../helpers/server.ts';
import { send, sha256 } from '../helpers/http.ts';

const LIMIT = 4096;
let srv: TestServer;
let bin: { id: string; url: string };

beforeAll(async () => {
  srv = await startServer({ config: { maxBodyBytes: LIMIT } });
  bin = await createBin(srv.base, 'fidelity');
});
afterAll(() => srv.cleanup());

/** Send, then read the capture back (summary, detail, raw) by the id the receiver answered. */
async function roundTrip(path: string, r: Parameters<typeof send>[1]) {
  const res = await send(bin.url + path, r);
  expect(res.status).toBe(200);
  const id = res.headers['x-hooklab-request-id'] as string;
  expect(id).toBeTruthy();
  const detail = (await request(srv.base).get(`/api/bins/${bin.id}/requests/${id}`).expect(200)).body as RequestDetail;
  const raw = await request(srv.base).get(`/api/bins/${bin.id}/requests/${id}/raw`).buffer(true).parse((res, cb) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => cb(null, Buffer.concat(chunks)));
  });
  return { res, detail, raw: raw.body as Buffer, rawHeaders: raw.headers };
}

describe('capture fidelity', () => {
  it('JSON: bytes, content type and UTF-8 body come back exactly', async () => {
    const body = '{ "b": 1,  "a": [1, 2.50, "é"] }'; // odd spacing and 2.50 would not survive re-serialising
    const { detail, raw, rawHeaders } = await roundTrip('', { headers: { 'Content-Type': 'application/json' }, body });
    expect(sha256(raw)).toBe(sha256(body));
    expect(detail.body).toBe(body);
    expect(detail.bodyEncoding).toBe('utf8');
    expect(detail.contentType).toBe('application/json');
    expect(rawHeaders['content-type']).toBe('application/json');
    expect(detail.size).toBe(Buffer.byteLength(body));
    expect(detail.method).toBe('POST');
    expect(detail.path).toBe('/');
  });

  it('form-urlencoded', async () => {
    const body = 'a=1&b=hello+world&c=%E2%9C%93';
    const { detail, raw } = await roundTrip('', { headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
    expect(sha256(raw)).toBe(sha256(body));
    expect(detail.body).toBe(body);
  });

  it('multipart with a binary file part', async () => {
    const file = randomBytes(3000);
    const boundary = '----hooklab' + randomBytes(6).toString('hex');
    const body = Buffer.concat([
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="field"\r\n\r\nvalue\r\n`),
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="x.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`),
      file,
      Buffer.from(`\r\n--${boundary}--\r\n`),
    ]);
    const { detail, raw } = await roundTrip('/upload', { headers: { 'content-type': `multipart/form-data; boundary=${boundary}` }, body });
    expect(sha256(raw)).toBe(sha256(body));
    expect(detail.bodyEncoding).toBe('base64');
    expect(sha256(Buffer.from(detail.body, 'base64'))).toBe(sha256(body));
    expect(detail.path).toBe('/upload');
  });

  it('random binary bytes (up to the limit) survive exactly', async () => {
    const body = randomBytes(LIMIT);
    const { detail, raw } = await roundTrip('', { headers: { 'content-type': 'application/octet-stream' }, body });
    expect(sha256(raw)).toBe(sha256(body));
    expect(detail.truncated).toBe(false);
    expect(detail.size).toBe(LIMIT);
  });

  it('an empty body', async () => {
    const { detail, raw } = await roundTrip('', { method: 'PUT' });
    expect(raw.length).toBe(0);
    expect(detail.size).toBe(0);
    expect(detail.body).toBe('');
    expect(detail.method).toBe('PUT');
    expect(detail.contentType).toBeNull();
  });

  it('GET with a repeated query key keeps both values in order, and the raw query string', async () => {
    const { detail } = await roundTrip('/search?tag=a&tag=b&q=x%20y&empty=', { method: 'GET' });
    expect(detail.query).toEqual({ tag: ['a', 'b'], q: 'x y', empty: '' });
    expect(detail.queryString).toBe('tag=a&tag=b&q=x%20y&empty=');
    expect(detail.path).toBe('/search');
  });

  it('headers keep their original case, order and repeats, underscores included', async () => {
    const { detail } = await roundTrip('', {
      headers: [
        ['X_Custom_Header', 'One'],
        ['x-MiXeD-Case', 'Two'],
        ['X-Repeat', 'a'],
        ['X-Repeat', 'b'],
      ],
      body: 'x',
    });
    const names = detail.headers.map(([n]) => n);
    const i = names.indexOf('X_Custom_Header');
    expect(i).toBeGreaterThanOrEqual(0);
    expect(detail.headers.slice(i, i + 4)).toEqual([
      ['X_Custom_Header', 'One'],
      ['x-MiXeD-Case', 'Two'],
      ['X-Repeat', 'a'],
      ['X-Repeat', 'b'],
    ]);
  });

  it('a deep sub-path, any method', async () => {
    const { detail } = await roundTrip('/a/b/c.json', { method: 'PATCH', body: 'p' });
    expect(detail.path).toBe('/a/b/c.json');
    expect(detail.method).toBe('PATCH');
  });

  it('a body over MAX_BODY_BYTES keeps the first bytes, marks truncated, counts the full size, and is answered', async () => {
    const body = randomBytes(LIMIT * 3 + 17);
    const { detail, raw } = await roundTrip('', { body });
    expect(detail.truncated).toBe(true);
    expect(detail.size).toBe(body.length);
    expect(detail.storedBytes).toBe(LIMIT);
    expect(sha256(raw)).toBe(sha256(body.subarray(0, LIMIT)));
  });

  it('a chunked body over the limit (no content-length) is truncated the same way', async () => {
    const body = randomBytes(LIMIT * 2);
    const { detail, raw } = await roundTrip('', { body, chunked: true });
    expect(detail.headers.some(([n, v]) => n.toLowerCase() === 'transfer-encoding' && v === 'chunked')).toBe(true);
    expect(detail.truncated).toBe(true);
    expect(detail.size).toBe(body.length);
    expect(sha256(raw)).toBe(sha256(body.subarray(0, LIMIT)));
  });

  it('records the client IP and an RFC 3339 receive time', async () => {
    const before = Date.now();
    const { detail } = await roundTrip('', { body: 'x' });
    expect(detail.ip).toBe('127.0.0.1');
    expect(detail.receivedAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(Date.parse(detail.receivedAt)).toBeGreaterThanOrEqual(before - 5);
  });

  it('the raw view of a stranger\'s HTML cannot run as our origin', async () => {
    const { rawHeaders } = await roundTrip('', { headers: { 'content-type': 'text/html' }, body: '<script>alert(1)</script>' });
    expect(rawHeaders['content-type']).toBe('text/html');
    expect(rawHeaders['content-security-policy']).toContain('sandbox');
    expect(rawHeaders['x-content-type-options']).toBe('nosniff');
  });

  it("the raw view of a stranger's script or stylesheet is served as text (no <script src> of ours can run it)", async () => {
    for (const type of ['application/javascript', 'text/javascript; charset=utf-8', 'Application/X-ECMAScript', 'text/javascript1.5', 'text/css']) {
      const { rawHeaders, raw } = await roundTrip('', { headers: { 'content-type': type }, body: 'alert(1)' });
      expect(rawHeaders['content-type'], type).toBe('text/plain');
      expect(raw.toString()).toBe('alert(1)');
    }
    const { rawHeaders } = await roundTrip('', { headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(rawHeaders['content-type']).toBe('application/json');
  });
});

describe('receiver errors', () => {
  it('an unknown bin id gets a 404 JSON error', async () => {
    const res = await send(`${srv.base}/h/doesnotexist/x`, { body: 'hello' });
    expect(res.status).toBe(404);
    expect(JSON.parse(res.body.toString()).error.code).toBe('bin_not_found');
  });

  it('the default answer is 200 with a short body', async () => {
    const res = await send(bin.url, { method: 'GET' });
    expect(res.status).toBe(200);
    expect(res.body.toString()).toBe('ok\n');
    // Receiver URLs share the UI's origin, so answers are sandboxed.
    expect(res.headers['content-security-policy']).toBe('sandbox');
  });

  it('HEAD and unusual methods are captured too', async () => {
    for (const method of ['HEAD', 'OPTIONS', 'DELETE', 'PROPFIND', 'PURGE']) {
      const res = await send(bin.url + '/m', { method });
      expect(res.status).toBe(200);
      const id = res.headers['x-hooklab-request-id'] as string;
      const d = (await request(srv.base).get(`/api/bins/${bin.id}/requests/${id}`).expect(200)).body as RequestDetail;
      expect(d.method).toBe(method);
    }
  });
});

describe('listing', () => {
  it('pages newest first with a before cursor, and every page item has the summary fields', async () => {
    const b = await createBin(srv.base);
    for (let i = 0; i < 7; i++) await send(`${b.url}/n${i}`, { body: String(i) });
    const p1 = (await request(srv.base).get(`/api/bins/${b.id}/requests?limit=3`).expect(200)).body as RequestPage;
    expect(p1.requests.map((r) => r.path)).toEqual(['/n6', '/n5', '/n4']);
    expect(p1.nextBefore).toBe(p1.requests[2].id);
    const p2 = (await request(srv.base).get(`/api/bins/${b.id}/requests?limit=3&before=${p1.nextBefore}`).expect(200)).body as RequestPage;
    expect(p2.requests.map((r) => r.path)).toEqual(['/n3', '/n2', '/n1']);
    const p3 = (await request(srv.base).get(`/api/bins/${b.id}/requests?limit=3&before=${p2.nextBefore}`).expect(200)).body as RequestPage;
    expect(p3.requests.map((r) => r.path)).toEqual(['/n0']);
    expect(p3.nextBefore).toBeNull();
    for (const k of ['id', 'method', 'path', 'query', 'headers', 'ip', 'receivedAt', 'size', 'truncated', 'contentType', 'status']) {
      expect(p1.requests[0]).toHaveProperty(k);
    }
    expect(p1.requests[0].status).toBe(200);
  });

  it('rejects a bad limit or cursor with a 400 naming it', async () => {
    const r1 = await request(srv.base).get(`/api/bins/${bin.id}/requests?limit=0`).expect(400);
    expect(r1.body.error.field).toBe('limit');
    const r2 = await request(srv.base).get(`/api/bins/${bin.id}/requests?before=../../x`).expect(400);
    expect(r2.body.error.field).toBe('before');
  });

  it('keeps at most MAX_REQUESTS_PER_BIN, dropping the oldest', async () => {
    const small = await startServer({ storage: 'memory', config: { maxRequestsPerBin: 5 } });
    try {
      const b = await createBin(small.base);
      for (let i = 0; i < 12; i++) await send(`${b.url}/r${i}`, { body: String(i) });
      const page = (await request(small.base).get(`/api/bins/${b.id}/requests?limit=100`).expect(200)).body as RequestPage;
      expect(page.requests.map((r) => r.path)).toEqual(['/r11', '/r10', '/r9', '/r8', '/r7']);
      const info = (await request(small.base).get(`/api/bins/${b.id}`).expect(200)).body;
      expect(info.requestCount).toBe(5);
    } finally {
      await small.cleanup();
    }
  });

  it('deletes one request, then all of a bin\'s', async () => {
    const b = await createBin(srv.base);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await send(b.url, { body: String(i) })).headers['x-hooklab-request-id'] as string);
    await request(srv.base).delete(`/api/bins/${b.id}/requests/${ids[1]}`).expect(204);
    await request(srv.base).get(`/api/bins/${b.id}/requests/${ids[1]}`).expect(404);
    await request(srv.base).delete(`/api/bins/${b.id}/requests/${ids[1]}`).expect(404);
    let page = (await request(srv.base).get(`/api/bins/${b.id}/requests`).expect(200)).body as RequestPage;
    expect(page.requests.map((r) => r.id)).toEqual([ids[2], ids[0]]);
    await request(srv.base).delete(`/api/bins/${b.id}/requests`).expect(204);
    page = (await request(srv.base).get(`/api/bins/${b.id}/requests`).expect(200)).body as RequestPage;
    expect(page.requests).toEqual([]);
  });
});
