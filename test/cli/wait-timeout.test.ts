// `hooklab wait --timeout 400s` must not be cut short by the HTTP client: undici's default
// headers timeout (300 s) ended such a wait as "cannot reach hooklab (UND_ERR_HEADERS_TIMEOUT)",
// exit 3, though the server allows waits of up to 10 minutes. Scaled down so it runs in a few
// seconds: the process-wide client's default is made 200 ms, and a stand-in server takes 2.5 s
// to answer a wait of 5 s (undici checks its timeouts about every 0.5 s). The wait must use
// timeouts of its own, above its --timeout.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent, type Dispatcher, getGlobalDispatcher, setGlobalDispatcher } from 'undici';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { CliError } from '../../server/cli/client.ts';
import { MAX_WAIT_MS, wait, waitClientTimeouts } from '../../server/cli/commands/wait.ts';

let server: http.Server;
let base: string;
let before: Dispatcher;
const asked: string[] = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    asked.push(req.url!);
    // Answers as hooklab does once a matching capture arrives, here 2.5 s into the wait.
    setTimeout(() => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ id: '0abc', path: '/late' })), 2500);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  before = getGlobalDispatcher();
  // undici's defaults (300 s) in miniature: what a plain fetch would get.
  setGlobalDispatcher(new Agent({ headersTimeout: 200, bodyTimeout: 200 }));
});
afterAll(async () => {
  setGlobalDispatcher(before);
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

describe('hooklab wait, a long wait', () => {
  it('is not ended by the HTTP client default timeout: it gets the answer that comes after it', async () => {
    // The stand-in itself: a plain fetch does hit the (miniature) default.
    await expect(fetch(`${base}/plain`)).rejects.toMatchObject({ cause: { code: 'UND_ERR_HEADERS_TIMEOUT' } });
    const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      let error: unknown = null;
      await wait({ server: base, token: null }, 'some-bin-1234', { timeout: '5s' }).catch((e) => (error = e));
      expect(error instanceof CliError ? error.message : error).toBeNull();
      expect(out).toHaveBeenCalledWith(`${JSON.stringify({ id: '0abc', path: '/late' })}\n`);
    } finally {
      out.mockRestore();
    }
    expect(asked.at(-1)).toBe('/api/bins/some-bin-1234/requests/wait?timeout=5000ms');
  });

  it("the client's timeouts are above the wait's own, up to the server's longest (10 min)", () => {
    for (const ms of [400_000, MAX_WAIT_MS]) {
      const t = waitClientTimeouts(ms);
      expect(t.headersTimeout).toBeGreaterThan(ms);
      expect(t.bodyTimeout).toBeGreaterThan(ms);
    }
  });
});

describe('hooklab wait, a busy server', () => {
  let busy: http.Server;
  let busyBase: string;
  const seen: string[] = [];
  /** How many times each bin is answered 503 before its capture. */
  const refusals: Record<string, { times: number; retryAfter: string }> = {
    'busy-once-1234': { times: 1, retryAfter: '1' },
    'busy-long-1234': { times: 1, retryAfter: '30' },
    'busy-always-1234': { times: 1000, retryAfter: '30' },
  };
  beforeAll(async () => {
    busy = http.createServer((req, res) => {
      seen.push(req.url!);
      const bin = /\/api\/bins\/([^/]+)\//.exec(req.url!)![1];
      const r = refusals[bin];
      if (r && r.times-- > 0) {
        const body = JSON.stringify({ error: { code: 'too_many_waiters', message: 'As many wait requests are open as hooklab allows' } });
        res.writeHead(503, { 'content-type': 'application/json', 'retry-after': r.retryAfter }).end(body);
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ id: '0abd', path: '/after-busy' }));
    });
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
    busyBase = `http://127.0.0.1:${(busy.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    busy.closeAllConnections();
    await new Promise((r) => busy.close(r));
  });

  it('asks again after Retry-After while the wait has time left, for the time left', async () => {
    const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      let error: unknown = null;
      await wait({ server: busyBase, token: null }, 'busy-once-1234', { timeout: '10s' }).catch((e) => (error = e));
      expect(error instanceof CliError ? error.message : error).toBeNull();
      expect(out).toHaveBeenCalledWith(`${JSON.stringify({ id: '0abd', path: '/after-busy' })}\n`);
      expect(err.mock.calls.map((c) => String(c[0])).join('')).toMatch(/answered 503 \(As many wait requests are open as hooklab allows\); asking again in 1 s\n/);
    } finally {
      out.mockRestore();
      err.mockRestore();
    }
    const asks = seen.filter((u) => u.includes('busy-once-1234'));
    expect(asks).toHaveLength(2);
    expect(asks[0]).toMatch(/timeout=10000ms$/);
    // The second asks only for what is left of the 10 s.
    const second = Number(/timeout=(\d+)ms$/.exec(asks[1])![1]);
    expect(second).toBeLessThanOrEqual(9000);
    expect(second).toBeGreaterThan(0);
  });

  it('uses the whole wait when Retry-After would outlast it: asks once more at its end (a match stored meanwhile is found)', async () => {
    const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const t0 = Date.now();
    try {
      let error: unknown = null;
      await wait({ server: busyBase, token: null }, 'busy-long-1234', { timeout: '2s' }).catch((e) => (error = e));
      expect(error instanceof CliError ? error.message : error).toBeNull();
      expect(out).toHaveBeenCalledWith(`${JSON.stringify({ id: '0abd', path: '/after-busy' })}\n`);
      expect(err.mock.calls.map((c) => String(c[0])).join('')).toMatch(/answered 503 \(As many wait requests are open as hooklab allows\); asking again in (1\.\d|2) s\n/);
    } finally {
      out.mockRestore();
      err.mockRestore();
    }
    // Before, it gave up at once (exit 3) with most of the wait left.
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1900);
    const asks = seen.filter((u) => u.includes('busy-long-1234'));
    expect(asks).toHaveLength(2);
    expect(Number(/timeout=(\d+)ms$/.exec(asks[1])![1])).toBeLessThan(200);
  });

  it('still busy at the end of the wait: exit 3 with the server\'s word', async () => {
    const t0 = Date.now();
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const error = await wait({ server: busyBase, token: null }, 'busy-always-1234', { timeout: '2s' })
      .then(
        () => null,
        (e: unknown) => e,
      )
      .finally(() => err.mockRestore());
    expect(error).toBeInstanceOf(CliError);
    expect((error as CliError).code).toBe(3);
    expect((error as CliError).message).toMatch(/answered 503/);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1900);
    expect(seen.filter((u) => u.includes('busy-always-1234'))).toHaveLength(2);
  });
});
