// Issue 7: hostile and broken input at the receiver. Each case: the server answers sensibly,
// keeps working, and what it stored reads back.
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import zlib from 'node:zlib';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RequestDetail, RequestPage } from '../../shared/api.ts';
import { send, sha256 } from '../helpers/http.ts';
import { createBin, startServer, type TestServer } from '../helpers/server.ts';

let srv: TestServer;
let bin: { id: string; url: string };
beforeAll(async () => {
  // Default timeouts here: the slow clients below get a server of their own with tight ones (a
  // busy machine could otherwise cut an ordinary request of these tests short).
  srv = await startServer({ config: { maxBodyBytes: 64 * 1024, maxDecodedBytes: 1024 * 1024 } });
  bin = await createBin(srv.base);
});
afterAll(() => srv.cleanup());

async function detail(id: string): Promise<RequestDetail> {
  return (await request(srv.base).get(`/api/bins/${bin.id}/requests/${id}`).expect(200)).body;
}
const idOf = (r: { headers: Record<string, unknown> }) => r.headers['x-hooklab-request-id'] as string;

/** Write raw bytes on a socket; resolve with everything read until the server closes it. */
function rawExchange(base: string, write: (s: net.Socket) => void): Promise<string> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const s = net.connect(Number(u.port), u.hostname, () => write(s));
    let out = '';
    s.on('data', (d) => (out += d.toString('latin1')));
    s.on('close', () => resolve(out));
    s.on('error', (e) => ((e as NodeJS.ErrnoException).code === 'ECONNRESET' ? resolve(out) : reject(e)));
  });
}

async function healthy(on = srv) {
  expect((await request(on.base).get('/api/health')).status).toBe(200);
}

describe('content-encoding', () => {
  it.each([
    ['gzip', zlib.gzipSync],
    ['deflate', zlib.deflateSync],
    ['br', zlib.brotliCompressSync],
  ] as const)('%s: stored raw, decoded only for display', async (enc, compress) => {
    const original = JSON.stringify({ event: 'sync_end', pad: 'x'.repeat(500) });
    const body = compress(Buffer.from(original));
    const r = await send(bin.url, { headers: { 'content-type': 'application/json', 'content-encoding': enc }, body });
    const d = await detail(idOf(r));
    expect(sha256(Buffer.from(d.body, 'base64'))).toBe(sha256(body));
    expect(d.decoded).toMatchObject({ body: original, bodyEncoding: 'utf8', error: null, truncated: false });
  });

  it('a decompression bomb is capped (MAX_DECODED_BYTES), not expanded: its first MAX_DECODED_BYTES show, marked truncated', async () => {
    const bomb = zlib.gzipSync(Buffer.alloc(50 * 1024 * 1024, 'a')); // 50 MiB in ~50 KiB
    expect(bomb.length).toBeLessThan(64 * 1024);
    const r = await send(bin.url, { headers: { 'content-encoding': 'gzip' }, body: bomb });
    const d = await detail(idOf(r));
    // Before: nothing shown, an error "larger than …", truncated false.
    expect(d.decoded).toMatchObject({ bytes: 1048576, truncated: true, error: null, bodyEncoding: 'utf8' });
    expect(d.decoded!.body).toBe('a'.repeat(1048576));
    expect(d.storedBytes).toBe(bomb.length);
    // deflate (zlib-wrapped, and raw as some senders write it) and br the same way.
    for (const [enc, body] of [
      ['deflate', zlib.deflateSync(Buffer.alloc(4 * 1024 * 1024, 'boom '))],
      ['deflate', zlib.deflateRawSync(Buffer.alloc(4 * 1024 * 1024, 'boom '))],
      ['br', zlib.brotliCompressSync(Buffer.alloc(4 * 1024 * 1024, 'boom '))],
    ] as const) {
      const e = await detail(idOf(await send(bin.url, { headers: { 'content-encoding': enc }, body })));
      expect(e.decoded, enc).toMatchObject({ bytes: 1048576, truncated: true, error: null });
    }
    // Under the cap: whole, not truncated.
    const small = await detail(idOf(await send(bin.url, { headers: { 'content-encoding': 'deflate' }, body: zlib.deflateRawSync('{"ok":true}') })));
    expect(small.decoded).toMatchObject({ body: '{"ok":true}', truncated: false, error: null });
    await healthy();
  });

  it('a broken gzip body says why it cannot be decoded', async () => {
    const r = await send(bin.url, { headers: { 'content-encoding': 'gzip' }, body: 'not gzip at all' });
    const d = await detail(idOf(r));
    expect(d.decoded?.error).toMatch(/cannot decode gzip/);
    expect(d.body).toBe('not gzip at all');
  });
});

describe('odd bodies', () => {
  it('invalid JSON under application/json is captured as sent', async () => {
    const body = '{"event": "sync_end", "oops": }';
    const d = await detail(idOf(await send(bin.url, { headers: { 'content-type': 'application/json' }, body })));
    expect(d.body).toBe(body);
    expect(d.bodyEncoding).toBe('utf8');
  });

  it('invalid UTF-8 comes back as base64, byte-exact', async () => {
    const body = Buffer.from([0x7b, 0xc3, 0x28, 0xff, 0xfe, 0x7d]);
    const d = await detail(idOf(await send(bin.url, { headers: { 'content-type': 'text/plain; charset=utf-8' }, body })));
    expect(d.bodyEncoding).toBe('base64');
    expect(Buffer.from(d.body, 'base64').equals(body)).toBe(true);
  });

  it('NUL bytes survive', async () => {
    const body = Buffer.from('a\u0000b\u0000\u0000c');
    const d = await detail(idOf(await send(bin.url, { body })));
    expect(Buffer.from(d.body, d.bodyEncoding === 'base64' ? 'base64' : 'utf8').equals(body)).toBe(true);
  });
});

describe('odd heads', () => {
  it('1,000 headers are all captured, in order', async () => {
    const headers: [string, string][] = Array.from({ length: 1000 }, (_, i) => [`X-H-${i}`, `v${i}`]);
    const d = await detail(idOf(await send(bin.url, { headers, body: 'x' })));
    const mine = d.headers.filter(([n]) => n.startsWith('X-H-'));
    expect(mine).toEqual(headers);
  });

  it('a long header value and a long URL are captured', async () => {
    const long = 'v'.repeat(20_000);
    const pathPart = '/' + 'p'.repeat(8000);
    const d = await detail(idOf(await send(`${bin.url}${pathPart}?q=${'q'.repeat(4000)}`, { headers: { 'X-Long': long }, body: 'x' })));
    expect(d.headers.find(([n]) => n === 'X-Long')?.[1]).toBe(long);
    expect(d.path).toBe(pathPart);
    expect((d.query.q as string).length).toBe(4000);
  });

  it('a head over MAX_HEADER_BYTES gets 431 and the server keeps going', async () => {
    const r = await send(bin.url, { headers: { 'X-Huge': 'h'.repeat(100_000) }, body: 'x' }).catch((e) => e);
    // Node answers 431 and closes; depending on timing the client sees the 431 or a reset.
    if (!(r instanceof Error)) expect(r.status).toBe(431);
    await healthy();
  });

  it('WebDAV and cache methods such as PROPFIND and PURGE are captured', async () => {
    for (const method of ['PROPFIND', 'PURGE', 'MKCOL', 'REPORT']) {
      const d = await detail(idOf(await send(bin.url, { method, body: '<x/>' })));
      expect(d.method).toBe(method);
      expect(d.body).toBe('<x/>');
    }
  });

  it('Expect: 100-continue gets a 100, then the body is captured', async () => {
    const u = new URL(bin.url);
    const out = await rawExchange(srv.base, (s) => {
      s.write(`POST ${u.pathname}/continue HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n`);
      s.once('data', () => s.write('hello'));
    });
    expect(out).toMatch(/^HTTP\/1\.1 100 Continue\r\n/);
    expect(out).toContain('HTTP/1.1 200 OK');
    const id = /x-hooklab-request-id: (\w+)/i.exec(out)![1];
    const d = await detail(id);
    expect(d.body).toBe('hello');
    expect(d.path).toBe('/continue');
  });
});

describe('slow and broken clients', () => {
  let slow: TestServer;
  let bin: { id: string; url: string };
  beforeAll(async () => {
    slow = await startServer({ config: { headersTimeoutMs: 300, requestTimeoutMs: 600 } });
    bin = await createBin(slow.base);
  });
  afterAll(() => slow.cleanup());

  it('a client that sends headers slowly is cut off (HEADERS_TIMEOUT_MS) and nothing is stored', async () => {
    const before = (await request(slow.base).get(`/api/bins/${bin.id}`)).body.requestCount;
    const out = await rawExchange(slow.base, (s) => s.write(`POST /h/${bin.id}/slow HTTP/1.1\r\nHost: x\r\nX-Slow: `));
    expect(out).toMatch(/^HTTP\/1\.1 408/);
    expect((await request(slow.base).get(`/api/bins/${bin.id}`)).body.requestCount).toBe(before);
  });

  it('a client that stops mid-body is cut off (REQUEST_TIMEOUT_MS) and nothing is stored', async () => {
    const before = (await request(slow.base).get(`/api/bins/${bin.id}`)).body.requestCount;
    const out = await rawExchange(slow.base, (s) => s.write(`POST /h/${bin.id}/stall HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nonly-part`));
    expect(out).toMatch(/^HTTP\/1\.1 408/);
    expect((await request(slow.base).get(`/api/bins/${bin.id}`)).body.requestCount).toBe(before);
    await healthy(slow);
  });

  it('a client that disconnects mid-body leaves nothing half-stored', async () => {
    const before = (await request(slow.base).get(`/api/bins/${bin.id}`)).body.requestCount;
    await rawExchange(slow.base, (s) => {
      s.write(`POST /h/${bin.id}/gone HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n`);
      s.write(randomBytes(5000), () => s.destroy());
    });
    await healthy(slow);
    expect((await request(slow.base).get(`/api/bins/${bin.id}`)).body.requestCount).toBe(before);
  });
});

describe('bursts', () => {
  it('5,000 requests to one bin: the cap holds, the oldest go, nothing crashes', async () => {
    const s = await startServer({ config: { maxRequestsPerBin: 300 } });
    try {
      const b = await createBin(s.base);
      const ids: string[] = [];
      const N = 5000;
      let next = 0;
      // 50 connections in flight at a time.
      await Promise.all(
        Array.from({ length: 50 }, async () => {
          while (next < N) {
            const i = next++;
            const r = await send(`${b.url}/b${i}`, { body: String(i) });
            expect(r.status, r.body.toString()).toBe(200);
            ids.push(idOf(r));
          }
        }),
      );
      expect(ids).toHaveLength(N);
      const page = (await request(s.base).get(`/api/bins/${b.id}/requests?limit=500`).expect(200)).body as RequestPage;
      expect(page.requests).toHaveLength(300);
      const newest300 = [...ids].sort().slice(-300).reverse();
      expect(page.requests.map((r) => r.id)).toEqual(newest300);
      expect((await request(s.base).get('/api/health')).status).toBe(200);
    } finally {
      await s.cleanup();
    }
  });
});
