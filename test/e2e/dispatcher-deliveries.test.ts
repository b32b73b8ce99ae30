// The dispatcher console's deliveries in real Chromium, past the newest page: a reconnect
// catches up on every delivery the page holds (none left "pending" that ended while it was
// away, the clock bar's figures the server's), filters and "Show more" ask the server, the
// webhook list keeps webhooks made or deleted while the page's join-time read was out, and a
// webhook's card shows its failure streak.
import type { Browser, Page, Route, WebSocketRoute } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bin, ClockState, Delivery, Webhook } from '../../shared/api.ts';
import { type RunningApp, apiCall, launchBrowser, openPage, startApp, stopAppAndPage } from '../helpers/browser.ts';

let app: RunningApp;
let browser: Browser;
let bin: Bin;
/** The first webhook, with the oldest delivery: past the newest 200. */
let early: Webhook;
let oldest: Delivery;
const BULK = 30;
const RUNS = 7;

beforeAll(async () => {
  [app, browser] = await Promise.all([startApp(), launchBrowser()]);
  bin = await apiCall<Bin>(app.base, 'POST', '/api/bins', { name: 'always-500' });
  await apiCall(app.base, 'PUT', `/api/bins/${bin.id}/response`, { default: { status: 500 } });
  // Paused: every attempt is made when the test moves the clock, none in between.
  await apiCall(app.base, 'PUT', '/api/clock', { paused: true });
});

afterAll(() => stopAppAndPage({ app, browser }));

const allDeliveries = () => apiCall<{ deliveries: Delivery[] }>(app.base, 'GET', '/api/deliveries?limit=5000').then((r) => r.deliveries);
/** One retry after 10 min, given up at 20 min; only sync_start (one delivery per run). */
const hookInput = (name: string) => ({ name, url: bin.url, events: ['flow_started'], schedule: { delaysMs: [600_000] } });

async function openConsole(page: Page) {
  await page.goto('/dispatcher');
  await page.locator('.dispatcher[data-joined="true"]').waitFor();
  await page.locator('[data-testid="deliveries"], [data-testid="no-deliveries"]').first().waitFor();
}

/** Route the page's Socket.IO traffic through the test, so it can cut it (as test/e2e/live.test.ts). */
async function cuttable(page: Page) {
  let blocked = false;
  const sockets: { page: WebSocketRoute; server: WebSocketRoute }[] = [];
  await page.route(/\/socket\.io\//, (route) => (blocked ? route.abort('internetdisconnected') : route.continue()));
  await page.routeWebSocket(/\/socket\.io\//, (ws) => {
    if (blocked) return void ws.close({ code: 1006 });
    const server = ws.connectToServer();
    ws.onMessage((m) => server.send(m));
    server.onMessage((m) => ws.send(m));
    sockets.push({ page: ws, server });
  });
  return {
    cut: async () => {
      blocked = true;
      for (const s of sockets.splice(0)) {
        await s.server.close();
        await s.page.close({ code: 1006 });
      }
    },
    restore: () => void (blocked = false),
  };
}

/** Press "Show more" until every delivery the server has is drawn. */
async function showAll(page: Page) {
  const total = (await allDeliveries()).length;
  for (let shown = await page.locator('[data-testid="delivery"]').count(); shown < total; ) {
    await page.locator('[data-testid="deliveries-more"]:not([disabled])').click();
    await page.waitForFunction((n) => document.querySelectorAll('[data-testid="delivery"]').length > n, shown);
    shown = await page.locator('[data-testid="delivery"]').count();
  }
  await page.getByTestId('deliveries-more').waitFor({ state: 'detached' });
  expect(await page.locator('[data-testid="delivery"]').count()).toBe(total);
}

describe('dispatcher deliveries past the newest page', () => {
  it('after a reconnect, no delivery that ended while the page was away is left pending, and the clock bar says nothing is due', async () => {
    const tp = await openPage(browser, app.base);
    const { page } = tp;
    const link = await cuttable(page);
    early = await apiCall<Webhook>(app.base, 'POST', '/api/webhooks', hookInput('early'));
    await openConsole(page);
    await apiCall(app.base, 'POST', '/api/runs', { outcome: 'SUCCESSFUL', durationMs: 1000 });
    // 217 more, newer, all pending (their first attempt got a 500), while the page is live.
    for (let i = 0; i < BULK; i++) await apiCall(app.base, 'POST', '/api/webhooks', hookInput(`bulk-${i}`));
    for (let i = 0; i < RUNS; i++) await apiCall(app.base, 'POST', '/api/runs', { outcome: 'SUCCESSFUL', durationMs: 1000 });
    await apiCall(app.base, 'POST', '/api/clock/advance', { ms: 0 });
    await expect.poll(async () => (await allDeliveries()).filter((d) => d.state === 'pending' && d.attempts.length === 1).length, { timeout: 60_000 }).toBe(1 + (BULK + 1) * RUNS);
    const list = await allDeliveries();
    oldest = list[list.length - 1];
    expect(oldest.webhookId).toBe(early.id);
    // The page has them all live (it shows the newest first).
    await page.locator(`[data-delivery-id="${list[0].id}"][data-state="pending"]`).waitFor();
    await page.getByTestId('next-due').getByText('next due in').waitFor();

    await link.cut();
    await page.locator('[data-testid="connection"][data-state="reconnecting"]').waitFor();
    // Past every deadline: all of them fail while the page hears nothing.
    await apiCall(app.base, 'POST', '/api/clock/advance', { ms: 3_600_000 });
    expect((await apiCall<{ deliveries: Delivery[] }>(app.base, 'GET', '/api/deliveries?state=pending')).deliveries).toHaveLength(0);
    expect((await apiCall<ClockState>(app.base, 'GET', '/api/clock')).nextDueAt).toBe(null);
    link.restore();
    await page.locator('[data-testid="connection"][data-state="live"]').waitFor();
    // The join's read has been applied once the newest shows failed (no event says so: it ended while away).
    await page.locator(`[data-delivery-id="${list[0].id}"][data-state="failed"]`).waitFor();
    await page.getByTestId('next-due').getByText('nothing due').waitFor();
    expect(await page.getByTestId('deadline-info').textContent()).not.toContain('gives up');
    // Paged through to the oldest, every one is as the server has it: none kept from before.
    await showAll(page);
    expect(await page.locator('[data-testid="delivery"][data-state="pending"]').count()).toBe(0);
    await page.getByLabel('Filter by state').selectOption('pending');
    await page.getByTestId('no-deliveries').waitFor();
    expect(await page.locator('[data-testid="delivery"]').count()).toBe(0);
    expect(await page.getByTestId('no-deliveries').textContent()).toBe('No deliveries match these filters.');
    await tp.context.close();
  }, 180_000);

  it("filters ask the server: a webhook whose deliveries are all older than the newest page still lists them; others say there are none only when there are none", async () => {
    const tp = await openPage(browser, app.base);
    const { page } = tp;
    await openConsole(page);
    await page.getByLabel('Filter by webhook').selectOption(early.id);
    await page.locator(`[data-delivery-id="${oldest.id}"][data-state="failed"]`).waitFor();
    const ofEarly = (await allDeliveries()).filter((d) => d.webhookId === early.id);
    expect(await page.locator('[data-testid="delivery"]').count()).toBe(ofEarly.length);
    await page.getByLabel('Filter by state').selectOption('delivered');
    await page.getByTestId('no-deliveries').waitFor();
    expect(await page.getByTestId('no-deliveries').textContent()).toBe('No deliveries match these filters.');
    await tp.context.close();
  });

  it('"Show more" reads older pages from the server until every delivery is listed', async () => {
    const tp = await openPage(browser, app.base);
    const { page } = tp;
    await openConsole(page);
    expect(await page.locator('[data-testid="delivery"]').count()).toBeLessThan((await allDeliveries()).length);
    await showAll(page);
    await page.locator(`[data-delivery-id="${oldest.id}"]`).waitFor();
    await tp.context.close();
  });

  it('a webhook made, and one deleted, while the reads made on opening and on joining were out: their answers, coming after, undo neither', async () => {
    const tp = await openPage(browser, app.base);
    const { page } = tp;
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let fetched = 0;
    const given: Promise<void>[] = [];
    await page.route('**/api/webhooks', async (route: Route) => {
      if (route.request().method() !== 'GET') return route.fallback();
      const answer = await route.fetch();
      fetched++;
      const done = held.then(() => route.fulfill({ response: answer }));
      given.push(done);
      await done;
    });
    const form = (id: string) => page.locator(`[data-testid="webhook-form"][data-webhook-id="${id}"]`);
    const gone = (await apiCall<{ webhooks: Webhook[] }>(app.base, 'GET', '/api/webhooks')).webhooks.find((w) => w.name === 'bulk-0')!;
    await page.goto('/dispatcher');
    await page.locator('.dispatcher[data-joined="true"]').waitFor();
    // Both reads were answered by the server before either change.
    await expect.poll(() => fetched).toBeGreaterThanOrEqual(2);
    const made = await apiCall<Webhook>(app.base, 'POST', '/api/webhooks', hookInput('made meanwhile'));
    await form(made.id).waitFor();
    await apiCall(app.base, 'DELETE', `/api/webhooks/${gone.id}`);
    await page.locator('select[aria-label="Filter by webhook"] option', { hasText: 'made meanwhile' }).waitFor({ state: 'attached' });
    release();
    await Promise.all(given);
    // Let the page apply the answers (parsed, then rendered).
    await page.evaluate(() => new Promise((r) => setTimeout(r, 200)));
    await form(early.id).waitFor(); // the answers are in
    expect(await form(made.id).count()).toBe(1);
    expect(await form(gone.id).count()).toBe(0);
    await tp.context.close();
  });

  it("a webhook's card shows its failure streak, kept live as deliveries end undelivered", async () => {
    const tp = await openPage(browser, app.base);
    const { page } = tp;
    await openConsole(page);
    const streak = page.locator(`[data-testid="webhook-form"][data-webhook-id="${early.id}"] [data-testid="webhook-failing"]`);
    const { failing } = await apiCall<Webhook>(app.base, 'GET', `/api/webhooks/${early.id}`);
    expect(failing?.deliveries).toBe(1 + RUNS);
    await streak.getByText(`${1 + RUNS} deliveries in a row ended undelivered`).waitFor();
    expect(await streak.textContent()).toMatch(/^Failing since \d{4}-\d\d-\d\d \d\d:\d\d:\d\d \(virtual\)/);
    // One more fails: the card says so without a reload.
    await apiCall(app.base, 'POST', '/api/runs', { outcome: 'SUCCESSFUL', durationMs: 1000 });
    await apiCall(app.base, 'POST', '/api/clock/advance', { ms: 3_600_000 });
    await streak.getByText(`${2 + RUNS} deliveries in a row ended undelivered`).waitFor();
    await tp.context.close();
  });
});
