// The dispatcher console in real Chromium: a webhook pointed at one of our bins (secret made
// in the browser, Test result shown), a simulated failed flow, the virtual clock stepped
// attempt by attempt while the timeline fills, attempts linked to the captured requests.
import type { Browser, Locator, Page, Route } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bin, ClockState, Delivery, RequestDetail, Run, SchedulePreview, Webhook } from '../../shared/api.ts';
import { type RunningApp, type TestPage, apiCall, openPage, overflowing, screenshot, startAppAndPage, stopAppAndPage, tablePairs, until } from '../helpers/browser.ts';

let app: RunningApp;
let browser: Browser;
let tp: TestPage;
let page: Page;
let bin: Bin;
let webhook: Webhook;

beforeAll(async () => {
  ({ app, browser, tp, page } = await startAppAndPage());
  bin = await apiCall<Bin>(app.base, 'POST', '/api/bins', { name: 'orders-receiver' });
});

afterAll(() => stopAppAndPage({ app, browser }));

const deliveries = () => apiCall<{ deliveries: Delivery[] }>(app.base, 'GET', '/api/deliveries').then((r) => r.deliveries);
const card = (d: Delivery | string): Locator => page.locator(`[data-delivery-id="${typeof d === 'string' ? d : d.id}"]`);
const timelineOf = (d: Delivery | string) => card(d).getByTestId('timeline');
const attemptsDrawn = (id: string, n: number) =>
  until(page, ([did, want]) => document.querySelector(`[data-delivery-id="${did}"] [data-testid="timeline"]`)?.getAttribute('data-attempts') === String(want), [id, n] as const);

async function stepClock() {
  await page.getByTestId('step-next').click();
  await page.locator('[data-testid="step-next"]:not([aria-disabled="true"])').waitFor();
}

describe('dispatcher console', () => {
  it('pauses the clock and shows the virtual time', async () => {
    await page.goto('/dispatcher');
    await page.getByTestId('clock').waitFor();
    await page.getByTestId('pause').click();
    await page.locator('[data-testid="pause"][aria-pressed="true"]').waitFor();
    const clock = await apiCall<ClockState>(app.base, 'GET', '/api/clock');
    expect(clock.paused).toBe(true);
    await until(page, (now) => document.querySelector('[data-testid="virtual-now"]')?.getAttribute('data-now') === String(now), Date.parse(clock.now));
  });

  it('creates a webhook to one of our bins with a secret generated in the browser, and tests it', async () => {
    await page.getByTestId('add-webhook').click();
    const form = page.locator('[data-testid="webhook-form"]:not([data-webhook-id])');
    await form.getByTestId('webhook-name').fill('Orders service');
    // A refused URL is marked; picking a bin fixes it and takes the mark away at once.
    await form.getByTestId('webhook-url').fill('not a url');
    await form.getByTestId('save-webhook').click();
    await form.locator('[data-field="url"] [data-testid="field-error"]').waitFor();
    await form.getByTestId('use-bin').selectOption({ label: `orders-receiver (${bin.id.slice(0, 6)}…)` });
    expect(await form.getByTestId('webhook-url').inputValue()).toBe(bin.url);
    expect(await form.locator('[data-field="url"] [data-testid="field-error"]').count()).toBe(0);
    expect(await form.locator('[data-field="url"].has-error').count()).toBe(0);
    // Checkboxes as on the article's settings page, all on by default.
    for (const ev of ['flow_started', 'flow_succeeded', 'flow_failed']) expect(await form.getByTestId(`event-${ev}`).isChecked()).toBe(true);
    await form.getByTestId('generate-secret').click();
    const secret = await form.getByTestId('webhook-secret').inputValue();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{32}$/);
    await form.getByTestId('copy-secret').click();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(secret);
    await form.getByRole('note').getByText('cannot show it again').waitFor();
    await form.getByTestId('save-webhook').click();

    const saved = page.locator('[data-testid="webhook-form"][data-webhook-id]');
    await saved.waitFor();
    webhook = (await apiCall<{ webhooks: Webhook[] }>(app.base, 'GET', '/api/webhooks')).webhooks[0];
    expect(webhook).toMatchObject({ name: 'Orders service', url: bin.url, enabled: true, hasSecret: true, events: ['flow_started', 'flow_succeeded', 'flow_failed'] });
    expect(await saved.getByTestId('secret-state').textContent()).toContain('A secret is set');
    expect(await saved.getByTestId('webhook-secret').count()).toBe(0); // write-only from now on

    await saved.getByTestId('test-webhook').click();
    const result = saved.getByTestId('test-result');
    await result.waitFor();
    expect(await result.getAttribute('data-ok')).toBe('true');
    expect(await result.textContent()).toContain('HTTP 200');
    // The test delivery went to our bin: signed with the secret from the browser.
    const test = (await deliveries()).find((d) => d.event === 'test')!;
    const captured = await apiCall<RequestDetail>(app.base, 'GET', `/api/bins/${bin.id}/requests/${test.attempts[0].capturedRequestId}`);
    expect(captured.headers.find(([n]) => n === 'webhook-signature')?.[1]).toMatch(/^v1,/);
    await card(test).waitFor();
  });

  it('previews the retry schedule before a run', async () => {
    const preview = page.getByTestId('preview-timeline');
    const api = await apiCall<SchedulePreview>(app.base, 'GET', '/api/schedule/preview?seed=1');
    await until(page, (n) => document.querySelector('[data-testid="preview-timeline"]')?.getAttribute('data-planned') === String(n), api.attempts.length);
    expect(await preview.locator('circle.mark-planned').count()).toBe(api.attempts.length);
    await page.locator('#sp-factor').fill('2');
    const faster = await apiCall<SchedulePreview>(app.base, 'GET', '/api/schedule/preview?seed=1&factor=2');
    expect(faster.attempts.length).not.toBe(api.attempts.length);
    await until(page, (n) => document.querySelector('[data-testid="preview-timeline"]')?.getAttribute('data-planned') === String(n), faster.attempts.length);
    await page.locator('#sp-factor').fill('0.5');
    await page.locator('#sp-err').getByText('factor').waitFor();
    await page.locator('#sp-factor').fill('');
  });

  it('runs a failed flow and fills the timeline as the clock steps from attempt to attempt', async () => {
    // The receiver fails twice, drops the connection once, then answers 200.
    await apiCall(app.base, 'PUT', `/api/bins/${bin.id}/response`, { plan: [{ status: 503, times: 2 }, { fault: 'reset' }] });
    await page.getByTestId('outcome-failed').check();
    await page.locator('#run-duration').fill('3600');
    await page.getByTestId('run-flow').click();
    await page.getByTestId('run-message').waitFor();

    let start: Delivery | undefined;
    await expect.poll(async () => (start = (await deliveries()).find((d) => d.event === 'sync_start'))?.attempts.length).toBe(1);
    await attemptsDrawn(start!.id, 1);
    const tl = timelineOf(start!);
    // Attempt 1 failed (amber); the rest of the schedule is drawn hollow; the deadline is a line.
    expect(await tl.locator('[data-attempt-n="1"]').getAttribute('data-tone')).toBe('warn');
    expect(Number(await tl.getAttribute('data-planned'))).toBe(start!.plannedAt.length - 1);
    expect(await tl.locator('.deadline line').count()).toBe(1);
    expect(await tl.locator('.deadline').textContent()).toContain('24 h');
    expect(await card(start!).textContent()).toMatch(/Deadline in 2[34] h/);
    await page.getByTestId('deadline-info').getByText(/the first pending delivery gives up in 2[34] h/).waitFor();
    expect(await page.getByTestId('deadline-info').textContent()).toContain('Deadline: 24 h after each event');
    await screenshot(page, 'dispatcher-first-attempt');

    await stepClock();
    await attemptsDrawn(start!.id, 2);
    await stepClock();
    await attemptsDrawn(start!.id, 3);
    await stepClock();
    await attemptsDrawn(start!.id, 4);
    await card(start!).locator('[data-state="delivered"]').or(page.locator(`[data-delivery-id="${start!.id}"][data-state="delivered"]`)).waitFor();
    const tones = await tl.locator('[data-attempt-n]').evaluateAll((els) => els.map((e) => e.getAttribute('data-tone')));
    expect(tones).toEqual(['warn', 'warn', 'bad', 'ok']);
    expect(await tl.getAttribute('data-planned')).toBe('0');
    const done = (await deliveries()).find((d) => d.id === start!.id)!;
    expect(done.attempts.map((a) => a.status ?? a.error)).toEqual([503, 503, 'reset', 200]);

    // Marks are keyboard buttons: the reset attempt shows what happened.
    await tl.locator('[data-attempt-n="3"]').focus();
    await page.keyboard.press('Enter');
    const detail = card(start!).getByTestId('attempt-detail');
    await detail.waitFor();
    expect(await detail.textContent()).toContain('reset');
    expect(await tl.locator('[data-attempt-n="3"]').getAttribute('aria-label')).toMatch(/^Attempt 3: reset at \+\d/);

    // The 200: request sent and response received, linked to the captured request.
    await tl.locator('[data-attempt-n="4"]').click();
    await card(start!).locator('[data-testid="attempt-detail"][data-attempt-n="4"]').waitFor();
    expect(await detail.textContent()).toContain(done.webhookMessageId);
    expect(await detail.textContent()).toContain('"event": "sync_start"');
    await screenshot(page, 'dispatcher-timeline');
    await screenshot(page, 'dispatcher-full', true);

    await detail.getByTestId('captured-link').click();
    await page.waitForURL(`**/bins/${bin.id}/requests/${done.attempts[3].capturedRequestId}`);
    await page.getByTestId('request-detail').waitFor();
    const headers = await tablePairs(page, 'request-headers');
    expect(headers).toContainEqual(['webhook-id', done.webhookMessageId]);
    expect(headers).toContainEqual(['x-hooklab-attempt', '4']);
    await page.goBack();
    await page.getByTestId('clock').waitFor();
  });

  it('steps on to the end of the run: the "flow failed" event is delivered too', async () => {
    await card((await deliveries()).find((d) => d.event === 'sync_start')!).waitFor();
    await stepClock(); // the run ends: sync_end FAILED goes out at once
    let end: Delivery | undefined;
    await expect.poll(async () => (end = (await deliveries()).find((d) => d.event === 'sync_end'))?.state).toBe('delivered');
    await page.locator(`[data-delivery-id="${end!.id}"][data-state="delivered"]`).waitFor();
    expect(await card(end!).textContent()).toContain('flow ended (failed)');
    expect(await timelineOf(end!).locator('[data-attempt-n="1"]').getAttribute('data-tone')).toBe('ok');
  });

  it('sets the speed and jumps ahead', async () => {
    await page.getByTestId('speed-1440').click();
    await page.locator('[data-testid="speed-1440"][aria-pressed="true"]').waitFor();
    expect((await apiCall<ClockState>(app.base, 'GET', '/api/clock')).scale).toBe(1440);
    const before = Number(await page.getByTestId('virtual-now').getAttribute('data-now'));
    await page.getByRole('button', { name: '+1 h' }).click();
    await until(page, (t) => Number(document.querySelector('[data-testid="virtual-now"]')?.getAttribute('data-now')) === t, before + 3_600_000);
    await page.getByTestId('speed-1').click();
    await page.locator('[data-testid="speed-1"][aria-pressed="true"]').waitFor();
    // The only console errors are the 400s asked for on purpose: the URL refused when creating
    // the webhook, and the preview's for the factor typed wrong.
    expect(tp.problems).toEqual(Array(2).fill('console: Failed to load resource: the server responded with a status of 400 (Bad Request)'));
  });

  it('saves the enable switch and the event checkboxes, and says in place what is wrong with a URL', async () => {
    const form = page.locator(`[data-testid="webhook-form"][data-webhook-id="${webhook.id}"]`);
    await form.getByTestId('webhook-enabled').uncheck();
    await form.getByTestId('event-flow_started').uncheck();
    await form.getByTestId('save-webhook').click();
    await form.getByText('Saved.').waitFor();
    expect(await apiCall<Webhook>(app.base, 'GET', `/api/webhooks/${webhook.id}`)).toMatchObject({ enabled: false, events: ['flow_succeeded', 'flow_failed'] });

    await form.getByTestId('webhook-url').fill('not a url');
    await form.getByTestId('save-webhook').click();
    const err = form.locator('.field.has-error').getByTestId('field-error');
    await err.waitFor();
    expect(await err.textContent()).toBe('must be an absolute URL such as https://example.com/hooks');
    expect(await form.getByTestId('webhook-url').getAttribute('aria-invalid')).toBe('true');

    await form.getByTestId('webhook-url').fill(bin.url);
    await form.getByTestId('webhook-enabled').check();
    await form.getByTestId('event-flow_started').check();
    await form.getByTestId('save-webhook').click();
    await until(page, () => !document.querySelector('[data-testid="webhook-form"] .has-error'));
    // The error goes as soon as the URL is edited, before the save's answer: wait for the save.
    await expect.poll(() => apiCall<Webhook>(app.base, 'GET', `/api/webhooks/${webhook.id}`)).toMatchObject({ enabled: true, url: bin.url, events: ['flow_started', 'flow_succeeded', 'flow_failed'] });
  });

  /** Hold the answers to the browser's requests matching `url` and `method` until release() (the server has answered them already). */
  async function holdAnswers(url: string, method: string) {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let fetched = 0;
    const fulfilled: Promise<void>[] = [];
    const handler = async (route: Route) => {
      if (route.request().method() !== method) return route.fallback();
      const answer = await route.fetch();
      fetched++;
      const done = held.then(() => route.fulfill({ response: answer }));
      fulfilled.push(done);
      await done;
    };
    await page.route(url, handler);
    return {
      release,
      /** How many the server has answered so far. */
      fetched: () => fetched,
      /** Released, and every held answer given to the page. */
      given: async () => {
        release();
        await Promise.all(fulfilled);
      },
      done: async () => {
        release();
        await page.unroute(url, handler);
      },
    };
  }

  it("a save whose answer comes after another tab's later change was shown does not bring the older webhook back", async () => {
    const form = page.locator(`[data-testid="webhook-form"][data-webhook-id="${webhook.id}"]`);
    const filterOption = (name: string) => page.locator('select[aria-label="Filter by webhook"] option', { hasText: name });
    const hold = await holdAnswers(`**/api/webhooks/${webhook.id}`, 'PATCH');
    try {
      await form.getByTestId('webhook-name').fill('Orders (saved here)');
      await form.getByTestId('save-webhook').click();
      await filterOption('Orders (saved here)').waitFor({ state: 'attached' });
      // Another tab renames it after our save: its event comes before our save's answer.
      await apiCall(app.base, 'PATCH', `/api/webhooks/${webhook.id}`, { name: 'Orders (renamed elsewhere)' });
      await filterOption('Orders (renamed elsewhere)').waitFor({ state: 'attached' });
      hold.release();
      await form.getByText('Saved.').waitFor();
      // The page's list (the filter, the cards' webhook state) keeps the newer revision.
      expect(await page.locator('select[aria-label="Filter by webhook"] option').allTextContents()).toEqual(['All webhooks', 'Orders (renamed elsewhere)']);
    } finally {
      await hold.done();
    }
  });

  it("a speed change whose answer comes after another tab's later one was shown does not take the speed back", async () => {
    const hold = await holdAnswers('**/api/clock', 'PUT');
    try {
      await page.getByTestId('speed-60').click();
      await expect.poll(async () => (await apiCall<ClockState>(app.base, 'GET', '/api/clock')).scale).toBe(60);
      await page.locator('[data-testid="speed-60"][aria-pressed="true"]').waitFor();
      await apiCall(app.base, 'PUT', '/api/clock', { scale: 1440 });
      await page.locator('[data-testid="speed-1440"][aria-pressed="true"]').waitFor();
      hold.release();
      await page.locator('[data-testid="speed-60"]:not([aria-disabled="true"])').waitFor();
      expect(await page.locator('[data-testid="speed-1440"]').getAttribute('aria-pressed')).toBe('true');
    } finally {
      await hold.done();
      await apiCall(app.base, 'PUT', '/api/clock', { scale: 1 });
    }
  });

  it('a run started while the page read the runs as it joined stays listed when that read is answered', async () => {
    const hold = await holdAnswers('**/api/runs', 'GET');
    try {
      await page.goto('/dispatcher');
      await page.locator('.dispatcher[data-joined="true"]').waitFor();
      // Both reads (on opening, and on joining) were answered by the server before the run.
      await expect.poll(() => hold.fetched()).toBeGreaterThanOrEqual(2);
      const run = await apiCall<Run>(app.base, 'POST', '/api/runs', { outcome: 'SUCCESSFUL', durationMs: 3_600_000 });
      await page.locator(`[data-run-id="${run.id}"]`).waitFor();
      await hold.given();
      // Let the page apply the answers (parsed, then rendered).
      await page.evaluate(() => new Promise((r) => setTimeout(r, 200)));
      expect(await page.locator(`[data-run-id="${run.id}"]`).count()).toBe(1);
      expect(await page.locator(`[data-run-id="${run.id}"]`).textContent()).toContain('running');
    } finally {
      await hold.done();
    }
  });

  it('fits a phone-width screen', async () => {
    const phone = await openPage(browser, app.base, { width: 390, height: 844, isMobile: true });
    try {
      await phone.page.goto('/dispatcher');
      await phone.page.locator('[data-delivery-id]').first().waitFor();
      expect(await overflowing(phone.page)).toEqual([]);
      await screenshot(phone.page, 'phone-dispatcher', true);
    } finally {
      await phone.context.close();
    }
  });
});
