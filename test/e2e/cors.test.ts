// CORS for browser senders, in real Chromium: a page on another origin POSTs JSON to a bin
// and reads the answer and its x-hooklab-request-id. With CORS on (the default) it works and
// the browser's preflight is captured, marked as such in the list and the detail; switched
// off in the response settings, the browser refuses the answer (a TypeError in the page).
import http from 'node:http';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bin, RequestPage } from '../../shared/api.ts';
import { type RunningApp, apiCall, closeAgents, launchBrowser, openPage, screenshot, startApp } from '../helpers/browser.ts';

let app: RunningApp;
let browser: Browser;
let other: http.Server;
let otherBase = '';
let binUrl = '';

// The other origin's page: posts JSON to the bin given in the query and reports what it got.
const PAGE = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>sender</title></head><body><script>
  const bin = new URLSearchParams(location.search).get('bin');
  fetch(bin, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })
    .then(async (r) => { window.__result = { ok: true, status: r.status, body: await r.text(), id: r.headers.get('x-hooklab-request-id') }; })
    .catch((e) => { window.__result = { ok: false, error: e.name + ': ' + e.message }; });
</script></body></html>`;

beforeAll(async () => {
  [app, browser] = await Promise.all([startApp(), launchBrowser()]);
  other = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(PAGE);
  });
  await new Promise<void>((r) => other.listen(0, '127.0.0.1', r));
  otherBase = `http://127.0.0.1:${(other.address() as { port: number }).port}`;
});

afterAll(async () => {
  other?.close();
  await browser?.close();
  await app?.stop();
  closeAgents();
});

type Result = { ok: true; status: number; body: string; id: string | null } | { ok: false; error: string };

async function sendFromOtherOrigin(): Promise<Result> {
  const { page, context } = await openPage(browser, otherBase);
  try {
    await page.goto(`${otherBase}/?bin=${encodeURIComponent(binUrl)}`);
    expect(new URL(page.url()).origin).not.toBe(new URL(binUrl).origin);
    await page.waitForFunction(() => (window as unknown as { __result?: unknown }).__result !== undefined);
    // Awaited here: the finally below closes the page.
    return await page.evaluate(() => (window as unknown as { __result: Result }).__result);
  } finally {
    await context.close();
  }
}

describe('a browser on another origin', () => {
  let bin: Bin;

  it('with CORS on, posts JSON and reads the answer and its request id; the preflight is captured and marked', async () => {
    bin = await apiCall<Bin>(app.base, 'POST', '/api/bins', { name: 'browser sender' });
    binUrl = app.reachable(bin.url);
    const r = await sendFromOtherOrigin();
    expect(r).toMatchObject({ ok: true, status: 200 });
    const { requests } = await apiCall<RequestPage>(app.base, 'GET', `/api/bins/${bin.id}/requests`);
    const post = requests.find((x) => x.method === 'POST')!;
    const preflight = requests.find((x) => x.method === 'OPTIONS')!;
    expect(r.ok && r.id).toBe(post.id);
    expect(preflight.answer.source).toBe('preflight');

    const { page, context } = await openPage(browser, app.base);
    try {
      await page.goto(`/bins/${bin.id}`);
      const row = page.locator(`[data-request-id="${preflight.id}"]`);
      await row.getByTestId('preflight-mark').waitFor();
      expect(await row.getByTestId('preflight-mark').textContent()).toBe('CORS preflight');
      expect(await page.locator(`[data-request-id="${post.id}"] [data-testid="preflight-mark"]`).count()).toBe(0);
      await row.click();
      expect(await page.getByTestId('answer-why').getAttribute('data-source')).toBe('preflight');
      expect(await page.getByTestId('answer-why').textContent()).toContain('CORS preflight');
      await screenshot(page, 'cors-preflight');
    } finally {
      await context.close();
    }
  });

  it('with CORS switched off in the response settings, the browser refuses the answer', async () => {
    const { page, context } = await openPage(browser, app.base);
    try {
      await page.goto(`/bins/${bin.id}/response`);
      await page.getByTestId('response-editor').waitFor();
      await page.locator('summary').getByText('Rules, seed and CORS').click();
      await page.getByTestId('cors').uncheck();
      await page.getByTestId('save-response').click();
      await page.getByTestId('response-status').getByText('Saved').waitFor();
    } finally {
      await context.close();
    }
    expect((await apiCall<{ config: { cors: boolean } }>(app.base, 'GET', `/api/bins/${bin.id}/response`)).config.cors).toBe(false);
    const r = await sendFromOtherOrigin();
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error).toMatch(/^TypeError: /);
  });
});
