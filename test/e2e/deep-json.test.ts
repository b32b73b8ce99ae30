// JSON nested absurdly deep, in real Chromium: anyone who knows a bin's URL can send it.
// 100 KB of "[[[…]]]" 50,000 deep crashed the tab that opened it (its pretty text, indented by
// depth, ran to billions of characters); 90 KB of padding and 8,000 levels kept the page busy
// for over 18 s; "Expand all" on 2,000 levels overflowed the stack. Past 500 levels every view
// now says so and shows the text as sent.
import http from 'node:http';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bin } from '../../shared/api.ts';
import { type RunningApp, type TestPage, apiCall, hit, screenshot, startAppAndPage, stopAppAndPage } from '../helpers/browser.ts';

let app: RunningApp;
let browser: Browser;
let tp: TestPage;
let page: Page;
let bin: Bin;
let target = '';
let crashed = false;

beforeAll(async () => {
  ({ app, browser, tp, page } = await startAppAndPage());
  page.on('crash', () => (crashed = true));
  bin = await apiCall<Bin>(app.base, 'POST', '/api/bins', { name: 'deep json' });
  target = app.reachable(bin.url);
  await page.goto(`/bins/${bin.id}`);
});

afterAll(() => stopAppAndPage({ app, browser }));

const idOf = (r: { headers: http.IncomingHttpHeaders }) => r.headers['x-hooklab-request-id'] as string;
const send = async (body: string) => idOf(await hit(`${target}/deep`, { headers: { 'content-type': 'application/json' }, body }));
const nested = (n: number) => '['.repeat(n) + ']'.repeat(n);

/**
 * A round trip to the page: answers in milliseconds unless its main thread is stuck (or the tab
 * is gone). Bounded at 5 s: the freezes it guards against were 8 s and more, and a loaded
 * 2-core machine delays a healthy page too.
 */
async function roundTripMs(): Promise<number> {
  const t0 = Date.now();
  await Promise.race([page.evaluate(() => 1), new Promise((_, reject) => setTimeout(() => reject(new Error('the page did not answer in 10 s')), 10_000))]);
  return Date.now() - t0;
}

async function open(id: string) {
  await page.locator(`[data-request-id="${id}"]`).click();
  await page.locator(`[data-testid="request-detail"][data-detail-id="${id}"]`).waitFor();
}

describe('deeply nested JSON', () => {
  it('100 KB nested 50,001 deep: the tab stays up and responsive, says why it is not formatted, shows the text', async () => {
    const body = nested(50_001);
    expect(body.length).toBeGreaterThan(100_000); // the big-body path
    const id = await send(body);
    await open(id);
    // The crash took ~8 s: give it the time to happen, answering all along.
    for (let k = 0; k < 5; k++) {
      expect(await roundTripMs()).toBeLessThan(5000);
      await page.waitForTimeout(1000);
    }
    expect(crashed).toBe(false);
    const err = page.getByTestId('json-error');
    await err.waitFor({ timeout: 10_000 });
    expect(await err.textContent()).toMatch(/^Too deeply nested to format — line 1, column 502: Nested more than 500 levels deep/);
    // The raw text is still there to read (in blocks drawn as they scroll into view).
    expect(await page.getByTestId('body-panel').getByTestId('body-text').evaluate((el) => el.textContent!.length)).toBe(body.length);
    await screenshot(page, 'deep-json-large');
  }, 60_000);

  it('90 KB of padding, then 8,000 levels: the message comes at once, the page answers', async () => {
    const body = `{"pad":"${'x'.repeat(90_000)}","n":${nested(8000)}}`;
    const id = await send(body);
    const t0 = Date.now();
    await open(id);
    await page.getByTestId('json-error').waitFor({ timeout: 10_000 });
    console.log(`deep json: message after ${Date.now() - t0} ms`);
    expect(await page.getByTestId('json-error').textContent()).toContain('Nested more than 500 levels deep');
    expect(await roundTripMs()).toBeLessThan(5000);
    expect(crashed).toBe(false);
  }, 60_000);

  it('a small body past 500 levels says the same as a big one, not "Not valid JSON" (it is valid)', async () => {
    await open(await send(nested(600)));
    expect(await page.getByTestId('json-error').textContent()).toMatch(/^Too deeply nested to format — line 1, column 502: Nested more than 500 levels deep/);
    expect(await page.getByTestId('body-panel').getByTestId('body-text').textContent()).toBe(nested(600));
  });

  it('the tree: "Expand all" on 2,000 levels (it overflowed the stack) opens the first 100, the rest one at a time', async () => {
    await open(await send(nested(2000)));
    await page.getByTestId('view-tree').click();
    const expand = page.getByTestId('expand-all');
    expect(await expand.getAttribute('title')).toBe('Opens the first 100 levels: deeper ones open one at a time');
    await expand.click();
    // A hundred levels in are indented past the pane's width: attached, not visible.
    await page.locator('.jt-branch[data-depth="100"]').waitFor({ state: 'attached' });
    expect(await page.locator('.jt-toggle[aria-expanded="true"]').count()).toBe(100);
    expect(await page.locator('.jt-branch[data-depth="100"] > .jt-toggle').getAttribute('aria-expanded')).toBe('false');
    // Deeper, by hand.
    await page.locator('.jt-branch[data-depth="100"] > .jt-toggle').dispatchEvent('click');
    await page.locator('.jt-branch[data-depth="101"]').waitFor({ state: 'attached' });
    expect(tp.problems).toEqual([]);
    expect(crashed).toBe(false);
    await screenshot(page, 'deep-json-tree');
  }, 60_000);
});
