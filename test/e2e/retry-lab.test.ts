// Issue 12 in real Chromium: countdowns that agree with the clock at 86400x paused and at
// 1440x running, forms that refuse bad numbers at the field, a preview that never shows a
// stale schedule, two presets side by side, the attempt table, captures that say which
// attempt they were, timeline export, and a webhook hooklab disabled by itself (410).
import { readFile } from 'node:fs/promises';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bin, ClockState, Delivery, Run, SchedulePreview, Webhook } from '../../shared/api.ts';
import { type RunningApp, type TestPage, apiCall, axeViolations, openPage, overflowing, screenshot, startApp, startAppAndPage, stopAppAndPage, until } from '../helpers/browser.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
let app: RunningApp;
let browser: Browser;
let tp: TestPage;
let page: Page;
let bin: Bin;
let webhook: Webhook;
let delivery: Delivery;

beforeAll(async () => {
  ({ app, browser, tp, page } = await startAppAndPage());
  bin = await apiCall<Bin>(app.base, 'POST', '/api/bins', { name: 'always-500' });
  await apiCall(app.base, 'PUT', `/api/bins/${bin.id}/response`, { default: { status: 500 } });
  await apiCall(app.base, 'PUT', '/api/clock', { paused: true, scale: 1 });
  // Retries 6 h apart, so the next attempt is hours away whatever the speed.
  webhook = await apiCall<Webhook>(app.base, 'POST', '/api/webhooks', {
    name: 'Countdown',
    url: bin.url,
    events: ['flow_started'],
    schedule: { firstDelayMs: 6 * HOUR, factor: 1.5, jitter: 0 },
  });
  const run = await apiCall<Run>(app.base, 'POST', '/api/runs', { durationMs: 30 * DAY });
  await apiCall(app.base, 'POST', '/api/clock/advance', { ms: 0 });
  delivery = (await apiCall<{ deliveries: Delivery[] }>(app.base, 'GET', `/api/deliveries?runId=${run.id}`)).deliveries[0];
  expect(delivery.attempts).toHaveLength(1);
});

afterAll(() => stopAppAndPage({ app, browser }));

const card = () => page.locator(`[data-delivery-id="${delivery.id}"]`);

/** What the clock bar and the card show, read in one frame (texts, and the ms behind them). */
function readCountdowns(id: string) {
  return page.evaluate((did) => {
    const c = document.querySelector(`[data-delivery-id="${did}"]`)!;
    const num = (el: Element | null, attr: string) => Number(el?.getAttribute(attr));
    const clock = document.querySelector('[data-testid="next-due"]') ?? document.querySelector('[data-testid="clock"] .clock-time > div.muted.small');
    const spans = [...c.querySelectorAll('.delivery-foot span')];
    const next = c.querySelector('[data-testid="next-attempt"]') ?? spans.find((x) => x.textContent!.startsWith('Next attempt')) ?? null;
    const deadline = c.querySelector('[data-testid="deadline-in"]') ?? spans.find((x) => x.textContent!.startsWith('Deadline')) ?? null;
    return {
      now: num(document.querySelector('[data-testid="virtual-now"]'), 'data-now'),
      clockNextIn: num(clock, 'data-next-due-in'),
      clockText: clock?.textContent ?? '',
      cardNextIn: num(next, 'data-next-in'),
      cardText: next?.textContent ?? '',
      deadlineIn: num(deadline, 'data-deadline-in'),
      deadlineText: deadline?.textContent ?? '',
      nowLine: c.querySelectorAll('[data-testid="now-line"]').length,
    };
  }, id);
}

/** "in 6 h 2 min" as the clock bar and the card word it. */
const clockSays = (t: string) => /next due in (.+?)(?: \(|$)/.exec(t)?.[1];
const cardSays = (t: string) => /^Next attempt in (.+?)(?: \(|$)/.exec(t)?.[1];

describe('bug 1: countdowns agree with the clock', () => {
  it('at 86400x paused: the clock and the card give the same next attempt, the deadline is within 24 h, the now-line shows', async () => {
    await page.goto('/dispatcher');
    await card().waitFor();
    await page.getByTestId('speed-86400').click();
    await page.locator('[data-testid="speed-86400"][aria-pressed="true"]').waitFor();
    const server = await apiCall<ClockState>(app.base, 'GET', '/api/clock');
    expect(server).toMatchObject({ paused: true, scale: 86_400 });
    const now = Date.parse(server.now);
    await until(page, (t) => Number(document.querySelector('[data-testid="virtual-now"]')?.getAttribute('data-now')) === t, now);
    const r = await readCountdowns(delivery.id);
    const nextAt = Date.parse(delivery.nextAttemptAt!);
    // What QA reads: the same countdown in both places (before: "4.4 s" vs "3 h 17 min").
    expect(cardSays(r.cardText)).toBe(clockSays(r.clockText));
    expect(r.deadlineText).toBe('Deadline in 24 h');
    expect(r.cardNextIn).toBe(nextAt - now);
    expect(r.clockNextIn).toBe(nextAt - now);
    expect(r.cardText).toMatch(/^Next attempt in 6 h/);
    expect(r.clockText).toContain('next due in 6 h');
    expect(r.deadlineIn).toBe(Date.parse(delivery.createdAt) + DAY - now);
    expect(r.deadlineIn).toBeLessThanOrEqual(DAY);
    expect(r.deadlineText).toBe('Deadline in 24 h');
    expect(r.nowLine).toBe(1);
    await screenshot(page, 'retry-lab-86400-paused');
  });

  it('at 1440x running: card and clock read the same instant in every frame, and that instant is the server\'s', async () => {
    await page.getByTestId('speed-1440').click();
    await page.locator('[data-testid="speed-1440"][aria-pressed="true"]').waitFor();
    await page.getByTestId('pause').click();
    await page.locator('[data-testid="pause"][aria-pressed="false"]').waitFor();
    const nextAt = Date.parse(delivery.nextAttemptAt!);
    for (let i = 0; i < 5; i++) {
      const before = Date.parse((await apiCall<ClockState>(app.base, 'GET', '/api/clock')).now);
      const r = await readCountdowns(delivery.id);
      const after = Date.parse((await apiCall<ClockState>(app.base, 'GET', '/api/clock')).now);
      expect(cardSays(r.cardText)).toBe(clockSays(r.clockText));
      expect(r.cardNextIn).toBe(nextAt - r.now);
      expect(r.clockNextIn).toBe(r.cardNextIn);
      expect(r.deadlineIn).toBe(Date.parse(delivery.createdAt) + DAY - r.now);
      // The page's extrapolation keeps to the server's clock (a real second is 24 virtual min).
      expect(r.now).toBeGreaterThanOrEqual(before - 1440 * 1000);
      expect(r.now).toBeLessThanOrEqual(after + 1440 * 1000);
      expect(r.nowLine).toBe(1);
      await new Promise((res) => setTimeout(res, 150));
    }
    await page.getByTestId('pause').click();
    await page.locator('[data-testid="pause"][aria-pressed="true"]').waitFor();
    await apiCall(app.base, 'PUT', '/api/clock', { scale: 1 });
  });
});

describe('bug 4: numbers in forms', () => {
  it('"Runs for" refuses abc, -5 and too much at the field, in seconds, and starts nothing', async () => {
    const runsBefore = (await apiCall<{ runs: Run[] }>(app.base, 'GET', '/api/runs')).runs.length;
    const field = page.locator('#run-duration');
    const err = page.getByTestId('run-duration-error');
    for (const [typed, message] of [
      ['abc', 'must be a number of seconds, 0 or more (e.g. 20 or 1.5)'],
      ['-5', 'must be a number of seconds, 0 or more (e.g. 20 or 1.5)'],
      ['9999999', 'must be at most 2,592,000 seconds (30 days)'],
    ]) {
      await field.fill(typed);
      await page.getByTestId('run-flow').click();
      await err.waitFor();
      expect(await err.textContent()).toBe(message);
      expect(await field.getAttribute('aria-invalid')).toBe('true');
    }
    expect((await apiCall<{ runs: Run[] }>(app.base, 'GET', '/api/runs')).runs.length).toBe(runsBefore);
    await field.fill('20');
    expect(await err.count()).toBe(0);
  });

  it('the schedule preview never shows an error above a schedule it did not recompute', async () => {
    const preview = page.getByTestId('preview-timeline');
    await preview.waitFor();
    await page.locator('#sp-factor').fill('0.5');
    await page.getByTestId('preview-error').waitFor();
    expect(await page.getByTestId('preview-error').textContent()).toContain('factor');
    expect(await preview.count()).toBe(0);
    await page.locator('#sp-factor').fill('');
    await preview.waitFor();
  });
});

describe('presets, the attempt table, captures, export, auto-disable', () => {
  it('previews two presets side by side', async () => {
    const svix = await apiCall<SchedulePreview>(app.base, 'GET', '/api/schedule/preview?preset=svix');
    const stripe = await apiCall<SchedulePreview>(app.base, 'GET', '/api/schedule/preview?preset=stripe');
    await page.getByTestId('preview-preset').selectOption('svix');
    await page.getByTestId('preview-compare').selectOption('stripe');
    await until(
      page,
      ([a, b]) =>
        document.querySelector('[data-testid="preview-timeline"]')?.getAttribute('data-planned') === String(a) &&
        document.querySelector('[data-testid="preview-timeline-b"]')?.getAttribute('data-planned') === String(b),
      [svix.attempts.length, stripe.attempts.length] as const,
    );
    expect(await page.getByTestId('preview-timeline-panel').textContent()).toContain('svix: 8 attempts over 27 h 35 min');
    expect(await page.getByTestId('preview-timeline-b-panel').textContent()).toContain('stripe: 8 attempts over 3 d');
    await screenshot(page, 'retry-lab-preview-compare');
    await page.getByTestId('preview-preset').selectOption('');
    await page.getByTestId('preview-compare').selectOption('');
  });

  it('the attempt table: planned and sent in virtual time, lateness, why, status, and the capture, which says which attempt it was', async () => {
    await apiCall(app.base, 'POST', '/api/clock/advance', { to: 'next' });
    await until(page, (id) => document.querySelectorAll(`[data-delivery-id="${id}"] [data-attempt-row]`).length === 2, delivery.id);
    const rows = await card()
      .getByTestId('attempt-table')
      .locator('tbody tr')
      .evaluateAll((trs) => trs.map((tr) => [...(tr as HTMLTableRowElement).cells].map((c) => c.textContent!.trim())));
    expect(rows[0].slice(0, 6)).toEqual(['1', 'at the eventdefault response', '0', '0', 'on time', '500']);
    expect(rows[1].slice(0, 6)).toEqual(['2', 'scheduledefault response', '+6 h', '+6 h', 'on time', '500']);
    // Marks carry the status code.
    expect(await card().locator('[data-code-n="2"]').textContent()).toBe('500');

    const d = await apiCall<Delivery>(app.base, 'GET', `/api/deliveries/${delivery.id}`);
    await card().locator('[data-attempt-row="2"]').getByTestId('row-capture-link').click();
    await page.waitForURL(`**/bins/${bin.id}/requests/${d.attempts[1].capturedRequestId}`);
    const note = page.getByTestId('dispatch-note');
    await note.waitFor();
    await note.getByText('open the dispatcher').waitFor();
    expect(await note.textContent()).toContain('sync_start · attempt 2');
    expect(await note.textContent()).toContain(delivery.id);
    expect(await page.locator(`[data-request-id="${d.attempts[1].capturedRequestId}"]`).getByTestId('dispatch-label').textContent()).toBe('sync_start · attempt 2');
    await screenshot(page, 'retry-lab-capture');
    await page.goBack();
    await card().waitFor();
  });

  it("exports a delivery's timeline as CSV", async () => {
    const [download] = await Promise.all([page.waitForEvent('download'), card().getByTestId('export-csv').click()]);
    expect(download.suggestedFilename()).toBe(`delivery-${delivery.id}-timeline.csv`);
    const lines = (await readFile((await download.path())!, 'utf8')).trimEnd().split('\r\n');
    expect(lines[0]).toMatch(/^delivery_id,run_id,event,/);
    expect(lines.filter((l) => l.includes(',made,'))).toHaveLength(2);
    expect(lines.filter((l) => l.includes(',planned,')).length).toBeGreaterThan(0);
  });

  it('a 410 with disableOn410: the page says hooklab disabled the webhook, and why; its form shows it off', async () => {
    const gone = await apiCall<Bin>(app.base, 'POST', '/api/bins', { name: 'gone' });
    await apiCall(app.base, 'PUT', `/api/bins/${gone.id}/response`, { default: { status: 410 } });
    const w = await apiCall<Webhook>(app.base, 'POST', '/api/webhooks', { name: 'Gone hook', url: gone.url, events: ['flow_started'], behaviors: { disableOn410: true } });
    await page.reload();
    await page.locator(`[data-testid="webhook-form"][data-webhook-id="${w.id}"]`).waitFor();
    // The notice comes with the live event: the page must have joined before the attempt.
    await page.locator('.dispatcher[data-joined="true"]').waitFor();
    await apiCall(app.base, 'POST', '/api/runs', { durationMs: DAY });
    await apiCall(app.base, 'POST', '/api/clock/advance', { ms: 0 });
    const notice = page.getByTestId('auto-disabled');
    await notice.waitFor();
    expect(await notice.textContent()).toContain('Webhook “Gone hook” was disabled by hooklab');
    expect(await notice.textContent()).toContain('got 410 Gone');
    const form = page.locator(`[data-testid="webhook-form"][data-webhook-id="${w.id}"]`);
    await form.getByTestId('disabled-by').waitFor();
    expect(await form.getByTestId('webhook-enabled').isChecked()).toBe(false);
    const ended = (await apiCall<{ deliveries: Delivery[] }>(app.base, 'GET', `/api/deliveries?webhookId=${w.id}`)).deliveries[0];
    await page.locator(`[data-delivery-id="${ended.id}"] [data-testid="ended"]`).getByText('410 Gone').waitFor();
    await screenshot(page, 'retry-lab-auto-disabled', true);
    expect(await overflowing(page)).toEqual([]);
  });

  it('sets a preset and behaviours in the webhook form', async () => {
    const form = page.locator(`[data-testid="webhook-form"][data-webhook-id="${webhook.id}"]`);
    await form.locator('summary').click();
    await form.getByTestId('webhook-preset').selectOption('list');
    await form.getByTestId('webhook-delays').fill('5000, 60000, x');
    await form.getByTestId('save-webhook').click();
    const err = form.locator('.field.has-error').getByTestId('field-error');
    await err.waitFor();
    expect(await err.textContent()).toContain('must be an integer');
    await form.getByTestId('webhook-delays').fill('5000, 60000');
    // The numbers of the exponential rule do not apply to a list: clear them.
    await form.locator(`#wh-${webhook.id}-first`).fill('');
    await form.locator(`#wh-${webhook.id}-factor`).fill('');
    await form.getByTestId('behavior-retryAfter').check();
    await form.getByTestId('behavior-abortHeader').fill('X-Abort-Retries');
    await form.getByTestId('save-webhook').click();
    await form.getByText('Saved.').waitFor();
    expect(await apiCall<Webhook>(app.base, 'GET', `/api/webhooks/${webhook.id}`)).toMatchObject({
      schedule: { delaysMs: [5000, 60_000] },
      behaviors: { retryAfter: true, abortHeader: 'x-abort-retries' },
    });
    expect(tp.problems.filter((p) => !p.includes('400 (Bad Request)'))).toEqual([]);
  });

  it('all of it passes axe-core (WCAG 2.1 A/AA), light and dark: the attempt table, the compared previews, the notice', async () => {
    for (const colorScheme of ['light', 'dark'] as const) {
      const other = await openPage(browser, app.base, { colorScheme });
      try {
        await other.page.goto('/dispatcher');
        await other.page.locator(`[data-delivery-id="${delivery.id}"] [data-testid="attempt-table"]`).waitFor();
        await other.page.getByTestId('preview-compare').selectOption('svix');
        await other.page.getByTestId('preview-timeline-b').waitFor();
        await other.page.locator(`[data-delivery-id="${delivery.id}"] [data-attempt-n="2"]`).click();
        await other.page.locator(`[data-delivery-id="${delivery.id}"] [data-testid="attempt-why"]`).waitFor();
        expect(await axeViolations(other.page), colorScheme).toEqual([]);
      } finally {
        await other.context.close();
      }
    }
  });
});

describe('bug 3: a dispatcher that cannot keep up says so', () => {
  let slow: RunningApp;
  afterAll(() => slow?.stop());

  it('a receiver slower than the clock: the page says virtual time waits, and how far behind; pausing clears it', async () => {
    slow = await startApp();
    const b = await apiCall<Bin>(slow.base, 'POST', '/api/bins', { name: 'slow' });
    // Each attempt takes 1.5 s of real time; at 86400x that is 36 virtual hours.
    await apiCall(slow.base, 'PUT', `/api/bins/${b.id}/response`, { default: { status: 500, delayMs: 1500 } });
    await apiCall(slow.base, 'POST', '/api/webhooks', { url: b.url, events: ['flow_started'], schedule: { delaysMs: [1000, 1000, 1000] } });
    await apiCall(slow.base, 'PUT', '/api/clock', { paused: false, scale: 86_400 });
    const other = await openPage(browser, slow.base);
    try {
      await other.page.goto('/dispatcher');
      await apiCall(slow.base, 'POST', '/api/runs', {});
      const notice = other.page.getByTestId('lagging');
      await notice.waitFor({ timeout: 30_000 });
      expect(await notice.textContent()).toMatch(/cannot keep up at 86,400×: virtual time waits for the attempts due now.*every attempt still goes at its planned time/);
      const state = await apiCall<ClockState>(slow.base, 'GET', '/api/clock');
      expect(state.lagging || state.behindMs > 0).toBe(true);
      expect(await axeViolations(other.page)).toEqual([]);
      await apiCall(slow.base, 'PUT', '/api/clock', { paused: true });
      await notice.waitFor({ state: 'detached', timeout: 30_000 });
    } finally {
      await other.context.close();
    }
  });
});

describe('the attempt detail, marks after the deadline, narrow screens, and "at random" answers', () => {
  let late: Delivery;

  /** advance {to: "next"} until the delivery has ended. */
  async function stepUntilDone(id: string): Promise<Delivery> {
    for (;;) {
      const d = await apiCall<Delivery>(app.base, 'GET', `/api/deliveries/${id}`);
      if (d.state !== 'pending') return d;
      await apiCall(app.base, 'POST', '/api/clock/advance', { to: 'next' });
    }
  }

  beforeAll(async () => {
    // 21 attempts within a 1 h deadline (a long attempt table), then Retry now 10 min after it.
    const b = await apiCall<Bin>(app.base, 'POST', '/api/bins', { name: 'late-retry' });
    await apiCall(app.base, 'PUT', `/api/bins/${b.id}/response`, { default: { status: 500 } });
    const w = await apiCall<Webhook>(app.base, 'POST', '/api/webhooks', {
      name: 'Late retry',
      url: b.url,
      events: ['flow_started'],
      schedule: { firstDelayMs: 1000, factor: 1.5, jitter: 0, deadlineMs: HOUR },
    });
    const run = await apiCall<Run>(app.base, 'POST', '/api/runs', { durationMs: DAY });
    await apiCall(app.base, 'POST', '/api/clock/advance', { ms: 0 });
    const [d] = (await apiCall<{ deliveries: Delivery[] }>(app.base, 'GET', `/api/deliveries?runId=${run.id}&webhookId=${w.id}`)).deliveries;
    const ended = await stepUntilDone(d.id);
    expect(ended.state).toBe('failed');
    await apiCall(app.base, 'POST', '/api/clock/advance', { ms: 10 * 60_000 });
    late = await apiCall<Delivery>(app.base, 'POST', `/api/deliveries/${d.id}/retry`);
    expect(late.attempts.length).toBeGreaterThan(15);
  });

  const at = (p: Page) => p.locator(`[data-delivery-id="${late.id}"]`);

  it('a manual retry after the deadline has a mark of its own, right of the deadline, that can be clicked', async () => {
    await page.goto('/dispatcher');
    const n = late.attempts.length;
    const tl = at(page).getByTestId('timeline');
    await until(page, ([id, want]) => document.querySelector(`[data-delivery-id="${id}"] [data-testid="timeline"]`)?.getAttribute('data-attempts') === String(want), [late.id, n] as const);
    const box = async (sel: string) => (await tl.locator(sel).boundingBox())!;
    const [deadline, last, retry, deadlineCode, retryCode] = await Promise.all([
      box('.deadline line'),
      box(`[data-attempt-n="${n - 1}"] .hit`),
      box(`[data-attempt-n="${n}"] .hit`),
      box(`[data-code-n="${n - 1}"]`),
      box(`[data-code-n="${n}"]`),
    ]);
    // The deadline attempt is on the deadline line; the retry right of both, neither mark nor code overlapping.
    expect(Math.abs(last.x + last.width / 2 - deadline.x)).toBeLessThan(2);
    expect(retry.x).toBeGreaterThanOrEqual(last.x + last.width);
    expect(retryCode.x).toBeGreaterThan(deadlineCode.x + deadlineCode.width);
    // The early attempts crowd together on the log scale: codes that would overlap are left
    // out (they made a black band), every mark stays, the first and last attempt keep theirs.
    const spans = (await tl.locator('.mark-code').evaluateAll((els) => els.map((e) => [e.getBoundingClientRect().left, e.getBoundingClientRect().right]))).sort((a, b) => a[0] - b[0]);
    for (let i = 1; i < spans.length; i++) expect(spans[i][0], `code ${i} of ${spans.length}`).toBeGreaterThanOrEqual(spans[i - 1][1]);
    expect(await tl.locator('[data-attempt-n]').count()).toBe(n);
    expect(await tl.locator('[data-code-n="1"]').count()).toBe(1);
    expect(spans.length).toBeLessThan(n);
    await screenshot(page, 'retry-lab-after-deadline');
    // Each opens its own attempt.
    for (const k of [n - 1, n]) {
      await tl.locator(`[data-attempt-n="${k}"]`).click();
      await at(page).locator(`[data-testid="attempt-detail"][data-attempt-n="${k}"]`).waitFor();
    }
    await tl.locator(`[data-attempt-n="${n}"]`).click(); // closes it again
    await at(page).getByTestId('attempt-detail').waitFor({ state: 'detached' });
  });

  it('a mark opens its attempt detail in view, clear of the sticky clock and app bar, wide and one-column', async () => {
    for (const width of [1280, 900]) {
      const other = await openPage(browser, app.base, { width, height: 900 });
      try {
        const p = other.page;
        // Reduced motion: the scroll is instant (and a smooth one is not waited for).
        await p.emulateMedia({ reducedMotion: 'reduce' });
        await p.goto('/dispatcher');
        const tl = at(p).getByTestId('timeline');
        await tl.waitFor();
        await tl.locator(`[data-attempt-n="${late.attempts.length}"]`).click();
        const detail = at(p).getByTestId('attempt-detail');
        await detail.waitFor();
        await expect
          .poll(
            () =>
              detail.evaluate((el) => {
                const top = el.getBoundingClientRect().top;
                const clock = document.querySelector('[data-testid="clock"]')!.getBoundingClientRect().bottom;
                const bar = document.querySelector('.app-bar')!.getBoundingClientRect().bottom;
                return top >= Math.max(clock, bar) && top < innerHeight - 100;
              }),
            { message: `at ${width} px` },
          )
          .toBe(true);
        await screenshot(p, `retry-lab-detail-in-view-${width}`);
      } finally {
        await other.context.close();
      }
    }
  });

  it('one column (≤1000 px): the sticky clock stays under the app bar', async () => {
    const other = await openPage(browser, app.base, { width: 900, height: 700 });
    try {
      const p = other.page;
      await p.goto('/dispatcher');
      await at(p).getByTestId('attempt-table').waitFor();
      await p.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight / 2));
      await expect.poll(() => p.evaluate(() => scrollY > 500)).toBe(true);
      const [bar, clock] = await p.evaluate(() => [document.querySelector('.app-bar')!.getBoundingClientRect().bottom, document.querySelector('[data-testid="clock"]')!.getBoundingClientRect().top]);
      expect(Math.round(clock)).toBe(Math.round(bar));
      await screenshot(p, 'retry-lab-clock-sticky-900');
    } finally {
      await other.context.close();
    }
  });

  it('a 400 px phone: the attempt table reads whole words, headers on one line, the plan note in a few lines', async () => {
    const phone = await openPage(browser, app.base, { width: 400, height: 800, isMobile: true });
    try {
      const p = phone.page;
      await p.goto('/dispatcher');
      const table = at(p).getByTestId('attempt-table');
      await table.waitFor();
      // Lines each cell takes (its text's line boxes). A string: see overflowing() for why.
      const cells = (await p.evaluate(`(() => {
        const lines = (el) => {
          const r = document.createRange();
          r.selectNodeContents(el);
          return new Set([...r.getClientRects()].filter((b) => b.width > 0).map((b) => Math.round(b.top))).size;
        };
        const t = document.querySelector('[data-delivery-id="${late.id}"] [data-testid="attempt-table"]');
        return {
          heads: [...t.querySelectorAll('thead th')].filter((th) => th.offsetParent).map((th) => [th.textContent, lines(th)]),
          why: [...t.querySelectorAll('tbody td:nth-child(2)')].map(lines),
        };
      })()`)) as { heads: [string, number][]; why: number[] };
      expect(cells.heads.length).toBeGreaterThanOrEqual(7);
      for (const [name, n] of cells.heads) expect(n, `header ${name}`).toBe(1);
      // "Why then" with its note (default response): two lines, none more than three.
      expect(Math.max(...cells.why)).toBeLessThanOrEqual(3);
      expect(await overflowing(p)).toEqual([]);
      await table.scrollIntoViewIfNeeded();
      await screenshot(p, 'retry-lab-attempt-table-400');
      expect(await axeViolations(p)).toEqual([]);
      // The clock scrolls with the page on a phone (stuck over it, it covered ~40 % of the screen).
      expect(await p.evaluate(`getComputedStyle(document.querySelector('.col-live .clock')).position`)).toBe('static');
      // The start page: a bin's URL takes the row's width (it was squeezed to a few letters beside the count).
      await p.goto('/');
      const url = p.locator('.bin-item-url').first();
      await url.waitFor();
      expect(await url.evaluate((el) => el.getBoundingClientRect().width)).toBeGreaterThan(300);
      expect(await overflowing(p)).toEqual([]);
      await screenshot(p, 'start-page-400');
    } finally {
      await phone.context.close();
    }
  });

  it('a step "at random" that missed: the attempt says the default response answered, in the bin page\'s words', async () => {
    const b = await apiCall<Bin>(app.base, 'POST', '/api/bins', { name: 'thirty-percent' });
    await apiCall(app.base, 'PUT', `/api/bins/${b.id}/response`, { plan: [{ status: 503, probability: 0.3 }], afterPlan: 'loop', seed: 7 });
    const w = await apiCall<Webhook>(app.base, 'POST', '/api/webhooks', { name: 'Thirty', url: b.url, events: [] });
    // Test events until one gets 200: its draw missed (seeded, so this replays).
    let missed: Delivery | undefined;
    for (let i = 0; i < 20 && !missed; i++) {
      const t = await apiCall<{ delivery: Delivery; status: number }>(app.base, 'POST', `/api/webhooks/${w.id}/test`);
      if (t.status === 200) missed = t.delivery;
    }
    expect(missed).toBeDefined();
    await page.goto('/dispatcher');
    const card = page.locator(`[data-delivery-id="${missed!.id}"]`);
    const note = card.getByTestId('plan-note');
    await note.waitFor();
    expect(await note.textContent()).toBe('default response (plan step 1: its 30% chance missed)');
    await card.locator('g[data-attempt-n="1"]').click();
    expect(await card.getByTestId('attempt-plan').textContent()).toBe('The bin answered with its default response (plan step 1: its 30% chance missed).');
    // The bin's own capture of it says the same.
    await card.getByTestId('captured-link').click();
    const why = page.getByTestId('answer-why');
    await why.waitFor();
    expect(await why.textContent()).toContain('by default response (plan step 1: its 30% chance missed)');
  });
});
