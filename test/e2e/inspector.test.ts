// The inspector in real Chromium against the built app: mint a bin, watch requests arrive
// live, read them in every body view, copy, download, delete, clear, reload, phone width.
import { readFile } from 'node:fs/promises';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bin } from '../../shared/api.ts';
import { type RunningApp, type TestPage, apiCall, hit, openPage, overflowing, screenshot, startAppAndPage, stopAppAndPage, tablePairs, until } from '../helpers/browser.ts';

let app: RunningApp;
let browser: Browser;
let tp: TestPage;
let page: Page;
let binId = '';
let binUrl = '';
/** The bin URL as reachable from this test (the server shows localhost:<port>). */
let target = '';

beforeAll(async () => {
  ({ app, browser, tp, page } = await startAppAndPage());
});

afterAll(() => stopAppAndPage({ app, browser }));

const rows = () => page.locator('[data-request-id]');
const rowIds = () => page.$$eval('[data-request-id]', (els) => els.map((e) => e.getAttribute('data-request-id')!));
const connectionLive = () => page.locator('[data-testid="connection"][data-state="live"]').waitFor();

async function openRequest(id: string) {
  await page.locator(`[data-request-id="${id}"]`).click();
  await page.locator(`[data-testid="request-detail"][data-detail-id="${id}"]`).waitFor();
}

describe('inspector', () => {
  it('mints a bin in one click and shows its URL, a Copy button and a curl example', async () => {
    await apiCall(app.base, 'POST', '/api/bins', { name: 'An older bin' });
    await page.goto('/');
    await page.locator('[data-testid="bin-list"] li').first().waitFor();
    await screenshot(page, 'start-page');

    await page.getByTestId('new-bin').click();
    await page.waitForURL(/\/bins\/[A-Za-z0-9_-]+$/);
    binId = new URL(page.url()).pathname.split('/')[2];
    await until(page, (id) => document.querySelector('[data-testid="bin-url"]')?.textContent?.endsWith(`/h/${id}`), binId);
    binUrl = (await page.getByTestId('bin-url').textContent())!;
    target = app.reachable(binUrl);
    const bin = await apiCall<Bin>(app.base, 'GET', `/api/bins/${binId}`);
    expect(binUrl).toBe(bin.url);

    await page.getByTestId('copy-url').click();
    await page.getByTestId('copy-url').getByText('Copied').waitFor();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(binUrl);

    // An empty bin opens the curl example; it is ready to paste.
    const curl = await page.getByTestId('curl-example').textContent();
    expect(curl).toContain(`curl -X POST ${binUrl}`);
    await page.getByTestId('copy-curl-example').click();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(curl);
    await connectionLive();
    await screenshot(page, 'bin-empty');
  });

  it('shows requests live, newest on top, unread marked and counted in the title, without a reload', async () => {
    await page.evaluate(() => ((window as unknown as { __sameDocument: number }).__sameDocument = 42));
    await apiCall(app.base, 'PUT', `/api/bins/${binId}/response`, { plan: [{ status: 418 }] });
    const sent: string[] = [];
    for (const [method, path, body] of [
      ['POST', '/hooks/github?x=1', '{"first":true}'],
      ['PUT', '/orders/7', 'second'],
      ['GET', '/health', undefined],
    ] as const) {
      const r = await hit(target + path, { method, headers: body ? { 'content-type': 'application/json' } : {}, body });
      sent.push(r.headers['x-hooklab-request-id'] as string);
    }
    await rows().nth(2).waitFor();
    expect(await rowIds()).toEqual([...sent].reverse());

    const first = page.locator(`[data-request-id="${sent[0]}"]`);
    expect(await first.textContent()).toMatch(/POST.*\/hooks\/github\?x=1.*418/);
    expect(await first.textContent()).toContain('14 B');
    expect(await page.locator(`[data-request-id="${sent[2]}"]`).textContent()).toMatch(/GET.*\/health.*200/);
    expect(await page.locator('[data-request-id][data-unread="true"]').count()).toBe(3);
    await until(page, () => document.title.startsWith('(3) '));
    expect(await page.getByTestId('unread-count').textContent()).toBe('3 new');
    expect(await page.evaluate(() => (window as unknown as { __sameDocument: number }).__sameDocument)).toBe(42);
    await screenshot(page, 'bin-live');
  });

  it('opens a detail: headers as sent in order, query, pretty JSON; opening marks it read', async () => {
    const body = '{"amount": 12.50, "id": 12345678901234567890, "items": [{"sku": "a"}]}';
    const r = await hit(target + '/pay?currency=EUR&tag=a&tag=b&q=hello%20world', {
      headers: [
        ['X-First', 'one'],
        ['content-type', 'application/json'],
        ['X-Dup', 'a'],
        ['X-Dup', 'b'],
        ['X-Last', 'z'],
      ],
      body,
    });
    const id = r.headers['x-hooklab-request-id'] as string;
    await page.locator(`[data-request-id="${id}"]`).waitFor();
    await until(page, () => document.title.startsWith('(4) '));
    await openRequest(id);
    expect(new URL(page.url()).pathname).toBe(`/bins/${binId}/requests/${id}`);

    const headers = await tablePairs(page, 'request-headers');
    expect(headers.slice(0, 6)).toEqual([
      ['Host', new URL(target).host],
      ['X-First', 'one'],
      ['content-type', 'application/json'],
      ['X-Dup', 'a'],
      ['X-Dup', 'b'],
      ['X-Last', 'z'],
    ]);
    expect(await tablePairs(page, 'query-params')).toEqual([
      ['currency', 'EUR'],
      ['tag', 'a'],
      ['tag', 'b'],
      ['q', 'hello world'],
    ]);
    expect(await page.getByTestId('json-pretty').textContent()).toBe(
      '{\n  "amount": 12.50,\n  "id": 12345678901234567890,\n  "items": [\n    {\n      "sku": "a"\n    }\n  ]\n}',
    );
    await until(page, (rid) => !document.querySelector(`[data-request-id="${rid}"]`)?.hasAttribute('data-unread'), id);
    await until(page, () => document.title.startsWith('(3) '));
    await screenshot(page, 'request-detail-json');

    // Keyboard: the list is a listbox; arrows move the selection.
    await page.getByTestId('request-list').focus();
    await page.keyboard.press('ArrowDown');
    const next = (await rowIds())[1];
    await page.locator(`[data-testid="request-detail"][data-detail-id="${next}"]`).waitFor();
    expect(await page.locator(`[data-request-id="${next}"]`).getAttribute('aria-selected')).toBe('true');
  });

  it('shows where invalid JSON breaks, form fields, multipart parts with sizes, and hex for binary', async () => {
    const bad = await hit(target + '/bad', { headers: { 'content-type': 'application/json' }, body: '{\n  "ok": 1,\n  "list": [1, 2,]\n}' });
    await openRequest(bad.headers['x-hooklab-request-id'] as string);
    const err = await page.getByTestId('json-error').textContent();
    expect(err).toContain('line 3, column 17');
    expect(err).toContain('Trailing comma before "]"');
    expect(await page.getByTestId('json-error-at').textContent()).toBe(']');
    await screenshot(page, 'request-detail-json-error');

    const form = await hit(target + '/form', { headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'name=Ada+Lovelace&lang=en&lang=fr&sym=%E2%9C%93' });
    await openRequest(form.headers['x-hooklab-request-id'] as string);
    expect(await tablePairs(page, 'form-fields')).toEqual([
      ['name', 'Ada Lovelace'],
      ['lang', 'en'],
      ['lang', 'fr'],
      ['sym', '✓'],
    ]);

    const boundary = 'XyZ123';
    const file = Buffer.alloc(3000, 7);
    const mp = Buffer.concat([
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="title"\r\n\r\nhello\r\n`),
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="upload"; filename="data.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`),
      file,
      Buffer.from(`\r\n--${boundary}--\r\n`),
    ]);
    const m = await hit(target + '/upload', { headers: { 'content-type': `multipart/form-data; boundary=${boundary}` }, body: mp });
    await openRequest(m.headers['x-hooklab-request-id'] as string);
    const parts = page.getByTestId('multipart-part');
    await parts.nth(1).waitFor();
    expect(await parts.nth(0).textContent()).toContain('title');
    expect(await parts.nth(0).getByTestId('part-size').textContent()).toBe('5 B');
    expect(await parts.nth(1).textContent()).toContain('data.bin');
    expect(await parts.nth(1).getByTestId('part-size').textContent()).toBe('2.9 KB (3,000 bytes)');
    await screenshot(page, 'request-detail-multipart');

    const bin = await hit(target + '/bytes', { headers: { 'content-type': 'application/octet-stream' }, body: Buffer.from([0x00, 0xff, 0x10, 0x41, 0x42, 0x0a]) });
    await openRequest(bin.headers['x-hooklab-request-id'] as string);
    expect(await page.getByTestId('body-panel').getAttribute('data-view')).toBe('hex');
    expect(await page.getByTestId('body-hex').textContent()).toBe('00000000  00 ff 10 41 42 0a                                 |...AB.|');

    // Text view of any UTF-8 body, chosen from the tabs.
    await openRequest(bad.headers['x-hooklab-request-id'] as string);
    await page.getByTestId('view-text').click();
    expect(await page.getByTestId('body-text').textContent()).toBe('{\n  "ok": 1,\n  "list": [1, 2,]\n}');
  });

  it('copies a request as cURL and downloads its raw body byte for byte', async () => {
    const body = `{"quote": "it's"}`;
    const r = await hit(target + '/replay?x=1', { headers: [['Content-Type', 'application/json'], ['X-Token', 'abc']], body });
    const id = r.headers['x-hooklab-request-id'] as string;
    await openRequest(id);
    await page.getByTestId('copy-curl').click();
    const curl = await page.evaluate(() => navigator.clipboard.readText());
    // The sender gave no User-Agent or Accept: curl must not add its own.
    expect(curl).toBe(
      `curl '${binUrl}/replay?x=1' \\\n  -H 'Content-Type: application/json' \\\n  -H 'X-Token: abc' \\\n  -H 'User-Agent:' \\\n  -H 'Accept:' \\\n  --data-raw '{"quote": "it'\\''s"}'`,
    );

    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('download-raw').click()]);
    expect(download.suggestedFilename()).toBe(`${id}.json`); // named for its content type
    expect((await readFile((await download.path())!)).toString()).toBe(body);
  });

  it('copies a 200 KB text body as cURL from the downloaded file: inline it would be refused (Argument list too long)', async () => {
    const body = JSON.stringify({ pad: 'x'.repeat(200 * 1024) });
    const id = (await hit(target + '/big', { headers: [['Content-Type', 'application/json']], body })).headers['x-hooklab-request-id'] as string;
    await openRequest(id);
    await page.getByTestId('copy-curl').click();
    const curl = await page.evaluate(() => navigator.clipboard.readText());
    expect(curl.length).toBeLessThan(1000);
    expect(curl.split('\n')[0]).toBe(`# The body is too long for one shell argument: save it first with "Download raw body" (${id}.json)`);
    expect(curl.endsWith(`--data-binary @${id}.json`)).toBe(true);
  });

  it('deletes one request and clears the bin', async () => {
    const before = await rowIds();
    const victim = before[0];
    await openRequest(victim);
    await page.getByTestId('delete-request').click();
    await page.locator('[data-testid="delete-request"][data-armed="true"]').click();
    await page.locator(`[data-request-id="${victim}"]`).waitFor({ state: 'detached' });
    // The next request opens in its place.
    await page.locator(`[data-testid="request-detail"][data-detail-id="${before[1]}"]`).waitFor();
    expect((await apiCall<{ requests: unknown[] }>(app.base, 'GET', `/api/bins/${binId}/requests?limit=500`)).requests.length).toBe(before.length - 1);

    await page.getByTestId('clear-bin').click();
    await page.locator('[data-testid="clear-bin"][data-armed="true"]').click();
    await rows().first().waitFor({ state: 'detached' });
    await page.getByText('Waiting for the first request').waitFor();
    expect((await apiCall<{ requests: unknown[] }>(app.base, 'GET', `/api/bins/${binId}/requests`)).requests).toEqual([]);
  });

  it('works on reload and when the address is pasted into a new tab', async () => {
    const r = await hit(target + '/after-clear', { body: 'x' });
    const id = r.headers['x-hooklab-request-id'] as string;
    await openRequest(id);
    await page.reload();
    await page.locator(`[data-testid="request-detail"][data-detail-id="${id}"]`).waitFor();
    await page.locator(`[data-request-id="${id}"][aria-selected="true"]`).waitFor();

    const fresh = await tp.context.newPage();
    await fresh.goto(`${app.base}/bins/${binId}`);
    await fresh.locator(`[data-request-id="${id}"]`).waitFor();
    expect(await fresh.getByTestId('bin-url').textContent()).toBe(binUrl);
    await fresh.goto(`${app.base}/bins/${binId}/response`);
    await fresh.getByTestId('response-editor').waitFor();
    await fresh.goto(`${app.base}/bins/no-such-bin`);
    await fresh.getByTestId('bin-missing').waitFor();
    await fresh.close();
  });

  it('renders payload markup and script as text and runs none of it', async () => {
    const dialogs: string[] = [];
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    const canary = (n: number) => `window.__pwned=${n};alert(${n})`;
    const html = `<img src=x onerror="${canary(1)}"><script>${canary(2)}</script><b>bold</b>`;
    const payloads: [string, Parameters<typeof hit>[1]][] = [
      [`/<svg/onload=${canary(3)}>?q=<script>${canary(4)}</script>`, { headers: [['Content-Type', 'text/html'], ['X-Evil', `<img src=x onerror="${canary(5)}">`]], body: html }],
      ['/json', { headers: { 'content-type': 'application/json' }, body: JSON.stringify({ html, [`<img src=x onerror="${canary(6)}">`]: 1 }) }],
      ['/form', { headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `f=${encodeURIComponent(html)}` }],
      [
        '/mp',
        {
          headers: { 'content-type': 'multipart/form-data; boundary=b' },
          body: `--b\r\nContent-Disposition: form-data; name="<img src=x onerror=${canary(7)}>"; filename="<script>${canary(8)}</script>.html"\r\nContent-Type: text/html\r\n\r\n${html}\r\n--b--\r\n`,
        },
      ],
    ];
    await apiCall(app.base, 'PATCH', `/api/bins/${binId}`, { name: `<img src=x onerror="${canary(9)}">` });
    const ids: string[] = [];
    for (const [path, opts] of payloads) ids.push((await hit(target + path, opts)).headers['x-hooklab-request-id'] as string);
    for (const id of ids) {
      await openRequest(id);
      for (const view of ['json', 'form', 'multipart', 'text', 'hex']) {
        const tab = page.getByTestId(`view-${view}`);
        if (await tab.count()) {
          await tab.click();
          await page.locator(`[data-testid="body-panel"][data-view="${view}"]`).waitFor();
        }
      }
    }
    await openRequest(ids[0]);
    await page.getByTestId('view-text').click();
    // The markup is on screen as characters...
    expect(await page.getByTestId('body-text').textContent()).toBe(html);
    expect(await page.locator('.detail-path').textContent()).toBe(`/<svg/onload=${canary(3)}>?q=<script>${canary(4)}</script>`);
    expect(await tablePairs(page, 'request-headers')).toContainEqual(['X-Evil', `<img src=x onerror="${canary(5)}">`]);
    await until(page, () => document.querySelector('.bin-title h1')?.textContent?.includes('<img src=x onerror='));
    // ...and none of it became an element or ran.
    const dom = await page.evaluate(() => ({
      pwned: (window as unknown as { __pwned?: number }).__pwned,
      imgs: document.querySelectorAll('img, svg[onload], [onerror], [onload]').length,
      bold: document.querySelectorAll('main b').length,
      scripts: [...document.querySelectorAll('script')].map((s) => s.getAttribute('src')),
    }));
    expect(dom.pwned).toBeUndefined();
    expect(dom.imgs).toBe(0);
    expect(dom.bold).toBe(0);
    expect(dom.scripts.every((src) => src !== null && src.startsWith('/assets/'))).toBe(true);
    expect(dialogs).toEqual([]);
    await screenshot(page, 'xss-as-text');
  });

  it('fits a phone-width screen: list first, then the detail with a way back', async () => {
    const phone = await openPage(browser, app.base, { width: 390, height: 844, isMobile: true });
    try {
      const p = phone.page;
      await p.goto(`/bins/${binId}`);
      await p.locator('[data-request-id]').first().waitFor();
      expect(await overflowing(p)).toEqual([]);
      await screenshot(p, 'phone-bin');
      const id = await p.locator('[data-request-id]').first().getAttribute('data-request-id');
      await p.locator(`[data-request-id="${id}"]`).click();
      await p.locator(`[data-testid="request-detail"][data-detail-id="${id}"]`).waitFor();
      // The list gives way to the detail (auto-waiting: the layout may settle a frame later).
      await p.getByTestId('request-list').waitFor({ state: 'hidden' });
      expect(await overflowing(p)).toEqual([]);
      await screenshot(p, 'phone-request-detail');
      await p.getByTestId('back-to-list').click();
      await p.getByTestId('request-list').waitFor();
      expect(phone.problems).toEqual([]);
    } finally {
      await phone.context.close();
    }
  });

  it('a short phone scrolls the page so the list (or the detail) gets the window under the app bar; a desktop window does not scroll', async () => {
    /** How many px of `sel` are on screen, below the app bar, once the page is scrolled to its end. */
    const shown = (p: Page, sel: string) =>
      p.evaluate((s) => {
        window.scrollTo(0, document.documentElement.scrollHeight);
        const r = document.querySelector(s)!.getBoundingClientRect();
        return Math.round(Math.min(r.bottom, innerHeight) - Math.max(r.top, document.querySelector('.app-bar')!.getBoundingClientRect().bottom));
      }, sel);
    for (const [width, height, list] of [
      [400, 640, 350], // was ~135 px, and the page could not scroll to show more
      [400, 800, 500], // was ~280 px
    ]) {
      const phone = await openPage(browser, app.base, { width, height, isMobile: true });
      try {
        const p = phone.page;
        await p.goto(`/bins/${binId}`);
        await p.locator('[data-request-id]').first().waitFor();
        expect(await shown(p, '.req-list'), `list at ${width}×${height}`).toBeGreaterThanOrEqual(list);
        await screenshot(p, `phone-bin-${width}x${height}`);
        await p.locator('[data-request-id]').first().click();
        await p.getByTestId('request-detail').waitFor();
        expect(await shown(p, '[data-testid="detail-pane"]'), `detail at ${width}×${height}`).toBeGreaterThanOrEqual(height - 100);
        expect(await overflowing(p)).toEqual([]);
      } finally {
        await phone.context.close();
      }
    }
    const desk = await openPage(browser, app.base, { width: 1280, height: 860 });
    try {
      await desk.page.goto(`/bins/${binId}`);
      await desk.page.locator('[data-request-id]').first().waitFor();
      // Tall enough: one window, the list and the detail scroll inside it.
      expect(await desk.page.evaluate(() => document.documentElement.scrollHeight <= innerHeight)).toBe(true);
    } finally {
      await desk.context.close();
    }
  });

  it('fits a phone-width screen while the live connection is down (the badge keeps to a dot)', async () => {
    const phone = await openPage(browser, app.base, { width: 390, height: 844, isMobile: true });
    try {
      await phone.page.route('**/socket.io/**', (r) => r.abort());
      await phone.page.routeWebSocket(/\/socket\.io\//, (ws) => void ws.close({ code: 1006 }));
      await phone.page.goto(`/bins/${binId}`);
      await phone.page.locator('[data-testid="connection"][data-state="reconnecting"]').waitFor();
      expect(await overflowing(phone.page)).toEqual([]);
      // Still said in words, for screen readers and the tooltip.
      expect(await phone.page.getByTestId('connection').textContent()).toBe('Reconnecting…');
    } finally {
      await phone.context.close();
    }
  });

  it('follows the system dark mode', async () => {
    const dark = await openPage(browser, app.base, { colorScheme: 'dark' });
    try {
      await dark.page.goto(`/bins/${binId}`);
      const id = await dark.page.locator('[data-request-id]').first().getAttribute('data-request-id');
      await dark.page.locator(`[data-request-id="${id}"]`).click();
      await dark.page.getByTestId('request-detail').waitFor();
      const bg = await dark.page.evaluate(() => getComputedStyle(document.body).backgroundColor);
      expect(bg).toBe('rgb(15, 18, 23)');
      await screenshot(dark.page, 'bin-dark');
    } finally {
      await dark.context.close();
    }
  });

  it('logged no errors in the page', () => {
    expect(tp.problems).toEqual([]);
  });
});
