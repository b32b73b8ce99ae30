// What a screen reader hears while captures stream in, in real Chromium: every change to a
// live region (aria-live, role=status/log/alert) is counted with a MutationObserver. A burst
// of captures must be told (the request list had no live region at all), and told in a few
// calm announcements, not one per capture (the plan position was read out at every capture).
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bin } from '../../shared/api.ts';
import { type RunningApp, type TestPage, apiCall, hit, startAppAndPage, stopAppAndPage, until } from '../helpers/browser.ts';

let app: RunningApp;
let browser: Browser;
let tp: TestPage;
let page: Page;

beforeAll(async () => {
  ({ app, browser, tp, page } = await startAppAndPage());
});

afterAll(() => stopAppAndPage({ app, browser }));

const BURST = 30;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Captures spread over a second or two, as a busy sender sends them. */
async function burst(url: string) {
  for (let i = 0; i < BURST; i++) {
    await hit(`${url}/burst/${i}`, { body: '{}' });
    await sleep(40);
  }
}

/**
 * Start counting live-region changes: one per observer callback (one per render) that touched
 * a live region, with the region's text after it. A string, for the page (see overflowing()).
 */
function watchLiveRegions(p: Page) {
  return p.evaluate(`(() => {
    const live = '[aria-live]:not([aria-live="off"]), [role=status], [role=log], [role=alert]';
    window.liveChanges = [];
    new MutationObserver((records) => {
      const regions = new Set();
      for (const r of records) {
        const el = r.target.nodeType === 1 ? r.target : r.target.parentElement;
        const region = el && el.closest(live);
        if (region) regions.add(region);
      }
      for (const region of regions) window.liveChanges.push((region.getAttribute('data-testid') || region.tagName) + ': ' + region.textContent);
    }).observe(document.body, { subtree: true, childList: true, characterData: true });
  })()`);
}
const liveChanges = (p: Page) => p.evaluate(() => (window as unknown as { liveChanges: string[] }).liveChanges);

describe('live announcements during a burst of captures', () => {
  it('the request list tells new requests in a few summaries, all of them counted', async () => {
    const bin = await apiCall<Bin>(app.base, 'POST', '/api/bins', { name: 'busy' });
    await page.goto(`/bins/${bin.id}`);
    await page.locator('[data-testid="connection"][data-state="live"]').waitFor();
    await watchLiveRegions(page);
    await burst(app.reachable(bin.url));
    await until(page, (n) => document.querySelector('[data-testid="request-list"]')?.getAttribute('data-count') === String(n), BURST);
    // Every capture is in some announcement: the summaries add up to the burst.
    const told = (changes: string[]) =>
      changes.filter((c) => c.startsWith('list-announcer: ')).reduce((sum, c) => sum + Number(/^list-announcer: (\d+) new request/.exec(c)?.[1] ?? 0), 0);
    await expect.poll(async () => told(await liveChanges(page)), { timeout: 30_000 }).toBe(BURST);
    const changes = await liveChanges(page);
    // The first at once, the rest summed up every few seconds: a handful, not one per capture.
    expect(changes.length, changes.join('\n')).toBeLessThanOrEqual(6);
    expect(changes[0]).toMatch(/^list-announcer: (1 new request: POST \/burst\/0|\d+ new requests)$/);
    expect(changes.at(-1)).toMatch(/^list-announcer: \d+ new requests$/);
    // Said, not shown: the region is visually hidden.
    expect(await page.getByTestId('list-announcer').evaluate((el) => el.getBoundingClientRect().width)).toBeLessThanOrEqual(1);
  });

  it('the plan position is not read out at every capture; its latest state is told calmly', async () => {
    const bin = await apiCall<Bin>(app.base, 'POST', '/api/bins', { name: 'failing' });
    await apiCall(app.base, 'PUT', `/api/bins/${bin.id}/response`, { default: { status: 200 }, plan: [{ status: 500, times: 100 }] });
    await page.goto(`/bins/${bin.id}/response`);
    await until(page, () => document.querySelector('[data-testid="plan-position"]')?.getAttribute('data-consumed') === '0');
    await page.locator('[data-testid="connection"][data-state="live"]').waitFor();
    await watchLiveRegions(page);
    await burst(app.reachable(bin.url));
    await until(page, (n) => document.querySelector('[data-testid="plan-position"]')?.getAttribute('data-consumed') === String(n), BURST);
    await expect.poll(async () => (await liveChanges(page)).at(-1) ?? '', { timeout: 30_000 }).toContain(`${BURST} of 100 used`);
    const changes = await liveChanges(page);
    expect(changes.length, changes.join('\n')).toBeLessThanOrEqual(6);
    expect(changes.every((c) => c.startsWith('position-announcer: Next matching request meets step 1 of 1 (500, ×100)')), changes.join('\n')).toBe(true);
  });
});
