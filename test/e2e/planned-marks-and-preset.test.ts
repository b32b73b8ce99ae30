// In real Chromium: after manual retries, a delivery's hollow (planned) marks carry the attempt
// numbers the timeline export gives and the next send really carries (they were numbered by
// their place in the plan: "Planned attempt 4" for the send that went out as attempt 6); and a
// webhook saved with the "portable" preset shows it in its form's Schedule menu (it was blank),
// a save leaving it as stored.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bin, RequestSummary, Delivery, Run, Timeline, Webhook } from '../../shared/api.ts';
import { formatDuration } from '../../client/src/lib/format.ts';
import { type RunningApp, type TestPage, apiCall, startAppAndPage, stopAppAndPage, until } from '../helpers/browser.ts';

let app: RunningApp;
let browser: Browser;
let tp: TestPage;
let page: Page;
let bin: Bin;

beforeAll(async () => {
  ({ app, browser, tp, page } = await startAppAndPage());
  bin = await apiCall<Bin>(app.base, 'POST', '/api/bins', { name: 'always-500' });
  await apiCall(app.base, 'PUT', `/api/bins/${bin.id}/response`, { default: { status: 500 } });
  // Paused: attempts are made only when the test moves the clock.
  await apiCall(app.base, 'PUT', '/api/clock', { paused: true, scale: 1 });
});

afterAll(() => stopAppAndPage({ app, browser }));

async function openConsole() {
  await page.goto('/dispatcher');
  await page.locator('.dispatcher[data-joined="true"]').waitFor();
}

describe('planned marks after manual retries', () => {
  it('are numbered as the export numbers them, and as the next scheduled send is numbered', async () => {
    const w = await apiCall<Webhook>(app.base, 'POST', '/api/webhooks', { name: 'Retried', url: bin.url, events: ['flow_started'] });
    const run = await apiCall<Run>(app.base, 'POST', '/api/runs', {});
    await apiCall(app.base, 'POST', '/api/clock/advance', { ms: 30_000 });
    const [d0] = (await apiCall<{ deliveries: Delivery[] }>(app.base, 'GET', `/api/deliveries?runId=${run.id}`)).deliveries;
    await apiCall(app.base, 'POST', `/api/deliveries/${d0.id}/retry`);
    const d = await apiCall<Delivery>(app.base, 'POST', `/api/deliveries/${d0.id}/retry`);
    const made = d.attempts.length;
    expect(d.attempts.slice(-2).map((a) => a.manual)).toEqual([true, true]);

    const planned = (await apiCall<Timeline>(app.base, 'GET', `/api/deliveries/${d.id}/timeline`)).deliveries[0].attempts.filter((a) => a.status === 'planned');
    expect(planned.map((a) => a.n)).toEqual(planned.map((_, i) => made + 1 + i));

    await openConsole();
    const tl = page.locator(`[data-delivery-id="${d.id}"]`).getByTestId('timeline');
    await until(page, ([id, want]) => document.querySelector(`[data-delivery-id="${id}"] [data-testid="timeline"]`)?.getAttribute('data-attempts') === String(want), [d.id, made] as const);
    const marks = await tl.locator('circle.mark-planned').evaluateAll((els) => els.map((e) => ({ n: Number(e.getAttribute('data-planned-n')), title: e.querySelector('title')!.textContent })));
    expect(marks).toEqual(planned.map((a) => ({ n: a.n, title: `Planned attempt ${a.n} at +${formatDuration(a.offsetMs)}` })));

    // The next scheduled send goes out as the first planned mark says.
    await apiCall(app.base, 'POST', '/api/clock/advance', { ms: Date.parse(d.nextAttemptAt!) - Date.parse(d.attempts.at(-1)!.sentAt) });
    const after = await apiCall<Delivery>(app.base, 'GET', `/api/deliveries/${d.id}`);
    expect(after.attempts).toHaveLength(made + 1);
    const { requests } = await apiCall<{ requests: RequestSummary[] }>(app.base, 'GET', `/api/bins/${bin.id}/requests`);
    expect(requests[0].dispatch).toMatchObject({ deliveryId: d.id, attempt: marks[0].n });
    await apiCall(app.base, 'DELETE', `/api/webhooks/${w.id}`);
  });
});

describe('the "portable" preset in the webhook form', () => {
  it('shows "portable (server default)" for a webhook stored with it, and Save keeps it as stored', async () => {
    const w = await apiCall<Webhook>(app.base, 'POST', '/api/webhooks', { name: 'Portable', url: bin.url, events: ['flow_started'], schedule: { preset: 'portable' } });
    expect(w.schedule).toEqual({ preset: 'portable' });
    await openConsole();
    const form = page.locator(`[data-testid="webhook-form"][data-webhook-id="${w.id}"]`);
    await form.locator('summary').click();
    const menu = form.getByTestId('webhook-preset');
    expect(await menu.evaluate((s: HTMLSelectElement) => s.selectedOptions[0]?.textContent ?? null)).toBe('portable (server default)');
    // One such entry in the menu, not two for the same schedule.
    expect(await menu.locator('option', { hasText: /^portable/ }).count()).toBe(1);

    await form.getByTestId('save-webhook').click();
    await form.getByText('Saved.').waitFor();
    expect((await apiCall<Webhook>(app.base, 'GET', `/api/webhooks/${w.id}`)).schedule).toEqual({ preset: 'portable' });

    expect(tp.problems).toEqual([]);
  });
});
