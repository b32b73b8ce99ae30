// In real Chromium: the clock bar says each webhook's deadline (it said the server's 24 h beside
// a webhook whose own schedule ends at 20 min), and a schedule past MAX_SCHEDULE_ATTEMPTS is
// refused at its field in the webhook form and in the preview (it was cut at 200 unsaid); a
// webhook stored with one before says so in its form and in the preview's notes.
import { rm } from 'node:fs/promises';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Webhook } from '../../shared/api.ts';
import { LowdbStore } from '../../server/store/lowdb.ts';
import { type RunningApp, apiCall, closeAgents, launchBrowser, openPage, startApp, type TestPage } from '../helpers/browser.ts';
import { tempDir } from '../helpers/server.ts';

const CUT = 'This schedule plans 1441 attempts per delivery, more than MAX_SCHEDULE_ATTEMPTS (200): a delivery makes the first 199, then one on the deadline.';
let dataDir: string;
let app: RunningApp;
let browser: Browser;
let tp: TestPage;
let page: Page;
let plain: Webhook;

beforeAll(async () => {
  // A webhook saved before the limit was checked: every minute for 24 h.
  dataDir = await tempDir('hooklab-e2e-cap-');
  const store = await LowdbStore.open({ dataDir, flushIntervalMs: 10, maxRequestsPerBin: 100, maxStoreBytes: 1e9, cacheBytes: 1e7, maxFinishedDeliveries: 100 });
  const at = '2026-01-01T00:00:00.000Z';
  await store.webhooks.put({
    id: 'wh_minutely', name: 'Minutely', url: 'http://127.0.0.1:9/m', enabled: true, events: ['flow_started'], secret: null, previousSecret: null, successPolicy: '200',
    schedule: { firstDelayMs: 60_000, factor: 1, jitter: 0 }, behaviors: {}, disabledBy: null, failing: null, timeoutMs: null, createdAt: at, updatedAt: at,
  });
  await store.close();
  [app, browser] = await Promise.all([startApp({ DATA_DIR: dataDir }), launchBrowser()]);
  await apiCall(app.base, 'POST', '/api/webhooks', { name: 'Short', url: 'http://127.0.0.1:9/s', schedule: { delaysMs: [60_000, 540_000] } });
  plain = await apiCall<Webhook>(app.base, 'POST', '/api/webhooks', { name: 'Plain', url: 'http://127.0.0.1:9/p', enabled: false });
  tp = await openPage(browser, app.base);
  page = tp.page;
  await page.goto('/dispatcher');
  await page.locator('.dispatcher[data-joined="true"]').waitFor();
});

afterAll(async () => {
  await browser?.close();
  await app?.stop();
  closeAgents();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

const form = (id: string) => page.locator(`[data-testid="webhook-form"][data-webhook-id="${id}"]`);

describe('dispatcher page', () => {
  it("the clock bar gives each enabled webhook's deadline, not the server's default as everyone's", async () => {
    const info = page.getByTestId('deadline-info');
    await page.waitForFunction(() => document.querySelector('[data-testid="deadline-info"]')?.textContent?.includes('Deadlines'));
    expect(await info.textContent()).toContain('Deadlines after each event: 20 min (Short), 24 h (Minutely)');
    // Its only enabled webhook left: that webhook's deadline (the live event updates it).
    await apiCall(app.base, 'PATCH', '/api/webhooks/wh_minutely', { enabled: false });
    await page.waitForFunction(() => document.querySelector('[data-testid="deadline-info"]')?.textContent?.startsWith('Deadline: 20 min after each event'));
    await apiCall(app.base, 'PATCH', '/api/webhooks/wh_minutely', { enabled: true });
  });

  it('a webhook stored past the limit says so in its form, and in the preview of its schedule', async () => {
    const note = form('wh_minutely').getByTestId('schedule-note');
    await note.waitFor();
    expect(await note.textContent()).toContain(CUT);
    await page.locator('#sp-webhook').selectOption('wh_minutely');
    await page.getByTestId('preview-timeline-panel').getByText(CUT).waitFor();
  });

  it('the webhook form refuses "every minute for 24 h" at its field, with the count and what to change', async () => {
    const f = form(plain.id);
    await f.locator('summary').click();
    await f.locator(`#wh-${plain.id}-first`).fill('60000');
    await f.locator(`#wh-${plain.id}-factor`).fill('1');
    await f.locator(`#wh-${plain.id}-jitter`).fill('0');
    await f.getByTestId('save-webhook').click();
    const err = f.locator('.field.has-error[data-field="schedule.firstDelayMs"]').getByTestId('field-error');
    await err.waitFor();
    expect(await err.textContent()).toContain('plans 1441 attempts per delivery; at most 200 (MAX_SCHEDULE_ATTEMPTS): raise firstDelayMs or factor, or shorten deadlineMs');
    expect((await apiCall<Webhook>(app.base, 'GET', `/api/webhooks/${plain.id}`)).schedule).toEqual({});
  });

  it('the preview refuses it too, at the field, and shows no cut schedule', async () => {
    await page.locator('#sp-webhook').selectOption('');
    await page.locator('#sp-firstDelayMs').fill('60000');
    await page.locator('#sp-factor').fill('1');
    await page.locator('#sp-jitter').fill('0');
    const err = page.getByTestId('preview-error');
    await err.waitFor();
    expect(await err.textContent()).toContain('firstDelayMs: plans 1441 attempts per delivery; at most 200');
    expect(await page.locator('.field.has-error #sp-firstDelayMs').count()).toBe(1);
    expect(await page.getByTestId('preview-timeline-panel').count()).toBe(0);
    expect(tp.problems.filter((p) => !p.includes('400 (Bad Request)'))).toEqual([]);
  });
});
