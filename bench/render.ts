// Benchmark 12: a ~1 MB JSON body opened in the request detail, in Debian's Chromium (the
// browser the e2e tests drive). Goal (issue 16): no long task over 200 ms. Each round loads
// the bin's page afresh, opens the request, waits until the pretty view is complete, switches
// to the tree and the text views and scrolls the detail to the bottom and back, recording
// every long task (Long Tasks API). The baseline, in the same page right after: the same body
// drawn in one go the plain way (JSON.parse, JSON.stringify with indentation into one <pre>,
// laid out), i.e. what a viewer does that neither slices nor colours.
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { bigJsonBody, browseOpenBody, clearLongTasks, LONG_TASK_OBSERVER, longTasks } from '../test/helpers/big-body.ts';
import { launchBrowser } from '../test/helpers/browser.ts';
import type { Bench, Goal } from './lib/result.ts';
import { createBin, receiverUrl, startHooklab } from './lib/hooklab.ts';
import { request } from './lib/http.ts';
import { ROOT } from './lib/proc.ts';
import { median, round } from './lib/stats.ts';
import { ms } from './lib/table.ts';

const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 3));
const GOAL_MS = 200;

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

export const renderBench: Bench = async ({ log }) => {
  if (!existsSync(path.join(ROOT, 'dist/client/index.html'))) throw new Error('dist/client is missing: run `npm run build` (npm run bench does)');
  const hl = await startHooklab({ label: 'hooklab (render)' });
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
    ];
    return {
      name: 'render',
      title: `12. A ${Math.round(body.length / 1024)} KB JSON body in the request detail (Chromium ${browser.version()}, ${ROUNDS} rounds)`,
      tables: [
        {
          title: '',
          columns: ['round', 'click -> pretty view complete', 'longest task (hooklab)', 'long tasks (hooklab), ms', 'drawn in one go, one task (baseline)'],
          rows: rounds.map((r) => [r.round, ms(r.drawnMs), task(r.longestMs), r.longTasks.length ? r.longTasks.join(', ') : 'none', ms(r.oneGoMs)]),
          notes: [
            'long tasks: the Long Tasks API reports every task over 50 ms; "none" means none was. Measured from the click through the pretty view, the tree and the text views, and a scroll to the bottom and back.',
            'drawn in one go: in the same page, JSON.parse + JSON.stringify(value, null, 2) into one <pre> and a layout, timed inside that one task (no slices, no colours, no tree): the floor for a viewer that draws the whole body at once.',
            'Chromium runs beside the server on this 2-core VM: a busy neighbour lengthens every task.',
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
      },
    };
  } finally {
    await browser.close();
    await hl.cleanup();
  }
};
