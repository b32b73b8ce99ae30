// Text bodies in charsets other than UTF-8, in real Chromium: a latin-1 or UTF-16 body gets a
// Text view decoded with the charset its Content-Type declares (named in the view), and Copy
// body copies that text; bytes that are not text in the declared charset stay hex only.
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

beforeAll(async () => {
  ({ app, browser, tp, page } = await startAppAndPage());
  bin = await apiCall<Bin>(app.base, 'POST', '/api/bins', { name: 'charsets' });
  target = app.reachable(bin.url);
  await page.goto(`/bins/${bin.id}`);
});

afterAll(() => stopAppAndPage({ app, browser }));

const idOf = (r: { headers: http.IncomingHttpHeaders }) => r.headers['x-hooklab-request-id'] as string;

async function open(contentType: string, body: Buffer) {
  const id = idOf(await hit(`${target}/t`, { headers: { 'content-type': contentType }, body }));
  await page.locator(`[data-request-id="${id}"]`).click();
  await page.locator(`[data-testid="request-detail"][data-detail-id="${id}"]`).waitFor();
  await page.getByTestId('body-panel').waitFor();
}

/** The body view's tabs, as labelled. */
const views = () => page.locator('.body-view [role=tab]').allTextContents();

describe('text in a declared charset', () => {
  it('shows an ISO-8859-1 body as text, names the charset, and copies the text', async () => {
    const text = 'Café, £5, naïve';
    await open('text/plain; charset=iso-8859-1', Buffer.from(text, 'latin1'));
    expect(await views()).toEqual(['Text (iso-8859-1)', 'Hex']);
    expect(await page.getByTestId('body-panel').getAttribute('data-view')).toBe('text');
    expect(await page.getByTestId('body-text').textContent()).toBe(text);
    const note = (await page.getByTestId('body-charset').textContent()) ?? '';
    expect(note).toContain('iso-8859-1');
    expect(note).toContain('windows-1252');
    await screenshot(page, 'body-text-latin1');
    const copy = page.getByTestId('copy-body');
    expect(await copy.isDisabled()).toBe(false);
    await copy.click();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(text);
    // The bytes as sent are still there.
    await page.getByTestId('view-hex').click();
    expect(await page.getByTestId('body-hex').textContent()).toContain('43 61 66 e9 2c');
  });

  it('shows a UTF-16LE body as text, also when its bytes happen to be valid UTF-8', async () => {
    const text = 'Grüße, 世界';
    await open('text/plain; charset=utf-16le', Buffer.from(text, 'utf16le'));
    expect(await views()).toEqual(['Text (utf-16le)', 'Hex']);
    expect(await page.getByTestId('body-text').textContent()).toBe(text);
    expect(await page.getByTestId('body-charset').getAttribute('data-charset')).toBe('utf-16le');
    expect(await page.getByTestId('copy-body').isDisabled()).toBe(false);

    // ASCII in UTF-16 is valid UTF-8 full of NULs (the API sends it as a string).
    await open('application/json; charset=utf-16le', Buffer.from('{"ok":true}', 'utf16le'));
    expect(await page.getByTestId('json-pretty').textContent()).toBe('{\n  "ok": true\n}');
  });

  it('keeps bytes that are not text in the declared charset as hex only', async () => {
    // Odd length: not UTF-16.
    await open('text/plain; charset=utf-16le', Buffer.from([0x68, 0x00, 0x69]));
    expect(await views()).toEqual(['Hex']);
    expect(await page.getByTestId('copy-body').isDisabled()).toBe(true);
    // Every byte maps in latin-1, but NULs and control bytes are binary.
    await open('application/octet-stream; charset=iso-8859-1', Buffer.from([0x00, 0xff, 0x10, 0x41, 0x42, 0x0a]));
    expect(await views()).toEqual(['Hex']);
    // A charset the browser does not know: read as UTF-8, as without one.
    await open('text/plain; charset=x-unknown', Buffer.from('plain ü', 'utf8'));
    expect(await views()).toEqual(['Text', 'Hex']);
    expect(await page.getByTestId('body-text').textContent()).toBe('plain ü');
    expect(tp.problems).toEqual([]);
  });
});
