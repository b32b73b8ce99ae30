// The bin page's list in real Chromium, from a walkthrough: a list filtered by idempotency key
// follows a change of the key settings made elsewhere (before, it stayed empty until a
// reload); a filtered list's end does not say older captures were pushed out while the
// subscribe's replay is counted (a bin of 2,000 at a 3,000 cap briefly counted 4,000); End in
// the list goes to the oldest request, loading the older pages first (before, the last loaded row).
// And (from a review) an older page that was out when the list was read again is dropped:
// merged, it left a gap of rows that were never loaded.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bin, RequestPage } from '../../shared/api.ts';
import { type RunningApp, type TestPage, apiCall, hitMany, screenshot, startAppAndPage, stopAppAndPage, until } from '../helpers/browser.ts';

const CAP = 3000;
let app: RunningApp;
let browser: Browser;
let tp: TestPage;
let page: Page;

beforeAll(async () => {
  ({ app, browser, tp, page } = await startAppAndPage({ MAX_REQUESTS_PER_BIN: String(CAP) }));
});

afterAll(() => stopAppAndPage({ app, browser }));

const listCount = async () => Number(await page.getByTestId('request-list').getAttribute('data-count'));

async function openList(path: string) {
  await page.goto(path);
  await page.locator('[data-testid="connection"][data-state="live"]').waitFor();
  await until(page, () => !!document.querySelector('[data-testid="list-footer"]')?.textContent?.trim());
}

describe('a list filtered by idempotency key', () => {
  it('is read again when the key settings change elsewhere: the matching capture appears, and goes when the key is another', async () => {
    const bin = await apiCall<Bin>(app.base, 'POST', '/api/bins', { name: 'keys' });
    const url = app.reachable(bin.url);
    await hitMany(300, 16, (i) => [`${url}/k/${i}`, { headers: { 'content-type': 'application/json', 'idempotency-key': `idem-${i}` }, body: JSON.stringify({ i }) }]);
    // No settings name that header: no capture has a key, nothing matches.
    await openList(`/bins/${bin.id}?key=idem-7`);
    expect(await listCount()).toBe(0);
    const put = await apiCall<{ rechecked: number }>(app.base, 'PUT', `/api/bins/${bin.id}/verify`, { schemes: [], idempotency: { header: 'idempotency-key' } });
    expect(put.rechecked).toBe(300);
    await until(page, () => document.querySelector('[data-testid="request-list"]')?.getAttribute('data-count') === '1');
    expect(await page.locator('[data-testid="key-tag"]').getAttribute('data-key')).toBe('idem-7');
    await screenshot(page, 'key-filter-after-settings');
    // Another header: the key goes from the capture, and the row from the list.
    await apiCall(app.base, 'PUT', `/api/bins/${bin.id}/verify`, { schemes: [], idempotency: { header: 'x-other' } });
    await until(page, () => document.querySelector('[data-testid="request-list"]')?.getAttribute('data-count') === '0');
  });
});

describe('a list filtered by idempotency key, read again while an older page is out', () => {
  it('drops that page and pages on from the new read: no rows go missing between', async () => {
    const bin = await apiCall<Bin>(app.base, 'POST', '/api/bins', { name: 'keyed' });
    await apiCall(app.base, 'PUT', `/api/bins/${bin.id}/verify`, { schemes: [], idempotency: { header: 'idempotency-key' } });
    const url = app.reachable(bin.url);
    const N = 900;
    await hitMany(N, 16, (i) => [`${url}/k/${i}`, { headers: { 'idempotency-key': 'same' }, body: String(i) }]);
    // The key's group is loaded whole, page after page: the second older page (rows 700 on) is
    // held back until the settings change below has made the list be read again (200 rows).
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let olderReads = 0;
    await page.route(`**/api/bins/${bin.id}/requests?*`, async (route) => {
      if (new URL(route.request().url()).searchParams.has('before') && olderReads++ === 1) await held;
      await route.continue();
    });
    try {
      await page.goto(`/bins/${bin.id}?key=same`);
      await until(page, () => document.querySelector('[data-testid="request-list"]')?.getAttribute('data-count') === '700');
      await expect.poll(() => olderReads, { timeout: 15_000 }).toBe(2);
      // The same settings again: a change all the same (a new revision), and a re-read follows.
      await apiCall(app.base, 'PUT', `/api/bins/${bin.id}/verify`, { schemes: [], idempotency: { header: 'idempotency-key' } });
      // Time for the re-read (300 ms after the re-check's updates are quiet) to replace the list.
      await page.waitForTimeout(1500);
      release();
      await until(page, () => document.querySelector('[data-testid="request-list"]')?.getAttribute('data-count') === '900');
      expect(await listCount()).toBe(N);
    } finally {
      release();
      await page.unroute(`**/api/bins/${bin.id}/requests?*`);
    }
  });
});

describe('the end of a filtered list on a bin under its cap', () => {
  it('never says older ones were pushed out, while the subscribe replays the captures after the newest match', async () => {
    const bin = await apiCall<Bin>(app.base, 'POST', '/api/bins', { name: 'under the cap' });
    const url = app.reachable(bin.url);
    // The only match is the oldest: the subscribe replays the 1,999 after it.
    await hitMany(1, 1, () => [`${url}/first`, { body: 'first' }]);
    await hitMany(1999, 16, (i) => [`${url}/later/${i}`, { body: String(i) }]);
    // Every text the list's end shows, frame by frame, from the page's start.
    const fresh = await tp.context.newPage();
    try {
      await fresh.addInitScript(() => {
        const seen = new Set<string>();
        (window as unknown as { footers: Set<string> }).footers = seen;
        const tick = () => {
          const t = document.querySelector('[data-testid="list-footer"]')?.textContent?.trim();
          if (t) seen.add(t);
          requestAnimationFrame(tick);
        };
        requestAnimationFrame(tick);
      });
      await fresh.goto(`/bins/${bin.id}?path=/first`);
      await fresh.locator('[data-testid="connection"][data-state="live"]').waitFor();
      await fresh.waitForFunction(() => document.querySelector('[data-testid="list-footer"]')?.textContent?.startsWith('That is all'));
      // Past the count's next read of the bin (2 s after the first): the wrong words, before,
      // showed until then.
      await fresh.waitForTimeout(4000);
      const footers = await fresh.evaluate(() => [...(window as unknown as { footers: Set<string> }).footers]);
      expect(footers.filter((t) => t.startsWith('That is all'))).toEqual(['That is all: 1 request.']);
      expect((await apiCall<Bin>(app.base, 'GET', `/api/bins/${bin.id}`)).requestCount).toBe(2000);
    } finally {
      await fresh.close();
    }
  });
});

describe('End in the request list', () => {
  it('loads the older pages (one read each, however often it is pressed) and selects the oldest request; Home meanwhile wins', async () => {
    const bin = await apiCall<Bin>(app.base, 'POST', '/api/bins', { name: 'deep' });
    const url = app.reachable(bin.url);
    const TOTAL = 2500;
    await hitMany(TOTAL, 16, (i) => [`${url}/n/${i}`, { body: String(i) }]);
    const ids: string[] = [];
    for (let before: string | null = ''; before !== null; ) {
      const p: RequestPage = await apiCall<RequestPage>(app.base, 'GET', `/api/bins/${bin.id}/requests?limit=500${before ? `&before=${before}` : ''}`);
      ids.push(...p.requests.map((r) => r.id));
      before = p.nextBefore;
    }
    expect(ids).toHaveLength(TOTAL);
    // Older pages answer slowly: the loading can be seen, and keys pressed during it.
    const olderReads: string[] = [];
    await page.route(/\/api\/bins\/[^/]+\/requests\?.*before=/, async (route) => {
      olderReads.push(new URL(route.request().url()).searchParams.get('before')!);
      await new Promise((r) => setTimeout(r, 300));
      await route.continue();
    });
    try {
      await openList(`/bins/${bin.id}`);
      const list = page.getByTestId('request-list');
      await list.click({ position: { x: 40, y: 20 } });
      await page.locator(`[data-testid="request-detail"][data-detail-id="${ids[0]}"]`).waitFor();
      // Home during the loading: the top stays selected, and the loading stops.
      await page.keyboard.press('End');
      await page.getByTestId('reaching-end').waitFor();
      await page.keyboard.press('Home');
      await page.getByTestId('reaching-end').waitFor({ state: 'detached' });
      await page.waitForTimeout(1000);
      expect(new URL(page.url()).pathname).toBe(`/bins/${bin.id}/requests/${ids[0]}`);
      // End, and End again while it loads: each page read once, then the oldest is open.
      await page.keyboard.press('End');
      await page.getByTestId('reaching-end').waitFor();
      await page.keyboard.press('End');
      await page.keyboard.press('End');
      await page.locator(`[data-testid="request-detail"][data-detail-id="${ids[TOTAL - 1]}"]`).waitFor();
      await screenshot(page, 'list-end-key');
      expect(await listCount()).toBe(TOTAL);
      expect(await page.getByTestId('reaching-end').count()).toBe(0);
      expect(new Set(olderReads).size).toBe(olderReads.length);
      // Its row is shown, selected.
      await until(page, (rid) => document.querySelector(`[data-request-id="${rid}"]`)?.getAttribute('aria-selected') === 'true', ids[TOTAL - 1]);
    } finally {
      await page.unroute(/\/api\/bins\/[^/]+\/requests\?.*before=/);
    }
  });
});
