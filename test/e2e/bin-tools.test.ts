// The bin page's search, export and import in real Chromium: the filter lives in the page
// URL (reload keeps it, back/forward step through it), the server searches, paging goes on
// with the filter, live captures that do not match stay out; an export downloaded from one
// bin and imported into another gives the same bytes (HAR and NDJSON); "Copy as HAR" gives a
// HAR 1.2 document of the one request.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bin, RequestPage } from '../../shared/api.ts';
import { type RunningApp, type TestPage, apiCall, hit, hitMany, screenshot, startAppAndPage, stopAppAndPage, until } from '../helpers/browser.ts';

let app: RunningApp;
let browser: Browser;
let tp: TestPage;
let page: Page;

beforeAll(async () => {
  ({ app, browser, tp, page } = await startAppAndPage());
});

afterAll(() => stopAppAndPage({ app, browser }));

const idOf = (r: { headers: Record<string, unknown> }) => r.headers['x-hooklab-request-id'] as string;
const count = async () => Number(await page.getByTestId('request-list').getAttribute('data-count'));
const countIs = (n: number) => until(page, (want) => document.querySelector('[data-testid="request-list"]')?.getAttribute('data-count') === String(want), n);
const rowIds = () => page.$$eval('[data-request-id]', (els) => els.map((e) => e.getAttribute('data-request-id')!).sort().reverse());
const search = () => new URL(page.url()).search;
/** Exactly these rows are in the list (newest first): a count alone may still be the last filter's. */
const rowsAre = (ids: string[]) =>
  until(page, (want) => JSON.stringify([...document.querySelectorAll('[data-request-id]')].map((e) => e.getAttribute('data-request-id')).sort().reverse()) === want, JSON.stringify([...ids].sort().reverse()));

async function applyFilter(fill: Record<string, string>) {
  const moreOpen = await page.locator('.filter-more').getAttribute('open');
  if (Object.keys(fill).some((k) => k !== 'q') && moreOpen === null) await page.locator('.filter-more summary').click();
  for (const [k, v] of Object.entries(fill)) await page.getByTestId(`filter-${k}`).fill(v);
  await page.getByTestId('filter-apply').click();
}

describe('search and filter', () => {
  let bin: Bin;
  const sent: Record<string, string[]> = { push: [], health: [], other: [], fail: [] };

  beforeAll(async () => {
    bin = await apiCall<Bin>(app.base, 'POST', '/api/bins', { name: 'searchable' });
    await apiCall(app.base, 'PUT', `/api/bins/${bin.id}/response`, { rules: [{ status: 500, match: { pathPrefix: '/fail' } }] });
    const url = app.reachable(bin.url);
    for (let i = 0; i < 3; i++) {
      sent.push.push(idOf(await hit(`${url}/hooks/github`, { headers: { 'content-type': 'application/json', 'x-github-event': 'push' }, body: `{"needle":${i}}` })));
      sent.health.push(idOf(await hit(`${url}/health`, { method: 'GET' })));
    }
    sent.other.push(idOf(await hit(`${url}/other`, { body: 'hay only' })));
    sent.fail.push(idOf(await hit(`${url}/fail`, { body: 'needle in a failure' })));
  });

  it('searches on the server, keeps the filter in the URL, and reload keeps it', async () => {
    await page.goto(`/bins/${bin.id}`);
    await countIs(8);
    await applyFilter({ q: 'needle' });
    expect(search()).toBe('?q=needle');
    await countIs(4);
    expect(await rowIds()).toEqual([...sent.push, ...sent.fail].sort().reverse());

    await page.reload();
    await countIs(4);
    expect(await page.getByTestId('filter-q').inputValue()).toBe('needle');
    expect(search()).toBe('?q=needle');
    // Opening a request keeps the filter.
    await page.locator(`[data-request-id="${sent.fail[0]}"]`).click();
    await page.getByTestId('request-detail').waitFor();
    expect(new URL(page.url()).pathname).toBe(`/bins/${bin.id}/requests/${sent.fail[0]}`);
    expect(search()).toBe('?q=needle');
    await screenshot(page, 'bin-filtered');
  });

  it('combines filters, and back/forward step through them', async () => {
    await page.goto(`/bins/${bin.id}?q=needle`);
    await countIs(4);
    await applyFilter({ status: '5xx' });
    expect(search()).toBe('?status=5xx&q=needle');
    await rowsAre(sent.fail);
    await applyFilter({ q: '', status: '', header: 'x-github-event:push' });
    await rowsAre(sent.push);
    await applyFilter({ header: '', method: 'GET' });
    await rowsAre(sent.health);
    await applyFilter({ method: 'DELETE' });
    await rowsAre([]);
    await page.getByTestId('list-footer').getByText('No request matches DELETE').waitFor();

    await page.goBack();
    await rowsAre(sent.health);
    expect(search()).toBe('?method=GET');
    await page.goBack();
    await rowsAre(sent.push);
    expect(search()).toBe('?header=x-github-event%3Apush');
    await until(page, () => (document.querySelector('[data-testid="filter-header"]') as HTMLInputElement | null)?.value === 'x-github-event:push');
    await page.goForward();
    await rowsAre(sent.health);
    await page.getByTestId('filter-clear').click();
    await countIs(8);
    expect(search()).toBe('');
  });

  it('lets in only the live captures that match', async () => {
    const url = app.reachable(bin.url);
    // A filter a row can answer (method)...
    await page.goto(`/bins/${bin.id}?method=POST`);
    await countIs(5);
    await page.locator('[data-testid="connection"][data-state="live"]').waitFor();
    await hit(`${url}/health`, { method: 'GET' });
    const post = idOf(await hit(`${url}/live-post`, { body: 'x' }));
    await page.locator(`[data-request-id="${post}"]`).waitFor();
    expect(await count()).toBe(6);
    // ...and one only the server can (text in the body).
    await page.goto(`/bins/${bin.id}?q=needle`);
    await countIs(4);
    await page.locator('[data-testid="connection"][data-state="live"]').waitFor();
    const hay = idOf(await hit(`${url}/live`, { body: 'just hay' }));
    const needle = idOf(await hit(`${url}/live`, { body: 'a needle, live' }));
    await page.locator(`[data-request-id="${needle}"]`).waitFor();
    expect(await count()).toBe(5);
    expect(await page.locator(`[data-request-id="${hay}"]`).count()).toBe(0);
    expect(tp.problems).toEqual([]);
  });

  it('pages beyond the first page with the filter on', async () => {
    const big = await apiCall<Bin>(app.base, 'POST', '/api/bins', { name: 'many' });
    const url = app.reachable(big.url);
    // 480 stay under the bin's cap (MAX_REQUESTS_PER_BIN, 500): 240 match, more than a first page.
    await hitMany(480, 16, (i) => [`${url}/n/${i}`, { body: i % 2 ? `match ${i}` : `skip ${i}` }]);
    await page.goto(`/bins/${big.id}?q=match`);
    await countIs(200);
    const list = page.getByTestId('request-list');
    for (let guard = 0; guard < 10 && (await count()) < 240; guard++) {
      await list.evaluate((el) => (el.scrollTop = el.scrollHeight));
      await page.waitForTimeout(150);
    }
    await countIs(240);
    await list.evaluate((el) => (el.scrollTop = el.scrollHeight));
    await page.getByText('That is all: 240 requests.').waitFor();
    const all = await apiCall<RequestPage>(app.base, 'GET', `/api/bins/${big.id}/requests?q=match&limit=500`);
    expect(all.requests.length).toBe(240);
  });
});

describe('export and import', () => {
  const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
  async function bodies(binId: string): Promise<string[]> {
    const page = await apiCall<RequestPage>(app.base, 'GET', `/api/bins/${binId}/requests?limit=500`);
    const out: string[] = [];
    for (const r of page.requests.reverse()) out.push(sha(Buffer.from(await (await fetch(`${app.base}/api/bins/${binId}/requests/${r.id}/raw`)).arrayBuffer())));
    return out;
  }

  it('an export downloaded from one bin, imported into another, gives the same bytes (NDJSON and HAR)', async () => {
    const from = await apiCall<Bin>(app.base, 'POST', '/api/bins', { name: 'export me' });
    const url = app.reachable(from.url);
    const all256 = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    await hit(`${url}/json?x=1`, { headers: { 'content-type': 'application/json' }, body: '{"amount": 12.50, "text": "naïve ✓ 🎉"}' });
    await hit(`${url}/bytes`, { headers: { 'content-type': 'application/octet-stream' }, body: all256 });
    await hit(`${url}/empty`, { method: 'GET' });
    await hit(`${url}/crlf`, { headers: { 'content-type': 'text/plain' }, body: 'line one\r\nline two\r\n' });
    const want = await bodies(from.id);
    expect(want.length).toBe(4);

    await page.goto(`/bins/${from.id}`);
    await countIs(4);
    await page.getByTestId('bin-tools').click();
    const files: Record<string, string> = {};
    for (const format of ['ndjson', 'har']) {
      const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId(`export-${format}`).click()]);
      expect(download.suggestedFilename()).toMatch(new RegExp(`^${from.id}-.*\\.${format}$`));
      files[format] = (await download.path())!;
    }
    await screenshot(page, 'bin-tools');
    expect(JSON.parse(await readFile(files.har, 'utf8')).log.version).toBe('1.2');

    for (const format of ['ndjson', 'har']) {
      const to = await apiCall<Bin>(app.base, 'POST', '/api/bins', { name: `imported ${format}` });
      await page.goto(`/bins/${to.id}`);
      await page.locator('[data-testid="connection"][data-state="live"]').waitFor();
      await page.getByTestId('bin-tools').click();
      await page.getByTestId('import-file').setInputFiles({ name: `export.${format}`, mimeType: format === 'har' ? 'application/json' : 'application/x-ndjson', buffer: await readFile(files[format]) });
      const msg = page.getByTestId('bin-tools-message');
      await msg.waitFor();
      expect(await msg.textContent()).toContain('Imported 4 captures');
      // They appear in the list as they are added.
      await countIs(4);
      expect(await bodies(to.id), format).toEqual(want);
    }
  });

  it('"Copy as HAR" gives a HAR 1.2 document of that one request', async () => {
    const bin = await apiCall<Bin>(app.base, 'POST', '/api/bins', { name: 'har one' });
    const url = app.reachable(bin.url);
    await hit(`${url}/first`, { body: 'not me' });
    const id = idOf(await hit(`${url}/orders?id=7`, { headers: { 'content-type': 'application/json', 'x-token': 'abc' }, body: '{"ok":true}' }));
    await page.goto(`/bins/${bin.id}/requests/${id}`);
    await page.getByTestId('request-detail').waitFor();
    await page.getByTestId('copy-har').click();
    await page.getByTestId('copy-har').getByText('Copied').waitFor();
    const har = JSON.parse(await page.evaluate(() => navigator.clipboard.readText()));
    expect(har.log.version).toBe('1.2');
    expect(har.log.entries).toHaveLength(1);
    const req = har.log.entries[0].request;
    expect(req.method).toBe('POST');
    expect(req.url).toBe(`${bin.url}/orders?id=7`);
    expect(req.headers).toContainEqual({ name: 'x-token', value: 'abc' });
    expect(req.postData.text).toBe('{"ok":true}');
    expect(tp.problems).toEqual([]);
  });
});
