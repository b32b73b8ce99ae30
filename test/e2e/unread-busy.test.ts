// The unread count on a busy bin, in real Chromium: the title's "(N)" and the tab's "N new"
// count every capture that arrived since the page opened and was not opened, however many rows
// the list keeps in memory (it trims a long one, paging older rows again on scroll), and a
// filter changed meanwhile leaves it as it is: unread is about the bin's captures, not the rows.
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bin } from '../../shared/api.ts';
import { type RunningApp, apiCall, hitMany, launchBrowser, openPage, startApp, stopAppAndPage, until } from '../helpers/browser.ts';

let app: RunningApp;
let browser: Browser;

beforeAll(async () => {
  [app, browser] = await Promise.all([startApp({ MAX_REQUESTS_PER_BIN: '12000' }), launchBrowser()]);
});

afterAll(() => stopAppAndPage({ app, browser }));

// Past what the list keeps in memory (3,000 rows, trimmed once 500 more came).
const BURST = 4000;

describe('unread on a busy bin', () => {
  it('counts every capture since the page opened, past the rows kept, and keeps the count across a filter change', async () => {
    const bin = await apiCall<Bin>(app.base, 'POST', '/api/bins', { name: 'busy' });
    const url = app.reachable(bin.url);
    await hitMany(10, 4, (i) => [`${url}/before/${i}`, { body: String(i) }]);
    const tp = await openPage(browser, app.base);
    const { page } = tp;
    await page.goto(`/bins/${bin.id}`);
    await page.locator('[data-testid="connection"][data-state="live"]').waitFor();
    await page.locator('[data-request-id]').first().waitFor();
    expect(await page.title()).toBe('busy · hooklab');

    // Every fourth a PUT: the filter below matches some of them.
    await hitMany(BURST, 16, (i) => [`${url}/burst/${i}`, { method: i % 4 ? 'POST' : 'PUT', body: String(i) }]);
    await until(page, () => document.querySelector('[data-testid="request-count"]')?.textContent === '4,010');
    await until(page, (n) => document.title === `(${n}) busy · hooklab`, BURST);
    expect(await page.getByTestId('unread-count').textContent()).toBe('4,000 new');
    // The list kept fewer rows than arrived: the count is not theirs.
    expect(Number(await page.getByTestId('request-list').getAttribute('data-count'))).toBeLessThan(BURST);

    // A filter on, then off: the same unread captures.
    await page.locator('.filter-more summary').click();
    await page.getByTestId('filter-method').fill('PUT');
    await page.getByTestId('filter-apply').click();
    await page.waitForURL(/method=PUT/);
    await page.locator('[data-request-id]').first().waitFor();
    expect(await page.title()).toBe(`(${BURST}) busy · hooklab`);
    // The rows shown are marked unread as before.
    expect(await page.locator('[data-request-id]').first().getAttribute('data-unread')).toBe('true');
    await page.getByTestId('filter-clear').click();
    await page.waitForURL((u) => !u.search.includes('method'));
    await page.locator('[data-request-id]').first().waitFor();
    expect(await page.title()).toBe(`(${BURST}) busy · hooklab`);

    // Opening one reads it.
    await page.locator('[data-request-id]').first().click();
    await until(page, (n) => document.title === `(${n - 1}) busy · hooklab`, BURST);
    await page.getByTestId('mark-all-read').click();
    await until(page, () => document.title === 'busy · hooklab');
    expect(tp.problems).toEqual([]);
    await tp.context.close();
  });
});
