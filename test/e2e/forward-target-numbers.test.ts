// "Forward to…" in real Chromium: a target typed twice is marked on its row with the other row
// named as the form labels it ("is Target 2 again"); it said "is targets[1] again", the API's
// index counting from 0 (after blank rows were dropped), under Target 3.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bin } from '../../shared/api.ts';
import { type RunningApp, type TestPage, apiCall, screenshot, startAppAndPage, stopAppAndPage } from '../helpers/browser.ts';

let app: RunningApp;
let browser: Browser;
let tp: TestPage;
let page: Page;

beforeAll(async () => {
  ({ app, browser, tp, page } = await startAppAndPage());
});

afterAll(() => stopAppAndPage({ app, browser }));

describe('"Forward to…" names a duplicate target by the form\'s numbering', () => {
  it('Target 3 repeating Target 2 says "is Target 2 again"; with a blank row between, the rows as shown', async () => {
    const bin = await apiCall<Bin>(app.base, 'POST', '/api/bins', { name: 'numbers' });
    await page.goto(`/bins/${bin.id}/forward`);
    await page.getByTestId('forward-panel').waitFor();
    // Port 9 (discard): nothing is sent, the settings are refused first.
    const rows = ['http://127.0.0.1:9/one', 'http://127.0.0.1:9/a', 'http://127.0.0.1:9/a'];
    for (const [i, url] of rows.entries()) {
      await page.getByTestId('add-target').click();
      await page.getByTestId('forward-target').nth(i).fill(url);
    }
    await page.getByTestId('save-forward').click();
    const err = page.locator('[data-field="targets[2].url"] [data-testid="field-error"]');
    await err.waitFor();
    expect(await err.textContent()).toContain('is Target 2 again');
    expect(await err.textContent()).not.toContain('targets[');
    await screenshot(page, 'forward-target-numbers');

    // A blank row 2 (dropped before sending): row 4, a trailing "/" more, repeats row 3.
    await page.getByTestId('forward-target').nth(1).fill('');
    await page.getByTestId('forward-target').nth(2).fill('http://127.0.0.1:9/b');
    await page.getByTestId('add-target').click();
    await page.getByTestId('forward-target').nth(3).fill('http://127.0.0.1:9/b/');
    await page.getByTestId('save-forward').click();
    const err4 = page.locator('[data-field="targets[3].url"] [data-testid="field-error"]');
    await err4.waitFor();
    expect(await err4.textContent()).toContain('is Target 3 again');
    expect((await apiCall<{ targets: unknown[] }>(app.base, 'GET', `/api/bins/${bin.id}/forward`)).targets).toEqual([]);
    // The two refused saves, and nothing else.
    expect(tp.problems).toEqual(Array(2).fill('console: Failed to load resource: the server responded with a status of 400 (Bad Request)'));
  });
});
