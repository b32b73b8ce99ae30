// With AUTH_TOKEN, a page of another web app on the same machine (http://localhost:OTHER) is
// the same *site* as hooklab at http://localhost:PORT, so the browser sends the SameSite=Strict
// sign-in cookie with its requests. The host/origin guard was off with a token: such a page made
// bins and webhooks (JSON sent as text/plain, no preflight) and read dispatcher events over a
// WebSocket. Real Chromium, a signed-in user, the other app's page doing all that.
import http from 'node:http';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningApp, type TestPage, axeViolations, launchBrowser, openPage, startApp } from '../helpers/browser.ts';

const TOKEN = 'e2e-token-0123456789abcdef';
let app: RunningApp;
let browser: Browser;
let tp: TestPage;
let other: http.Server;
let otherBase = '';
let hooklab = '';

/** The other app's page: what a hostile one would try, each outcome noted in window.outcome. */
const PAGE = (h: string) => `<!doctype html><title>another app</title><script>
window.outcome = { post: null, ws: [] };
fetch('${h}/api/bins', { method: 'POST', mode: 'no-cors', credentials: 'include', headers: { 'content-type': 'text/plain;x=json' }, body: '{"name":"made-by-the-other-page"}' })
  .then(() => (window.outcome.post = 'sent'), () => (window.outcome.post = 'failed'));
const ws = new WebSocket('${h.replace('http', 'ws')}/socket.io/?EIO=4&transport=websocket');
ws.onmessage = (e) => window.outcome.ws.push('message ' + String(e.data).slice(0, 40));
ws.onopen = () => window.outcome.ws.push('open');
ws.onclose = () => window.outcome.ws.push('closed');
</script>`;

beforeAll(async () => {
  [app, browser] = await Promise.all([startApp({ AUTH_TOKEN: TOKEN }), launchBrowser()]);
  hooklab = app.base.replace('127.0.0.1', 'localhost');
  other = http.createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end(PAGE(hooklab)));
  await new Promise<void>((r) => other.listen(0, '127.0.0.1', r));
  otherBase = `http://localhost:${(other.address() as { port: number }).port}`;
  tp = await openPage(browser, hooklab);
});

afterAll(async () => {
  other?.close();
  await browser?.close();
  await app?.stop();
});

const bearer = { authorization: `Bearer ${TOKEN}` };

describe('AUTH_TOKEN and a page of another app on the same machine', () => {
  it("the signed-in UI works from its own origin; the other app's page makes nothing and gets no live session", async () => {
    const page = tp.page;
    await page.goto('/');
    await page.fill('input[name=token]', TOKEN);
    await page.click('button[type=submit]');
    // The UI's own calls (same origin) pass: a bin made through it.
    await page.getByTestId('new-bin').click();
    await page.waitForURL(/\/bins\/[^/]+/);
    expect(tp.problems.filter((p) => p.includes('403'))).toEqual([]);
    const cookies = await tp.context.cookies();
    expect(cookies.find((c) => c.name === 'hooklab_token')?.sameSite).toBe('Strict');

    const evil = await tp.context.newPage();
    await evil.goto(otherBase);
    await evil.waitForFunction(() => {
      const o = (window as unknown as { outcome: { post: string | null; ws: string[] } }).outcome;
      return o.post !== null && o.ws.includes('closed');
    });
    const outcome = await evil.evaluate(() => (window as unknown as { outcome: unknown }).outcome);
    // The handshake was refused: never opened, no Engine.IO packet.
    expect(outcome).toEqual({ post: 'sent', ws: ['closed'] });
    const bins = (await (await fetch(`${app.base}/api/bins`, { headers: bearer })).json()) as { bins: { name: string }[] };
    expect(bins.bins.map((b) => b.name)).not.toContain('made-by-the-other-page');
    expect(bins.bins).toHaveLength(1);
    await evil.close();
  });
});

describe('the sign-in page', () => {
  it('a wrong token: the message is an alert tied to the field, readable in the dark scheme, inside a main landmark', async () => {
    const dark = await openPage(browser, hooklab, { colorScheme: 'dark' });
    try {
      const page = dark.page;
      await page.goto('/');
      await page.fill('input[name=token]', 'not-the-token');
      await page.click('button[type=submit]');
      const message = page.locator('p.err');
      await message.waitFor();
      expect(await message.textContent()).toBe('That token is not right.');
      expect(await message.getAttribute('role')).toBe('alert');
      const field = page.locator('#t');
      expect(await field.getAttribute('aria-invalid')).toBe('true');
      expect(await page.locator(`#${await field.getAttribute('aria-describedby')}`).textContent()).toBe('That token is not right.');
      expect(await page.locator('main form').count()).toBe(1);
      // WCAG 2.1 AA, colour contrast included (#b00020 on #111 was 2.57:1).
      expect(await axeViolations(page)).toEqual([]);
    } finally {
      await dark.context.close();
    }
  });
});
