// Issue 11 in real Chromium: two hooklab instances (A and B, the compiled server with
// STORE=redis) on one real redis-server, behind a small TCP proxy that plays the load
// balancer (A while A answers, else B). The browser only knows the proxy. SIGKILL A, the
// instance its socket is on, while the proxy briefly refuses everyone (the balancer has not
// noticed yet) and captures keep arriving at B: the UI says "reconnecting", comes back
// through the proxy to B, and its list holds every capture, before, meanwhile and after,
// each once, newest first.
import net from 'node:net';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import type { Bin } from '../../shared/api.ts';
import { type TestPage, apiCall, ensureBuilt, launchBrowser, openPage, screenshot } from '../helpers/browser.ts';
import { send } from '../helpers/http.ts';
import { type ServerProcess, spawnServer } from '../helpers/process.ts';
import { type RedisServer, startRedis } from '../helpers/redis.ts';

/** Generous: ~10x what each step takes on a quiet machine. */
const WAIT_MS = 60_000;

interface ProxiedConnection {
  /** The upstream it was piped to. */
  to: 'A' | 'B';
  /** The request lines the browser sent on it (keep-alive: several), until it switched protocols. */
  requests: string[];
  /** It became a WebSocket (the upstream answered 101): Socket.IO's live connection. */
  websocket: boolean;
  open: boolean;
}

interface Proxy {
  url: string;
  /** Upstream ports, tried in order for each connection: the first that accepts gets it. */
  upstreams: { name: 'A' | 'B'; port: number }[];
  /** While set, new connections are closed at once (the balancer has not noticed A died yet). */
  refusing: boolean;
  refused: number;
  log: ProxiedConnection[];
  close(): Promise<void>;
}

/** A TCP proxy on 127.0.0.1:0: HTTP, long-polling and the WebSocket upgrade pass unchanged. */
function startProxy(): Promise<Proxy> {
  const sockets = new Set<net.Socket>();
  const track = (s: net.Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  };
  const proxy: Proxy = {
    url: '',
    upstreams: [],
    refusing: false,
    refused: 0,
    log: [],
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
  const server = net.createServer((client) => {
    track(client);
    client.on('error', () => client.destroy());
    if (proxy.refusing) {
      proxy.refused++;
      client.destroy();
      return;
    }
    const attempt = (i: number) => {
      const target = proxy.upstreams[i];
      if (!target || client.destroyed) return void client.destroy();
      const up = net.connect({ host: '127.0.0.1', port: target.port });
      const failed = () => attempt(i + 1); // refused: that instance is gone, try the next
      up.once('error', failed);
      up.once('connect', () => {
        up.off('error', failed);
        track(up);
        if (client.destroyed) return void up.destroy(); // the browser gave up meanwhile
        const entry: ProxiedConnection = { to: target.name, requests: [], websocket: false, open: true };
        proxy.log.push(entry);
        // Plain HTTP until a 101; after it, frames, which are not read. (Chromium may send the
        // WebSocket handshake on a kept-alive connection, so not only the first request counts.)
        client.on('data', (d: Buffer) => {
          if (!entry.websocket) for (const m of d.toString('latin1').matchAll(/^[A-Z]+ \S+ HTTP\/1\.1(?=\r\n)/gm)) entry.requests.push(m[0]);
        });
        up.on('data', (d: Buffer) => {
          if (!entry.websocket && /^HTTP\/1\.1 101 /m.test(d.toString('latin1')) && entry.requests.at(-1)?.includes('transport=websocket')) entry.websocket = true;
        });
        up.on('error', () => up.destroy());
        // Either side gone: the other goes too (a killed instance drops its connections).
        up.on('close', () => {
          entry.open = false;
          client.destroy();
        });
        client.on('close', () => up.destroy());
        client.pipe(up);
        up.pipe(client);
      });
    };
    attempt(0);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      proxy.url = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
      resolve(proxy);
    });
  });
}

let redis: RedisServer | undefined;
let proxy: Proxy | undefined;
let a: ServerProcess | undefined;
let b: ServerProcess | undefined;
let browser: Browser | undefined;
let tp: TestPage | undefined;

const portOf = (s: ServerProcess) => Number(new URL(s.base).port);

beforeAll(async () => {
  // The spawned server serves the built UI from dist/client.
  await ensureBuilt();
  [redis, proxy] = await Promise.all([startRedis(), startProxy()]);
  // Both take the proxy for their public address, so its Host and Origin pass the host guard.
  const env = { STORE: 'redis', REDIS_URL: redis.url, REDIS_PREFIX: 'recon:', DISPATCH_WORKER: 'false', PUBLIC_URL: proxy.url };
  const started = await Promise.allSettled([spawnServer(env).then((s) => (a = s)), spawnServer(env).then((s) => (b = s))]);
  for (const r of started) if (r.status === 'rejected') throw r.reason;
  proxy.upstreams = [
    { name: 'A', port: portOf(a!) },
    { name: 'B', port: portOf(b!) },
  ];
  browser = await launchBrowser();
}, 120_000);

afterAll(async () => {
  // Everything, even after a failure half-way: each step on its own.
  const steps: (() => Promise<unknown> | undefined)[] = [
    () => tp?.context.close(),
    () => browser?.close(),
    () => proxy?.close(),
    async () => {
      for (const p of [a, b]) p?.proc.kill('SIGKILL');
      await Promise.all([a?.exited, b?.exited]);
    },
    () => redis?.cleanup(),
  ];
  for (const step of steps) {
    try {
      await step();
    } catch (e) {
      console.warn('cleanup step failed:', e);
    }
  }
}, 60_000);

/** The list's row ids, top to bottom (rows are positioned by transform, so sort by y). */
const rowIds = (page: Page) =>
  page.$$eval('[data-request-id]', (els) =>
    els.map((e) => ({ id: e.getAttribute('data-request-id')!, y: e.getBoundingClientRect().top })).sort((x, y) => x.y - y.y).map((x) => x.id),
  );
const listCount = async (page: Page) => Number(await page.getByTestId('request-list').getAttribute('data-count'));

async function capture(to: ServerProcess, binId: string, label: string): Promise<string> {
  const r = await send(`${to.base}/h/${binId}/${label}`, { headers: { 'content-type': 'text/plain' }, body: label });
  expect(r.status, `capture ${label} on ${to.base}`).toBe(200);
  return r.headers['x-hooklab-request-id'] as string;
}

/**
 * Open connections the proxy carries to that instance for Socket.IO: a WebSocket, or
 * long-polling (the client opens a WebSocket first and falls back to polling).
 */
const liveTo = (name: 'A' | 'B') => proxy!.log.filter((c) => c.to === name && c.open && c.requests.some((r) => r.includes(' /socket.io/')));

describe('the instance a browser is connected to dies', () => {
  it('the UI reconnects through the proxy to B and fills in what it missed: every capture, once, in order', async () => {
    const A = a!;
    const B = b!;
    onTestFailed(() => {
      console.log('connections through the proxy:', JSON.stringify(proxy?.log, null, 1), `turned away: ${proxy?.refused}`);
      console.log('browser problems:', tp?.problems);
      console.log(`A said:\n${A.output()}\nB said:\n${B.output()}`);
    });
    const bin = await apiCall<Bin>(A.base, 'POST', '/api/bins', { name: 'failover' });

    tp = await openPage(browser!, proxy!.url);
    const { page } = tp;
    page.setDefaultTimeout(WAIT_MS);
    await page.goto(`/bins/${bin.id}`);
    await page.locator('[data-testid="connection"][data-state="live"]').waitFor();
    // The live connection went through the proxy to A (everything did: A answers).
    await expect.poll(() => liveTo('A').length, { timeout: WAIT_MS }).toBeGreaterThan(0);
    expect(proxy!.log.every((c) => c.to === 'A')).toBe(true);

    // Before: captured on either instance, shown live.
    const before: string[] = [];
    for (const [i, to] of [A, B, A].entries()) {
      before.push(await capture(to, bin.id, `before-${i}`));
      await page.locator(`[data-request-id="${before[i]}"]`).waitFor();
    }

    // A dies while the proxy refuses everyone: the browser cannot come back just yet.
    proxy!.refusing = true;
    A.proc.kill('SIGKILL');
    expect((await A.exited).signal).toBe('SIGKILL');
    await page.locator('[data-testid="connection"][data-state="reconnecting"]').waitFor();
    await expect.poll(() => proxy!.log.filter((c) => c.to === 'A' && c.open).length, { timeout: WAIT_MS }).toBe(0);

    // Meanwhile: captured on B, which the browser is not connected to.
    const missed: string[] = [];
    for (let i = 0; i < 3; i++) missed.push(await capture(B, bin.id, `missed-${i}`));
    expect(await listCount(page)).toBe(before.length);
    expect(await page.locator('[data-testid="connection"]').getAttribute('data-state')).toBe('reconnecting');
    await screenshot(page, 'cluster-reconnect-away');
    // Let it try at least once and be turned away (connect_error, backoff), as in a real outage.
    await expect.poll(() => proxy!.refused, { timeout: WAIT_MS }).toBeGreaterThan(0);

    // The balancer notices: A refuses, so the proxy sends the browser to B.
    proxy!.refusing = false;
    await page.locator('[data-testid="connection"][data-state="live"]').waitFor();
    await expect.poll(() => liveTo('B').length, { timeout: WAIT_MS }).toBeGreaterThan(0);
    console.log(
      `while away the proxy turned away ${proxy!.refused} connection(s) from the browser; ` +
        `it came back to B over ${liveTo('B').some((c) => c.websocket) ? 'a WebSocket' : 'long-polling'}`,
    );
    // The resubscribe's backfill replayed the missed ones, and the page says so (for 15 s).
    const note = page.getByTestId('backfill-note');
    await note.waitFor();
    expect(await note.textContent()).toContain(`${missed.length} requests`);

    // After: live again, through B.
    const after: string[] = [];
    for (let i = 0; i < 2; i++) after.push(await capture(B, bin.id, `after-${i}`));

    const all = [...before, ...missed, ...after];
    // Sent one at a time, so arrival order is id order (one order for the whole cluster).
    expect([...all].sort()).toEqual(all);
    const newestFirst = [...all].reverse();
    // Everything, once each, newest first: what was there, what was missed, what came after.
    await expect.poll(() => rowIds(page), { timeout: WAIT_MS }).toEqual(newestFirst);
    expect(await listCount(page)).toBe(all.length);
    await screenshot(page, 'cluster-reconnect-backfilled');

    // It stays that way: nothing turns up twice a moment later (a late duplicate from the feed).
    await new Promise((r) => setTimeout(r, 1000));
    expect(await rowIds(page)).toEqual(newestFirst);
    // The live connection is on B now; nothing is left on A.
    expect(liveTo('B').length).toBeGreaterThan(0);
    expect(proxy!.log.filter((c) => c.to === 'A' && c.open)).toEqual([]);
    expect(tp.problems.filter((p) => p.startsWith('pageerror'))).toEqual([]);
    // The browser logs the dropped connections; anything else would be news.
    const other = tp.problems.filter((p) => !/ERR_CONNECTION|ERR_EMPTY_RESPONSE|WebSocket connection to .* failed|net::/.test(p));
    if (other.length) console.log('console errors besides dropped connections:', other);
  }, 300_000);
});
