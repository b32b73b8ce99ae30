// Edit & replay of a text body with CRLF line breaks, in real Chromium: a textarea's value has
// LF for each of them, and the edited body used to go out with LF only (13 bytes for 16, a
// multipart body broken, signatures failing). The target now gets the capture's line endings,
// checked byte for byte (sha256) at a real target.
import { createHash } from 'node:crypto';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bin } from '../../shared/api.ts';
import { type RunningApp, type TestPage, apiCall, closeAgents, hit, launchBrowser, openPage, screenshot, startApp, until } from '../helpers/browser.ts';
import { type RecordingTarget, recordingTarget } from '../helpers/target.ts';

let app: RunningApp;
let browser: Browser;
let tp: TestPage;
let page: Page;
let target: RecordingTarget;

beforeAll(async () => {
  [app, browser, target] = await Promise.all([startApp(), launchBrowser(), recordingTarget()]);
  tp = await openPage(browser, app.base);
  page = tp.page;
});

afterAll(async () => {
  target?.close();
  await browser?.close();
  await app?.stop();
  closeAgents();
});

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
const idOf = (r: { headers: Record<string, unknown> }) => r.headers['x-hooklab-request-id'] as string;
const recordCount = (n: number) => until(page, (want) => document.querySelectorAll('[data-testid="forward-record"]').length === want, n);

/** Capture `body` in a new bin and open Edit & replay on it, sending to the target's `/sub`. */
async function openEdit(name: string, body: string, contentType: string, sub: string) {
  const bin = await apiCall<Bin>(app.base, 'POST', '/api/bins', { name });
  const id = idOf(await hit(`${app.reachable(bin.url)}/${name}`, { headers: { 'content-type': contentType }, body }));
  await page.goto(`/bins/${bin.id}/requests/${id}`);
  await page.locator(`[data-testid="request-detail"][data-detail-id="${id}"]`).waitFor();
  await page.getByTestId('edit-replay').click();
  const form = page.getByTestId('edit-replay-form');
  await form.waitFor();
  await form.getByTestId('replay-url').fill(`${target.base}/${sub}`);
  return form;
}

describe('Edit & replay keeps the line endings of a text body', () => {
  it('a CRLF body with one character typed at the end reaches the target with CRLF (16 bytes, not 13)', async () => {
    const form = await openEdit('crlf', 'line1\r\nline2\r\n', 'text/plain', 'typed');
    const field = form.getByTestId('replay-body');
    const said = await form.locator('[data-field="body"]').textContent();
    await field.click();
    await page.keyboard.press('Control+End');
    await page.keyboard.type('X');
    await screenshot(page, 'replay-line-endings');
    await form.getByTestId('replay-send').click();
    await recordCount(1);
    const got = target.got.at(-1)!;
    expect(got.url).toBe('/typed/crlf');
    expect(got.body.toString('hex')).toBe(Buffer.from('line1\r\nline2\r\nX').toString('hex'));
    expect(sha(got.body)).toBe(sha('line1\r\nline2\r\nX'));
    // The field said what happens to its line breaks.
    expect(said).toContain('Its line breaks are CRLF: they are sent as CRLF, and so are new ones you type.');
  });

  it('typed and taken back again: the body goes as captured, byte for byte', async () => {
    const body = 'a\r\nb\r\n';
    const form = await openEdit('undo', body, 'text/plain', 'undone');
    await form.getByTestId('replay-body').click();
    await page.keyboard.press('Control+End');
    await page.keyboard.type('Z');
    await page.keyboard.press('Backspace');
    await form.getByTestId('replay-send').click();
    await recordCount(1);
    expect(sha(target.got.at(-1)!.body)).toBe(sha(body));
  });

  it('a multipart body edited inside a part stays valid multipart: every CRLF kept, the new line too', async () => {
    const boundary = 'XyZ123';
    const part = (name: string, value: string) => `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;
    const body = part('a', 'hello') + part('b', 'second') + `--${boundary}--\r\n`;
    const type = `multipart/form-data; boundary=${boundary}`;
    const form = await openEdit('multipart', body, type, 'mp');
    const field = form.getByTestId('replay-body');
    // The textarea shows LF (what the browser makes of CRLF); the user edits that.
    const shown = await field.inputValue();
    expect(shown).toBe(body.replace(/\r\n/g, '\n'));
    await field.fill(shown.replace('hello', 'hello world\nline two'));
    await form.getByTestId('replay-send').click();
    await recordCount(1);
    const want = part('a', 'hello world\r\nline two') + part('b', 'second') + `--${boundary}--\r\n`;
    const got = target.got.at(-1)!;
    expect(got.body.toString('hex')).toBe(Buffer.from(want).toString('hex'));
    // A multipart parser reads both fields from what the target got.
    const fd = await new Response(new Uint8Array(got.body), { headers: { 'content-type': type } }).formData();
    expect([...fd.entries()]).toEqual([
      ['a', 'hello world\r\nline two'],
      ['b', 'second'],
    ]);
    expect(tp.problems).toEqual([]);
  });
});
