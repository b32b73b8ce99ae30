// Issue 13's UI in real Chromium: "Forward to…" on the bin page (targets, proxy mode), each
// request's Forwards (kind, URL, status or error, time, the answer's first bytes) arriving
// live, Replay to the targets or a typed URL, Edit & replay, and a bulk replay with progress.
import http from 'node:http';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bin, RequestDetail } from '../../shared/api.ts';
import { type RunningApp, type TestPage, apiCall, closeAgents, hit, launchBrowser, openPage, overflowing, screenshot, startApp, until } from '../helpers/browser.ts';

interface Got {
  method: string;
  url: string;
  headers: string[];
  body: string;
}

let app: RunningApp;
let browser: Browser;
let tp: TestPage;
let page: Page;
let target: http.Server;
let targetBase = '';
const got: Got[] = [];
/** The target answers after this long (ms), so a forward can be seen arriving. */
let delay = 0;

beforeAll(async () => {
  [app, browser] = await Promise.all([startApp(), launchBrowser()]);
  tp = await openPage(browser, app.base);
  page = tp.page;
  target = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      got.push({ method: req.method!, url: req.url!, headers: req.rawHeaders, body: Buffer.concat(chunks).toString() });
      setTimeout(() => {
        res.writeHead(201, { 'content-type': 'text/plain', 'x-target': 'yes' });
        res.end(`target says hi to ${req.method} ${req.url}`);
      }, delay);
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

const idOf = (r: { headers: Record<string, unknown> }) => r.headers['x-hooklab-request-id'] as string;
const records = () => page.getByTestId('forward-record');
const recordCount = (n: number) => until(page, (want) => document.querySelectorAll('[data-testid="forward-record"]').length === want, n);

describe('forward and replay', () => {
  let bin: Bin;
  let url = '';
  let first = '';

  it('sets forward targets on the bin page; a capture’s forward shows up in its detail live', async () => {
    bin = await apiCall<Bin>(app.base, 'POST', '/api/bins', { name: 'relay' });
    url = app.reachable(bin.url);
    await page.goto(`/bins/${bin.id}/forward`);
    await page.getByTestId('forward-panel').waitFor();
    await page.getByTestId('add-target').click();
    await page.getByTestId('forward-target').fill(`${targetBase}/in`);
    await page.getByTestId('save-forward').click();
    await page.getByTestId('forward-status').waitFor();
    expect(await apiCall(app.base, 'GET', `/api/bins/${bin.id}/forward`)).toEqual({ targets: [{ url: `${targetBase}/in` }], answerWith: 'bin' });
    // The one-line explanation of proxy mode is there.
    expect(await page.getByTestId('forward-panel').textContent()).toContain('proxy mode');
    await screenshot(page, 'forward-settings');

    await page.getByTestId('tab-requests').click();
    await page.locator('[data-testid="connection"][data-state="live"]').waitFor();
    delay = 1500;
    first = idOf(await hit(`${url}/orders?x=1`, { headers: { 'content-type': 'application/json' }, body: '{"order":1}' }));
    await page.locator(`[data-request-id="${first}"]`).click();
    await page.locator(`[data-testid="request-detail"][data-detail-id="${first}"]`).waitFor();
    // The target is still thinking: nothing yet; then it arrives without a reload.
    await recordCount(1);
    delay = 0;
    const r = records().first();
    expect(await r.getAttribute('data-kind')).toBe('forward');
    expect(await r.getAttribute('data-status')).toBe('201');
    expect(await r.textContent()).toContain(`POST ${targetBase}/in/orders?x=1`);
    expect(await r.textContent()).toMatch(/in \d/);
    await r.locator('summary').click();
    expect(await r.getByTestId('forward-body').textContent()).toContain('target says hi to POST /in/orders?x=1');
    expect(got.at(-1)).toMatchObject({ method: 'POST', url: '/in/orders?x=1', body: '{"order":1}' });
  });

  it('replays to the targets and to a typed URL', async () => {
    await page.getByTestId('replay').click();
    await page.getByTestId('replay-send').click();
    await recordCount(2);
    expect(await records().nth(1).getAttribute('data-kind')).toBe('replay');
    expect(got.at(-1)).toMatchObject({ method: 'POST', url: '/in/orders?x=1' });

    await page.getByTestId('replay').click();
    await page.getByTestId('replay-url').fill(`${targetBase}/typed`);
    await page.getByTestId('replay-send').click();
    await recordCount(3);
    expect(await records().nth(2).textContent()).toContain(`${targetBase}/typed/orders?x=1`);
    expect(got.at(-1)).toMatchObject({ url: '/typed/orders?x=1', body: '{"order":1}' });
  });

  it('edits before replaying: method, sub-path, headers, body', async () => {
    await page.getByTestId('edit-replay').click();
    const form = page.getByTestId('edit-replay-form');
    await form.getByTestId('replay-method').fill('PUT');
    await form.getByTestId('replay-path').fill('/orders/1?edited=yes');
    const headers = await form.getByTestId('replay-headers').inputValue();
    await form.getByTestId('replay-headers').fill(`${headers}\nX-Edited: by hand`);
    await form.getByTestId('replay-body').fill('{"order":1,"edited":true}');
    await form.getByTestId('replay-send').click();
    await recordCount(4);
    const r = records().nth(3);
    expect(await r.textContent()).toContain('edited');
    expect(await r.textContent()).toContain(`PUT ${targetBase}/in/orders/1?edited=yes`);
    const last = got.at(-1)!;
    expect(last).toMatchObject({ method: 'PUT', url: '/in/orders/1?edited=yes', body: '{"order":1,"edited":true}' });
    expect(last.headers).toEqual(expect.arrayContaining(['X-Edited', 'by hand']));
    // Stored with the capture.
    const d = await apiCall<RequestDetail>(app.base, 'GET', `/api/bins/${bin.id}/requests/${first}`);
    expect(d.forwards.map((f) => [f.kind, f.edited])).toEqual([
      ['forward', false],
      ['replay', false],
      ['replay', false],
      ['replay', true],
    ]);
    await screenshot(page, 'forward-records', true);
  });

  it('says where a replay could not go, in place', async () => {
    const lonely = await apiCall<Bin>(app.base, 'POST', '/api/bins', { name: 'no targets' });
    const id = idOf(await hit(`${app.reachable(lonely.url)}/x`, { body: 'x' }));
    await page.goto(`/bins/${lonely.id}/requests/${id}`);
    await page.getByTestId('replay').click();
    await page.getByTestId('replay-send').click();
    const err = page.locator('[data-field="url"] [data-testid="field-error"]');
    await err.waitFor();
    expect(await err.textContent()).toContain('no forward targets');
    // A target that refuses: the record says so.
    await page.getByTestId('replay-url').fill('http://127.0.0.1:9/nothing-here');
    await page.getByTestId('replay-send').click();
    await recordCount(1);
    expect(await records().first().getAttribute('data-error')).toBe('refused');
    expect(await records().first().getByTestId('forward-error').textContent()).toContain('connection refused');
  });

  it('replays the whole bin, or the filtered requests, with progress', async () => {
    await page.goto(`/bins/${bin.id}`);
    for (let i = 0; i < 4; i++) await hit(`${url}/bulk/${i}`, { body: `bulk ${i}` });
    await until(page, () => document.querySelector('[data-testid="request-list"]')?.getAttribute('data-count') === '5');
    const before = got.length;
    await page.getByTestId('bin-tools').click();
    await page.getByTestId('bulk-replay').click();
    const progress = page.locator('[data-testid="replay-progress"][data-state="finished"]');
    await progress.waitFor();
    expect([await progress.getAttribute('data-done'), await progress.getAttribute('data-total'), await progress.getAttribute('data-failed')]).toEqual(['5', '5', '0']);
    expect(got.length - before).toBe(5);

    // Only what the filter shows.
    await page.goto(`/bins/${bin.id}?path=/bulk`);
    await until(page, () => document.querySelector('[data-testid="request-list"]')?.getAttribute('data-count') === '4');
    const before2 = got.length;
    await page.getByTestId('bin-tools').click();
    expect(await page.getByTestId('bulk-replay').textContent()).toBe('Replay 4 matching');
    await page.getByTestId('bulk-replay').click();
    await page.locator('[data-testid="replay-progress"][data-state="finished"][data-total="4"]').waitFor();
    expect(got.slice(before2).map((g) => g.url).sort()).toEqual(['/in/bulk/0', '/in/bulk/1', '/in/bulk/2', '/in/bulk/3']);
  });

  it('proxy mode: the sender gets the first target’s answer, and the row says who answered', async () => {
    await page.goto(`/bins/${bin.id}/forward`);
    await page.getByTestId('answer-target').check();
    await page.getByTestId('save-forward').click();
    await page.getByTestId('forward-status').waitFor();
    const r = await hit(`${url}/proxied`, { body: 'via proxy' });
    expect(r.status).toBe(201);
    expect(r.body).toBe('target says hi to POST /in/proxied');
    await page.goto(`/bins/${bin.id}/requests/${idOf(r)}`);
    expect(await page.getByTestId('answer-why').getAttribute('data-source')).toBe('proxy');
    await records().first().waitFor();
    expect(await records().first().getAttribute('data-kind')).toBe('proxy');
    expect(tp.problems.filter((p) => !p.includes('400 (Bad Request)'))).toEqual([]);
  });

  it('fits a phone-width screen: forwards and the replay form, the tools, the settings', async () => {
    const phone = await openPage(browser, app.base, { width: 390, height: 844, isMobile: true });
    try {
      const p = phone.page;
      await apiCall(app.base, 'PUT', `/api/bins/${bin.id}/verify`, { schemes: [{ type: 'github', secrets: ['a-github-secret'] }] });
      await p.goto(`/bins/${bin.id}/requests/${first}`);
      await p.getByTestId('forward-record').first().waitFor();
      await p.getByTestId('edit-replay').click();
      await p.getByTestId('edit-replay-form').waitFor();
      expect(await overflowing(p)).toEqual([]);
      await screenshot(p, 'phone-forwards', true);
      await p.getByTestId('back-to-list').click();
      await p.getByTestId('bin-tools').click();
      await p.locator('.filter-more summary').click();
      await p.getByTestId('bin-tools-panel').waitFor();
      expect(await overflowing(p)).toEqual([]);
      await screenshot(p, 'phone-tools');
      for (const [tab, ready] of [
        ['forward', 'forward-panel'],
        ['verify', 'scheme'],
      ]) {
        await p.goto(`/bins/${bin.id}/${tab}`);
        await p.getByTestId(ready).first().waitFor();
        expect(await overflowing(p), tab).toEqual([]);
        await screenshot(p, `phone-${tab}`, true);
      }
      expect(phone.problems).toEqual([]);
    } finally {
      await phone.context.close();
    }
  });
});
