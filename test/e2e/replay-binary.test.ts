// Edit & replay of a binary body, in real Chromium: the body is edited as base64 (prefilled
// with the captured bytes); other bytes typed there are what the target gets, byte for byte;
// text that is not base64 is marked on the field and nothing is sent; left as it is, the body
// goes as captured.
import http from 'node:http';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bin, RequestDetail } from '../../shared/api.ts';
import { type RunningApp, type TestPage, apiCall, closeAgents, hit, screenshot, startAppAndPage, until } from '../helpers/browser.ts';

interface Got {
  method: string;
  url: string;
  body: Buffer;
}

let app: RunningApp;
let browser: Browser;
let tp: TestPage;
let page: Page;
let target: http.Server;
let targetBase = '';
const got: Got[] = [];

beforeAll(async () => {
  ({ app, browser, tp, page } = await startAppAndPage());
  target = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      got.push({ method: req.method!, url: req.url!, body: Buffer.concat(chunks) });
      res.end('got it');
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
const recordCount = (n: number) => until(page, (want) => document.querySelectorAll('[data-testid="forward-record"]').length === want, n);

describe('Edit & replay of a binary body', () => {
  // Not UTF-8 (0xff, 0xfe, a lone continuation byte), with NULs: stored and shown as base64.
  const captured = Buffer.from([0x00, 0xff, 0xfe, 0x80, 0x01, 0x02, 0x00, 0x7f, 0xc3, 0x28, ...Buffer.from('tail')]);
  // Every byte value, in another order, so a decoder that drops or mangles any would show.
  const edited = Buffer.from(Array.from({ length: 256 }, (_, i) => (i * 7 + 3) & 0xff));
  let bin: Bin;
  let id = '';

  beforeAll(async () => {
    bin = await apiCall<Bin>(app.base, 'POST', '/api/bins', { name: 'binary replay' });
    id = idOf(await hit(`${app.reachable(bin.url)}/blob?v=1`, { headers: { 'content-type': 'application/octet-stream' }, body: captured }));
    const d = await apiCall<RequestDetail>(app.base, 'GET', `/api/bins/${bin.id}/requests/${id}`);
    expect(d.bodyEncoding).toBe('base64');
    await page.goto(`/bins/${bin.id}/requests/${id}`);
    await page.locator(`[data-testid="request-detail"][data-detail-id="${id}"]`).waitFor();
  });

  it('the body is offered as base64, prefilled with the captured bytes', async () => {
    await page.getByTestId('edit-replay').click();
    const form = page.getByTestId('edit-replay-form');
    await form.waitFor();
    // Found by its label: the field says what it holds.
    const field = form.getByLabel('Body (base64)');
    expect(await field.inputValue()).toBe(captured.toString('base64'));
    // No longer the old dead end ("The body is binary: it is sent as captured.").
    expect(await form.textContent()).not.toContain('The body is binary: it is sent as captured.');
    expect(await field.evaluate((el) => el.tagName)).toBe('TEXTAREA');
  });

  it('text that is not base64 is marked on the field, and nothing is sent', async () => {
    const form = page.getByTestId('edit-replay-form');
    await form.getByTestId('replay-url').fill(`${targetBase}/in`);
    await form.getByLabel('Body (base64)').fill('AAEC*not base64!');
    await form.getByTestId('replay-send').click();
    const err = form.locator('[data-field="body"] [data-testid="field-error"]');
    await err.waitFor();
    expect(await err.textContent()).toMatch(/not base64/);
    expect(await form.getByLabel('Body (base64)').getAttribute('aria-invalid')).toBe('true');
    // The form stays open, and neither the target nor the capture's records saw anything.
    expect(await form.isVisible()).toBe(true);
    expect(got).toEqual([]);
    expect((await apiCall<RequestDetail>(app.base, 'GET', `/api/bins/${bin.id}/requests/${id}`)).forwards).toEqual([]);
    await screenshot(page, 'replay-binary-invalid');
  });

  it('other bytes typed as base64 (wrapped over lines) reach the target exactly', async () => {
    const form = page.getByTestId('edit-replay-form');
    const b64 = edited.toString('base64');
    // Wrapped as base64 tools print it (76 a line), without the = padding.
    const wrapped = b64.replace(/=+$/, '').replace(/(.{76})/g, '$1\n');
    await form.getByLabel('Body (base64)').fill(wrapped);
    // Editing clears the mark.
    expect(await form.locator('[data-field="body"] [data-testid="field-error"]').count()).toBe(0);
    await form.getByTestId('replay-send').click();
    await recordCount(1);
    expect(got).toHaveLength(1);
    expect(got[0]).toMatchObject({ method: 'POST', url: '/in/blob?v=1' });
    expect(got[0].body.equals(edited), `target got ${got[0].body.toString('hex')}`).toBe(true);
    const d = await apiCall<RequestDetail>(app.base, 'GET', `/api/bins/${bin.id}/requests/${id}`);
    expect(d.forwards.map((f) => [f.kind, f.edited, f.status])).toEqual([['replay', true, 200]]);
    // The capture itself is unchanged.
    const raw = Buffer.from(await (await fetch(`${app.base}/api/bins/${bin.id}/requests/${id}/raw`)).arrayBuffer());
    expect(raw.equals(captured)).toBe(true);
  });

  it('left as it is, the body goes as captured (not an edit)', async () => {
    await page.getByTestId('edit-replay').click();
    const form = page.getByTestId('edit-replay-form');
    expect(await form.getByLabel('Body (base64)').inputValue()).toBe(captured.toString('base64'));
    await form.getByTestId('replay-url').fill(`${targetBase}/again`);
    await form.getByTestId('replay-send').click();
    await recordCount(2);
    expect(got).toHaveLength(2);
    expect(got[1].url).toBe('/again/blob?v=1');
    expect(got[1].body.equals(captured)).toBe(true);
    const d = await apiCall<RequestDetail>(app.base, 'GET', `/api/bins/${bin.id}/requests/${id}`);
    expect(d.forwards.map((f) => [f.kind, f.edited])).toEqual([
      ['replay', true],
      ['replay', false],
    ]);
    expect(tp.problems).toEqual([]);
  });
});
