// API answers held for clients that do not read them: MAX_RESPONSE_BUFFER_BYTES bounds them
// (503 response_buffers_full with Retry-After past it), RESPONSE_STALL_MS ends a connection
// whose client reads none of its answer (a slow reader is not), and a list page stops at 4 MiB
// of JSON with nextBefore to go on. A 1 MiB gzip capture that decodes past MAX_DECODED_BYTES (8 MiB, binary:
// base64) makes a ~12.5 MB detail; 40 sockets that asked for it and never read held +900 MB,
// with nothing to end them. Real HTTP over loopback.
import http from 'node:http';
import net from 'node:net';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import type { RequestDetail, RequestPage } from '../../shared/api.ts';
import { send } from '../helpers/http.ts';
import { watchStalls } from '../../server/http/stall.ts';
import { Gate } from '../../server/http/gate.ts';
import { EventEmitter } from 'node:events';
import { createBin, startServer, type TestServer } from '../helpers/server.ts';

const MiB = 1024 * 1024;
/** A list page's JSON stops before this (README, the list route); one row is ~85 KB here. */
const PAGE_MAX = 4 * MiB;

/** ~1 MB of gzip that decodes to 12 MiB of bytes that are not UTF-8 (so base64 in the detail). */
function bigGzip(): Buffer {
  const plain = Buffer.alloc(12 * MiB);
  let x = 12345;
  for (let i = 0; i < plain.length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    if (x >>> 24 < 20) plain[i] = 0xff; // ~8%
  }
  const gz = gzipSync(plain, { level: 9 });
  expect(gz.length).toBeLessThan(MiB); // kept whole (MAX_BODY_BYTES), so decoded
  return gz;
}

async function captureBig(srv: TestServer): Promise<{ path: string; gz: Buffer; binId: string }> {
  const bin = await createBin(srv.base);
  const gz = bigGzip();
  const r = await send(bin.url, { headers: { 'content-type': 'application/octet-stream', 'content-encoding': 'gzip' }, body: gz });
  expect(r.status).toBe(200);
  const page = (await (await fetch(`${srv.base}/api/bins/${bin.id}/requests`)).json()) as RequestPage;
  return { path: `/api/bins/${bin.id}/requests/${page.requests[0].id}`, gz, binId: bin.id };
}

/**
 * A client that asks for `path`, reads the first bytes of the answer (its status line: the
 * answer is under way) and then no more.
 */
async function askAndStopReading(base: string, path: string) {
  const u = new URL(base);
  const socket = net.connect(Number(u.port), u.hostname);
  let error: string | null = null;
  socket.on('error', (e: NodeJS.ErrnoException) => (error = e.code ?? e.message));
  const first = await new Promise<Buffer>((resolve) => {
    socket.once('data', (d: Buffer) => {
      socket.pause();
      resolve(d);
    });
    socket.write(`GET ${path} HTTP/1.1\r\nHost: ${u.host}\r\n\r\n`);
  });
  expect(first.toString('latin1')).toMatch(/^HTTP\/1\.1 200 /);
  /** Read now: resolves with the bytes that came before the connection ended (or after `ms`). */
  const readAll = (ms: number) =>
    new Promise<{ bytes: number; ended: boolean; error: string | null }>((resolve) => {
      let bytes = 0;
      const t = setTimeout(() => resolve({ bytes, ended: false, error }), ms);
      socket.on('data', (d: Buffer) => (bytes += d.length));
      socket.once('close', () => {
        clearTimeout(t);
        resolve({ bytes, ended: true, error });
      });
      socket.resume();
    });
  return { socket, readAll, firstBytes: first.length };
}

/** GET, reading the whole answer. */
async function get(base: string, path: string) {
  const r = await fetch(base + path);
  const body = Buffer.from(await r.arrayBuffer());
  return { status: r.status, headers: r.headers, body };
}

/** Ask until `want` answers (each answer read whole); the last answer. */
async function until(base: string, path: string, want: number, ms = 30_000) {
  const end = Date.now() + ms;
  let last = await get(base, path);
  while (last.status !== want && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 100));
    last = await get(base, path);
  }
  expect(last.status, `GET ${path} answered ${last.status}, not ${want}, for ${ms / 1000} s`).toBe(want);
  return last;
}

describe('MAX_RESPONSE_BUFFER_BYTES', () => {
  let srv: TestServer;
  beforeAll(async () => {
    // Room for one big detail (11.4 MB: an answer larger than the budget goes when it is the
    // only one), not with its raw body (0.6 MB) too; no stall timeout within the test.
    srv = await startServer({ config: { maxResponseBufferBytes: 11_500_000, responseStallMs: 600_000 } });
  });
  afterAll(() => srv.cleanup());

  it('a big answer held for a client that does not read counts; past the budget, 503 response_buffers_full with Retry-After; freed when that client goes', async () => {
    const { path, binId } = await captureBig(srv);
    const whole = await get(srv.base, path);
    expect(whole.status).toBe(200);
    expect(whole.body.length).toBeGreaterThan(11_000_000);

    const stuck = await askAndStopReading(srv.base, path);
    onTestFinished(() => void stuck.socket.destroy());
    const refused = await until(srv.base, path, 503);
    expect(refused.headers.get('retry-after')).toBe('5');
    const err = JSON.parse(refused.body.toString()) as { error: { code: string; message: string } };
    expect(err.error.code).toBe('response_buffers_full');
    expect(err.error.message).toMatch(/MAX_RESPONSE_BUFFER_BYTES \(11 MiB\)/);
    // The raw body does not fit either, and is refused as JSON, not as the capture's type.
    const raw = await get(srv.base, `${path}/raw`);
    expect(raw.status).toBe(503);
    expect(raw.headers.get('content-type')).toMatch(/^application\/json/);
    expect(raw.headers.get('content-disposition')).toBeNull();
    // A wait that matches it answers within the same budget: many waits on one bin may all
    // match one large capture.
    const wait = `/api/bins/${binId}/requests/wait?timeout=5s`;
    const waited = await get(srv.base, wait);
    expect(waited.status).toBe(503);
    expect(waited.headers.get('retry-after')).toBe('5');
    expect((JSON.parse(waited.body.toString()) as { error: { code: string } }).error.code).toBe('response_buffers_full');
    expect(srv.app.waitBudget.size).toBe(0);
    // Small answers still go: the list, health.
    expect((await get(srv.base, `/api/bins/${binId}/requests`)).status).toBe(200);
    expect((await get(srv.base, '/api/health')).status).toBe(200);

    stuck.socket.destroy();
    const again = await until(srv.base, path, 200);
    expect(again.body.equals(whole.body)).toBe(true);
    const waitedAgain = await get(srv.base, wait);
    expect(waitedAgain.status).toBe(200);
    expect(waitedAgain.body.equals(whole.body)).toBe(true);
  });

  it('a reader gets the whole answer, sliced or not: the detail (ETag, 304), the raw bytes, HEAD', async () => {
    const { path, gz } = await captureBig(srv);
    const r = await get(srv.base, path);
    expect(r.status).toBe(200);
    expect(Number(r.headers.get('content-length'))).toBe(r.body.length);
    expect(r.headers.get('content-type')).toMatch(/^application\/json/);
    const d = JSON.parse(r.body.toString()) as RequestDetail;
    expect(Buffer.from(d.body, 'base64').equals(gz)).toBe(true);
    expect(d.decoded).toMatchObject({ bodyEncoding: 'base64', bytes: 8 * MiB, truncated: true, error: null });
    expect(Buffer.from(d.decoded!.body, 'base64').length).toBe(8 * MiB);
    const etag = r.headers.get('etag');
    expect(etag).toBeTruthy();
    // (Node's client: fetch adds cache-control: no-cache to a conditional request.)
    expect((await send(srv.base + path, { method: 'GET', headers: { 'if-none-match': etag! } })).status).toBe(304);
    const raw = await get(srv.base, `${path}/raw`);
    expect(raw.status).toBe(200);
    expect(raw.body.equals(gz)).toBe(true);
    const head = await fetch(srv.base + path, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(Number(head.headers.get('content-length'))).toBe(r.body.length);
    // Through Node's own client too, read slowly: all of it.
    const slow = await new Promise<number>((resolve, reject) => {
      const u = new URL(srv.base);
      http
        .get({ host: u.hostname, port: u.port, path, agent: false }, (res) => {
          let n = 0;
          res.on('data', (c: Buffer) => {
            n += c.length;
            res.pause();
            setTimeout(() => res.resume(), 1);
          });
          res.on('end', () => resolve(n));
          res.on('error', reject);
        })
        .on('error', reject);
    });
    expect(slow).toBe(r.body.length);
  });
});

describe('RESPONSE_STALL_MS', () => {
  let srv: TestServer;
  beforeAll(async () => {
    srv = await startServer({ config: { maxResponseBufferBytes: 20 * MiB, responseStallMs: 3000 } });
  });
  afterAll(() => srv.cleanup());

  it('a connection whose client reads none of its answer is ended, and the answer freed', async () => {
    const { path } = await captureBig(srv);
    const full = (await get(srv.base, path)).body.length;
    const stuck = await askAndStopReading(srv.base, path);
    onTestFinished(() => void stuck.socket.destroy());
    // Held for it (a second one does not fit), then freed once it stalled.
    await until(srv.base, path, 503);
    await until(srv.base, path, 200);
    // It was cut off: what it can still read is less than the answer.
    const got = await stuck.readAll(10_000);
    expect(got.ended).toBe(true);
    expect(stuck.firstBytes + got.bytes).toBeLessThan(full);
  });
});

describe('RESPONSE_STALL_MS and a slow reader', () => {
  it('a client reading slowly is not cut off, even from one large write', async () => {
    const answer = Buffer.alloc(8 * MiB, 0x61); // twice what the kernel takes
    const server = http.createServer((_req, res) => {
      res.setHeader('content-length', answer.length);
      res.end(answer); // one write: progress shows only as the kernel takes parts of it
    });
    const watch = watchStalls(server, 1000);
    server.on('request', (req) => watch.add(req.socket));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    onTestFinished(() => void server.close());
    const port = (server.address() as net.AddressInfo).port;
    const got = await new Promise<{ bytes: number; error: string | null }>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      let bytes = 0;
      let since = 0;
      let error: string | null = null;
      socket.on('error', (e: NodeJS.ErrnoException) => (error = e.code ?? e.message));
      socket.on('data', (d: Buffer) => {
        bytes += d.length;
        since += d.length;
        if (since >= 512 * 1024) {
          since = 0;
          socket.pause(); // reads nothing for 0.3 s, every 512 KB
          setTimeout(() => socket.resume(), 300);
        }
        if (bytes >= answer.length) socket.end();
      });
      socket.on('close', () => resolve({ bytes, error }));
      socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    });
    expect(got.error).toBeNull();
    expect(got.bytes).toBeGreaterThan(answer.length);
    expect(watch.ended).toBe(0);
    watch.stop();
  });
});

describe('detail builds a few at a time (Gate)', () => {
  it('turns in order, a bounded queue, a waiter whose client left is dropped', async () => {
    const gate = new Gate(1, 2);
    const a = await (gate.enter(new EventEmitter()) as Promise<(() => void) | null>);
    const order: string[] = [];
    const bOwner = new EventEmitter();
    const b = (gate.enter(bOwner) as Promise<(() => void) | null>).then((l) => (order.push(l ? 'b' : 'b gone'), l));
    const c = (gate.enter(new EventEmitter()) as Promise<(() => void) | null>).then((l) => (order.push('c'), l));
    expect(gate.enter(new EventEmitter())).toBe('full');
    bOwner.emit('close'); // b's client left before its turn
    a!();
    a!(); // idempotent
    (await c)!();
    await b;
    expect(order).toEqual(['b gone', 'c']);
    expect(gate.size).toEqual({ running: 0, waiting: 0 });
  });
});

describe('list page size', () => {
  let srv: TestServer;
  beforeAll(async () => {
    srv = await startServer({ storage: 'memory' });
  });
  afterAll(() => srv.cleanup());

  it(`a page stops before ${PAGE_MAX / MiB} MiB of JSON, nextBefore going on; every row comes, once`, async () => {
    const bin = await createBin(srv.base);
    const headers: [string, string][] = [];
    for (let i = 0; i < 1990; i++) headers.push([`x-h-${String(i).padStart(4, '0')}`, `${'v'.repeat(22)}"\\`]);
    const N = 60;
    for (let i = 0; i < N; i++) expect((await send(bin.url, { headers: [...headers, ['content-type', 'text/plain']], body: `n${i}` })).status).toBe(200);
    const seen: string[] = [];
    let before: string | null = null;
    let pages = 0;
    do {
      const r = await get(srv.base, `/api/bins/${bin.id}/requests?limit=500${before ? `&before=${before}` : ''}`);
      expect(r.status).toBe(200);
      expect(r.body.length).toBeLessThanOrEqual(PAGE_MAX + 128 * 1024);
      const page = JSON.parse(r.body.toString()) as RequestPage;
      expect(page.requests.length).toBeGreaterThan(0);
      for (const q of page.requests) expect(q.headers.length).toBeGreaterThanOrEqual(1990);
      seen.push(...page.requests.map((q) => q.id));
      before = page.nextBefore;
      pages++;
    } while (before && pages < 10);
    expect(pages).toBeGreaterThan(1);
    expect(seen.length).toBe(N);
    expect(new Set(seen).size).toBe(N);
    expect([...seen].sort().reverse()).toEqual(seen); // newest first, throughout
  });
});
