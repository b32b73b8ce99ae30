// Proxy mode's failed answers in real Chromium: a first target that cuts its answer off after
// the head (200, then a reset) must not read as a clean 200 in the row or the detail, and a
// sender that gave up before the target answered is marked "sender hung up", as with a slow bin.
import net from 'node:net';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Bin } from '../../shared/api.ts';
import { type RunningApp, type TestPage, apiCall, closeAgents, hit, screenshot, startAppAndPage } from '../helpers/browser.ts';
import { send } from '../helpers/http.ts';

let app: RunningApp;
let browser: Browser;
let tp: TestPage;
let page: Page;
let target: net.Server;
const sockets = new Set<net.Socket>();

beforeAll(async () => {
  ({ app, browser, tp, page } = await startAppAndPage());
  // Raw TCP: /cut sends a head for 100 bytes, 7 of them, then resets; /slow answers in 2.5 s.
  target = net.createServer((s) => {
    sockets.add(s);
    s.on('error', () => {});
    s.on('close', () => sockets.delete(s));
    s.once('data', (d) => {
      if (d.toString('latin1').includes(' /app/cut ')) {
        s.write('HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\npartial');
        setTimeout(() => s.resetAndDestroy(), 50);
      } else setTimeout(() => s.end('HTTP/1.1 200 OK\r\ncontent-length: 4\r\nconnection: close\r\n\r\nlate'), 2500);
    });
  });
  await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
});

afterAll(async () => {
  for (const s of sockets) s.destroy();
  target?.close();
  await browser?.close();
  await app?.stop();
  closeAgents();
});

it('a cut-off answer shows as the 502 the sender got, said to be cut off; a sender that gave up first as hung up', async () => {
  const bin = await apiCall<Bin>(app.base, 'POST', '/api/bins', { name: 'proxy-fail' });
  const port = (target.address() as net.AddressInfo).port;
  await apiCall(app.base, 'PUT', `/api/bins/${bin.id}/forward`, { targets: [{ url: `http://127.0.0.1:${port}/app` }], answerWith: 'target' });
  const url = app.reachable(bin.url);
  const cut = await hit(`${url}/cut`, { body: 'x' });
  expect(cut.status).toBe(502);
  const cutId = cut.headers['x-hooklab-request-id'] as string;
  // The sender's own timeout, shorter than the target's pace.
  await expect(send(`${url}/slow`, { body: 'y', timeoutMs: 300 })).rejects.toMatchObject({ code: 'CLIENT_TIMEOUT' });

  await page.goto(`/bins/${bin.id}`);
  const cutRow = page.locator(`[data-request-id="${cutId}"]`);
  await cutRow.waitFor();
  expect(await cutRow.locator('.badge.tone-bad').first().textContent()).toBe('502');
  expect(await cutRow.locator('.badge.tone-ok').count()).toBe(0);
  // The slow one: marked once the sender hung up (live), as a slow bin's is.
  const slowRow = page.locator('[data-request-id]').filter({ hasText: '/slow' });
  await slowRow.getByTestId('hung-up-mark').waitFor();

  await cutRow.click();
  const detail = page.locator(`[data-testid="request-detail"][data-detail-id="${cutId}"]`);
  await detail.waitFor();
  const why = (await detail.getByTestId('answer-why').textContent()) ?? '';
  expect(why).toContain("by hooklab: the first forward target's answer (200) was cut off");
  expect(why).not.toBe('by the first forward target (proxy mode)');
  const rec = detail.getByTestId('forward-record').first();
  await rec.waitFor();
  expect(await rec.getAttribute('data-status')).toBe('200');
  expect(await rec.getAttribute('data-error')).toBe('reset');
  expect(await rec.getByTestId('forward-error').textContent()).toContain('connection reset');
  await screenshot(page, 'proxy-cut-off');
  expect(tp.problems).toEqual([]);
});
