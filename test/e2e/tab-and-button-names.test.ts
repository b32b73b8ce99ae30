// What a screen reader is told about the body-view tabs and the start page's Delete buttons,
// in real Chromium's accessibility tree: each tab controls the panel, the panel is named by
// its tab, Home and End reach the first and last tab (WAI-ARIA tabs pattern); each bin's
// Delete button names its bin (they were all just "Delete").
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bin } from '../../shared/api.ts';
import { type RunningApp, type TestPage, apiCall, hit, startAppAndPage, stopAppAndPage, until } from '../helpers/browser.ts';

let app: RunningApp;
let browser: Browser;
let tp: TestPage;
let page: Page;

beforeAll(async () => {
  ({ app, browser, tp, page } = await startAppAndPage());
});

afterAll(() => stopAppAndPage({ app, browser }));

/** An element (by a script expression) as Chromium's accessibility tree has it. */
async function ax(p: Page, expression: string): Promise<{ role: string; name: string }> {
  const cdp = await p.context().newCDPSession(p);
  try {
    const { result } = await cdp.send('Runtime.evaluate', { expression });
    const { nodes } = await cdp.send('Accessibility.getPartialAXTree', { objectId: result.objectId, fetchRelatives: false });
    return { role: String(nodes[0].role?.value ?? ''), name: String(nodes[0].name?.value ?? '') };
  } finally {
    await cdp.detach();
  }
}

const selectedTab = () =>
  page.evaluate(() => {
    const tab = document.querySelector<HTMLElement>('.body-view [role=tab][aria-selected=true]')!;
    const panel = document.querySelector<HTMLElement>('.body-view [role=tabpanel]')!;
    return { view: tab.dataset.testid, focused: document.activeElement === tab, panelView: panel.dataset.view, labelledBy: panel.getAttribute('aria-labelledby'), tabId: tab.id };
  });

describe('the body-view tabs', () => {
  it('each tab controls the panel, the panel is named by the chosen tab, Home and End reach the ends', async () => {
    const bin = await apiCall<Bin>(app.base, 'POST', '/api/bins', { name: 'tabs' });
    const r = await hit(app.reachable(bin.url), { body: '{"a":1}', headers: { 'content-type': 'application/json' } });
    await page.goto(`/bins/${bin.id}/requests/${r.headers['x-hooklab-request-id']}`);
    await page.getByTestId('body-panel').waitFor();

    const wiring = await page.evaluate(() => {
      const tabs = [...document.querySelectorAll<HTMLElement>('.body-view [role=tab]')];
      const panel = document.querySelector<HTMLElement>('.body-view [role=tabpanel]')!;
      return { ids: tabs.map((t) => t.id), controls: tabs.map((t) => t.getAttribute('aria-controls')), panelId: panel.id, views: tabs.map((t) => t.dataset.testid) };
    });
    expect(wiring.views.length).toBeGreaterThanOrEqual(3);
    expect(new Set(wiring.ids).size).toBe(wiring.ids.length);
    expect(wiring.ids.every((id) => id !== "")).toBe(true);
    expect(wiring.panelId).not.toBe('');
    expect(wiring.controls.every((c) => c === wiring.panelId)).toBe(true);

    await page.getByTestId(wiring.views[0]!).focus();
    await page.keyboard.press('End');
    let s = await selectedTab();
    expect(s).toMatchObject({ view: wiring.views.at(-1), focused: true, panelView: wiring.views.at(-1)!.replace('view-', ''), labelledBy: s.tabId });
    const last = await ax(page, 'document.querySelector(".body-view [role=tabpanel]")');
    expect(last).toEqual({ role: 'tabpanel', name: (await page.getByTestId(wiring.views.at(-1)!).textContent())! });

    await page.keyboard.press('Home');
    s = await selectedTab();
    expect(s).toMatchObject({ view: wiring.views[0], focused: true, panelView: wiring.views[0]!.replace('view-', ''), labelledBy: s.tabId });
    expect(await ax(page, 'document.querySelector(".body-view [role=tabpanel]")')).toEqual({ role: 'tabpanel', name: 'JSON' });
  });
});

describe('the start page', () => {
  it("each bin's Delete button names its bin, armed or not, and deletes that bin", async () => {
    await apiCall<Bin>(app.base, 'POST', '/api/bins', { name: 'alpha' });
    const beta = await apiCall<Bin>(app.base, 'POST', '/api/bins', { name: 'beta' });
    await page.goto('/');
    await page.getByTestId('bin-list').waitFor();
    const del = page.getByRole('button', { name: 'Delete bin beta', exact: true });
    expect(await del.count()).toBe(1);
    expect(await page.getByRole('button', { name: 'Delete bin alpha', exact: true }).count()).toBe(1);
    // The same word on screen: the bin's name is for screen readers only (visually hidden).
    expect(await del.evaluate((b) => [...b.childNodes].filter((n) => !(n instanceof Element && n.classList.contains('sr-only'))).map((n) => n.textContent).join(''))).toBe('Delete');
    expect(await del.locator('.sr-only').evaluate((e) => e.getBoundingClientRect().width)).toBeLessThanOrEqual(1);
    await del.click();
    const armed = page.getByRole('button', { name: 'Delete bin beta?', exact: true });
    await armed.waitFor();
    expect(await armed.evaluate((b) => [...b.childNodes].filter((n) => !(n instanceof Element && n.classList.contains('sr-only'))).map((n) => n.textContent).join(''))).toBe('Delete bin?');
    await armed.click();
    await until(page, (id) => !document.querySelector(`[data-bin-id="${id}"]`), beta.id);
    expect(await page.getByRole('button', { name: 'Delete bin alpha', exact: true }).count()).toBe(1);
  });
});
