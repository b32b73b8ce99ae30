// Fixes from a UI walkthrough, in real Chromium: a capture the bin's cap pushes out while it is
// open stays readable (and says why it went, not "deleted"); a filter the server refuses in a
// link leaves the bin page working, the error at the filter; leaving a form with unsaved edits
// asks first; a replay says what happened where it was sent from; the dispatcher's "cannot
// reach" goes once the server answers; JSON cut at MAX_BODY_BYTES is said to be incomplete.
import http from 'node:http';
import { readFile } from 'node:fs/promises';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bin } from '../../shared/api.ts';
import { type RunningApp, type TestPage, apiCall, closeAgents, hit, screenshot, startAppAndPage, until } from '../helpers/browser.ts';

const CAP = 5;
let app: RunningApp;
let browser: Browser;
let tp: TestPage;
let page: Page;
let target: http.Server;
let targetBase = '';

beforeAll(async () => {
  ({ app, browser, tp, page } = await startAppAndPage({ MAX_REQUESTS_PER_BIN: String(CAP), MAX_BODY_BYTES: '2048' }));
  target = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(202, { 'content-type': 'text/plain' });
      res.end('accepted');
    });
  });
  await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
  targetBase = `http://127.0.0.1:${(target.address() as { port: number }).port}`;
});

afterAll(async () => {
  target?.closeAllConnections();
  target?.close();
  await browser?.close();
  await app?.stop();
  closeAgents();
});

const idOf = (r: { headers: http.IncomingHttpHeaders }) => r.headers['x-hooklab-request-id'] as string;
const newBin = (name: string) => apiCall<Bin>(app.base, 'POST', '/api/bins', { name });
const send = (bin: Bin, body: string, path = '/in') => hit(`${app.reachable(bin.url)}${path}`, { headers: { 'content-type': 'application/json' }, body });

async function openDetail(bin: Bin, id: string) {
  await page.goto(`/bins/${bin.id}/requests/${id}`);
  await page.locator(`[data-testid="request-detail"][data-detail-id="${id}"]`).waitFor();
  // Joined the bin's room: the bin's URL is shown once the first load is done.
  await until(page, () => !!document.querySelector('[data-testid="copy-url"]'));
}

describe('a capture pushed out by the per-bin cap while open', () => {
  it('stays readable with a notice that the cap pushed it out (not "deleted"); its body can still be copied and downloaded', async () => {
    const bin = await newBin('at its cap');
    const ids: string[] = [];
    for (let i = 0; i < CAP; i++) ids.push(idOf(await send(bin, `{"event":"oldest-${i}","n":${i}}`)));
    await openDetail(bin, ids[0]);
    // Live: a capture shows up in the list, so the room is joined before the evicting ones come.
    const probe = idOf(await send(bin, '{"event":"probe"}'));
    await page.locator(`[data-request-id="${probe}"]`).waitFor();
    // ids[0] was pushed out by the probe already; more come after it.
    for (let i = 0; i < 3; i++) await send(bin, `{"event":"newer-${i}"}`);

    await page.getByTestId('request-evicted').waitFor();
    const notice = await page.getByTestId('request-evicted').textContent();
    expect(notice).toContain('MAX_REQUESTS_PER_BIN');
    expect(notice).toContain('Nobody deleted it');
    expect(await page.getByTestId('request-gone').count()).toBe(0);
    // What was loaded is still there: the body, the headers.
    const detail = page.locator(`[data-testid="request-detail"][data-detail-id="${ids[0]}"]`);
    expect(await detail.getByTestId('body-panel').textContent()).toContain('oldest-0');
    // What needs the stored capture is off; the body downloads from what is on screen.
    expect(await page.getByTestId('replay').isDisabled()).toBe(true);
    expect(await page.getByTestId('copy-har').isDisabled()).toBe(true);
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('download-raw').click()]);
    expect(await readFile((await download.path())!, 'utf8')).toBe('{"event":"oldest-0","n":0}');
    await page.getByTestId('copy-body').click();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe('{"event":"oldest-0","n":0}');
    await screenshot(page, 'walkthrough-evicted-open', true);
  });

  it('an explicit delete still takes the open detail away, saying it was deleted', async () => {
    const bin = await newBin('deletes');
    const id = idOf(await send(bin, '{"event":"to-delete"}'));
    await openDetail(bin, id);
    const probe = idOf(await send(bin, '{"event":"probe"}'));
    await page.locator(`[data-request-id="${probe}"]`).waitFor();
    await apiCall(app.base, 'DELETE', `/api/bins/${bin.id}/requests/${id}`);
    await page.getByTestId('request-gone').waitFor();
    expect(await page.getByTestId('request-gone').textContent()).toContain('It was deleted.');
    expect(await page.getByTestId('request-evicted').count()).toBe(0);
    expect(await page.getByTestId('request-detail').count()).toBe(0);
  });
});

describe('a filter the server refuses, in a link or on reload', () => {
  it('?status=abc: the bin loads and stays live; the server’s message is at the status field', async () => {
    const bin = await newBin('linked with a bad filter');
    await send(bin, '{"event":"one"}');
    await page.goto(`/bins/${bin.id}?status=abc`);
    await page.getByTestId('filter-error').waitFor();
    expect(await page.getByTestId('bin-url').textContent()).toBe(bin.url);
    expect(await page.locator('.bin-name-text').textContent()).toBe('linked with a bad filter');
    await page.getByTestId('rename-bin').waitFor();
    await page.getByTestId('copy-url').waitFor();
    expect(await page.getByTestId('filter-error').textContent()).toContain('must be a status such as 500');
    expect(await page.getByTestId('filter-status').getAttribute('aria-invalid')).toBe('true');
    expect(await page.getByTestId('filter-status').isVisible()).toBe(true);
    // Live: a rename elsewhere shows up here.
    await until(page, () => !!document.querySelector('[data-testid="copy-url"]'));
    await apiCall(app.base, 'PATCH', `/api/bins/${bin.id}`, { name: 'renamed elsewhere' });
    await until(page, () => document.querySelector('.bin-name-text')?.textContent === 'renamed elsewhere');
    await screenshot(page, 'walkthrough-bad-filter');
  });

  it('?status=2XX is a status class in any case: the list shows the matches', async () => {
    const bin = await newBin('upper-case class');
    const id = idOf(await send(bin, '{"event":"two"}'));
    const r = await fetch(`${app.base}/api/bins/${bin.id}/requests?status=2XX`);
    expect(r.status).toBe(200);
    expect(((await r.json()) as { requests: { id: string }[] }).requests.map((x) => x.id)).toEqual([id]);
    await page.goto(`/bins/${bin.id}?status=2XX`);
    await page.locator(`[data-request-id="${id}"]`).waitFor();
    expect(await page.getByTestId('filter-error').count()).toBe(0);
  });

  it('a path typed without its leading slash is searched from it', async () => {
    const bin = await newBin('paths');
    const id = idOf(await send(bin, '{"event":"order"}', '/orders/1'));
    await send(bin, '{"event":"other"}', '/other');
    await page.goto(`/bins/${bin.id}`);
    await page.locator(`[data-request-id="${id}"]`).waitFor();
    await page.locator('.filter-more summary').click();
    await page.getByTestId('filter-path').fill('orders');
    await page.getByTestId('filter-apply').click();
    await until(page, () => new URLSearchParams(location.search).get('path') === '/orders');
    await until(page, () => document.querySelectorAll('[data-request-id]').length === 1);
    expect(await page.locator(`[data-request-id="${id}"]`).count()).toBe(1);
  });

  it("a sender's own method (PURGE) can be filtered by, typed in any case; one no request can have is refused at the field", async () => {
    const bin = await newBin('methods');
    const purge = idOf(await hit(`${app.reachable(bin.url)}/cache`, { method: 'PURGE', body: 'x' }));
    await send(bin, '{"event":"other"}');
    await page.goto(`/bins/${bin.id}`);
    await page.locator(`[data-request-id="${purge}"]`).waitFor();
    await page.locator('.filter-more summary').click();
    await page.getByTestId('filter-method').fill('purge');
    await page.getByTestId('filter-apply').click();
    await until(page, () => new URLSearchParams(location.search).get('method') === 'PURGE');
    await until(page, () => document.querySelectorAll('[data-request-id]').length === 1);
    expect(await page.locator(`[data-request-id="${purge}"]`).count()).toBe(1);
    await page.getByTestId('filter-method').fill('BAD METHOD');
    await page.getByTestId('filter-apply').click();
    await until(page, () => document.querySelector('[data-testid="filter-method"]')?.getAttribute('aria-invalid') === 'true');
    expect(await page.getByTestId('filter-error').textContent()).toMatch(/^method: must be an HTTP method/);
  });
});

describe('leaving a form with unsaved changes', () => {
  it('asks first, on a tab, a link and back; dismissing keeps the edits, accepting leaves', async () => {
    const bin = await newBin('unsaved');
    await page.goto(`/bins/${bin.id}/response`);
    const status = page.getByTestId('default-status');
    await status.waitFor();
    await status.fill('503');
    await until(page, () => document.querySelector('[data-testid="dirty-state"]')?.textContent === 'Unsaved changes');

    const dialogs: string[] = [];
    let answer: 'accept' | 'dismiss' = 'dismiss';
    const onDialog = (d: import('playwright-core').Dialog) => {
      dialogs.push(`${d.type()}: ${d.message()}`);
      void (answer === 'accept' ? d.accept() : d.dismiss());
    };
    page.on('dialog', onDialog);
    try {
      // A tab: dismissed, the edit stays.
      await page.getByTestId('tab-forward').click();
      await expect.poll(() => dialogs.length).toBe(1);
      expect(dialogs[0]).toMatch(/^confirm: .*unsaved changes/i);
      expect(new URL(page.url()).pathname).toBe(`/bins/${bin.id}/response`);
      expect(await status.inputValue()).toBe('503');
      // Reload or close: the browser asks (beforeunload is cancelled).
      expect(await page.evaluate(() => !window.dispatchEvent(new Event('beforeunload', { cancelable: true })))).toBe(true);

      // Accepted: it leaves.
      answer = 'accept';
      await page.getByTestId('tab-forward').click();
      await page.getByTestId('forward-panel').waitFor();
      expect(dialogs).toHaveLength(2);
      // Nothing unsaved on this one: no question, and reload would not ask.
      expect(await page.evaluate(() => !window.dispatchEvent(new Event('beforeunload', { cancelable: true })))).toBe(false);

      // Back with unsaved forward targets: dismissed, the page and the edit stay.
      answer = 'dismiss';
      await page.getByTestId('add-target').click();
      await page.getByTestId('forward-target').first().fill(`${targetBase}/x`);
      await until(page, () => document.querySelector('[data-testid="dirty-forward"]')?.textContent === 'Unsaved changes');
      const entries = await page.evaluate(() => history.length);
      await page.goBack();
      await expect.poll(() => dialogs.length).toBe(3);
      await until(page, (p) => location.pathname === p, `/bins/${bin.id}/forward`);
      expect(new URL(page.url()).pathname).toBe(`/bins/${bin.id}/forward`);
      expect(await page.getByTestId('forward-target').first().inputValue()).toBe(`${targetBase}/x`);
      // Put back by moving the other way, not by a new entry: the history is as it was. With
      // a page ahead (Signatures, then back here, edited): a refused forward keeps it ahead.
      expect(await page.evaluate(() => history.length)).toBe(entries);
      answer = 'accept';
      await page.getByTestId('tab-verify').click();
      await page.getByTestId('verify-panel').waitFor();
      await page.goBack();
      await until(page, (p) => location.pathname === p, `/bins/${bin.id}/forward`);
      await page.getByTestId('add-target').click();
      await page.getByTestId('forward-target').first().fill(`${targetBase}/z`);
      await until(page, () => document.querySelector('[data-testid="dirty-forward"]')?.textContent === 'Unsaved changes');
      answer = 'dismiss';
      await page.goForward();
      await expect.poll(() => dialogs.length).toBe(5);
      await until(page, (p) => location.pathname === p, `/bins/${bin.id}/forward`);
      expect(await page.getByTestId('forward-target').first().inputValue()).toBe(`${targetBase}/z`);
      answer = 'accept';
      await page.goForward();
      await until(page, (p) => location.pathname === p, `/bins/${bin.id}/verify`);
      expect(dialogs).toHaveLength(6);
      await page.goBack();
      await until(page, (p) => location.pathname === p, `/bins/${bin.id}/forward`);
      await page.getByTestId('forward-panel').waitFor();

      // A link elsewhere (the app bar), with unsaved targets again, accepted: gone.
      await page.getByTestId('add-target').click();
      await page.getByTestId('forward-target').first().fill(`${targetBase}/y`);
      await until(page, () => document.querySelector('[data-testid="dirty-forward"]')?.textContent === 'Unsaved changes');
      await page.getByTestId('nav-dispatcher').click();
      await until(page, () => location.pathname === '/dispatcher');
      expect(dialogs).toHaveLength(7);

      // The webhook form too.
      await page.getByTestId('add-webhook').click();
      await page.getByTestId('webhook-name').fill('half-made');
      answer = 'dismiss';
      await page.getByRole('link', { name: 'Bins', exact: true }).click();
      await expect.poll(() => dialogs.length).toBe(8);
      expect(new URL(page.url()).pathname).toBe('/dispatcher');
      expect(await page.getByTestId('webhook-name').inputValue()).toBe('half-made');
      answer = 'accept';
      await page.getByRole('link', { name: 'Bins', exact: true }).click();
      await until(page, () => location.pathname === '/');
      expect(dialogs).toHaveLength(9);
    } finally {
      page.off('dialog', onDialog);
    }
  });
});

describe('a refused back across an entry the browser made (the skip link\'s #main)', () => {
  it('leaves the address on the page on screen', async () => {
    const bin = await newBin('skip link');
    await page.goto(`/bins/${bin.id}`);
    await page.getByTestId('tab-verify').click();
    await page.getByTestId('verify-panel').waitFor();
    await page.evaluate(() => (document.querySelector('.skip-link') as HTMLAnchorElement).click());
    await until(page, () => location.hash === '#main');
    await page.getByTestId('tab-forward').click();
    await page.getByTestId('forward-panel').waitFor();
    await page.getByTestId('add-target').click();
    await page.getByTestId('forward-target').first().fill(`${targetBase}/s`);
    await until(page, () => document.querySelector('[data-testid="dirty-forward"]')?.textContent === 'Unsaved changes');
    let asked = 0;
    const onDialog = (d: import('playwright-core').Dialog) => {
      asked++;
      void d.dismiss();
    };
    page.on('dialog', onDialog);
    try {
      // Two entries back at once (a long press on Back): Signatures, past the #main entry.
      await page.evaluate(() => history.go(-2));
      await expect.poll(() => asked).toBe(1);
      await until(page, (p) => location.pathname === p, `/bins/${bin.id}/forward`);
      expect(await page.getByTestId('forward-target').first().inputValue()).toBe(`${targetBase}/s`);
    } finally {
      page.off('dialog', onDialog);
    }
  });
});

describe('replay says what happened, where it was sent from', () => {
  it('an answer and a refusal are said under the buttons, and the new record is marked under Forwards', async () => {
    const bin = await newBin('replays');
    const big = JSON.stringify({ event: 'long', lines: Array.from({ length: 60 }, (_, i) => ({ i, text: 'x'.repeat(10) })) });
    const id = idOf(await send(bin, big.slice(0, 2000)));
    await openDetail(bin, id);

    await page.getByTestId('replay').click();
    await page.getByTestId('replay-url').fill(`${targetBase}/ok`);
    await page.getByTestId('replay-send').click();
    const result = page.getByTestId('replay-result');
    await result.waitFor();
    expect(await result.textContent()).toContain(`${targetBase}/ok/in`);
    expect(await result.textContent()).toContain('answered 202');
    expect(await result.isVisible()).toBe(true);
    // Right under the Replay button, in view without scrolling.
    expect(await result.evaluate((el) => el.getBoundingClientRect().top < window.innerHeight)).toBe(true);
    await page.getByTestId('replay-result-show').click();
    const fresh = page.locator('[data-testid="forward-record"][data-fresh="true"]');
    await expect.poll(() => fresh.count()).toBe(1);
    expect(await fresh.textContent()).toContain(`${targetBase}/ok/in`);
    await until(page, () => {
      const r = document.querySelector('[data-testid="forward-record"][data-fresh="true"]')!.getBoundingClientRect();
      return r.top >= 0 && r.bottom <= window.innerHeight;
    });

    // Refused: said in words, in place.
    await page.getByTestId('edit-replay').click();
    await page.getByTestId('replay-url').fill('http://127.0.0.1:9/nothing-here');
    await page.getByTestId('replay-send').click();
    await until(page, () => document.querySelector('[data-testid="replay-result"]')?.getAttribute('data-failed') === 'true');
    expect(await result.textContent()).toContain('connection refused');
    await screenshot(page, 'walkthrough-replay-result');
  });
});

describe('polish', () => {
  it('the dispatcher’s "Cannot reach the hooklab server" goes once the server answers again', async () => {
    await page.goto('/dispatcher');
    await until(page, () => document.querySelector('.dispatcher')?.getAttribute('data-joined') === 'true');
    // Starting a run while the server cannot be reached (no API call gets there: one of the
    // page's own reads answered meanwhile would say the server is back, and clear the message
    // before it could be seen)...
    await page.route('**/api/**', (r) => r.abort('connectionrefused'));
    await page.getByTestId('run-flow').click();
    await until(page, () => document.querySelector('[data-testid="run-message"]')?.textContent?.includes('Cannot reach the hooklab server'));
    // ...then the server answers something else: the message is no longer true, and goes.
    await page.unroute('**/api/**');
    await page.getByTestId('pause').click();
    await until(page, () => !document.querySelector('[data-testid="run-message"]'));
    await page.getByTestId('pause').click();
  });

  it('JSON cut at MAX_BODY_BYTES says it is incomplete, not invalid', async () => {
    const bin = await newBin('cut');
    const body = JSON.stringify({ event: 'big', items: Array.from({ length: 300 }, (_, i) => ({ i })) });
    expect(body.length).toBeGreaterThan(2048);
    const id = idOf(await send(bin, body));
    await openDetail(bin, id);
    await page.getByTestId('json-cut').waitFor();
    expect(await page.getByTestId('json-error').count()).toBe(0);
    expect(await page.getByTestId('body-text').textContent()).toBe(body.slice(0, 2048));
  });
});

describe('a sender that hangs up before a slow answer goes (from a retry-lab walkthrough)', () => {
  it('its row says so, live, and the detail says when; the answer it never got is not shown as received', async () => {
    const bin = await newBin('slow for its sender');
    await apiCall(app.base, 'PUT', `/api/bins/${bin.id}/response`, { default: { status: 200, delayMs: 4000 } });
    await page.goto(`/bins/${bin.id}`);
    await until(page, () => !!document.querySelector('[data-testid="copy-url"]'));
    // A sender with a 500 ms timeout: it gives up and closes.
    const u = new URL(app.reachable(bin.url) + '/slow');
    const id = await new Promise<string>((resolve, reject) => {
      const req = http.request(u, { method: 'POST', headers: { 'content-type': 'application/json' } }, () => reject(new Error('answered')));
      req.on('error', () => {});
      req.end('{"event":"slow"}');
      setTimeout(() => req.destroy(), 500);
      // Its id, from the capture the page shows.
      void until(page, () => !!document.querySelector('[data-request-id]')).then(async () => resolve((await page.locator('[data-request-id]').first().getAttribute('data-request-id'))!));
    });
    const row = page.locator(`[data-request-id="${id}"]`);
    await row.getByTestId('hung-up-mark').waitFor();
    expect(await row.getByTestId('hung-up-mark').textContent()).toBe('sender hung up');
    // The 200 it was to get is shown as not sent, not as a success.
    expect(await row.getByTestId('status-not-sent').textContent()).toBe('200, not sent: the sender hung up first');
    await row.click();
    const why = page.getByTestId('hung-up');
    await why.waitFor();
    expect(await why.textContent()).toMatch(/the sender hung up \d+(\.\d+)? ?(ms|s) after its request arrived, before this answer went: it never got it/);
    await screenshot(page, 'walkthrough-hung-up', true);
  });
});
