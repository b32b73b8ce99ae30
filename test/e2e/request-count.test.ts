// The Requests tab counts what the bin holds, not the rows loaded so far, in real Chromium:
// a bin of 650 says 650 (not "200+"), follows new captures and a deletion live without reading
// the bin once per event, and a bin at its cap (MAX_REQUESTS_PER_BIN) says so at the end of
// its list: older captures were pushed out, how many while the page was open.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bin, RequestPage } from '../../shared/api.ts';
import { type RunningApp, type TestPage, apiCall, hitMany, screenshot, startAppAndPage, stopAppAndPage } from '../helpers/browser.ts';

const CAP = 700;

let app: RunningApp;
let browser: Browser;
let tp: TestPage;
let page: Page;

beforeAll(async () => {
  ({ app, browser, tp, page } = await startAppAndPage({ MAX_REQUESTS_PER_BIN: String(CAP) }));
});

afterAll(() => stopAppAndPage({ app, browser }));

/** The number on the Requests tab, as shown. */
const tabCount = async () => ((await page.getByTestId('tab-requests').locator('.count').textContent()) ?? '').trim();
const listCount = async () => Number(await page.getByTestId('request-list').getAttribute('data-count'));
const stored = async (id: string) => (await apiCall<Bin>(app.base, 'GET', `/api/bins/${id}`)).requestCount;

async function fill(bin: Bin, n: number, tag: string) {
  const url = app.reachable(bin.url);
  await hitMany(n, 16, (i) => [`${url}/${tag}/${i}`, { body: `${tag} ${i}` }]);
}

/** Scroll the list to its end until no older page is left. */
async function scrollToEnd() {
  const list = page.getByTestId('request-list');
  const footer = page.getByTestId('list-footer');
  for (let guard = 0; guard < 20; guard++) {
    if ((await footer.textContent())?.startsWith('That is all')) return;
    await list.evaluate((el) => (el.scrollTop = el.scrollHeight));
    await page.waitForTimeout(200);
  }
}

describe('the Requests tab count', () => {
  it("shows how many the bin holds, not the rows loaded, and follows captures and deletions live", async () => {
    const bin = await apiCall<Bin>(app.base, 'POST', '/api/bins', { name: 'counted' });
    await fill(bin, 650, 'n');
    expect(await stored(bin.id)).toBe(650);

    // Reads of the bin itself, to check the live count does not read it per event.
    let binReads = 0;
    page.on('request', (r) => {
      if (r.method() === 'GET' && new URL(r.url()).pathname === `/api/bins/${bin.id}`) binReads++;
    });
    await page.goto(`/bins/${bin.id}`);
    await page.locator('[data-request-id]').first().waitFor();
    await page.locator('[data-testid="connection"][data-state="live"]').waitFor();
    // One page of 200 loaded; the tab says what the bin holds.
    expect(await listCount()).toBe(200);
    await expect.poll(tabCount).toBe('650');
    // The bin tells its cap (MAX_REQUESTS_PER_BIN), for the end of the list.
    expect(bin.maxRequests).toBe(CAP);

    // New captures while the page is open: the count follows.
    const readsBefore = binReads;
    await fill(bin, 40, 'live');
    await expect.poll(tabCount).toBe('690');
    expect(await stored(bin.id)).toBe(690);
    // Deleted by someone else (the API): it drops.
    const newest = (await apiCall<RequestPage>(app.base, 'GET', `/api/bins/${bin.id}/requests?limit=1`)).requests[0];
    await apiCall(app.base, 'DELETE', `/api/bins/${bin.id}/requests/${newest.id}`);
    await expect.poll(tabCount).toBe('689');
    // Past the cap: each new capture pushes the oldest out; the count stays at the cap.
    await fill(bin, 60, 'over');
    expect(await stored(bin.id)).toBe(CAP);
    await expect.poll(tabCount).toBe('700');
    // 101 live events (and 49 evictions): the bin was read a few times, not once per event.
    await page.waitForTimeout(2500);
    expect(binReads - readsBefore).toBeLessThan(15);
    await expect.poll(tabCount).toBe('700');

    // The list's end says what the cap did: 49 were pushed out while the page was open.
    await scrollToEnd();
    expect(await listCount()).toBe(CAP);
    const footer = page.getByTestId('list-footer');
    await expect.poll(async () => footer.textContent()).toBe(
      'That is all the bin keeps: its newest 700 requests (MAX_REQUESTS_PER_BIN); older ones were pushed out as new ones came. 49 were pushed out while this page was open.',
    );
    // Wrapped over lines, it is still wholly in view at the bottom of the list.
    await page.getByTestId('request-list').evaluate((el) => (el.scrollTop = el.scrollHeight));
    await expect
      .poll(() =>
        page.evaluate(() => {
          const l = document.querySelector('[data-testid="request-list"]')!.getBoundingClientRect();
          const f = document.querySelector('[data-testid="list-footer"]')!.getBoundingClientRect();
          return f.height > 0 && f.top >= l.top && f.bottom <= l.bottom + 0.5;
        }),
      )
      .toBe(true);
    await screenshot(page, 'request-count-cap-end');
    // Cleared: nothing left.
    await apiCall(app.base, 'DELETE', `/api/bins/${bin.id}/requests`);
    await expect.poll(tabCount).toBe('0');
    expect(tp.problems).toEqual([]);
  });

  it('says at the end of the list that a bin filled past its cap before the page opened keeps only its newest', async () => {
    const bin = await apiCall<Bin>(app.base, 'POST', '/api/bins', { name: 'full' });
    await fill(bin, CAP + 80, 'n');
    expect(await stored(bin.id)).toBe(CAP);
    await page.goto(`/bins/${bin.id}`);
    await page.locator('[data-request-id]').first().waitFor();
    await expect.poll(tabCount).toBe('700');
    await scrollToEnd();
    expect(await listCount()).toBe(CAP);
    // Pushed out before the page opened: it saw none go, so it cannot say for sure ("any").
    await expect
      .poll(async () => page.getByTestId('list-footer').textContent())
      .toBe('That is all the bin keeps: its newest 700 requests (MAX_REQUESTS_PER_BIN); any older ones were pushed out as new ones came.');

    // With a search, the tab counts the matches loaded so far, as before ("+" while more may match).
    await page.goto(`/bins/${bin.id}?q=n`);
    await page.locator('[data-request-id]').first().waitFor();
    await expect.poll(tabCount).toBe('200+');
    expect(tp.problems).toEqual([]);
  });
});
