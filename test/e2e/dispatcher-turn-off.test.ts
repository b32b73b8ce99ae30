// The dispatcher console in real Chromium, from a walkthrough: a webhook disabled or deleted
// while an attempt of it is under way says its delivery is being cancelled (the attempt
// finishing, no more to come) and offers no "Retry now"; the "Use a bin…" picker knows bins
// made after the page loaded.
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bin, Delivery, RequestPage, Webhook } from '../../shared/api.ts';
import { type RunningApp, type TestPage, apiCall, screenshot, startAppAndPage, stopAppAndPage, until } from '../helpers/browser.ts';

let app: RunningApp;
let browser: Browser;
let tp: TestPage;
let page: Page;

beforeAll(async () => {
  ({ app, browser, tp, page } = await startAppAndPage());
});

afterAll(() => stopAppAndPage({ app, browser }));

const formOf = (w: Webhook): Locator => page.locator(`[data-testid="webhook-form"][data-webhook-id="${w.id}"]`);
const cardOf = (d: Delivery): Locator => page.locator(`[data-delivery-id="${d.id}"]`);

async function openConsole() {
  await page.goto('/dispatcher');
  await page.locator('.dispatcher[data-joined="true"]').waitFor();
}

/** A webhook to a bin that answers only after 20 s: its 10 s attempts are under way a while. */
async function slowWebhook(name: string): Promise<{ bin: Bin; webhook: Webhook }> {
  const bin = await apiCall<Bin>(app.base, 'POST', '/api/bins', { name: `${name}-receiver` });
  await apiCall(app.base, 'PUT', `/api/bins/${bin.id}/response`, { default: { status: 200, delayMs: 20_000 } });
  const webhook = await apiCall<Webhook>(app.base, 'POST', '/api/webhooks', { name, url: bin.url, events: ['flow_started'], timeoutMs: 10_000 });
  return { bin, webhook };
}

/** Run a flow from the page; answers its delivery once its first attempt reached the bin. */
async function runUnderWay(bin: Bin, webhook: Webhook): Promise<Delivery> {
  await page.getByTestId('run-flow').click();
  await page.getByTestId('run-message').waitFor();
  // Each of these webhooks gets one delivery: this run's.
  const { deliveries } = await apiCall<{ deliveries: Delivery[] }>(app.base, 'GET', `/api/deliveries?webhookId=${webhook.id}`);
  expect(deliveries).toHaveLength(1);
  await expect.poll(async () => (await apiCall<RequestPage>(app.base, 'GET', `/api/bins/${bin.id}/requests`)).requests.length, { timeout: 30_000 }).toBe(1);
  await cardOf(deliveries[0]).getByRole('button', { name: 'Retry now' }).waitFor();
  return deliveries[0];
}

describe('a webhook turned off while its attempt is under way', () => {
  it('disabled: the form and the delivery say it is being cancelled, without "Retry now"; both go once the attempt ends', async () => {
    const { bin, webhook } = await slowWebhook('slow-disabled');
    await openConsole();
    const d = await runUnderWay(bin, webhook);
    const form = formOf(webhook);
    await form.getByTestId('webhook-enabled').uncheck();
    await form.getByTestId('save-webhook').click();
    await form.getByText('Saved.').waitFor();
    // Said before the attempt ends (it lasts up to the 10 s timeout).
    expect(await form.getByTestId('webhook-cancelling').textContent()).toBe('Cancelling 1 pending delivery: the attempt under way is finishing; no more attempts.');
    const card = cardOf(d);
    expect(await card.getByTestId('delivery-cancelling').textContent()).toBe('Cancelling: the attempt under way is finishing; no more attempts');
    expect(await card.getAttribute('data-state')).toBe('pending');
    expect(await card.getByRole('button', { name: 'Retry now' }).count()).toBe(0);
    expect(await card.getByTestId('next-attempt').count()).toBe(0);
    await screenshot(page, 'dispatcher-disabled-cancelling');
    // The attempt times out; the delivery ends cancelled, and the notes go.
    await page.locator(`[data-delivery-id="${d.id}"][data-state="cancelled"]`).waitFor({ timeout: 30_000 });
    await form.getByTestId('webhook-cancelling').waitFor({ state: 'detached' });
    expect(await card.getByTestId('delivery-cancelling').count()).toBe(0);
    expect(await card.getByTestId('ended').textContent()).toContain('the webhook was disabled through the API or the console');
  });

  it('deleted: the page says its delivery is being cancelled; the card has no "Retry now"; the note goes once the attempt ends', async () => {
    const { bin, webhook } = await slowWebhook('slow-deleted');
    await openConsole();
    const d = await runUnderWay(bin, webhook);
    const del = formOf(webhook).getByRole('button', { name: 'Delete' });
    await del.click();
    await del.click();
    await formOf(webhook).waitFor({ state: 'detached' });
    const note = page.getByTestId('deleted-cancelling');
    expect(await note.textContent()).toBe('Webhook “slow-deleted” was deleted. Cancelling 1 pending delivery: the attempt under way is finishing; no more attempts.');
    const card = cardOf(d);
    expect(await card.getAttribute('data-state')).toBe('pending');
    expect(await card.getByTestId('delivery-cancelling').count()).toBe(1);
    expect(await card.getByRole('button', { name: 'Retry now' }).count()).toBe(0);
    await page.locator(`[data-delivery-id="${d.id}"][data-state="cancelled"]`).waitFor({ timeout: 30_000 });
    await note.waitFor({ state: 'detached' });
    expect(await card.getByRole('button', { name: 'Retry now' }).count()).toBe(0);
  });
});

describe('the "Use a bin…" picker', () => {
  it('lists a bin made after the page loaded once it is opened', async () => {
    await openConsole();
    await page.getByTestId('add-webhook').click();
    const form = page.locator('[data-testid="webhook-form"]:not([data-webhook-id])');
    const picker = form.getByTestId('use-bin');
    await picker.waitFor();
    const later = await apiCall<Bin>(app.base, 'POST', '/api/bins', { name: 'made-after-load' });
    const label = `made-after-load (${later.id.slice(0, 6)}…)`;
    await picker.click();
    await until(page, (l) => [...document.querySelectorAll('[data-testid="use-bin"] option')].some((o) => o.textContent === l), label);
    await page.keyboard.press('Escape');
    await picker.selectOption({ label });
    expect(await form.getByTestId('webhook-url').inputValue()).toBe(later.url);
  });
});
