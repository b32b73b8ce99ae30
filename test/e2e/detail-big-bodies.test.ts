// Big bodies that are not JSON, in real Chromium on a throttled CPU: a multipart body of
// 17,138 tiny parts, a form of 120,000 fields, 20,000 headers, a 1 MiB binary in hex and a
// 1 MiB text. Drawn all at once they froze the page for seconds (a 6.4 s long task for the
// multipart body, 4.8 s for the form, ~1 s per hex "Show more"); now they are read a slice
// at a time and drawn a page at a time, each page reached with "Show N more".
import http from 'node:http';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bin } from '../../shared/api.ts';
import { CHUNK, KEEP } from '../../client/src/lib/paging.ts';
import { clearLongTasks, LONG_TASK_OBSERVER, longTasks } from '../helpers/ui-perf.ts';
import { type RunningApp, type TestPage, apiCall, hit, launchBrowser, openPage, startApp, stopAppAndPage, tablePairs } from '../helpers/browser.ts';

let app: RunningApp;
let browser: Browser;
let tp: TestPage;
let page: Page;
let bin: Bin;
let target = '';

beforeAll(async () => {
  // Room for 20,000 headers (the defaults stop at 2,000).
  [app, browser] = await Promise.all([startApp({ MAX_HEADER_COUNT: '25000', MAX_HEADER_BYTES: '1048576' }), launchBrowser()]);
  bin = await apiCall<Bin>(app.base, 'POST', '/api/bins', { name: 'big bodies' });
  target = app.reachable(bin.url);
  tp = await openPage(browser, app.base);
  page = tp.page;
  await page.addInitScript({ content: LONG_TASK_OBSERVER });
  await page.goto(`/bins/${bin.id}`);
});

afterAll(() => stopAppAndPage({ app, browser }));

const idOf = (r: { headers: http.IncomingHttpHeaders }) => r.headers['x-hooklab-request-id'] as string;

/**
 * A freeze, not a goal: the sliced views' longest task here is ~100-250 ms on this shared
 * 2-core machine at 4x throttling; drawn at once, these bodies took seconds.
 */
const FREEZE_MS = 1000;

/** Run `act` with the page's CPU 4x slower (a modest laptop); answers the long tasks it caused. */
async function throttled(act: () => Promise<void>): Promise<number[]> {
  await clearLongTasks(page);
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Emulation.setCPUThrottlingRate', { rate: 4 });
  try {
    await act();
    // Let the last slices and their drawing finish inside the measured time.
    await page.waitForTimeout(300);
  } finally {
    await cdp.send('Emulation.setCPUThrottlingRate', { rate: 1 });
    await cdp.detach();
  }
  return longTasks(page);
}

async function open(id: string, ready: string): Promise<number[]> {
  await page.locator(`[data-request-id="${id}"]`).waitFor();
  return throttled(async () => {
    await page.locator(`[data-request-id="${id}"]`).click();
    await page.locator(`[data-testid="request-detail"][data-detail-id="${id}"]`).waitFor();
    await page.locator(ready).first().waitFor({ state: 'attached', timeout: 60_000 });
  });
}

/** Parts in the multipart test's body; the request and a small one sent before it. */
const multipartParts = 17_138;
let multipartId = '';
let smallId = '';
/** Parts a multipart window holds at most (KEEP and a chunk). */
const KEPT = KEEP + CHUNK;
/**
 * Leaving the ~2,000 parts kept for another request took ~200 ms here (unthrottled); with
 * all 17,138 parts in the page it took 6-10 s. The bound includes a click and the next
 * detail's read on a loaded 2-core machine, so well above 10x the good case; the parts count
 * (KEPT, above) is what guards the window itself.
 */
const LEAVE_MS = 4000;

/** A new shared page on the bin (the old one's context closed). */
async function freshSharedPage() {
  await tp.context.close();
  tp = await openPage(browser, app.base);
  page = tp.page;
  await page.addInitScript({ content: LONG_TASK_OBSERVER });
  await page.goto(`/bins/${bin.id}`);
}

const longest = (tasks: number[]) => Math.max(0, ...tasks);
const more = () => page.getByTestId('body-panel').getByTestId('show-more-button');

describe('big bodies in the request detail', () => {
  it('a multipart body of 17,138 tiny parts: read in slices, the first 200 parts drawn, the rest a press away', async () => {
    const b = 'xB';
    const n = multipartParts;
    const body = Array.from({ length: n }, (_, i) => `--${b}\r\nContent-Disposition: form-data; name="p${i}"\r\n\r\nv\r\n`).join('') + `--${b}--\r\n`;
    expect(body.length).toBeGreaterThan(950_000);
    expect(body.length).toBeLessThan(1_048_576);
    // A small request first, for the walk below to leave the multipart one for.
    smallId = idOf(await hit(`${target}/small`, { body: 'small' }));
    const id = idOf(await hit(`${target}/mp`, { headers: { 'content-type': `multipart/form-data; boundary=${b}` }, body }));
    multipartId = id;
    const tasks = await open(id, '[data-testid="multipart"][data-complete="true"]');
    console.log(`multipart, ${n} parts: long tasks ${JSON.stringify(tasks)}`);
    expect(longest(tasks)).toBeLessThan(FREEZE_MS);
    const parts = page.getByTestId('multipart-part');
    expect(await parts.count()).toBe(200);
    expect(await parts.first().locator('strong').textContent()).toBe('p0');
    expect(await page.getByTestId('show-more').textContent()).toBe('Showing 200 of 17,138 parts. Show 1,000 more');
    // Each press draws the next thousand (a chunk per task), without a freeze either.
    const pressed = await throttled(async () => {
      await more().click();
      await page.locator('[data-testid="multipart"][data-drawn="1200"]').waitFor();
    });
    expect(longest(pressed)).toBeLessThan(FREEZE_MS);
    expect(await parts.count()).toBe(1200);
    expect(await parts.nth(1199).locator('strong').textContent()).toBe('p1199');
    // The shared page (1,200 parts drawn) is swapped for a fresh one: the next tests measure
    // their own work only. Closing a context ends its renderer, nothing is taken apart.
    await freshSharedPage();
  }, 120_000);

  it('every one of the 17,138 parts can be reached, no more than ~2,000 kept in the page; leaving them for another request is quick', async () => {
    // A page of its own, closed at the end: a walk through every part leaves nothing behind.
    const walker = await openPage(browser, app.base);
    try {
      const w = walker.page;
      await w.goto(`/bins/${bin.id}/requests/${multipartId}`);
      const pane = w.getByTestId('multipart');
      await w.locator('[data-testid="multipart"][data-complete="true"]').waitFor({ timeout: 60_000 });
      const parts = w.getByTestId('multipart-part');
      const button = w.getByTestId('body-panel').getByTestId('show-more-button');
      const windowNow = async () => ({ from: Number(await pane.getAttribute('data-from')), drawn: Number(await pane.getAttribute('data-drawn')) });
      /** Each window drawn: its first part is part from+1, and it holds drawn-from parts, no more than KEEP + a chunk. */
      const check = async (want: number) => {
        await w
          .locator(`[data-testid="multipart"][data-drawn="${want}"]`)
          .waitFor()
          .catch(async (e: Error) => {
            // Said in full: a press lost or taken twice reads differently from a slow draw.
            const shownNow = await w.getByTestId('show-more').getAttribute('data-shown', { timeout: 1000 }).catch(() => 'no Show more');
            throw new Error(`${want} parts drawn never came: the window is ${JSON.stringify(await windowNow())}, Show more's shown ${shownNow} (${e.message.split('\n')[0]})`);
          });
        const at = await windowNow();
        expect(at.drawn - at.from).toBeLessThanOrEqual(KEPT);
        expect(await parts.count()).toBe(at.drawn - at.from);
        expect(await parts.first().locator('.part-n').textContent()).toBe(`${at.from + 1}.`);
        return at;
      };
      // Walked to the end a press at a time: each window starts at or before where the last one ended.
      let reached = (await check(200)).drawn;
      let windows = 0;
      while (await button.count()) {
        // A click event on the button itself, not a mouse press at its place: under load the parts
        // above it, drawn as they scroll into view (content-visibility), moved it between the
        // press and the release, and the click went nowhere (Show more's count did not move).
        await button.dispatchEvent('click');
        const at = await check(Math.min(multipartParts, reached + 1000));
        expect(at.from).toBeLessThanOrEqual(reached);
        reached = at.drawn;
        windows++;
      }
      expect(reached).toBe(multipartParts);
      expect(windows).toBe(17);
      expect(await parts.last().textContent()).toContain(`17138.p${multipartParts - 1}`);
      // The parts before the window are a press away too.
      const end = await windowNow();
      expect(end.from).toBeGreaterThan(0);
      await w.getByTestId('show-earlier-button').dispatchEvent('click');
      await w.locator(`[data-testid="multipart"][data-drawn="${multipartParts - 1000}"]`).waitFor();
      const back = await windowNow();
      expect(back.from).toBeLessThan(end.from);
      expect(await parts.first().locator('.part-n').textContent()).toBe(`${back.from + 1}.`);

      // Leaving the capture for another request: 17,138 parts in the page took 6-10 s to take
      // out (a frozen tab); the ~2,000 kept take well under a second.
      const t0 = Date.now();
      await w.locator(`[data-request-id="${smallId}"]`).click();
      await w.locator(`[data-testid="request-detail"][data-detail-id="${smallId}"]`).waitFor();
      await w.evaluate(() => new Promise((r) => requestAnimationFrame(r)));
      const took = Date.now() - t0;
      console.log(`leaving ${end.drawn - end.from} drawn parts for another request: ${took} ms`);
      expect(took).toBeLessThan(LEAVE_MS);
    } finally {
      await walker.context.close();
    }
  }, 120_000);

  it('a form of 120,000 fields (stored 1 MiB): read in slices, the first 200 fields drawn, the rest a press away', async () => {
    const body = Array.from({ length: 120_000 }, (_, i) => `f${i}=${i % 10}`).join('&');
    expect(body.length).toBeGreaterThan(1_048_576);
    // The fields in the stored first MiB (the last one cut short).
    const stored = body.slice(0, 1_048_576).split('&');
    const id = idOf(await hit(`${target}/form`, { headers: { 'content-type': 'application/x-www-form-urlencoded' }, body }));
    const tasks = await open(id, '[data-testid="body-panel"] [data-testid="show-more"][data-reading="false"]');
    console.log(`form, ${stored.length} fields: long tasks ${JSON.stringify(tasks)}`);
    expect(longest(tasks)).toBeLessThan(FREEZE_MS);
    const rows = await tablePairs(page, 'form-fields');
    expect(rows.length).toBe(200);
    expect(rows.slice(0, 2)).toEqual([
      ['f0', '0'],
      ['f1', '1'],
    ]);
    expect(await page.getByTestId('body-panel').getByTestId('show-more').getAttribute('data-total')).toBe(String(stored.length));
    const pressed = await throttled(async () => {
      await more().click();
      await expect.poll(async () => (await tablePairs(page, 'form-fields')).length).toBe(1200);
    });
    expect(longest(pressed)).toBeLessThan(FREEZE_MS);
    expect((await tablePairs(page, 'form-fields')).at(-1)).toEqual(['f1199', '9']);
    // Further presses go on from there (the multipart test above walks to the very end).
    // Two presses before the list is drawn again are two pages: each press counted from the
    // rows its render had seen, so the second was lost (three quick presses drew two pages).
    await more().evaluate((b: HTMLButtonElement) => {
      b.click();
      b.click();
    });
    await expect.poll(async () => (await tablePairs(page, 'form-fields')).length).toBe(3200);
    await more().click();
    await expect.poll(async () => (await tablePairs(page, 'form-fields')).at(-1)).toEqual(['f4199', '9']);
    expect(await page.getByTestId('body-panel').getByTestId('show-more').getAttribute('data-shown')).toBe('4200');
  });

  it('20,000 headers: the first 200 drawn, the rest a press away', async () => {
    const headers = Array.from({ length: 20_000 }, (_, i) => [`x-h${i}`, `v${i}`] as [string, string]);
    const id = idOf(await hit(`${target}/headers`, { headers, body: 'h' }));
    const tasks = await open(id, '[data-testid="request-headers"]');
    console.log(`20,000 headers: long tasks ${JSON.stringify(tasks)}`);
    expect(longest(tasks)).toBeLessThan(FREEZE_MS);
    const section = page.getByTestId('headers-section');
    if ((await section.getAttribute('open')) === null) await section.locator('summary').click();
    expect((await tablePairs(page, 'request-headers')).length).toBe(200);
    await section.getByTestId('show-more-button').click();
    await expect.poll(async () => (await tablePairs(page, 'request-headers')).length).toBe(1200);
    const rows = await tablePairs(page, 'request-headers');
    expect(rows).toContainEqual(['x-h1000', 'v1000']);
  });

  it('a 1 MiB binary body in hex, shown further without a freeze, and a 1 MiB text', async () => {
    const bytes = Buffer.from(Array.from({ length: 1_048_576 }, (_, i) => (i * 7919) & 255));
    const id = idOf(await hit(`${target}/bin`, { headers: { 'content-type': 'application/octet-stream' }, body: bytes }));
    const opened = await open(id, '[data-testid="body-hex"]');
    // Two presses before it is drawn again are two pages (the second was lost, as in Show more).
    const lastOffset = () => page.getByTestId('body-hex').evaluate((el) => parseInt(el.textContent!.split('\n').at(-1)!.slice(0, 8), 16));
    const before = await lastOffset();
    await page.getByTestId('hex-more').evaluate((b: HTMLButtonElement) => {
      b.click();
      b.click();
    });
    await expect.poll(lastOffset).toBe(before + 2 * 128 * 1024);
    const presses: number[] = [];
    while (await page.getByTestId('hex-more').count()) presses.push(longest(await throttled(() => page.getByTestId('hex-more').click())));
    console.log(`1 MiB hex: long tasks on open ${JSON.stringify(opened)}, longest per "Show more" ${JSON.stringify(presses)}`);
    expect(longest(opened)).toBeLessThan(FREEZE_MS);
    expect(presses.length).toBeGreaterThan(0);
    expect(longest(presses)).toBeLessThan(FREEZE_MS);
    expect(await page.getByTestId('body-hex').evaluate((el) => el.textContent!.split('\n').at(-1)!.slice(0, 8))).toBe('000ffff0');

    const text = Array.from({ length: 20_000 }, (_, i) => `line ${i} ${'y'.repeat(40)}`).join('\n').slice(0, 1_048_576);
    const tid = idOf(await hit(`${target}/txt`, { headers: { 'content-type': 'text/plain' }, body: text }));
    const textTasks = await open(tid, '[data-testid="body-text"]');
    console.log(`1 MiB text: long tasks ${JSON.stringify(textTasks)}`);
    expect(longest(textTasks)).toBeLessThan(FREEZE_MS);
    expect(await page.getByTestId('body-text').evaluate((el) => el.textContent!.length)).toBe(text.length);
  });
});
