// A refusal about a group of controls (who answers the sender, the rules as a whole) is tied
// to the group as Field ties one to its input, in real Chromium: the group is marked invalid,
// described by the message, and the keyboard lands on it, so a screen reader says the group,
// "invalid" and why (focus fell to <body>, and the message was a paragraph nobody pointed at).
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bin } from '../../shared/api.ts';
import { type RunningApp, type TestPage, apiCall, startAppAndPage, stopAppAndPage, until } from '../helpers/browser.ts';

let app: RunningApp;
let browser: Browser;
let tp: TestPage;
let page: Page;

beforeAll(async () => {
  ({ app, browser, tp, page } = await startAppAndPage());
});

afterAll(() => stopAppAndPage({ app, browser }));

/** The focused element as Chromium's accessibility tree has it (what a screen reader is told). */
async function focusedAx(p: Page): Promise<{ role: string; name: string; description: string; invalid: string }> {
  const cdp = await p.context().newCDPSession(p);
  try {
    const { result } = await cdp.send('Runtime.evaluate', { expression: 'document.activeElement' });
    const { nodes } = await cdp.send('Accessibility.getPartialAXTree', { objectId: result.objectId, fetchRelatives: false });
    const n = nodes[0];
    const invalid = n.properties?.find((x) => x.name === 'invalid')?.value.value;
    return { role: String(n.role?.value ?? ''), name: String(n.name?.value ?? ''), description: String(n.description?.value ?? ''), invalid: String(invalid ?? 'false') };
  } finally {
    await cdp.detach();
  }
}

describe('errors about a group of controls', () => {
  it('forward settings: proxy mode without a target marks "Who answers the sender", describes it and focuses it', async () => {
    const bin = await apiCall<Bin>(app.base, 'POST', '/api/bins', { name: 'forward errors' });
    await page.goto(`/bins/${bin.id}/forward`);
    await page.getByTestId('answer-target').check();
    await page.getByTestId('save-forward').click();
    const message = page.locator('#err-answerWith');
    await message.waitFor();
    const group = page.locator('fieldset[data-field="answerWith"]');
    expect(await group.getAttribute('aria-invalid')).toBe('true');
    expect(await group.getAttribute('aria-describedby')).toBe('err-answerWith');
    await until(page, () => document.activeElement?.getAttribute('data-field') === 'answerWith');
    const ax = await focusedAx(page);
    expect(ax).toMatchObject({ role: 'group', name: 'Who answers the sender', invalid: 'true' });
    expect(ax.description).toContain((await message.textContent())!.trim());
    expect(ax.description).not.toBe('');
    // Choosing the other answer takes the mark away, as editing a field does.
    await page.getByTestId('answer-bin').check();
    await message.waitFor({ state: 'detached' });
    expect(await group.getAttribute('aria-invalid')).toBeNull();
  });

  it('response settings: one rule too many marks the rules list, describes it and focuses it', async () => {
    const bin = await apiCall<Bin>(app.base, 'POST', '/api/bins', { name: 'rule errors' });
    // At the cap (50 rules); the form adds one more.
    await apiCall(app.base, 'PUT', `/api/bins/${bin.id}/response`, { rules: Array.from({ length: 50 }, (_, i) => ({ status: 404, match: { pathPrefix: `/r${i}` } })) });
    await page.goto(`/bins/${bin.id}/response`);
    await page.getByTestId('response-editor').waitFor();
    await page.getByRole('button', { name: '+ Add rule' }).click();
    await page.getByTestId('save-response').click();
    const message = page.locator('#err-rules');
    await message.waitFor();
    const list = page.getByRole('list', { name: 'Rules' });
    expect(await list.getAttribute('aria-invalid')).toBe('true');
    expect(await list.getAttribute('aria-describedby')).toBe('err-rules');
    await until(page, () => document.activeElement?.getAttribute('aria-describedby') === 'err-rules');
    const ax = await focusedAx(page);
    expect(ax).toMatchObject({ role: 'list', name: 'Rules', invalid: 'true' });
    expect(ax.description).toContain((await message.textContent())!.trim());
    expect(ax.description).toMatch(/50/);
  });
});
