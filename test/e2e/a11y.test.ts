// Issue 16: axe-core's WCAG 2.1 A/AA rules pass on every page, in light and dark: the start
// page, a bin with requests (a row selected, its detail open), the response editor and the
// dispatcher console.
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bin } from '../../shared/api.ts';
import { type RunningApp, apiCall, axeViolations, closeAgents, hit, launchBrowser, openPage, startApp } from '../helpers/browser.ts';

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
});

afterAll(async () => {
  await browser?.close();
  await app?.stop();
  closeAgents();
});

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

        await page.goto(`/bins/${bin.id}/response`);
        await page.getByTestId('response-editor').waitFor();
        found.response = await axeViolations(page);

        await page.goto('/dispatcher');
        await page.getByText('Accessible hook').first().waitFor();
        found.dispatcher = await axeViolations(page);
        expect(found).toEqual({ start: [], bin: [], response: [], dispatcher: [] });
      } finally {
        await context.close();
      }
    });
  }
});
