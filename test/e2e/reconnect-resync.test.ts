// What the bin page shows after its connection comes back, in real Chromium: a reconnect
// replays the captures that arrived meanwhile, but not what left the bin (a clear, the cap
// pushing the oldest out), so the page reads the loaded range again. A bin cleared while away
// lists only what it holds now; one whose cap pushed the open request out says so and turns
// its Replay off; with a filter on, the note says how many of the missed captures match.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bin } from '../../shared/api.ts';
import { type RunningApp, type TestPage, apiCall, hit, hitMany, launchBrowser, openPage, screenshot, startApp, stopAppAndPage, until } from '../helpers/browser.ts';

const CAP = 250;
let app: RunningApp;
let browser: Browser;

beforeAll(async () => {
  [app, browser] = await Promise.all([startApp({ MAX_REQUESTS_PER_BIN: String(CAP) }), launchBrowser()]);
});

afterAll(() => stopAppAndPage({ app, browser }));

const listCount = async (page: Page) => Number(await page.getByTestId('request-list').getAttribute('data-count'));
const idOf = (r: { headers: Record<string, unknown> }) => r.headers['x-hooklab-request-id'] as string;

/** A bin holding `n` captures (sent in order), and their ids. */
async function fullBin(name: string, n: number, method = () => 'POST') {
  const bin = await apiCall<Bin>(app.base, 'POST', '/api/bins', { name });
  const url = app.reachable(bin.url);
  await hitMany(n, 8, (i) => [`${url}/n/${i}`, { method: method(), body: String(i) }]);
  return { bin, url };
}

/** Offline (the socket drops), `meanwhile`, online again: resolves once the page is live. */
async function away(tp: TestPage, meanwhile: () => Promise<void>) {
  await tp.context.setOffline(true);
  await tp.page.locator('[data-testid="connection"]:not([data-state="live"])').waitFor();
  await meanwhile();
  await tp.context.setOffline(false);
  await tp.page.locator('[data-testid="connection"][data-state="live"]').waitFor();
}

describe('after a reconnect', () => {
  it('a bin cleared while away lists only what it holds now: rows, count, no older pages', async () => {
    const { bin, url } = await fullBin('cleared away', CAP);
    const tp = await openPage(browser, app.base);
    const { page } = tp;
    await page.goto(`/bins/${bin.id}`);
    await page.locator('[data-testid="connection"][data-state="live"]').waitFor();
    await page.locator('[data-request-id]').first().waitFor();
    expect(await listCount(page)).toBe(200);

    const fresh: string[] = [];
    await away(tp, async () => {
      await apiCall(app.base, 'DELETE', `/api/bins/${bin.id}/requests`);
      for (let i = 0; i < 5; i++) fresh.push(idOf(await hit(`${url}/after-clear/${i}`, { body: String(i) })));
    });
    await until(page, () => document.querySelector('[data-testid="request-list"]')?.getAttribute('data-count') === '5');
    const rows = await page.$$eval('[data-request-id]', (els) => els.map((e) => e.getAttribute('data-request-id')));
    expect(rows).toEqual([...fresh].reverse());
    expect(await page.getByTestId('request-count').textContent()).toBe('5');
    expect(await page.getByTestId('list-footer').textContent()).toBe('That is all: 5 requests.');
    expect(await page.getByTestId('backfill-note').textContent()).toContain('5 requests');
    await screenshot(page, 'reconnect-after-clear');
    expect(tp.problems).toEqual([]);
    await tp.context.close();
  });

  it('the open request pushed out by the cap while away says so, its Replay off; the list holds the newest CAP', async () => {
    const { bin, url } = await fullBin('pushed out away', CAP);
    const stored = (await apiCall<{ requests: { id: string }[] }>(app.base, 'GET', `/api/bins/${bin.id}/requests?limit=500`)).requests.map((r) => r.id);
    const oldest = stored.at(-1)!;
    const tp = await openPage(browser, app.base);
    const { page } = tp;
    await page.goto(`/bins/${bin.id}`);
    await page.locator('[data-testid="connection"][data-state="live"]').waitFor();
    await page.locator('[data-request-id]').first().click();
    // End: every older page, then the oldest opens.
    await page.getByTestId('request-list').press('End');
    await page.locator(`[data-testid="request-detail"][data-detail-id="${oldest}"]`).waitFor();
    expect(await listCount(page)).toBe(CAP);

    const fresh: string[] = [];
    await away(tp, async () => {
      for (let i = 0; i < 100; i++) fresh.push(idOf(await hit(`${url}/while-away/${i}`, { body: String(i) })));
    });
    await page.getByTestId('request-evicted').waitFor();
    expect(await page.getByTestId('replay').isDisabled()).toBe(true);
    expect(await page.getByTestId('delete-request').isDisabled()).toBe(true);
    await until(page, (n) => document.querySelector('[data-testid="request-list"]')?.getAttribute('data-count') === String(n), CAP);
    expect(await page.getByTestId('request-count').textContent()).toBe(String(CAP));
    // The 100 oldest rows went: the list ends with the oldest the bin still holds.
    const tail = await page.getByTestId('request-list').evaluate((el) => {
      el.scrollTop = el.scrollHeight;
      return new Promise<string | null>((r) => requestAnimationFrame(() => requestAnimationFrame(() => r([...document.querySelectorAll('[data-request-id]')].map((e) => e.getAttribute('data-request-id')!).sort()[0]))));
    });
    expect(tail).toBe(stored[CAP - 101]);
    await screenshot(page, 'reconnect-open-pushed-out');
    expect(tp.problems).toEqual([]);
    await tp.context.close();
  });

  it('with a filter on, the note says how many of the missed captures match, and those are the rows added', async () => {
    let i = 0;
    const { bin, url } = await fullBin('filtered away', 8, () => (i++ % 4 === 0 ? 'PUT' : 'POST'));
    const tp = await openPage(browser, app.base);
    const { page } = tp;
    await page.goto(`/bins/${bin.id}?method=PUT`);
    await page.locator('[data-testid="connection"][data-state="live"]').waitFor();
    await page.locator('[data-request-id]').first().waitFor();
    expect(await listCount(page)).toBe(2);

    await away(tp, async () => {
      for (let j = 0; j < 8; j++) await hit(`${url}/away/${j}`, { method: j % 4 === 0 ? 'PUT' : 'POST', body: String(j) });
    });
    await page.getByTestId('backfill-note').waitFor();
    await until(page, () => document.querySelector('[data-testid="request-list"]')?.getAttribute('data-count') === '4');
    expect(await page.getByTestId('backfill-note').textContent()).toBe('Reconnected: 8 requests arrived meanwhile; 2 match the search and were filled in.');
    expect(tp.problems).toEqual([]);
    await tp.context.close();
  });
});
