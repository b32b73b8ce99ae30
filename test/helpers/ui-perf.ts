// What the UI's e2e tests and the render benchmark share: the ~1 MB JSON body and how the
// detail is browsed, and how a page's stalls are read (long tasks, gaps between frames).
import type { Page } from 'playwright-core';

/** 5,200 items, ~950 KB. */
export function bigJsonBody(): string {
  const items = Array.from({ length: 5200 }, (_, i) => ({ id: i, name: `item ${i}`, price: 12.5 + i, tags: ['a', 'b'], note: 'x'.repeat(80), ok: i % 2 === 0, none: null }));
  return JSON.stringify({ event: 'bulk.export', items });
}

/** An init script: every long task (over 50 ms) the page runs, with its length, into window.__longTasks. */
export const LONG_TASK_OBSERVER = `window.__longTasks = [];
  new PerformanceObserver((list) => { for (const e of list.getEntries()) window.__longTasks.push(Math.round(e.duration)); }).observe({ type: 'longtask', buffered: true });`;

/**
 * An init script: the longest gap between two animation frames so far, into
 * window.__maxFrameGap (a string, so the test transform cannot wrap it in helpers the page lacks).
 */
export const FRAME_GAP_OBSERVER = `window.__maxFrameGap = 0; let last = performance.now();
  requestAnimationFrame(function frame(t) { window.__maxFrameGap = Math.max(window.__maxFrameGap, t - last); last = t; requestAnimationFrame(frame); });`;

type FrameGapWindow = Window & { __maxFrameGap: number };
export const maxFrameGap = (page: Page) => page.evaluate(() => (window as unknown as FrameGapWindow).__maxFrameGap);
export const clearFrameGap = (page: Page) => page.evaluate(() => void ((window as unknown as FrameGapWindow).__maxFrameGap = 0));

type LongTaskWindow = Window & { __longTasks: number[] };
export const longTasks = (page: Page) => page.evaluate(() => (window as unknown as LongTaskWindow).__longTasks.slice());
export const clearLongTasks = (page: Page) => page.evaluate(() => void ((window as unknown as LongTaskWindow).__longTasks = []));

/** With the detail open: the tree and the text views, then a scroll to the bottom and back (blocks drawn on demand). */
export async function browseOpenBody(page: Page): Promise<void> {
  await page.getByTestId('view-tree').click();
  await page.getByTestId('json-tree').waitFor();
  await page.getByTestId('view-text').click();
  await page.getByTestId('body-text').waitFor();
  await page.locator('.split-detail').evaluate((el) => (el.scrollTop = el.scrollHeight));
  await page.waitForTimeout(100);
  await page.locator('.split-detail').evaluate((el) => (el.scrollTop = 0));
  await page.waitForTimeout(300);
}
