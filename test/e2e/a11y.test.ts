// Issue 16: axe-core's WCAG 2.1 A/AA rules pass on every page, in light and dark: the start
// page, a bin with requests (a row selected, its detail open with a signature failure and
// forwards; the JSON tree; search, tools and the row label editor open), the response
// editor, the forward and signature settings, and the dispatcher console.
import type { Browser } from 'playwright-core';
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bin } from '../../shared/api.ts';
import { type RunningApp, apiCall, axeViolations, hit, launchBrowser, openPage, startApp, stopAppAndPage } from '../helpers/browser.ts';

let app: RunningApp;
let browser: Browser;
let bin: Bin;

beforeAll(async () => {
  [app, browser] = await Promise.all([startApp(), launchBrowser()]);
  bin = await apiCall<Bin>(app.base, 'POST', '/api/bins', { name: 'Accessible' });
  await apiCall(app.base, 'PUT', `/api/bins/${bin.id}/response`, { plan: [{ status: 500 }] });
  const url = app.reachable(bin.url);
  await hit(`${url}/hooks?x=1`, { headers: { 'content-type': 'application/json' }, body: '{"event":"sync_end","status":"FAILED"}' });
  await hit(`${url}/form`, { headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'a=1&b=2' });
  await apiCall(app.base, 'POST', '/api/webhooks', { name: 'Accessible hook', url: bin.url, events: ['flow_started'] });
  // A signature check that fails, and a forward that found nobody home.
  await apiCall(app.base, 'PUT', `/api/bins/${bin.id}/verify`, { schemes: [{ type: 'stripe', secrets: ['whsec_a11y_secret_0123'] }] });
  await apiCall(app.base, 'PUT', `/api/bins/${bin.id}/forward`, { targets: [{ url: 'http://127.0.0.1:9/nobody' }] });
  const payload = '{"id":"evt_a11y","type":"charge.succeeded","data":{"amount":1250}}';
  const sig = Stripe.webhooks.generateTestHeaderString({ payload, secret: 'whsec_a11y_secret_0123' });
  await hit(`${url}/stripe`, { headers: { 'content-type': 'application/json', 'stripe-signature': sig }, body: payload.replace('1250', '1') });
});

afterAll(() => stopAppAndPage({ app, browser }));

describe('accessibility (axe-core, WCAG 2.1 A/AA)', () => {
  for (const scheme of ['light', 'dark'] as const) {
    it(`every page passes in ${scheme}`, async () => {
      const { page, context } = await openPage(browser, app.base, { colorScheme: scheme });
      try {
        const found: Record<string, unknown> = {};
        await page.goto('/');
        await page.locator('[data-testid="bin-list"] li').first().waitFor();
        found.start = await axeViolations(page);

        await page.goto(`/bins/${bin.id}`);
        await page.locator('[data-request-id]').first().click();
        await page.locator('[data-testid="request-detail"]').waitFor();
        found.bin = await axeViolations(page);

        // The newest request (the Stripe one): signature panel and forwards.
        await page.locator('[data-request-id]').first().click();
        await page.getByTestId('signature-panel').waitFor();
        await page.getByTestId('forward-record').waitFor();
        await page.getByTestId('headers-section').locator('summary').click();
        found.detail = await axeViolations(page);
        await page.getByTestId('view-tree').click();
        await page.getByTestId('json-tree').getByRole('button').nth(1).click();
        await page.locator('.filter-more summary').click();
        await page.getByTestId('bin-tools').click();
        await page.getByTestId('bin-tools-panel').waitFor();
        await page.getByTestId('row-labels').click();
        await page.getByTestId('row-labels-form').waitFor();
        found.tools = await axeViolations(page);

        await page.goto(`/bins/${bin.id}/forward`);
        await page.getByTestId('forward-target').waitFor();
        found.forward = await axeViolations(page);

        await page.goto(`/bins/${bin.id}/verify`);
        await page.getByTestId('scheme').waitFor();
        found.verify = await axeViolations(page);

        await page.goto(`/bins/${bin.id}/response`);
        await page.getByTestId('response-editor').waitFor();
        found.response = await axeViolations(page);

        await page.goto('/dispatcher');
        await page.getByText('Accessible hook').first().waitFor();
        found.dispatcher = await axeViolations(page);
        expect(found).toEqual({ start: [], bin: [], detail: [], tools: [], forward: [], verify: [], response: [], dispatcher: [] });
      } finally {
        await context.close();
      }
    });
  }
});
