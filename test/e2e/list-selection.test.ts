// The request list keeps the open request in view however the selection changes, in real
// Chromium: j/k pressed in the detail pane scroll the list along; a link (or a reload) to a
// request deep in a busy bin opens the list at its row, loading older pages down to it; a
// link past how far that goes says so, and the keys step on from the open request (asking
// the API), never from the top of the list.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bin, RequestPage } from '../../shared/api.ts';
import { type RunningApp, type TestPage, apiCall, hitMany, launchBrowser, openPage, screenshot, startApp, stopAppAndPage } from '../helpers/browser.ts';

let app: RunningApp;
let browser: Browser;
let tp: TestPage;
let page: Page;
let bin: Bin;
/** Every stored id, newest first: the list's order. */
let ids: string[] = [];

// More than the list loads by itself down to a linked request (3,000 rows, in pages of 500
// after the first 200: it stops at 3,200).
const TOTAL = 3600;

beforeAll(async () => {
  [app, browser] = await Promise.all([startApp({ MAX_REQUESTS_PER_BIN: '10000' }), launchBrowser()]);
  bin = await apiCall<Bin>(app.base, 'POST', '/api/bins', { name: 'deep' });
  const url = app.reachable(bin.url);
  await hitMany(TOTAL, 16, (i) => [`${url}/n/${i}`, { body: String(i) }]);
  for (let before: string | null = ''; before !== null; ) {
    const p: RequestPage = await apiCall<RequestPage>(app.base, 'GET', `/api/bins/${bin.id}/requests?limit=500${before ? `&before=${before}` : ''}`);
    ids.push(...p.requests.map((r) => r.id));
    before = p.nextBefore;
  }
  expect(ids).toHaveLength(TOTAL);
  tp = await openPage(browser, app.base);
  page = tp.page;
});

afterAll(() => stopAppAndPage({ app, browser }));

const detailOf = (id: string) => page.locator(`[data-testid="request-detail"][data-detail-id="${id}"]`).waitFor();
const listCount = async () => Number(await page.getByTestId('request-list').getAttribute('data-count'));

/** Waits until the row of `id` is drawn, selected, and wholly inside the list's scroll view. */
const shownSelected = (id: string) =>
  page.waitForFunction((rid) => {
    const list = document.querySelector('[data-testid="request-list"]');
    const row = document.querySelector(`[data-request-id="${rid}"]`);
    if (!list || !row || row.getAttribute('aria-selected') !== 'true') return false;
    const l = list.getBoundingClientRect();
    const r = row.getBoundingClientRect();
    return r.top >= l.top - 0.5 && r.bottom <= l.bottom + 0.5;
  }, id);

/** Press `key` `n` times, each time waiting for the detail it opens: `expectIds[i]`. */
async function press(key: string, n: number, expectIds: string[]) {
  for (let i = 0; i < n; i++) {
    await page.keyboard.press(key);
    await detailOf(expectIds[i]);
  }
}

describe('the selected row stays in view', () => {
  it('follows j/k pressed in the detail pane, down past the first screen and back', async () => {
    await page.goto(`/bins/${bin.id}`);
    await page.locator(`[data-request-id="${ids[0]}"]`).click();
    await detailOf(ids[0]);
    // The keyboard leaves the list: a click in the detail pane.
    await page.locator('[data-testid="request-detail"] .detail-path').click();
    expect(await page.evaluate(() => !!document.activeElement?.closest('[data-testid="detail-pane"]'))).toBe(true);

    await press('j', 15, ids.slice(1, 16));
    await shownSelected(ids[15]);
    await screenshot(page, 'list-follows-j-from-detail');
    expect(await page.getByTestId('request-list').evaluate((el) => el.scrollTop)).toBeGreaterThan(0);

    await press('k', 15, ids.slice(0, 15).reverse());
    await shownSelected(ids[0]);
    expect(tp.problems).toEqual([]);
  });

  it('says which keys step from where: j/k anywhere, the arrows in the list', async () => {
    await page.goto(`/bins/${bin.id}`);
    await page.locator(`[data-request-id="${ids[0]}"]`).waitFor();
    // The arrows are not the page's (they scroll the detail): the hint must not say they are.
    const hint = (await page.locator('.detail-empty .muted').textContent()) ?? '';
    expect(hint).toContain('j/k');
    expect(hint).not.toContain('Use ↑/↓ or j/k');
  });

  it('opens a link to the 111th request with its row in view and selected; the keys go on from it', async () => {
    await page.goto(`/bins/${bin.id}/requests/${ids[110]}`);
    await detailOf(ids[110]);
    await shownSelected(ids[110]);
    await page.keyboard.press('j');
    await detailOf(ids[111]);
    await shownSelected(ids[111]);
  });

  it('loads older pages down to a linked request past the first page, and steps on from it', async () => {
    await page.goto(`/bins/${bin.id}/requests/${ids[1000]}`);
    await detailOf(ids[1000]);
    await shownSelected(ids[1000]);
    expect(await listCount()).toBeGreaterThan(1000);
    // Bounded: pages only down to it, not the whole bin.
    expect(await listCount()).toBeLessThan(TOTAL);
    await page.getByTestId('request-list').focus();
    await page.keyboard.press('ArrowDown');
    await detailOf(ids[1001]);
    await shownSelected(ids[1001]);
    await press('k', 2, [ids[1000], ids[999]]);
    await shownSelected(ids[999]);
  });

  it('past how far it loads by itself, keys step on from the open request, not from the top, and the list says it is further down', async () => {
    await page.goto(`/bins/${bin.id}/requests/${ids[3400]}`);
    await detailOf(ids[3400]);
    // ↓ in the list (the old code jumped to the newest request here), then j and k from the page.
    await page.getByTestId('request-list').focus();
    await page.keyboard.press('ArrowDown');
    await detailOf(ids[3401]);
    await page.getByTestId('detail-pane').focus();
    await press('j', 1, [ids[3402]]);
    await press('k', 3, [ids[3401], ids[3400], ids[3399]]);
    // Faster than the API answers: each press waits its turn and steps on from the last.
    for (let i = 0; i < 3; i++) await page.keyboard.press('j');
    await detailOf(ids[3402]);
    for (let i = 0; i < 3; i++) await page.keyboard.press('k');
    await detailOf(ids[3399]);

    // Loading stopped short of it (bounded), and the list says so.
    const note = page.getByTestId('selected-below');
    await page.getByTestId('find-selected').waitFor();
    const loaded = await listCount();
    expect(loaded).toBeLessThan(3399);
    expect(await note.textContent()).toContain(`older than the ${loaded.toLocaleString('en-US')} loaded`);
    await screenshot(page, 'list-selected-further-down');

    // Its button loads the rest of the way, and the row comes into view.
    await page.getByTestId('find-selected').click();
    await shownSelected(ids[3399]);
    await note.waitFor({ state: 'detached' });
    await page.keyboard.press('j');
    await detailOf(ids[3400]);
    await shownSelected(ids[3400]);
    expect(tp.problems).toEqual([]);
  });

  it('stops loading down to the open request when a page fails (no loop of requests), says so, and its button tries again', async () => {
    // A page of its own: the 503s are logged to its console.
    const own = await openPage(browser, app.base);
    const p = own.page;
    let failed = 0;
    const older = (u: URL) => u.pathname === `/api/bins/${bin.id}/requests` && u.searchParams.has('before');
    await p.route(older, (route) => {
      failed++;
      return route.fulfill({ status: 503, contentType: 'application/json', body: JSON.stringify({ error: 'service unavailable' }) });
    });
    try {
      await p.goto(`/bins/${bin.id}/requests/${ids[1000]}`);
      await p.locator(`[data-testid="request-detail"][data-detail-id="${ids[1000]}"]`).waitFor();
      await expect.poll(() => failed).toBeGreaterThanOrEqual(1);
      // The old code asked again as soon as a page failed: hundreds of requests a second.
      await p.waitForTimeout(2000);
      expect(failed).toBeLessThanOrEqual(5);
      await p.getByTestId('older-error').waitFor();
      expect(await p.getByTestId('older-error').textContent()).toContain('failed');
      // Back online: "Load down to it" carries on to the row.
      await p.unroute(older);
      await p.getByTestId('find-selected').click();
      await p.waitForFunction((rid) => document.querySelector(`[data-request-id="${rid}"]`)?.getAttribute('aria-selected') === 'true', ids[1000]);
      await p.getByTestId('selected-below').waitFor({ state: 'detached' });
      expect(failed).toBeLessThanOrEqual(5);
    } finally {
      await own.context.close();
    }
  });
});
