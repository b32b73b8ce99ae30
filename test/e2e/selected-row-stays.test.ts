// A selected row at the top of the list stays in view while new captures stream in, in real
// Chromium: at the top the list follows the newest rows, but not with the selection under the
// user's eyes (Home during a stream picked the newest, then the next batch pushed it out of
// view); the "N new" button above says how many came and jumps to them.
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bin } from '../../shared/api.ts';
import { type RunningApp, apiCall, hitMany, launchBrowser, openPage, startApp, stopAppAndPage, until } from '../helpers/browser.ts';

let app: RunningApp;
let browser: Browser;

beforeAll(async () => {
  [app, browser] = await Promise.all([startApp(), launchBrowser()]);
});

afterAll(() => stopAppAndPage({ app, browser }));

/** Is the row of `id` drawn and wholly inside the list's scroll view? */
const inView = (id: string) => {
  const list = document.querySelector('[data-testid="request-list"]');
  const row = document.querySelector(`[data-request-id="${id}"]`);
  if (!list || !row) return false;
  const l = list.getBoundingClientRect();
  const r = row.getBoundingClientRect();
  return r.top >= l.top - 0.5 && r.bottom <= l.bottom + 0.5;
};

describe('the selected row at the top', () => {
  it('stays in view as new rows come above it; "N new" jumps to them', async () => {
    const bin = await apiCall<Bin>(app.base, 'POST', '/api/bins', { name: 'stream' });
    const url = app.reachable(bin.url);
    await hitMany(30, 4, (i) => [`${url}/before/${i}`, { body: String(i) }]);
    const tp = await openPage(browser, app.base);
    const { page } = tp;
    await page.goto(`/bins/${bin.id}`);
    await page.locator('[data-testid="connection"][data-state="live"]').waitFor();
    const first = page.locator('[data-request-id]').first();
    const newest = (await first.getAttribute('data-request-id'))!;
    await first.click();
    await page.getByTestId('request-list').press('Home');
    await page.locator(`[data-testid="request-detail"][data-detail-id="${newest}"]`).waitFor();
    expect(await page.getByTestId('request-list').evaluate((el) => el.scrollTop)).toBe(0);

    await hitMany(40, 4, (i) => [`${url}/stream/${i}`, { body: String(i) }]);
    await until(page, () => document.querySelector('[data-testid="request-list"]')?.getAttribute('data-count') === '70');
    expect(await page.evaluate(inView, newest)).toBe(true);
    expect(await page.getByTestId('new-above').textContent()).toBe('↑ 40 new');

    await page.getByTestId('new-above').click();
    await until(page, () => document.querySelector('[data-testid="request-list"]')?.scrollTop === 0);
    expect(await page.getByTestId('new-above').count()).toBe(0);
    expect(tp.problems).toEqual([]);
    await tp.context.close();
  });
});
