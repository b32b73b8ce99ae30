// The request detail after issue 16's friction list, in real Chromium: the body first (one
// scroll region, headers folded), Copy body, a JSON tree, a ~1 MB JSON body drawn in slices
// (its long-task goal is measured by `npm run bench -- render`), multipart parts with their
// headers, an image preview and a download, chunked trailers, times that say "s ago" (the exact time on hover), and list rows
// named by their payload, or by the sources the bin names (labelFrom), relabelled live.
import http from 'node:http';
import { readFile } from 'node:fs/promises';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bin } from '../../shared/api.ts';
import { bigJsonBody, browseOpenBody, clearLongTasks, LONG_TASK_OBSERVER, longTasks } from '../helpers/ui-perf.ts';
import { type RunningApp, type TestPage, apiCall, hit, openPage, screenshot, startAppAndPage, stopAppAndPage, tablePairs, until } from '../helpers/browser.ts';

let app: RunningApp;
let browser: Browser;
let tp: TestPage;
let page: Page;
let bin: Bin;
let target = '';

beforeAll(async () => {
  ({ app, browser, tp, page } = await startAppAndPage());
  await page.addInitScript({ content: LONG_TASK_OBSERVER });
  bin = await apiCall<Bin>(app.base, 'POST', '/api/bins', { name: 'details' });
  target = app.reachable(bin.url);
});

afterAll(() => stopAppAndPage({ app, browser }));

const idOf = (r: { headers: http.IncomingHttpHeaders }) => r.headers['x-hooklab-request-id'] as string;

async function open(id: string) {
  await page.locator(`[data-request-id="${id}"]`).click();
  await page.locator(`[data-testid="request-detail"][data-detail-id="${id}"]`).waitFor();
}

describe('the request detail', () => {
  it('shows the body first, headers folded, and copies the body', async () => {
    const body = '{"event":"invoice.paid","data":{"amount":12.50,"lines":[{"sku":"a"},{"sku":"b"}]}}';
    const id = idOf(await hit(`${target}/billing`, { headers: { 'content-type': 'application/json', 'x-trace': 't-1' }, body }));
    await page.goto(`/bins/${bin.id}`);
    await open(id);
    // Body before headers, in the page's order; the headers' table is there, folded.
    const order = await page.evaluate(() => {
      const body = document.querySelector('[data-testid="body-panel"]')!;
      const headers = document.querySelector('[data-testid="headers-section"]')!;
      return body.compareDocumentPosition(headers) & Node.DOCUMENT_POSITION_FOLLOWING ? 'body first' : 'headers first';
    });
    expect(order).toBe('body first');
    expect(await page.getByTestId('headers-section').getAttribute('open')).toBeNull();
    expect(await tablePairs(page, 'request-headers')).toContainEqual(['x-trace', 't-1']);
    // One scroll region: the body is not a scroll box of its own.
    const overflowY = await page.getByTestId('json-pretty').evaluate((el) => [getComputedStyle(el).maxHeight, el.scrollHeight <= el.clientHeight + 1]);
    expect(overflowY).toEqual(['none', true]);

    await page.getByTestId('copy-body').click();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(body);
  });

  it('has a JSON tree that opens on demand and keeps numbers as sent', async () => {
    await page.getByTestId('view-tree').click();
    const tree = page.getByTestId('json-tree');
    await tree.waitFor();
    // The top level is open; "data" is folded until clicked.
    expect(await tree.textContent()).toContain('"event": "invoice.paid"');
    expect(await tree.textContent()).not.toContain('12.50');
    await tree.getByRole('button', { name: /"data"/ }).click();
    expect(await tree.textContent()).toContain('"amount": 12.50');
    expect(await tree.getByRole('button', { name: /"lines"/ }).textContent()).toContain('[ 2 items ]');
    await screenshot(page, 'detail-json-tree');
  });

  it('draws a ~1 MB JSON body in slices: the first blocks show while the rest is formatted, no long freeze', async () => {
    const body = bigJsonBody();
    expect(body.length).toBeGreaterThan(900_000);
    expect(body.length).toBeLessThan(1_048_576);
    const id = idOf(await hit(`${target}/big`, { headers: { 'content-type': 'application/json' }, body }));
    await page.locator(`[data-request-id="${id}"]`).waitFor();
    // The observer sees long tasks: a 120 ms busy loop shows up as one.
    await page.evaluate(() =>
      setTimeout(() => {
        const t = performance.now();
        while (performance.now() - t < 120);
      }, 0),
    );
    await until(page, () => (window as unknown as { __longTasks: number[] }).__longTasks.some((d) => d >= 100));
    await clearLongTasks(page);
    // Every state the pretty view goes through: blocks drawn, and whether formatting is done.
    await page.evaluate(() => {
      const w = window as unknown as { __prettyStates: string[] };
      w.__prettyStates = [];
      const note = () => {
        const el = document.querySelector('[data-testid="json-pretty"]');
        const s = el ? `${el.getAttribute('data-blocks')}/${el.getAttribute('data-complete')}` : null;
        if (s && s !== w.__prettyStates.at(-1)) w.__prettyStates.push(s);
      };
      new MutationObserver(note).observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-blocks', 'data-complete'] });
    });
    // A CPU as slow as a modest laptop's: on a fast idle machine the whole body formats within
    // one 24 ms slice, and no partial state could be seen (the test failed on a fresh machine).
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Emulation.setCPUThrottlingRate', { rate: 6 });
    const t0 = Date.now();
    await open(id);
    await page.locator('[data-testid="json-pretty"][data-complete="true"]').waitFor();
    const drawn = Date.now() - t0;
    await cdp.send('Emulation.setCPUThrottlingRate', { rate: 1 });
    await cdp.detach();
    // Formatted in slices: blocks were on screen before the whole body was formatted, and
    // more came after (one task doing it all would show the final state only).
    const states = (await page.evaluate(() => (window as unknown as { __prettyStates: string[] }).__prettyStates)).map((s) => {
      const [n, done] = s.split('/');
      return { blocks: Number(n), done: done === 'true' };
    });
    const final = states.at(-1)!;
    expect(final.done).toBe(true);
    const partial = states.filter((s) => !s.done && s.blocks > 0);
    expect(partial.length).toBeGreaterThanOrEqual(1);
    expect(partial[0].blocks).toBeLessThan(final.blocks);
    // The end of the body is there (formatted as sent).
    expect(await page.getByTestId('json-pretty').evaluate((el) => el.textContent!.endsWith('"none": null\n    }\n  ]\n}'))).toBe(true);
    // Switch views too (the tree and the text) and scroll to the bottom and back.
    await browseOpenBody(page);
    const tasks = await longTasks(page);
    const longest = Math.max(0, ...tasks);
    console.log(`1 MB JSON: drawn in ${drawn} ms in ${states.length} steps (${final.blocks} blocks); long tasks ${JSON.stringify(tasks)}; longest ${longest} ms`);
    // The goal (no task over 200 ms) is measured by `npm run bench -- render`; on this shared
    // machine a test only guards against a freeze, at 10x the goal (the unsliced drawing took
    // 1.3 s on a quiet machine, far more with the test files running side by side).
    expect(longest).toBeLessThan(2000);
    await screenshot(page, 'detail-big-json');
  });

  it('shows each multipart part with its headers, previews an image, downloads a part', async () => {
    // A 1×1 PNG.
    const png = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64');
    const b = 'B0undary';
    const body = Buffer.concat([
      Buffer.from(`--${b}\r\nContent-Disposition: form-data; name="note"\r\nX-Part: first\r\n\r\nhello\r\n`),
      Buffer.from(`--${b}\r\nContent-Disposition: form-data; name="avatar"; filename="me.png"\r\nContent-Type: image/png\r\n\r\n`),
      png,
      Buffer.from(`\r\n--${b}--\r\n`),
    ]);
    const id = idOf(await hit(`${target}/upload`, { headers: { 'content-type': `multipart/form-data; boundary=${b}` }, body }));
    await open(id);
    const parts = page.getByTestId('multipart-part');
    await parts.nth(1).waitFor();
    expect(await tablePairs(page, 'part-headers')).toEqual([
      ['Content-Disposition', 'form-data; name="note"'],
      ['X-Part', 'first'],
      ['Content-Disposition', 'form-data; name="avatar"; filename="me.png"'],
      ['Content-Type', 'image/png'],
    ]);
    const img = parts.nth(1).getByTestId('part-image');
    await until(page, () => (document.querySelector('[data-testid="part-image"]') as HTMLImageElement | null)?.naturalWidth === 1);
    expect(await img.getAttribute('alt')).toBe('Preview of me.png');
    const [download] = await Promise.all([page.waitForEvent('download'), parts.nth(1).getByTestId('part-download').click()]);
    expect(download.suggestedFilename()).toBe('me.png');
    expect(Buffer.compare(await readFile((await download.path())!), png)).toBe(0);
    await screenshot(page, 'detail-multipart-image');
  });

  it("shows a sender's bidi override or zero-width character as a visible mark, and leaves it out of a part's download name", async () => {
    // "invoice<RLO>fdp.exe" would read "invoiceexe.pdf".
    const b = 'B1di';
    const body = Buffer.from(`--${b}\r\nContent-Disposition: form-data; name="f\u200b"; filename="invoice\u202efdp.exe"\r\nContent-Type: text/plain\r\n\r\nhi\r\n--${b}--\r\n`);
    const id = idOf(await hit(`${target}/bidi`, { headers: { 'content-type': `multipart/form-data; boundary=${b}`, 'x-bidi': Buffer.from('abc\u202edef').toString('latin1') }, body }));
    await open(id);
    const part = page.getByTestId('multipart-part').first();
    await part.waitFor();
    expect(await part.getByTestId('part-filename').textContent()).toBe('file: invoice⟨U+202E⟩fdp.exe');
    expect(await part.locator('strong').textContent()).toBe('f⟨U+200B⟩');
    // (Its bytes are UTF-8: the row also carries that mark.)
    expect((await tablePairs(page, 'request-headers')).find(([n]) => n === 'x-bidi')?.[1]).toMatch(/^abc⟨U\+202E⟩def\b/);
    const [download] = await Promise.all([page.waitForEvent('download'), part.getByTestId('part-download').click()]);
    expect(download.suggestedFilename()).toBe('invoicefdp.exe');
  });

  it('Copy as cURL and Download name a binary body the same way', async () => {
    const pdf = Buffer.concat([Buffer.from('%PDF-1.4\n'), Buffer.from([0, 0xff, 0xfe, 1, 2, 3])]);
    const id = idOf(await hit(`${target}/doc`, { headers: { 'content-type': 'application/pdf' }, body: pdf }));
    await open(id);
    await page.getByTestId('copy-curl').click();
    const curl = await page.evaluate(() => navigator.clipboard.readText());
    expect(curl).toContain(`--data-binary @${id}.pdf`);
    expect(curl).toContain(`(${id}.pdf)`);
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('download-raw').click()]);
    expect(download.suggestedFilename()).toBe(`${id}.pdf`);
    expect(Buffer.compare(await readFile((await download.path())!), pdf)).toBe(0);
    expect(await page.getByTestId('copy-body').isDisabled()).toBe(true);
  });

  it('shows chunked trailers in a table of their own', async () => {
    const u = new URL(target);
    const id = await new Promise<string>((resolve, reject) => {
      const req = http.request({ host: u.hostname, port: u.port, path: `${u.pathname}/chunked`, method: 'POST', headers: { 'content-type': 'text/plain', trailer: 'X-Checksum' } }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.headers['x-hooklab-request-id'] as string));
      });
      req.on('error', reject);
      req.write('part one, ');
      req.write('part two');
      req.addTrailers([['X-Checksum', 'abc123']]);
      req.end();
    });
    await open(id);
    expect(await tablePairs(page, 'request-trailers')).toEqual([['X-Checksum', 'abc123']]);
    // Without trailers, no table.
    await open(idOf(await hit(`${target}/plain`, { body: 'x' })));
    expect(await page.getByTestId('request-trailers').count()).toBe(0);
  });

  it('says how long ago, keeps it current, and gives the exact time on hover', async () => {
    const id = idOf(await hit(`${target}/clock`, { body: 'tick' }));
    await open(id);
    const ago = page.getByTestId('received-ago');
    const first = await ago.textContent();
    expect(first).toMatch(/^(just now|\d+ s ago)$/);
    expect(await ago.getAttribute('title')).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}$/);
    await until(page, (was) => {
      const t = document.querySelector('[data-testid="received-ago"]')?.textContent ?? '';
      return t !== was && /^\d+ s ago$/.test(t);
    }, first);
    const row = page.locator(`[data-request-id="${id}"] time`);
    expect(await row.textContent()).toMatch(/ago|just now/);
    expect(await row.getAttribute('title')).toBe(await ago.getAttribute('title'));
  });

  it('names list rows by their payload: event, type, action, X-GitHub-Event', async () => {
    const sent = [
      idOf(await hit(`${target}/`, { headers: { 'content-type': 'application/json' }, body: '{"type":"customer.created","id":"evt_1"}' })),
      idOf(await hit(`${target}/gh`, { headers: { 'content-type': 'application/json', 'x-github-event': 'pull_request' }, body: '{"action":"opened","number":7}' })),
      idOf(await hit(`${target}/`, { headers: { 'content-type': 'application/json' }, body: '{"action":"deleted"}' })),
      idOf(await hit(`${target}/nolabel`, { headers: { 'content-type': 'application/json' }, body: '{"x":1}' })),
    ];
    const label = (id: string) => page.locator(`[data-request-id="${id}"] [data-testid="row-label"]`);
    const labelIs = (id: string, text: string) => until(page, ([rid, want]) => document.querySelector(`[data-request-id="${rid}"] [data-testid="row-label"]`)?.textContent === want, [id, text] as const);
    await labelIs(sent[0], 'customer.created');
    await labelIs(sent[1], 'pull_request · opened');
    await labelIs(sent[2], 'deleted');
    // The sub-path is still on the row, under the label; a body without a name keeps the path.
    expect(await page.locator(`[data-request-id="${sent[1]}"]`).textContent()).toContain('/gh');
    expect(await page.locator(`[data-request-id="${sent[3]}"]`).textContent()).toContain('/nolabel');
    expect(await label(sent[3]).count()).toBe(0);
    // After a reload (rows from the API, with headers) too.
    await page.reload();
    await until(page, (id) => document.querySelector(`[data-request-id="${id}"] [data-testid="row-label"]`)?.textContent === 'pull_request · opened', sent[1]);
    await screenshot(page, 'list-row-labels');
    expect(tp.problems).toEqual([]);
  });

  it('keeps what is typed into the row-label editor right after it opens (the toggle event comes later)', async () => {
    const own = await apiCall<Bin>(app.base, 'POST', '/api/bins', { name: 'fast typist', labelFrom: ['json:type'] });
    const t = await openPage(browser, app.base);
    try {
      await t.page.goto(`/bins/${own.id}`);
      await t.page.getByTestId('request-list').waitFor();
      // The editor comes with the bin's settings, which may land after the list (a busy CI
      // machine: it was not there yet once).
      await t.page.locator('details.row-labels').waitFor({ state: 'attached' });
      // Open and type in one task: the details' toggle event is dispatched after it.
      await t.page.evaluate(() => {
        const d = document.querySelector('details.row-labels') as HTMLDetailsElement;
        d.open = true;
        const input = d.querySelector('[data-testid="row-labels-input"]') as HTMLInputElement;
        input.value = 'header:X-Kind';
        input.dispatchEvent(new Event('input', { bubbles: true }));
      });
      await new Promise((r) => setTimeout(r, 200));
      expect(await t.page.getByTestId('row-labels-input').inputValue()).toBe('header:X-Kind');
      await t.page.getByTestId('row-labels-save').click();
      await until(t.page, () => document.querySelector('[data-testid="row-labels-current"]')?.textContent === 'from header:X-Kind');
      expect(t.problems).toEqual([]);
    } finally {
      await t.context.close();
    }
  });

  it("takes row labels from the bin's own sources (labelFrom), set under its name, and relabels live in every tab", async () => {
    const own = await apiCall<Bin>(app.base, 'POST', '/api/bins', { name: 'stripe labels', labelFrom: ['json:data.object.type'] });
    const url = app.reachable(own.url);
    const [a, b] = [await openPage(browser, app.base), await openPage(browser, app.base)];
    try {
      await Promise.all([a.page.goto(`/bins/${own.id}`), b.page.goto(`/bins/${own.id}`)]);
      await Promise.all([a.page.getByTestId('request-list').waitFor(), b.page.getByTestId('request-list').waitFor()]);
      const json = { 'content-type': 'application/json' };
      const stripeLike = idOf(await hit(`${url}/stripe`, { headers: { ...json, 'x-kind': 'fee-kind' }, body: '{"type":"event","data":{"object":{"type":"invoice.paid"}}}' }));
      // None of the sources has a value: the built-in rules.
      const plain = idOf(await hit(`${url}/other`, { headers: json, body: '{"type":"customer.created"}' }));
      const labelIs = (p: Page, id: string, text: string) =>
        until(p, ([rid, want]) => document.querySelector(`[data-request-id="${rid}"] [data-testid="row-label"]`)?.textContent === want, [id, text] as const);
      for (const p of [a.page, b.page]) {
        await labelIs(p, stripeLike, 'invoice.paid');
        await labelIs(p, plain, 'customer.created');
      }
      expect(await a.page.getByTestId('row-labels-current').textContent()).toBe('from json:data.object.type');

      // The editor, under the bin's name: the sources as text, the built-in rules in its hint.
      await a.page.getByTestId('row-labels').click();
      const input = a.page.getByTestId('row-labels-input');
      expect(await input.inputValue()).toBe('json:data.object.type');
      expect(await a.page.getByTestId('row-labels-form').textContent()).toContain("the dispatcher's event and attempt, X-GitHub-Event");
      // Bad sources: every one named in place, under the field; nothing changes.
      await input.fill('type, json:data.object.type, header:two words');
      await a.page.getByTestId('row-labels-save').click();
      const error = a.page.locator('[data-testid="row-labels-form"] [data-testid="field-error"]');
      await error.waitFor();
      expect(await error.textContent()).toBe('“type” must start with json: or header:; “header:two words” is not a valid header name');
      expect(await input.getAttribute('aria-invalid')).toBe('true');
      await screenshot(a.page, 'row-label-sources-error');
      expect((await apiCall<Bin>(app.base, 'GET', `/api/bins/${own.id}`)).labelFrom).toEqual(['json:data.object.type']);
      // Editing clears the mark; a good list is saved and every tab relabels.
      await input.fill('header:X-Kind, json:type');
      expect(await error.count()).toBe(0);
      await a.page.getByTestId('row-labels-save').click();
      for (const p of [a.page, b.page]) {
        // A header source on a live row (which carries no headers): read from its detail.
        await labelIs(p, stripeLike, 'fee-kind');
        await labelIs(p, plain, 'customer.created');
        await until(p, () => document.querySelector('[data-testid="row-labels-current"]')?.textContent === 'from header:X-Kind, json:type');
      }
      expect(await a.page.getByTestId('row-labels-form').isVisible()).toBe(false);
      expect((await apiCall<Bin>(app.base, 'GET', `/api/bins/${own.id}`)).labelFrom).toEqual(['header:X-Kind', 'json:type']);
      // Back to the built-in rules from the other tab: an empty list.
      await b.page.getByTestId('row-labels').click();
      await b.page.getByTestId('row-labels-input').fill('');
      await b.page.getByTestId('row-labels-save').click();
      await until(a.page, () => document.querySelector('[data-testid="row-labels-current"]')?.textContent === 'built-in');
      for (const p of [a.page, b.page]) await labelIs(p, stripeLike, 'event');
      expect((await apiCall<Bin>(app.base, 'GET', `/api/bins/${own.id}`)).labelFrom).toBeUndefined();
      await screenshot(a.page, 'row-label-sources');
      expect(a.problems).toEqual(['console: Failed to load resource: the server responded with a status of 400 (Bad Request)']);
      expect(b.problems).toEqual([]);
    } finally {
      await Promise.all([a.context.close(), b.context.close()]);
    }
  });
});
