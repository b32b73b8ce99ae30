// Header values beyond ASCII, in real Chromium. The detail shows a value as UTF-8 text when
// its bytes are UTF-8, and the UI used that text as the bytes: Edit & replay with one header
// added sent "café" (63 61 66 c3 a9) as 63 61 66 e9, and refused "café ✓" (beyond Latin-1)
// with an error on a line nobody touched; Copy as cURL wrote a Latin-1 "é" (e9) as UTF-8.
// Now both start from the captured bytes, checked at a real target (and through real curl),
// and the headers table says which values were decoded from UTF-8 and which are Latin-1.
import { execFile } from 'node:child_process';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bin } from '../../shared/api.ts';
import { type RunningApp, type TestPage, apiCall, closeAgents, launchBrowser, openPage, screenshot, startApp, until } from '../helpers/browser.ts';
import { rawCapture } from '../helpers/http.ts';
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

/** Bytes as a "binary" string (one character per byte), as a raw request head is written. */
const bin = (b: Buffer) => b.toString('latin1');
const UTF8_CAFE = bin(Buffer.from('café', 'utf8')); // 63 61 66 c3 a9
const LATIN1_CAFE = bin(Buffer.from([0x63, 0x61, 0x66, 0xe9]));
const UTF8_CHECK = bin(Buffer.from('café ✓', 'utf8')); // ✓ is beyond Latin-1

/** A capture in a new bin with these extra header lines (values as bytes); answers bin and id. */
async function capture(name: string, headers: [string, string][]) {
  const b = await apiCall<Bin>(app.base, 'POST', '/api/bins', { name });
  const u = new URL(app.reachable(b.url));
  const lines = headers.map(([n, v]) => `${n}: ${v}\r\n`).join('');
  const id = await rawCapture(app.base, `POST ${u.pathname}/x HTTP/1.1\r\nHost: ${u.host}\r\n${lines}Content-Type: text/plain\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi`);
  await page.goto(`/bins/${b.id}/requests/${id}`);
  await page.locator(`[data-testid="request-detail"][data-detail-id="${id}"]`).waitFor();
  return { bin: b, id };
}

/** The value bytes (hex) of each header `name` in a flat rawHeaders list. */
const hexOf = (flat: string[], name: string) => flat.flatMap((h, i) => (i % 2 === 0 && h === name ? [Buffer.from(flat[i + 1], 'latin1').toString('hex')] : []));
const hex = (s: string) => Buffer.from(s, 'latin1').toString('hex');

/** Edit & replay to the target with `extra` appended to the headers box; answers what the target got. */
async function replayAdding(extra: string, sub: string) {
  await page.getByTestId('edit-replay').click();
  const form = page.getByTestId('edit-replay-form');
  await form.waitFor();
  await form.getByTestId('replay-url').fill(`${target.base}/${sub}`);
  const box = form.getByTestId('replay-headers');
  await box.fill(`${await box.inputValue()}\n${extra}`);
  const hint = await form.locator('[data-field="headers"]').textContent();
  const before = target.got.length;
  await form.getByTestId('replay-send').click();
  // Sent (a record), or refused (an error at the field): either ends the wait, the checks say which.
  await until(page, () => document.querySelector('[data-testid="forward-record"], [data-testid="field-error"], [role="alert"]'));
  const refused = await page.locator('[data-testid="field-error"], .replay-panel [role="alert"]').allTextContents();
  expect(refused).toEqual([]);
  expect(target.got.length).toBe(before + 1);
  return { got: target.got.at(-1)!, hint };
}

describe('header values beyond ASCII', () => {
  it('the headers table marks a value decoded from UTF-8 and a Latin-1 one, which look alike', async () => {
    await capture('marks', [
      ['X-Name', UTF8_CAFE],
      ['X-Latin1', LATIN1_CAFE],
    ]);
    await page.getByTestId('headers-section').locator('summary').click();
    const rows = await page.$$eval('[data-testid="request-headers"] tr', (trs) =>
      trs.map((tr) => [(tr as HTMLTableRowElement).cells[0].textContent, (tr as HTMLTableRowElement).cells[1].getAttribute('data-charset'), (tr as HTMLTableRowElement).cells[1].textContent]),
    );
    expect(rows).toContainEqual(['X-Name', 'utf8', 'café UTF-8']);
    expect(rows).toContainEqual(['X-Latin1', 'latin1', 'café Latin-1']);
    // Plain ASCII says nothing.
    expect(rows.find(([n]) => n === 'Content-Type')?.[1]).toBeNull();
    await screenshot(page, 'header-charsets');
  });

  it('Edit & replay with a header added: UTF-8 "café" and Latin-1 "café" reach the target as captured; a typed value goes as UTF-8', async () => {
    await capture('replay-latin', [
      ['X-Name', UTF8_CAFE],
      ['X-Latin1', LATIN1_CAFE],
    ]);
    const { got, hint } = await replayAdding('X-New: 1\nX-Typed: né', 'latin');
    expect(hexOf(got.headers, 'X-Name')).toEqual([hex(UTF8_CAFE)]); // was 636166e9
    expect(hexOf(got.headers, 'X-Latin1')).toEqual([hex(LATIN1_CAFE)]);
    expect(hexOf(got.headers, 'X-New')).toEqual([hex('1')]);
    expect(hexOf(got.headers, 'X-Typed')).toEqual([Buffer.from('né', 'utf8').toString('hex')]);
    expect(hint).toContain('A line left as it is is sent with the bytes it came with; a value you change or add is sent as UTF-8.');
  });

  it('Edit & replay with a header added: a UTF-8 value beyond Latin-1 ("café ✓") is sent as captured, not refused', async () => {
    await capture('replay-check', [['X-Utf8', UTF8_CHECK]]);
    // Before: "line 3: the value of header "X-Utf8" must not contain … characters beyond Latin-1".
    const { got } = await replayAdding('X-New: 1', 'check');
    expect(hexOf(got.headers, 'X-Utf8')).toEqual([hex(UTF8_CHECK)]);
    expect(tp.problems).toEqual([]);
  });

  it('Copy as cURL, run by bash and curl, sends the captured bytes of UTF-8 and Latin-1 values', async () => {
    const { bin: b } = await capture('curl', [
      ['X-Name', UTF8_CAFE],
      ['X-Latin1', LATIN1_CAFE],
      ['X-Utf8', UTF8_CHECK],
    ]);
    await page.getByTestId('copy-curl').click();
    const curl = await page.evaluate(() => navigator.clipboard.readText());
    // Pointed at the target instead of the bin, as pasted (minus the line breaks).
    expect(curl).toContain(`${b.url}/x`);
    const command = curl.replace(`${b.url}/x`, `${target.base}/curl`).replace(/\\\n/g, '');
    const before = target.got.length;
    await new Promise<void>((resolve, reject) =>
      execFile('bash', ['-c', `${command} --silent --show-error --output /dev/null`], { timeout: 20_000 }, (err, _out, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve())),
    );
    expect(target.got.length).toBe(before + 1);
    const got = target.got.at(-1)!;
    expect(got.url).toBe('/curl');
    expect(hexOf(got.headers, 'X-Name')).toEqual([hex(UTF8_CAFE)]);
    expect(hexOf(got.headers, 'X-Latin1')).toEqual([hex(LATIN1_CAFE)]); // was c3a9
    expect(hexOf(got.headers, 'X-Utf8')).toEqual([hex(UTF8_CHECK)]);
    expect(got.body.toString()).toBe('hi');
    // UTF-8 stays readable; only the Latin-1 value is written as bytes, and a note says so.
    expect(curl).toContain(`-H 'X-Name: café'`);
    expect(curl).toContain(`-H 'X-Utf8: café ✓'`);
    expect(curl).toContain(`-H $'X-Latin1: caf\\xe9'`);
    expect(curl.split('\n')[0]).toBe(`# A header value is not UTF-8: its bytes are written as $'\\xHH' (bash, zsh; not sh or fish).`);
  });
});
