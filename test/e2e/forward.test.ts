// Issue 13's UI in real Chromium: "Forward to…" on the bin page (targets, proxy mode), each
// request's Forwards (kind, URL, status or error, time, the answer's first bytes) arriving
// live, Replay to the targets or a typed URL, Edit & replay, and a bulk replay with progress.
import http from 'node:http';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bin, RequestDetail } from '../../shared/api.ts';
import { type RunningApp, type TestPage, apiCall, closeAgents, hit, launchBrowser, openPage, overflowing, screenshot, startApp, tabStopsHidden, until } from '../helpers/browser.ts';
import { deferred } from '../helpers/deferred.ts';
import { until as untilTrue } from '../helpers/until.ts';

interface Got {
  method: string;
  url: string;
  headers: string[];
  body: string;
}

let app: RunningApp;
let browser: Browser;
let tp: TestPage;
let page: Page;
let target: http.Server;
let targetBase = '';
const got: Got[] = [];
/** The target answers after this long (ms), so a forward can be seen arriving. */
let delay = 0;
/** While set, the target answers only once this settles (after `delay`): a test reads a pending state for as long as it needs. */
let hold: Promise<void> | null = null;
/** Requests to /flaky/…: every second one answers 500. */
let flaky = 0;

beforeAll(async () => {
  // The proxy-mode test holds the target's answer while it reads the waiting state: past the
  // default 10 s a loaded machine would see 504, not the answer.
  [app, browser] = await Promise.all([startApp({ FORWARD_TIMEOUT_MS: '60000' }), launchBrowser()]);
  tp = await openPage(browser, app.base);
  page = tp.page;
  target = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      got.push({ method: req.method!, url: req.url!, headers: req.rawHeaders, body: Buffer.concat(chunks).toString() });
      const status = req.url!.startsWith('/flaky') && flaky++ % 2 === 1 ? 500 : 201;
      const held = hold ?? Promise.resolve();
      setTimeout(async () => {
        await held;
        res.writeHead(status, { 'content-type': 'text/plain', 'x-target': 'yes' });
        res.end(`target says hi to ${req.method} ${req.url}`);
      }, delay);
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
const records = () => page.getByTestId('forward-record');
/** The focused element: its test id (else its tag), and for a target field its row and value. */
const focused = () =>
  page.evaluate(() => {
    const el = document.activeElement;
    const rows = [...document.querySelectorAll('[data-testid="forward-target"]')];
    return { id: el?.getAttribute('data-testid') ?? el?.tagName.toLowerCase(), row: el ? rows.indexOf(el) : -1, value: el instanceof HTMLInputElement ? el.value : null };
  });
const recordCount = (n: number) => until(page, (want) => document.querySelectorAll('[data-testid="forward-record"]').length === want, n);

describe('forward and replay', () => {
  let bin: Bin;
  let url = '';
  let first = '';

  it('sets forward targets on the bin page; a capture’s forward shows up in its detail live', async () => {
    bin = await apiCall<Bin>(app.base, 'POST', '/api/bins', { name: 'relay' });
    url = app.reachable(bin.url);
    await page.goto(`/bins/${bin.id}/forward`);
    await page.getByTestId('forward-panel').waitFor();
    await page.getByTestId('add-target').click();
    await page.getByTestId('forward-target').fill(`${targetBase}/in`);
    await page.getByTestId('save-forward').click();
    await page.getByTestId('forward-status').waitFor();
    expect(await apiCall(app.base, 'GET', `/api/bins/${bin.id}/forward`)).toEqual({ targets: [{ url: `${targetBase}/in` }], answerWith: 'bin' });
    // The one-line explanation of proxy mode is there.
    expect(await page.getByTestId('forward-panel').textContent()).toContain('proxy mode');
    await screenshot(page, 'forward-settings');

    await page.getByTestId('tab-requests').click();
    await page.locator('[data-testid="connection"][data-state="live"]').waitFor();
    delay = 1500;
    first = idOf(await hit(`${url}/orders?x=1`, { headers: { 'content-type': 'application/json' }, body: '{"order":1}' }));
    await page.locator(`[data-request-id="${first}"]`).click();
    await page.locator(`[data-testid="request-detail"][data-detail-id="${first}"]`).waitFor();
    // The target is still thinking: nothing yet; then it arrives without a reload.
    await recordCount(1);
    delay = 0;
    const r = records().first();
    expect(await r.getAttribute('data-kind')).toBe('forward');
    expect(await r.getAttribute('data-status')).toBe('201');
    expect(await r.textContent()).toContain(`POST ${targetBase}/in/orders?x=1`);
    expect(await r.textContent()).toMatch(/in \d/);
    await r.locator('summary').click();
    expect(await r.getByTestId('forward-body').textContent()).toContain('target says hi to POST /in/orders?x=1');
    expect(got.at(-1)).toMatchObject({ method: 'POST', url: '/in/orders?x=1', body: '{"order":1}' });
  });

  it('puts the keyboard on a target that is added, and on the next one (or "+ Add target") when one is removed', async () => {
    await page.goto(`/bins/${bin.id}/forward`);
    await page.getByTestId('forward-target').waitFor();
    await page.getByTestId('add-target').focus();
    await page.keyboard.press('Enter');
    expect(await focused()).toEqual({ id: 'forward-target', row: 1, value: '' });
    await page.keyboard.type(`${targetBase}/second`);
    await page.getByRole('button', { name: 'Remove target 1' }).focus();
    await page.keyboard.press('Enter');
    expect(await focused()).toEqual({ id: 'forward-target', row: 0, value: `${targetBase}/second` });
    await page.getByRole('button', { name: 'Remove target 1' }).focus();
    await page.keyboard.press('Enter');
    expect(await focused()).toMatchObject({ id: 'add-target' });
    // Nothing was saved.
    await page.getByRole('button', { name: 'Revert' }).click();
    expect(await page.getByTestId('forward-target').inputValue()).toBe(`${targetBase}/in`);
    expect(await apiCall(app.base, 'GET', `/api/bins/${bin.id}/forward`)).toEqual({ targets: [{ url: `${targetBase}/in` }], answerWith: 'bin' });
    await page.goto(`/bins/${bin.id}/requests/${first}`);
    await page.locator(`[data-testid="request-detail"][data-detail-id="${first}"]`).waitFor();
    await recordCount(1);
  });

  it('replays to the targets and to a typed URL; the keyboard goes into the panel and back to its button', async () => {
    await page.getByTestId('replay').click();
    // Opened: the first field has the keyboard; Enter sends; then back to the Replay button.
    expect(await focused()).toMatchObject({ id: 'replay-url' });
    await page.keyboard.press('Enter');
    await recordCount(2);
    await page.getByTestId('replay-form').waitFor({ state: 'detached' });
    expect(await focused()).toMatchObject({ id: 'replay' });
    expect(await records().nth(1).getAttribute('data-kind')).toBe('replay');
    expect(got.at(-1)).toMatchObject({ method: 'POST', url: '/in/orders?x=1' });

    await page.getByTestId('replay').click();
    await page.getByTestId('replay-url').fill(`${targetBase}/typed`);
    await page.getByTestId('replay-send').click();
    await recordCount(3);
    expect(await records().nth(2).textContent()).toContain(`${targetBase}/typed/orders?x=1`);
    expect(got.at(-1)).toMatchObject({ url: '/typed/orders?x=1', body: '{"order":1}' });
  });

  it('closes the replay panel with Escape or Cancel, focus back on the button that opened it', async () => {
    await page.getByTestId('edit-replay').click();
    expect(await focused()).toMatchObject({ id: 'replay-url' });
    await page.keyboard.press('Escape');
    await page.getByTestId('edit-replay-form').waitFor({ state: 'detached' });
    expect(await focused()).toMatchObject({ id: 'edit-replay' });
    await page.keyboard.press('Enter');
    await page.getByTestId('edit-replay-form').waitFor();
    expect(await focused()).toMatchObject({ id: 'replay-url' });
    await page.getByTestId('edit-replay-form').getByRole('button', { name: 'Cancel' }).focus();
    await page.keyboard.press('Enter');
    await page.getByTestId('edit-replay-form').waitFor({ state: 'detached' });
    expect(await focused()).toMatchObject({ id: 'edit-replay' });
    await page.getByTestId('replay').click();
    await page.keyboard.press('Escape');
    await page.getByTestId('replay-form').waitFor({ state: 'detached' });
    expect(await focused()).toMatchObject({ id: 'replay' });
  });

  it('edits before replaying: method, sub-path, headers, body', async () => {
    await page.getByTestId('edit-replay').click();
    const form = page.getByTestId('edit-replay-form');
    await form.getByTestId('replay-method').fill('PUT');
    await form.getByTestId('replay-path').fill('/orders/1?edited=yes');
    const headers = await form.getByTestId('replay-headers').inputValue();
    await form.getByTestId('replay-headers').fill(`${headers}\nX-Edited: by hand`);
    await form.getByTestId('replay-body').fill('{"order":1,"edited":true}');
    await form.getByTestId('replay-send').click();
    await recordCount(4);
    await until(page, () => document.activeElement?.getAttribute('data-testid') === 'edit-replay');
    const r = records().nth(3);
    expect(await r.textContent()).toContain('edited');
    expect(await r.textContent()).toContain(`PUT ${targetBase}/in/orders/1?edited=yes`);
    const last = got.at(-1)!;
    expect(last).toMatchObject({ method: 'PUT', url: '/in/orders/1?edited=yes', body: '{"order":1,"edited":true}' });
    expect(last.headers).toEqual(expect.arrayContaining(['X-Edited', 'by hand']));
    // Stored with the capture.
    const d = await apiCall<RequestDetail>(app.base, 'GET', `/api/bins/${bin.id}/requests/${first}`);
    expect(d.forwards.map((f) => [f.kind, f.edited])).toEqual([
      ['forward', false],
      ['replay', false],
      ['replay', false],
      ['replay', true],
    ]);
    await screenshot(page, 'forward-records', true);
  });

  it('a replay whose answer comes after the live re-read of its detail lists its record once', async () => {
    // The replay's live event re-reads the detail (the new record in it) before the replay's
    // own answer is in: held here until then, as a loaded machine may deliver them.
    const replayPath = `/api/bins/${bin.id}/requests/${first}/replay`;
    const answer = deferred<void>();
    await page.route(
      (u) => u.pathname === replayPath,
      async (route) => {
        const r = await route.fetch();
        await answer.promise;
        await route.fulfill({ response: r });
      },
    );
    try {
      await page.getByTestId('replay').click();
      await page.getByTestId('replay-send').click();
      await recordCount(5);
      answer.resolve();
      // The form closes as the answer's records are added.
      await page.getByTestId('replay-form').waitFor({ state: 'detached' });
      expect(await records().count()).toBe(5);
      expect(await records().nth(4).getAttribute('data-fresh')).toBe('true');
    } finally {
      answer.resolve();
      await page.unroute((u) => u.pathname === replayPath);
    }
  });

  it('an older read of the detail that answers after a newer one does not bring the older state back', async () => {
    // Each live change of the row re-reads the detail: the first re-read's answer is held until
    // the second one's has shown.
    const detailPath = `/api/bins/${bin.id}/requests/${first}`;
    const match = (u: URL) => u.pathname === detailPath;
    const seen = deferred<void>();
    const release = deferred<void>();
    let reads = 0;
    await page.route(match, async (route) => {
      if (route.request().method() !== 'GET' || reads++ > 0) return route.fallback();
      const r = await route.fetch();
      seen.resolve();
      await release.promise;
      await route.fulfill({ response: r });
    });
    try {
      await apiCall(app.base, 'POST', `${detailPath}/replay`, {});
      await seen.promise;
      await apiCall(app.base, 'POST', `${detailPath}/replay`, {});
      await recordCount(7);
      const finished = page.waitForEvent('requestfinished', (req) => match(new URL(req.url())));
      release.resolve();
      await finished;
      // Its answer has been read by the page's code by the next frame.
      await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0))));
      expect(await records().count()).toBe(7);
    } finally {
      release.resolve();
      await page.unroute(match);
    }
  });

  it('says where a replay could not go, in place', async () => {
    const lonely = await apiCall<Bin>(app.base, 'POST', '/api/bins', { name: 'no targets' });
    const id = idOf(await hit(`${app.reachable(lonely.url)}/x`, { body: 'x' }));
    await page.goto(`/bins/${lonely.id}/requests/${id}`);
    await page.getByTestId('replay').click();
    await page.getByTestId('replay-send').click();
    const err = page.locator('[data-field="url"] [data-testid="field-error"]');
    await err.waitFor();
    expect(await err.textContent()).toContain('no forward targets');
    // A target that refuses: the record says so.
    await page.getByTestId('replay-url').fill('http://127.0.0.1:9/nothing-here');
    await page.getByTestId('replay-send').click();
    await recordCount(1);
    expect(await records().first().getAttribute('data-error')).toBe('refused');
    expect(await records().first().getByTestId('forward-error').textContent()).toContain('connection refused');
    // A header the API refuses is named by its line as typed (the blank line counted), in place.
    await page.getByTestId('edit-replay').click();
    const form = page.getByTestId('edit-replay-form');
    await form.getByTestId('replay-url').fill(`${targetBase}/in`);
    await form.getByTestId('replay-headers').fill('X-Ok: 1\n\nX Bad: 2');
    await form.getByTestId('replay-send').click();
    const bad = form.locator('[data-field="headers"] [data-testid="field-error"]');
    await bad.waitFor();
    expect(await bad.textContent()).toContain('line 3: header name "X Bad" must be an HTTP token');
    await form.getByRole('button', { name: 'Cancel' }).click();
    expect(await records().count()).toBe(1);
  });

  it('says on each forward and replay of a capture with chunked trailers that they were not sent', async () => {
    // A bin of its own: the bulk replay below counts the first bin's captures.
    const signed = await apiCall<Bin>(app.base, 'POST', '/api/bins', { name: 'signed in trailers' });
    await apiCall(app.base, 'PUT', `/api/bins/${signed.id}/forward`, { targets: [{ url: `${targetBase}/in` }] });
    const u = new URL(`${app.reachable(signed.url)}/signed`);
    const id = await new Promise<string>((resolve, reject) => {
      const req = http.request({ host: u.hostname, port: u.port, path: u.pathname, method: 'POST', headers: { 'content-type': 'text/plain', trailer: 'X-Sig' } }, (res) => {
        res.resume();
        resolve(idOf(res));
      });
      req.on('error', reject);
      req.write('signed body');
      req.addTrailers([['X-Sig', 'abc']]);
      req.end();
    });
    await page.goto(`/bins/${signed.id}/requests/${id}`);
    await page.locator(`[data-testid="request-detail"][data-detail-id="${id}"]`).waitFor();
    await recordCount(1);
    expect(await records().first().getAttribute('data-status')).toBe('201');
    expect(await records().first().getByTestId('forward-trailers-not-sent').textContent()).toBe(
      "1 trailer was not sent: the body went with Content-Length, without the request's chunked trailers (a signature in one will not verify at the target)",
    );
    await page.getByTestId('replay').click();
    await page.getByTestId('replay-send').click();
    await recordCount(2);
    expect(await records().nth(1).getByTestId('forward-trailers-not-sent').textContent()).toMatch(/^1 trailer was not sent/);
    // One without trailers says nothing of them.
    await page.goto(`/bins/${bin.id}/requests/${first}`);
    await page.locator(`[data-testid="request-detail"][data-detail-id="${first}"]`).waitFor();
    await records().first().waitFor();
    expect(await page.getByTestId('forward-trailers-not-sent').count()).toBe(0);
  });

  it('replays the whole bin, or the filtered requests, with progress', async () => {
    await page.goto(`/bins/${bin.id}`);
    for (let i = 0; i < 4; i++) await hit(`${url}/bulk/${i}`, { body: `bulk ${i}` });
    await until(page, () => document.querySelector('[data-testid="request-list"]')?.getAttribute('data-count') === '5');
    // The bin forwards each capture in the background: count from after those four arrived,
    // or a late one is taken for a replay.
    await untilTrue(() => got.filter((g) => g.url.startsWith('/in/bulk/')).length === 4, "the four captures' own forwards");
    const before = got.length;
    await page.getByTestId('bin-tools').click();
    await page.getByTestId('bulk-replay').click();
    const progress = page.locator('[data-testid="replay-progress"][data-state="finished"]');
    await progress.waitFor();
    expect([await progress.getAttribute('data-done'), await progress.getAttribute('data-total'), await progress.getAttribute('data-failed')]).toEqual(['5', '5', '0']);
    expect(got.length - before).toBe(5);

    // Only what the filter shows.
    await page.goto(`/bins/${bin.id}?path=/bulk`);
    await until(page, () => document.querySelector('[data-testid="request-list"]')?.getAttribute('data-count') === '4');
    const before2 = got.length;
    await page.getByTestId('bin-tools').click();
    expect(await page.getByTestId('bulk-replay').textContent()).toBe('Replay 4 matching');
    await page.getByTestId('bulk-replay').click();
    await page.locator('[data-testid="replay-progress"][data-state="finished"][data-total="4"]').waitFor();
    expect(got.slice(before2).map((g) => g.url).sort()).toEqual(['/in/bulk/0', '/in/bulk/1', '/in/bulk/2', '/in/bulk/3']);
  });

  it('a bulk replay whose sends got 500s is not called "done": it says how many answered outside 2xx', async () => {
    await page.goto(`/bins/${bin.id}?path=/bulk`);
    await until(page, () => document.querySelector('[data-testid="request-list"]')?.getAttribute('data-count') === '4');
    const before = got.length;
    flaky = 0;
    await page.getByTestId('bin-tools').click();
    await page.getByTestId('bulk-replay-url').fill(`${targetBase}/flaky`);
    await page.getByTestId('bulk-replay').click();
    const progress = page.locator('[data-testid="replay-progress"][data-state="finished"][data-total="4"]');
    await progress.waitFor();
    expect(got.slice(before).map((g) => g.url).sort()).toEqual(['/flaky/bulk/0', '/flaky/bulk/1', '/flaky/bulk/2', '/flaky/bulk/3']);
    // Two of them answered 500: said, not called done.
    const text = await progress.textContent();
    expect(text).toContain('Replayed 4 of 4 — finished: 2 answered 2xx, 2 answered outside 2xx.');
    expect(text).not.toMatch(/\bdone\b/);
  });

  it('proxy mode: while the first target works the row and the detail say its answer is awaited (not "no answer"); the answer replaces that live', async () => {
    await page.goto(`/bins/${bin.id}/forward`);
    await page.getByTestId('answer-target').check();
    await page.getByTestId('save-forward').click();
    await page.getByTestId('forward-status').waitFor();
    await page.getByTestId('tab-requests').click();
    await page.locator('[data-testid="connection"][data-state="live"]').waitFor();
    const before = Number(await page.getByTestId('request-list').getAttribute('data-count'));
    // The target answers once the waiting state has been read (a fixed delay ran out first on a loaded machine).
    // Should this test fail before, afterAll's closeAllConnections ends the held answer.
    const answer = deferred<void>();
    hold = answer.promise;
    const sent = hit(`${url}/proxied`, { body: 'via proxy' });
    await until(page, (n) => Number(document.querySelector('[data-testid="request-list"]')?.getAttribute('data-count')) === n, before + 1);
    const row = page.locator('[data-request-id]').first();
    const id = (await row.getAttribute('data-request-id'))!;
    const waiting = row.getByTestId('answer-pending');
    expect(await waiting.textContent()).toBe('waiting…');
    expect(await waiting.getAttribute('class')).toContain('tone-muted');
    expect(await row.textContent()).not.toContain('no answer');
    await row.click();
    const detail = page.locator(`[data-testid="request-detail"][data-detail-id="${id}"]`);
    await detail.waitFor();
    expect(await detail.getByTestId('answer-pending').textContent()).toBe('waiting for the target…');
    expect(await page.getByTestId('answer-why').getAttribute('data-pending')).toBe('true');
    expect(await detail.locator('.facts').textContent()).not.toContain('no answer');
    await screenshot(page, 'proxy-waiting');
    hold = null;
    answer.resolve();

    const r = await sent;
    expect(r.status).toBe(201);
    expect(r.body).toBe('target says hi to POST /in/proxied');
    expect(idOf(r)).toBe(id);
    // Live, without a reload: the row and the detail now show the target's status.
    await until(page, (rid) => document.querySelector(`[data-request-id="${rid}"] .badge.tone-ok`)?.textContent === '201', id);
    await until(page, () => document.querySelector('[data-testid="answer-why"]')?.textContent === 'by the first forward target (proxy mode)');
    expect(await detail.getByTestId('answer-pending').count()).toBe(0);
    expect(await page.getByTestId('answer-why').getAttribute('data-source')).toBe('proxy');
    await records().first().waitFor();
    expect(await records().first().getAttribute('data-kind')).toBe('proxy');
    expect(tp.problems.filter((p) => !p.includes('400 (Bad Request)'))).toEqual([]);
  });

  it('fits a phone-width screen: forwards and the replay form, the tools, the settings', async () => {
    const phone = await openPage(browser, app.base, { width: 390, height: 844, isMobile: true });
    try {
      const p = phone.page;
      await apiCall(app.base, 'PUT', `/api/bins/${bin.id}/verify`, { schemes: [{ type: 'github', secrets: ['a-github-secret'] }] });
      await p.goto(`/bins/${bin.id}/requests/${first}`);
      await p.getByTestId('forward-record').first().waitFor();
      await p.getByTestId('edit-replay').click();
      await p.getByTestId('edit-replay-form').waitFor();
      expect(await overflowing(p)).toEqual([]);
      await screenshot(p, 'phone-forwards', true);
      await p.getByTestId('back-to-list').click();
      await p.getByTestId('bin-tools').click();
      await p.locator('.filter-more summary').click();
      await p.getByTestId('bin-tools-panel').waitFor();
      expect(await overflowing(p)).toEqual([]);
      await screenshot(p, 'phone-tools');
      for (const [tab, ready] of [
        ['forward', 'forward-panel'],
        ['verify', 'scheme'],
      ]) {
        await p.goto(`/bins/${bin.id}/${tab}`);
        await p.getByTestId(ready).first().waitFor();
        expect(await overflowing(p), tab).toEqual([]);
        await screenshot(p, `phone-${tab}`, true);
      }

      // "Who answers the sender": each radio by its label's first line, the two options apart.
      await p.goto(`/bins/${bin.id}/forward`);
      await p.getByTestId('forward-target').first().waitFor();
      const options = await p.locator('.answer-with label').evaluateAll((labels) =>
        labels.map((l) => {
          const radio = l.querySelector('input')!.getBoundingClientRect();
          const text = l.querySelector('span')!;
          const t = text.getBoundingClientRect();
          const line = parseFloat(getComputedStyle(text).lineHeight);
          return { mid: (radio.top + radio.bottom) / 2, textTop: t.top, line, lines: Math.round(t.height / line), top: l.getBoundingClientRect().top, bottom: l.getBoundingClientRect().bottom };
        }),
      );
      expect(options).toHaveLength(2);
      for (const o of options) {
        expect(o.lines).toBeGreaterThan(1);
        expect(o.mid).toBeGreaterThan(o.textTop);
        expect(o.mid).toBeLessThan(o.textTop + o.line);
      }
      expect(options[1].top - options[0].bottom).toBeGreaterThanOrEqual(4);

      // Tab through a form taller than the screen: nothing lands behind the sticky Save bar.
      for (let i = 0; i < 5; i++) await p.getByTestId('add-target').click();
      await p.evaluate(() => window.scrollTo(0, 0));
      const { stops, hidden } = await tabStopsHidden(p, '[data-testid="forward-panel"]');
      expect(stops).toBeGreaterThan(10);
      expect(hidden).toEqual([]);
      expect(phone.problems).toEqual([]);
    } finally {
      await phone.context.close();
    }
  });
});
