// Benchmark 12: the UI under load, in Debian's Chromium (the browser the e2e tests drive).
// (a) A ~1 MB JSON body opened in the request detail. Goal (issue 16): no long task over
// 200 ms. Each round loads the bin's page afresh, opens the request, waits until the pretty
// view is complete, switches to the tree and the text views and scrolls the detail to the
// bottom and back, recording every long task (Long Tasks API). The baseline, in the same page
// right after: the same body drawn in one go the plain way (JSON.parse, JSON.stringify with
// indentation into one <pre>, laid out), i.e. what a viewer does that neither slices nor colours.
// (b) A busy bin: 5,000 stored, the page open and live, a burst of 200 captures/s for 3 s while
// the user scrolls to the oldest. Goal: no gap between animation frames over 200 ms. The
// baseline: the same page, idle, for as long.
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { bigJsonBody, browseOpenBody, clearFrameGap, clearLongTasks, FRAME_GAP_OBSERVER, LONG_TASK_OBSERVER, longTasks, maxFrameGap } from '../test/helpers/ui-perf.ts';
import { launchBrowser } from '../test/helpers/browser.ts';
import type { Bench, Goal } from './lib/result.ts';
import { createBin, receiverUrl, startHooklab } from './lib/hooklab.ts';
import { fire, request } from './lib/http.ts';
import { ROOT } from './lib/proc.ts';
import { median, round } from './lib/stats.ts';
import { ms } from './lib/table.ts';
import { sleep } from './lib/time.ts';

const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 3));
const GOAL_MS = 200;
const BUSY_STORED = 5000;
/** The burst: this many captures every 200 ms, this many times (200/s for 3 s). */
const BURST_EACH = 40;
const BURST_TICKS = 15;

interface Round {
  round: number;
  /** Click -> the pretty view complete. */
  drawnMs: number;
  /** The longest long task while opening, switching views and scrolling (0: none over 50 ms). */
  longestMs: number;
  longTasks: number[];
  /** The one-go draw of the same body in the same page: its wall time (one task). */
  oneGoMs: number;
}

/** The Long Tasks API reports tasks over 50 ms only. */
const task = (v: number) => (v > 0 ? ms(v) : '< 50 ms');

async function oneRound(page: Page, n: number, binPath: string, id: string, body: string): Promise<Round> {
  await page.goto(binPath);
  const row = page.locator(`[data-request-id="${id}"]`);
  await row.waitFor();
  // Let the page settle (its own start-up tasks are not the body's).
  await page.waitForTimeout(500);
  await clearLongTasks(page);
  const t0 = performance.now();
  await row.click();
  await page.locator('[data-testid="json-pretty"][data-complete="true"]').waitFor({ timeout: 60_000 });
  const drawnMs = performance.now() - t0;
  await browseOpenBody(page);
  const tasks = await longTasks(page);

  // The baseline: one task parses, formats and lays the whole body out.
  const oneGoMs = await page.evaluate((text) => {
    const t = performance.now();
    const pre = document.createElement('pre');
    pre.textContent = JSON.stringify(JSON.parse(text), null, 2);
    document.body.append(pre);
    void pre.offsetHeight;
    const took = performance.now() - t;
    pre.remove();
    return took;
  }, body);
  return { round: n, drawnMs, longestMs: Math.max(0, ...tasks), longTasks: tasks, oneGoMs };
}

interface BusyRound {
  round: number;
  /** The longest gap between two animation frames during the burst and the scrolling. */
  gapMs: number;
  longTasks: number[];
  /** Scroll steps taken (each pages older rows in) and rows reached. */
  steps: number;
  rows: number;
  /** The same page idle for as long: its longest gap (baseline). */
  idleGapMs: number;
  burstMs: number;
}

/** One round on the busy bin: a fresh page, idle first (baseline), then the burst while scrolling. */
async function busyRound(page: Page, n: number, binPath: string, url: string): Promise<BusyRound> {
  await page.goto(binPath);
  await page.locator('[data-request-id]').first().waitFor();
  await page.locator('[data-testid="connection"][data-state="live"]').waitFor();
  await page.waitForTimeout(500);
  const burstMs = BURST_TICKS * 200;
  await clearFrameGap(page);
  await page.waitForTimeout(burstMs);
  const idleGapMs = await maxFrameGap(page);

  await clearFrameGap(page);
  await clearLongTasks(page);
  const body = Buffer.from(JSON.stringify({ event: 'burst', pad: 'x'.repeat(64) }));
  const t0 = performance.now();
  const burst = (async () => {
    let ok = 0;
    for (let tick = 0; tick < BURST_TICKS; tick++) {
      const started = performance.now();
      ok += (await fire((j) => `${url}/burst/${n}/${tick}/${j}`, BURST_EACH, BURST_EACH, body, { 'content-type': 'application/json' })).ok;
      await sleep(Math.max(0, 200 - (performance.now() - started)));
    }
    return ok;
  })();
  const list = page.getByTestId('request-list');
  let steps = 0;
  // Scroll to the oldest while the burst streams in (and on, until the list says it is all there).
  while (!(await page.getByText(/That is all: [\d,]+ requests/).isVisible()) && steps < 60) {
    await list.hover();
    await page.mouse.wheel(0, 4000);
    await list.evaluate((el) => (el.scrollTop = el.scrollHeight));
    await page.waitForTimeout(100);
    steps++;
  }
  const captured = await burst;
  const took = performance.now() - t0;
  if (captured !== BURST_TICKS * BURST_EACH) throw new Error(`render: ${captured} of ${BURST_TICKS * BURST_EACH} burst captures answered 2xx`);
  const gapMs = await maxFrameGap(page);
  const rows = Number(await list.getAttribute('data-count'));
  return { round: n, gapMs, longTasks: await longTasks(page), steps, rows, idleGapMs, burstMs: took };
}

export const renderBench: Bench = async ({ log }) => {
  if (!existsSync(path.join(ROOT, 'dist/client/index.html'))) throw new Error('dist/client is missing: run `npm run build` (npm run bench does)');
  const hl = await startHooklab({ label: 'hooklab (render)', env: { MAX_REQUESTS_PER_BIN: '20000' } });
  const browser = await launchBrowser();
  try {
    const bin = await createBin(hl.base, 'render');
    const body = bigJsonBody();
    const res = await request(receiverUrl(hl.base, bin.id) + '/big', { method: 'POST', body: Buffer.from(body), headers: { 'content-type': 'application/json' } });
    const id = String(res.headers['x-hooklab-request-id'] ?? '');
    if (res.status !== 200 || !id) throw new Error(`render: the body was not captured (${res.status})`);
    const context = await browser.newContext({ baseURL: hl.base, viewport: { width: 1280, height: 860 } });
    await context.addInitScript({ content: LONG_TASK_OBSERVER });
    const page = await context.newPage();
    const rounds: Round[] = [];
    for (let i = 1; i <= ROUNDS; i++) {
      log(`  render: round ${i} of ${ROUNDS}: open a ${Math.round(body.length / 1024)} KB JSON body`);
      rounds.push(await oneRound(page, i, `/bins/${bin.id}`, id, body));
    }
    await context.close();

    const busy = await createBin(hl.base, 'busy');
    const busyUrl = receiverUrl(hl.base, busy.id);
    log(`  render: filling a bin with ${BUSY_STORED.toLocaleString('en-US')} captures`);
    const filled = await fire((i) => `${busyUrl}/load/${i}`, BUSY_STORED, 16, Buffer.from(JSON.stringify({ i: 1, pad: 'x'.repeat(64) })), { 'content-type': 'application/json' });
    if (filled.ok !== BUSY_STORED) throw new Error(`render: ${filled.ok} of ${BUSY_STORED} captures answered 2xx`);
    const busyContext = await browser.newContext({ baseURL: hl.base, viewport: { width: 1280, height: 860 } });
    await busyContext.addInitScript({ content: LONG_TASK_OBSERVER + '\n' + FRAME_GAP_OBSERVER });
    const busyRounds: BusyRound[] = [];
    for (let i = 1; i <= ROUNDS; i++) {
      log(`  render: round ${i} of ${ROUNDS}: a burst of ${(BURST_EACH * 5).toLocaleString('en-US')}/s for ${BURST_TICKS / 5} s into the busy bin, scrolling to its oldest`);
      // A page per round, closed after it: an earlier round's page would still draw the events.
      const busyPage = await busyContext.newPage();
      busyRounds.push(await busyRound(busyPage, i, `/bins/${busy.id}`, busyUrl));
      await busyPage.close();
    }
    await busyContext.close();
    const gap = median(busyRounds.map((r) => r.gapMs));
    const idleGap = median(busyRounds.map((r) => r.idleGapMs));

    const longest = median(rounds.map((r) => r.longestMs));
    const worst = Math.max(...rounds.map((r) => r.longestMs));
    const oneGo = median(rounds.map((r) => r.oneGoMs));
    const goals: Goal[] = [
      {
        name: `longest task opening a ${Math.round(body.length / 1024)} KB JSON body in the detail (median of ${ROUNDS} rounds)`,
        target: `< ${GOAL_MS} ms`,
        value: `${task(longest)} (worst round ${task(worst)}; the plain one-go draw: one task of ${ms(oneGo)})`,
        pass: longest < GOAL_MS,
      },
      {
        name: `longest gap between frames on a busy bin (${BUSY_STORED.toLocaleString('en-US')} stored, ${BURST_EACH * 5}/s arriving, scrolling; median of ${ROUNDS} rounds)`,
        target: `< ${GOAL_MS} ms`,
        value: `${ms(gap)} (worst round ${ms(Math.max(...busyRounds.map((r) => r.gapMs)))}; the same page idle: ${ms(idleGap)})`,
        pass: gap < GOAL_MS,
      },
    ];
    return {
      name: 'render',
      title: `12. The UI under load (Chromium ${browser.version()}, ${ROUNDS} rounds each)`,
      tables: [
        {
          title: `a ${Math.round(body.length / 1024)} KB JSON body in the request detail`,
          columns: ['round', 'click -> pretty view complete', 'longest task (hooklab)', 'long tasks (hooklab), ms', 'drawn in one go, one task (baseline)'],
          rows: rounds.map((r) => [r.round, ms(r.drawnMs), task(r.longestMs), r.longTasks.length ? r.longTasks.join(', ') : 'none', ms(r.oneGoMs)]),
          notes: [
            'long tasks: the Long Tasks API reports every task over 50 ms; "none" means none was. Measured from the click through the pretty view, the tree and the text views, and a scroll to the bottom and back.',
            'drawn in one go: in the same page, JSON.parse + JSON.stringify(value, null, 2) into one <pre> and a layout, timed inside that one task (no slices, no colours, no tree): the floor for a viewer that draws the whole body at once.',
            'Chromium runs beside the server on this 2-core VM: a busy neighbour lengthens every task.',
          ],
        },
        {
          title: `a busy bin: ${BUSY_STORED.toLocaleString('en-US')} stored, then ${BURST_EACH} captures every 200 ms for ${BURST_TICKS / 5} s while scrolling to the oldest`,
          columns: ['round', 'longest frame gap', 'long tasks, ms', 'scroll steps', 'rows in the list', 'burst + scroll took', 'the page idle: longest frame gap (baseline)'],
          rows: busyRounds.map((r) => [r.round, ms(r.gapMs), r.longTasks.length ? r.longTasks.join(', ') : 'none', r.steps, r.rows, ms(r.burstMs), ms(r.idleGapMs)]),
          notes: [
            'each round: a fresh page on the bin, live; first idle for as long as the burst (the baseline), then the burst from this process while the list is scrolled down step by step (a wheel turn, then to the bottom, 100 ms apart) until it says all requests are there.',
            'frame gap: the longest time between two requestAnimationFrame callbacks (a headless page paints at 60 Hz: ~16.7 ms when nothing holds it up).',
          ],
        },
      ],
      goals,
      data: {
        bodyBytes: body.length,
        rounds: rounds.map((r) => ({ ...r, drawnMs: round(r.drawnMs, 1), oneGoMs: round(r.oneGoMs, 1) })),
        longestMs: longest,
        worstMs: worst,
        oneGoMs: round(oneGo, 1),
        busy: busyRounds.map((r) => ({ ...r, gapMs: round(r.gapMs, 1), idleGapMs: round(r.idleGapMs, 1), burstMs: round(r.burstMs, 0) })),
        frameGapMs: round(gap, 1),
        idleFrameGapMs: round(idleGap, 1),
      },
    };
  } finally {
    await browser.close();
    await hl.cleanup();
  }
};
