// Live updates under load and across a lost connection, in real Chromium: a 5,000-request
// bin renders and scrolls with only a window of rows in the DOM while a burst streams in;
// a forced socket disconnect shows "reconnecting" and the reconnect backfills what was missed;
// a proxy that drops WebSockets leaves long-polling to carry the live view.
import type { Browser, Page, WebSocketRoute } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bin } from '../../shared/api.ts';
import { FRAME_GAP_OBSERVER, maxFrameGap } from '../helpers/ui-perf.ts';
import { type RunningApp, type TestPage, apiCall, hit, hitMany, launchBrowser, openPage, screenshot, startApp, stopAppAndPage, until } from '../helpers/browser.ts';

let app: RunningApp;
let browser: Browser;

beforeAll(async () => {
  [app, browser] = await Promise.all([startApp({ MAX_REQUESTS_PER_BIN: '10000' }), launchBrowser()]);
});

afterAll(() => stopAppAndPage({ app, browser }));

const domRows = (page: Page) => page.evaluate(() => document.querySelectorAll('[data-request-id]').length);
const listCount = async (page: Page) => Number(await page.getByTestId('request-list').getAttribute('data-count'));

describe('a busy bin', () => {
  let tp: TestPage;
  afterAll(() => tp?.context.close());

  it('renders 5,000 stored requests as a window of rows, pages older ones on scroll, and keeps up with a burst', async () => {
    const bin = await apiCall<Bin>(app.base, 'POST', '/api/bins', { name: 'busy' });
    const url = app.reachable(bin.url);
    const load = (i: number): Parameters<typeof hit> => [`${url}/load/${i}?n=${i}`, { headers: { 'content-type': 'application/json' }, body: JSON.stringify({ i, pad: 'x'.repeat(64) }) }];
    const oldest = (await hit(...load(0))).headers['x-hooklab-request-id'] as string;
    const t0 = Date.now();
    await hitMany(4999, 16, (i) => load(i + 1));
    console.log(`filled in ${Date.now() - t0} ms`);
    expect((await apiCall<Bin>(app.base, 'GET', `/api/bins/${bin.id}`)).requestCount).toBe(5000);

    tp = await openPage(browser, app.base);
    const { page } = tp;
    // Measure main-thread stalls: the longest gap between two animation frames.
    await page.addInitScript({ content: FRAME_GAP_OBSERVER });
    await page.goto(`/bins/${bin.id}`);
    await page.locator('[data-request-id]').first().waitFor();
    await page.locator('[data-testid="connection"][data-state="live"]').waitFor();
    expect(await listCount(page)).toBe(200);
    expect(await domRows(page)).toBeLessThan(60);

    // A burst of 200 requests per second for 3 seconds while the user scrolls down.
    let burstDone = false;
    const burstIds: string[] = [];
    const burst = (async () => {
      for (let tick = 0; tick < 15; tick++) {
        const started = Date.now();
        const rs = await Promise.all(Array.from({ length: 40 }, (_, j) => hit(`${url}/burst/${tick}/${j}`, { body: `{"tick":${tick},"j":${j}}` })));
        for (const r of rs) burstIds.push(r.headers['x-hooklab-request-id'] as string);
        await new Promise((r) => setTimeout(r, Math.max(0, 200 - (Date.now() - started))));
      }
      burstDone = true;
    })();

    const t1 = Date.now();
    const list = page.getByTestId('request-list');
    let maxDom = 0;
    for (let guard = 0; guard < 40; guard++) {
      const before = await listCount(page);
      if (await page.getByText(/That is all: [\d,]+ requests/).isVisible()) break;
      await list.hover();
      await page.mouse.wheel(0, 4000);
      await list.evaluate((el) => (el.scrollTop = el.scrollHeight));
      await until(page, (n) => Number(document.querySelector('[data-testid="request-list"]')!.getAttribute('data-count')) > n || !!document.querySelector('.req-footer')?.textContent?.startsWith('That is all'), before);
      maxDom = Math.max(maxDom, await domRows(page));
    }
    console.log(`scrolled to the end in ${Date.now() - t1} ms`);
    // Every stored request was reachable by scrolling: the oldest is the last row.
    await list.evaluate((el) => (el.scrollTop = el.scrollHeight));
    await page.locator(`[data-request-id="${oldest}"]`).waitFor();
    expect(await listCount(page)).toBeGreaterThanOrEqual(5000);
    expect(maxDom).toBeLessThan(60);
    await screenshot(page, 'busy-bin-bottom');

    await burst;
    expect(burstDone).toBe(true);
    // New ones arrived above while scrolled down: the view stayed put and says so.
    const newest = burstIds.sort().at(-1)!;
    await page.getByTestId('new-above').waitFor();
    await page.getByTestId('new-above').click();
    await page.locator(`[data-request-id="${newest}"]`).waitFor();
    const top = await page.$$eval('[data-request-id]', (els) =>
      els.map((e) => ({ id: e.getAttribute('data-request-id')!, y: e.getBoundingClientRect().top })).sort((a, b) => a.y - b.y)[0].id,
    );
    expect(top).toBe(newest);
    expect(await domRows(page)).toBeLessThan(60);
    // Unread: the whole burst; the title says so.
    await until(page, (n) => document.title.startsWith(`(${n.toLocaleString('en-US')}) `), burstIds.length);
    await screenshot(page, 'busy-bin-top');

    const gap = await maxFrameGap(page);
    console.log(`longest gap between frames: ${Math.round(gap)} ms`);
    // The page never froze. The goal (no gap over 200 ms during the burst) is measured by
    // `npm run bench -- render`; here the bound is 10x that, as the test files share 2 cores.
    expect(gap).toBeLessThan(2000);
    expect(tp.problems).toEqual([]);
  });
});

describe('a lost connection', () => {
  it('shows "reconnecting", then backfills the requests that arrived meanwhile', async () => {
    const bin = await apiCall<Bin>(app.base, 'POST', '/api/bins', { name: 'flaky' });
    const url = app.reachable(bin.url);
    const tp = await openPage(browser, app.base);
    const { page } = tp;
    // Route the Socket.IO traffic through the test so it can cut it: long-polling requests
    // via page.route, the WebSocket via routeWebSocket.
    let blocked = false;
    const sockets: { page: WebSocketRoute; server: WebSocketRoute }[] = [];
    await page.route(/\/socket\.io\//, (route) => (blocked ? route.abort('internetdisconnected') : route.continue()));
    await page.routeWebSocket(/\/socket\.io\//, (ws) => {
      if (blocked) {
        void ws.close({ code: 1006 });
        return;
      }
      const server = ws.connectToServer();
      ws.onMessage((m) => server.send(m));
      server.onMessage((m) => ws.send(m));
      sockets.push({ page: ws, server });
    });

    await page.goto(`/bins/${bin.id}`);
    await page.locator('[data-testid="connection"][data-state="live"]').waitFor();
    // The client connects with a WebSocket first (no long-polling, no upgrade).
    expect(sockets).toHaveLength(1);
    const a = await hit(`${url}/before`, { body: '1' });
    await page.locator(`[data-request-id="${a.headers['x-hooklab-request-id']}"]`).waitFor();

    // Cut the connection and keep it cut.
    blocked = true;
    for (const s of sockets) {
      await s.server.close();
      await s.page.close({ code: 1006 });
    }
    await page.locator('[data-testid="connection"][data-state="reconnecting"]').waitFor();
    expect(await page.getByTestId('connection').textContent()).toContain('Reconnecting');
    await screenshot(page, 'connection-reconnecting');

    const missed: string[] = [];
    for (let i = 0; i < 3; i++) missed.push((await hit(`${url}/while-away/${i}`, { body: String(i) })).headers['x-hooklab-request-id'] as string);
    // Nothing can arrive while the connection is down.
    expect(await listCount(page)).toBe(1);

    blocked = false;
    await page.locator('[data-testid="connection"][data-state="live"]').waitFor();
    for (const id of missed) await page.locator(`[data-request-id="${id}"]`).waitFor();
    expect(await listCount(page)).toBe(4);
    expect(await page.getByTestId('backfill-note').textContent()).toContain('3 requests');
    // Newest first after the backfill, too.
    const order = await page.$$eval('[data-request-id]', (els) =>
      els.map((e) => ({ id: e.getAttribute('data-request-id')!, y: e.getBoundingClientRect().top })).sort((x, y) => x.y - y.y).map((x) => x.id),
    );
    expect(order).toEqual([...missed].reverse().concat(a.headers['x-hooklab-request-id'] as string));
    // And live again: the next one arrives without a reload.
    const b = await hit(`${url}/after`, { body: '2' });
    await page.locator(`[data-request-id="${b.headers['x-hooklab-request-id']}"]`).waitFor();
    await screenshot(page, 'connection-backfilled');
    await tp.context.close();
  });

  it('behind a proxy that accepts WebSockets and drops them, connects by long-polling at once', async () => {
    const bin = await apiCall<Bin>(app.base, 'POST', '/api/bins', { name: 'no websockets' });
    const url = app.reachable(bin.url);
    const tp = await openPage(browser, app.base);
    const { page } = tp;
    // Every WebSocket is accepted and closed before the handshake (a close, not an error: the
    // client used to wait for its 20 s connect timeout and then try a WebSocket again, forever).
    let dropped = 0;
    await page.routeWebSocket(/\/socket\.io\//, (ws) => {
      dropped++;
      void ws.close({ code: 1006 });
    });
    const t0 = Date.now();
    await page.goto(`/bins/${bin.id}`);
    // Bounded below the client's 20 s connect timeout, which the old code waited for (and
    // then tried a WebSocket again); this takes 1-3 s.
    await page.locator('[data-testid="connection"][data-state="live"]').waitFor({ timeout: 18_000 });
    console.log(`live by long-polling after ${Date.now() - t0} ms (${dropped} WebSocket dropped)`);
    expect(dropped).toBeGreaterThanOrEqual(1);
    // Live over long-polling: a capture appears without a reload.
    const r = await hit(`${url}/polled`, { body: 'via polling' });
    await page.locator(`[data-request-id="${r.headers['x-hooklab-request-id']}"]`).waitFor();
    expect(tp.problems.filter((p) => !/WebSocket/i.test(p))).toEqual([]);
    await tp.context.close();
  });
});
