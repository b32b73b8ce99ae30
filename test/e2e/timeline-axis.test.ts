// The timeline's axis and marks in real Chromium: a deadline a day or two out printed its
// label over the "24 h" tick's ("2~~4~~ d 7 h" for the svix preset), a phone's "0" and "1 s"
// touched, and 100 attempts 10 min apart drew, from ~6 h on, white outlines over each other's
// dots: faint arcs with no colour, as if those attempts never happened.
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bin, Delivery, Run, Webhook } from '../../shared/api.ts';
import { type RunningApp, apiCall, launchBrowser, openPage, startApp, stopAppAndPage, until } from '../helpers/browser.ts';

const DAY = 86_400_000;

let app: RunningApp;
let browser: Browser;

beforeAll(async () => {
  [app, browser] = await Promise.all([startApp(), launchBrowser()]);
});

afterAll(() => stopAppAndPage({ app, browser }));

/** The axis labels as drawn (tick labels and the deadline's time), left to right, in px. */
const axisLabels = (tl: Locator) =>
  tl.evaluate((svg) =>
    [...svg.querySelectorAll('.tick text, .deadline text:not(.deadline-label)')]
      .map((t) => ({ text: t.textContent!, ...(({ left, right }) => ({ left, right }))(t.getBoundingClientRect()) }))
      .filter((l) => l.right > l.left) // hidden (minor labels on a phone) take no room
      .sort((a, b) => a.left - b.left),
  );

/** The smallest space between two labels as laid out (negative: they overlap). */
async function minGap(tl: Locator): Promise<number> {
  const ls = await axisLabels(tl);
  return Math.min(...ls.slice(1).map((l, i) => l.left - ls[i].right));
}

async function previewWith(page: Page, preset: string, deadlineMs?: number): Promise<Locator> {
  await page.goto('/dispatcher');
  const tl = page.getByTestId('preview-timeline');
  await tl.waitFor();
  await page.getByTestId('preview-preset').selectOption(preset);
  if (deadlineMs !== undefined) await page.locator('#sp-deadlineMs').fill(String(deadlineMs));
  const want = deadlineMs === undefined ? null : `${deadlineMs / 3_600_000} h`;
  // The preview follows the form after a pause: wait for its deadline label to say so.
  if (want) await until(page, (w) => document.querySelector('[data-testid="preview-timeline"] .deadline text')?.textContent === w, want);
  return tl;
}

describe('the timeline axis', () => {
  it('svix (deadline 2 d 7 h) and a 30 h deadline: no tick label under the deadline, at any width', async () => {
    for (const width of [1280, 900, 375]) {
      const { page, context } = await openPage(browser, app.base, { width, height: 900 });
      try {
        let tl = await previewWith(page, 'svix');
        await until(page, () => document.querySelector('[data-testid="preview-timeline"]')?.getAttribute('data-planned') === '8');
        expect(await minGap(tl), `svix at ${width} px: ${JSON.stringify(await axisLabels(tl))}`).toBeGreaterThanOrEqual(2);
        await tl.screenshot({ path: `test-artifacts/timeline-svix-${width}.png` });
        tl = await previewWith(page, 'portable', 108_000_000);
        expect(await minGap(tl), `30 h at ${width} px: ${JSON.stringify(await axisLabels(tl))}`).toBeGreaterThanOrEqual(2);
        expect((await axisLabels(tl)).map((l) => l.text)).not.toContain('24 h');
        await tl.screenshot({ path: `test-artifacts/timeline-30h-${width}.png` });
      } finally {
        await context.close();
      }
    }
  }, 120_000);

  it('a 24 h deadline on a 375 px phone: "0" and "1 s" do not touch', async () => {
    const { page, context } = await openPage(browser, app.base, { width: 375, height: 800, isMobile: true });
    try {
      const tl = await previewWith(page, 'portable');
      await until(page, () => document.querySelector('[data-testid="preview-timeline"] .deadline text')?.textContent === '24 h');
      // They were 3 px apart: read as "01 s".
      expect(await minGap(tl), JSON.stringify(await axisLabels(tl))).toBeGreaterThanOrEqual(5);
      await tl.screenshot({ path: 'test-artifacts/timeline-phone-375.png' });
    } finally {
      await context.close();
    }
  }, 60_000);
});

describe('dense marks', () => {
  it('100 attempts 10 min apart: the ones ~1 px apart keep their colour (no outline over the one before)', async () => {
    const b = await apiCall<Bin>(app.base, 'POST', '/api/bins', { name: 'dense' });
    await apiCall(app.base, 'PUT', `/api/bins/${b.id}/response`, { default: { status: 500 } });
    const w = await apiCall<Webhook>(app.base, 'POST', '/api/webhooks', {
      name: 'Dense',
      url: b.url,
      events: ['flow_started'],
      schedule: { jitter: 0, deadlineMs: DAY, delaysMs: Array.from({ length: 99 }, () => 600_000) },
    });
    const run = await apiCall<Run>(app.base, 'POST', '/api/runs', { durationMs: DAY });
    await apiCall(app.base, 'POST', '/api/clock/advance', { ms: 0 });
    let [d] = (await apiCall<{ deliveries: Delivery[] }>(app.base, 'GET', `/api/deliveries?runId=${run.id}&webhookId=${w.id}`)).deliveries;
    while (d.state === 'pending') {
      await apiCall(app.base, 'POST', '/api/clock/advance', { to: 'next' });
      d = await apiCall<Delivery>(app.base, 'GET', `/api/deliveries/${d.id}`);
    }
    expect(d.attempts.length).toBe(100);

    const { page, context, problems } = await openPage(browser, app.base, { width: 1280, height: 900 });
    try {
      await page.goto('/dispatcher');
      const tl = page.locator(`[data-delivery-id="${d.id}"]`).getByTestId('timeline');
      await until(page, (id) => document.querySelector(`[data-delivery-id="${id}"] [data-testid="timeline"]`)?.getAttribute('data-attempts') === '100', d.id);
      const strokes = await tl.locator('.mark .dot').evaluateAll((dots) => dots.map((c) => getComputedStyle(c).stroke));
      expect(strokes.length).toBe(100);
      // From 6 h on (attempt 37) the marks are ~1 px apart: none of them paints a white outline.
      expect(strokes.slice(36).every((s) => s === 'none')).toBe(true);
      // The first, far apart on the log scale, keep theirs.
      expect(strokes.slice(0, 3).every((s) => s !== 'none')).toBe(true);
      // Each attempt is still a button of its own, as the table rows are.
      expect(await tl.locator('[data-attempt-n][role="button"]').count()).toBe(100);
      await tl.screenshot({ path: 'test-artifacts/timeline-dense.png' });
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  }, 120_000);
});
