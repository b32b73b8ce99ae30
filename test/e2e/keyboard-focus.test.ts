// Keyboard focus after keyboard actions, in real Chromium: a button pressed with Enter keeps
// the focus while its action is out (a `disabled` button drops it to <body>), an element that
// goes away hands it to a sensible neighbour, a moved plan step takes it along, and a live
// re-render does not pull it back into the rename field.
import type { Browser, Page, Route } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bin, ResponseControlView } from '../../shared/api.ts';
import { type RunningApp, type TestPage, apiCall, hit, startAppAndPage, stopAppAndPage, until } from '../helpers/browser.ts';

let app: RunningApp;
let browser: Browser;
let tp: TestPage;
let page: Page;

beforeAll(async () => {
  ({ app, browser, tp, page } = await startAppAndPage());
});

afterAll(() => stopAppAndPage({ app, browser }));

const newBin = (name: string) => apiCall<Bin>(app.base, 'POST', '/api/bins', { name });

/** The focused element, named by its test id, else its label, #id, or tag and text. */
const focused = () =>
  page.evaluate(() => {
    const a = document.activeElement;
    if (!a || a === document.body) return 'body';
    return a.getAttribute('data-testid') ?? a.getAttribute('aria-label') ?? (a.id ? `#${a.id}` : `${a.tagName.toLowerCase()} "${(a.textContent ?? '').trim()}"`);
  });

/**
 * Hold the answer to the next `method` request to `url` while the page shows the action as
 * under way (two frames: Chromium moves focus off a disabled button at its next frame), then
 * let it through. `press` starts the action.
 */
async function holdingAnswer(url: string, method: string, press: () => Promise<void>) {
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  // In a box: a promise resolved with a promise would wait for that one.
  let seen!: (box: { passed: Promise<void> }) => void;
  const asked = new Promise<{ passed: Promise<void> }>((r) => (seen = r));
  const handler = (route: Route) => {
    if (route.request().method() !== method) return route.fallback();
    seen({ passed: held.then(() => route.continue()) });
  };
  await page.route(url, handler);
  try {
    await press();
    const { passed } = await asked;
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
    release();
    await passed;
  } finally {
    release();
    await page.unroute(url, handler);
  }
}

/** Focus an element and press Enter on it. */
async function enterOn(selector: string) {
  await page.locator(selector).focus();
  await page.keyboard.press('Enter');
}

const planStatuses = () => page.locator('[data-testid="plan-step"] [data-testid="step-status"]').evaluateAll((els) => els.map((e) => (e as HTMLInputElement).value));

describe('keyboard focus', () => {
  it('rename: a capture while the form is open does not pull focus into the name; Cancel, Escape and Save hand focus back to Rename', async () => {
    const bin = await newBin('keep this name');
    await page.goto(`/bins/${bin.id}`);
    await enterOn('[data-testid="rename-bin"]');
    await page.locator('#rename-bin').waitFor();
    expect(await focused()).toBe('#rename-bin');
    await page.keyboard.press('ControlOrMeta+a');
    await page.keyboard.type('SHOULD NOT BE SAVED');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    expect(await focused()).toBe('button "Cancel"');
    // A capture re-renders the live page while the keyboard is on Cancel.
    await hit(app.reachable(bin.url), { body: '{}' });
    await page.locator('[data-testid="request-list"][data-count="1"]').waitFor();
    expect(await focused()).toBe('button "Cancel"');
    await page.keyboard.press('Enter');
    await page.locator('#rename-bin').waitFor({ state: 'detached' });
    expect((await apiCall<Bin>(app.base, 'GET', `/api/bins/${bin.id}`)).name).toBe('keep this name');
    expect(await focused()).toBe('rename-bin');

    await page.keyboard.press('Enter');
    await page.locator('#rename-bin').waitFor();
    await page.keyboard.press('Escape');
    await page.locator('#rename-bin').waitFor({ state: 'detached' });
    expect(await focused()).toBe('rename-bin');

    await page.keyboard.press('Enter');
    await page.locator('#rename-bin').fill('renamed by keyboard');
    await page.keyboard.press('Enter');
    await page.locator('.bin-name-text', { hasText: 'renamed by keyboard' }).waitFor();
    expect(await focused()).toBe('rename-bin');
  });

  it('response tab: a preset, Save and Revert keep the focus', async () => {
    const bin = await newBin('response keys');
    await page.goto(`/bins/${bin.id}/response`);
    await page.getByTestId('response-editor').waitFor();

    await holdingAnswer('**/response', 'PUT', () => enterOn('[data-testid="preset-500x3-then-200"]'));
    await page.getByTestId('response-status').getByText('Applied').waitFor();
    expect(await focused()).toBe('preset-500x3-then-200');

    await page.locator('[data-testid="default-status"]').fill('201');
    await holdingAnswer('**/response', 'PUT', () => enterOn('[data-testid="save-response"]'));
    await page.getByTestId('response-status').getByText('Saved').waitFor();
    expect(await focused()).toBe('save-response');
    expect((await apiCall<ResponseControlView>(app.base, 'GET', `/api/bins/${bin.id}/response`)).config.default.status).toBe(201);

    // Revert goes off once nothing is left to revert: it keeps the focus all the same.
    await page.locator('[data-testid="default-status"]').fill('202');
    await enterOn('.response-editor .save-bar button:text("Revert")');
    await page.locator('[data-testid="dirty-state"]', { hasText: 'All changes saved' }).waitFor();
    expect(await page.locator('[data-testid="default-status"]').inputValue()).toBe('201');
    expect(await focused()).toBe('button "Revert"');
  });

  it('response tab: a step’s ✕ hands the focus to the next step’s ✕, the one before, then “+ Add step”', async () => {
    const bin = await newBin('removals');
    await apiCall(app.base, 'PUT', `/api/bins/${bin.id}/response`, { plan: [{ status: 500 }, { status: 418 }, { status: 503 }] });
    await page.goto(`/bins/${bin.id}/response`);
    await until(page, () => document.querySelectorAll('[data-testid="plan-step"]').length === 3);
    // The last step's ✕: its neighbour before it.
    await enterOn('[aria-label="Remove step 3"]');
    expect(await planStatuses()).toEqual(['500', '418']);
    expect(await focused()).toBe('Remove step 2');
    // The first step's: the next step, now first.
    await enterOn('[aria-label="Remove step 1"]');
    expect(await planStatuses()).toEqual(['418']);
    expect(await focused()).toBe('Remove step 1');
    await page.keyboard.press('Enter');
    expect(await planStatuses()).toEqual([]);
    expect(await focused()).toBe('add-step');
  });

  it('response tab: Enter on a step’s move button again moves it on, the focus going with the step', async () => {
    const bin = await newBin('moves');
    await apiCall(app.base, 'PUT', `/api/bins/${bin.id}/response`, { plan: [{ status: 500 }, { status: 418 }, { status: 503 }] });
    await page.goto(`/bins/${bin.id}/response`);
    await until(page, () => document.querySelectorAll('[data-testid="plan-step"]').length === 3);

    await enterOn('[aria-label="Move step 3 up"]');
    expect(await planStatuses()).toEqual(['500', '503', '418']);
    expect(await focused()).toBe('Move step 2 up');
    await page.keyboard.press('Enter');
    expect(await planStatuses()).toEqual(['503', '500', '418']);
    // At the top: up is off there, so its down button.
    expect(await focused()).toBe('Move step 1 down');
    await page.keyboard.press('Enter');
    expect(await planStatuses()).toEqual(['500', '503', '418']);
    expect(await focused()).toBe('Move step 2 down');
    await page.keyboard.press('Enter');
    expect(await planStatuses()).toEqual(['500', '418', '503']);
    expect(await focused()).toBe('Move step 3 up');
  });

  it('forward tab: Save keeps the focus', async () => {
    const bin = await newBin('forward keys');
    await page.goto(`/bins/${bin.id}/forward`);
    await page.getByTestId('add-target').click();
    await page.getByTestId('forward-target').first().fill('http://127.0.0.1:9/hooks');
    await holdingAnswer('**/forward', 'PUT', () => enterOn('[data-testid="save-forward"]'));
    await page.getByTestId('forward-status').waitFor();
    expect(await focused()).toBe('save-forward');
  });

  it('dispatcher: “+ Add webhook” hands the focus to the new form, Cancel and Create back to “+ Add webhook”', async () => {
    const bin = await newBin('dispatcher keys');
    await page.goto('/dispatcher');
    await page.locator('.dispatcher[data-joined="true"]').waitFor();

    const form = '[data-testid="webhook-form"]:not([data-webhook-id])';
    await enterOn('[data-testid="add-webhook"]');
    await page.locator(form).waitFor();
    expect(await focused()).toBe('webhook-name');
    await page.locator(`${form} button:text-is("Cancel")`).focus();
    await page.keyboard.press('Enter');
    await page.locator(form).waitFor({ state: 'detached' });
    expect(await focused()).toBe('add-webhook');

    await page.keyboard.press('Enter');
    await page.getByTestId('webhook-name').fill('keyboard hook');
    await page.getByTestId('webhook-url').fill(bin.url);
    await holdingAnswer('**/api/webhooks', 'POST', () => enterOn(`${form} [data-testid="save-webhook"]`));
    await page.locator('[data-testid="webhook-form"][data-webhook-id]').waitFor();
    await page.locator(form).waitFor({ state: 'detached' });
    expect(await focused()).toBe('add-webhook');
  });

  it('dispatcher: a webhook\'s Generate hands the focus to copying the new secret; its Test keeps the focus while the test is out', async () => {
    const bin = await newBin('webhook keys');
    const hook = await apiCall<{ id: string }>(app.base, 'POST', '/api/webhooks', { name: 'focus hook', url: bin.url });
    await page.goto('/dispatcher');
    await page.locator('.dispatcher[data-joined="true"]').waitFor();
    const form = `[data-testid="webhook-form"][data-webhook-id="${hook.id}"]`;
    await page.locator(form).waitFor();
    await enterOn(`${form} [data-testid="generate-secret"]`);
    await page.locator(`${form} [data-testid="webhook-secret"]`).waitFor();
    expect(await focused()).toBe('copy-secret');
    await holdingAnswer(`**/api/webhooks/${hook.id}/test`, 'POST', () => enterOn(`${form} [data-testid="test-webhook"]`));
    await page.locator(`${form} [data-testid="test-webhook"]:not([aria-disabled="true"])`).waitFor();
    expect(await focused()).toBe('test-webhook');
  });

  it('dispatcher: Run flow keeps the focus while the run is being started', async () => {
    await page.goto('/dispatcher');
    await page.locator('.dispatcher[data-joined="true"]').waitFor();
    await holdingAnswer('**/api/runs', 'POST', () => enterOn('[data-testid="run-flow"]'));
    await page.getByTestId('run-message').waitFor();
    expect(await focused()).toBe('run-flow');
  });

  it('dispatcher: the clock’s speed, step and +1 h buttons keep the focus while their action is out', async () => {
    await page.goto('/dispatcher');
    await page.getByTestId('clock').waitFor();
    for (const speed of ['60', '1']) {
      await holdingAnswer('**/api/clock', 'PUT', () => enterOn(`[data-testid="speed-${speed}"]`));
      await page.locator(`[data-testid="speed-${speed}"][aria-pressed="true"]:not([aria-disabled="true"])`).waitFor();
      expect(await focused()).toBe(`speed-${speed}`);
    }
    await holdingAnswer('**/api/clock/advance', 'POST', () => enterOn('[data-testid="step-next"]'));
    await page.locator('[data-testid="step-next"]:not([aria-disabled="true"])').waitFor();
    expect(await focused()).toBe('step-next');
    await holdingAnswer('**/api/clock/advance', 'POST', () => enterOn('.clock-controls button:text-is("+1 h")'));
    await page.locator('.clock-controls button:text-is("+1 h"):not([aria-disabled="true"])').waitFor();
    expect(await focused()).toBe('button "+1 h"');
  });

  it('key-group view: Enter on a key opens its captures with the focus on the list', async () => {
    const bin = await newBin('keys by keyboard');
    const url = app.reachable(bin.url);
    for (const key of ['msg_A', 'msg_A', 'msg_B']) await hit(url, { headers: { 'content-type': 'application/json', 'webhook-id': key }, body: '{}' });
    await page.goto(`/bins/${bin.id}?view=keys`);
    await page.locator('[data-testid="key-group-list"][data-count="2"]').waitFor();
    await enterOn('[data-testid="key-group"][data-key="msg_A"] a');
    await page.waitForURL((u) => u.searchParams.get('key') === 'msg_A');
    await page.locator('[data-testid="request-list"][data-count="2"]').waitFor();
    await expect.poll(focused).toBe('request-list');
  });
});
