// Editing signature settings in real Chromium without typing the saved secrets again: each saved
// secret shows as kept ("…abcd, saved") with Remove; a save names them ({"keep": …} with
// If-Match), so a tolerance, the idempotency header or the schemes' order change on their own
// and captures signed with a kept secret still verify. A scheme whose sender changed keeps none
// and says so; "Keep mine" over a change made elsewhere does not guess which secrets were meant.
import Stripe from 'stripe';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bin } from '../../shared/api.ts';
import type { VerifySettingsViewT } from '../../shared/schema/verify.ts';
import { type RunningApp, type TestPage, apiCall, hit, screenshot, startAppAndPage, stopAppAndPage } from '../helpers/browser.ts';

const SW_SECRET = 'whsec_a2VwdC1zdy1rZXB0LXN3LWtlcHQtc3ctaw==';
const SW_OTHER = 'whsec_b3RoZXItb3RoZXItb3RoZXItb3RoZXItbw==';
const STRIPE_SECRET = 'whsec_keep_e2e_stripe_0123456789';
const SECRETS = [SW_SECRET, SW_OTHER, STRIPE_SECRET];

let app: RunningApp;
let browser: Browser;
let tp: TestPage;
let page: Page;
let bin: Bin;
let url = '';

beforeAll(async () => {
  ({ app, browser, tp, page } = await startAppAndPage());
  bin = await apiCall<Bin>(app.base, 'POST', '/api/bins', { name: 'kept secrets' });
  url = app.reachable(bin.url);
});

afterAll(() => stopAppAndPage({ app, browser }));

const idOf = (r: { headers: Record<string, unknown> }) => r.headers['x-hooklab-request-id'] as string;
const scheme = (i: number) => page.locator(`[data-testid="scheme"][data-index="${i}"]`);
const view = () => apiCall<VerifySettingsViewT>(app.base, 'GET', `/api/bins/${bin.id}/verify`);
const hint = (s: string) => ({ last4: s.slice(-4), length: s.length });

function swSend(secret: string, id: string) {
  const now = new Date();
  const body = JSON.stringify({ id });
  return hit(url, { headers: { 'content-type': 'application/json', 'webhook-id': id, 'webhook-timestamp': String(Math.floor(now.getTime() / 1000)), 'webhook-signature': new StandardWebhook(secret).sign(id, now, body) }, body });
}
function stripeSend(id: string) {
  const payload = JSON.stringify({ id, object: 'event', type: 'charge.succeeded' });
  return hit(url, { headers: { 'content-type': 'application/json', 'stripe-signature': Stripe.webhooks.generateTestHeaderString({ payload, secret: STRIPE_SECRET }) }, body: payload });
}

/** The list's badge for a capture, once its check has come (a re-check may follow a save). */
async function badgeOf(id: string): Promise<string | null> {
  await page.goto(`/bins/${bin.id}/requests/${id}`);
  const b = page.locator(`[data-request-id="${id}"] [data-testid="sig-badge"]`);
  await b.waitFor();
  return b.getAttribute('data-status');
}

async function openSettings() {
  await page.goto(`/bins/${bin.id}/verify`);
  await page.getByTestId('verify-panel').waitFor();
}

async function save() {
  await page.getByTestId('save-verify').click();
  await page.getByTestId('verify-status').getByText('Saved').waitFor();
}

describe('signature settings keep their saved secrets', () => {
  it('after a reload, changing only one tolerance saves without typing a secret again; a request signed with a kept secret is valid', async () => {
    await openSettings();
    await page.getByTestId('add-scheme').click();
    await scheme(0).getByTestId('scheme-secrets').fill(SW_SECRET);
    await scheme(0).getByTestId('scheme-tolerance').fill('300');
    await page.getByTestId('add-scheme').click();
    await scheme(1).getByTestId('scheme-type').selectOption('stripe');
    await scheme(1).getByTestId('scheme-secrets').fill(STRIPE_SECRET);
    await save();
    const saved = await view();
    expect(saved.schemes.map((s) => s.secrets)).toEqual([[hint(SW_SECRET)], [hint(STRIPE_SECRET)]]);

    await page.reload();
    await scheme(1).waitFor();
    for (const i of [0, 1]) expect(await scheme(i).getByTestId('scheme-secrets').inputValue()).toBe('');

    // Only scheme 1's tolerance changes; Save, nothing typed.
    await scheme(0).getByTestId('scheme-tolerance').fill('600');
    await page.getByTestId('save-verify').click();
    await page.getByTestId('verify-status').or(page.getByTestId('verify-error')).waitFor();
    const refused = await page.getByTestId('verify-panel').locator('[data-testid="field-error"]').allTextContents();
    expect({ error: await page.getByTestId('verify-error').count() ? await page.getByTestId('verify-error').textContent() : null, refused }).toEqual({ error: null, refused: [] });
    expect(await page.getByTestId('verify-status').textContent()).toContain('Saved');
    // Each saved secret shows as kept ("…abcd, saved"), with Remove.
    expect(await scheme(0).getByTestId('kept-secret').textContent()).toContain(`…${SW_SECRET.slice(-4)}, saved (${SW_SECRET.length} characters)`);
    expect(await scheme(1).getByTestId('kept-secret').textContent()).toContain(`…${STRIPE_SECRET.slice(-4)}, saved (${STRIPE_SECRET.length} characters)`);
    expect(await page.locator('[data-testid="kept-secret"][data-state="kept"] [data-testid="remove-kept"]').count()).toBe(2);
    const after = await view();
    expect(after.schemes).toEqual([
      { type: 'standard-webhooks', toleranceSec: 600, secrets: [hint(SW_SECRET)] },
      { type: 'stripe', secrets: [hint(STRIPE_SECRET)] },
    ]);
    await screenshot(page, 'verify-kept-secrets');

    const sw = idOf(await swSend(SW_SECRET, 'msg_kept_e2e_1'));
    const st = idOf(await stripeSend('evt_kept_e2e_1'));
    expect(await badgeOf(sw)).toBe('valid');
    expect(await badgeOf(st)).toBe('valid');
    expect(await page.getByTestId('signature-panel').getAttribute('data-status')).toBe('valid');
  });

  it('moving a scheme and naming an idempotency header save without retyping; a changed sender keeps none of its saved secrets and says so', async () => {
    await openSettings();
    await scheme(1).getByTestId('kept-secret').waitFor();
    await page.getByRole('button', { name: 'Move scheme 2 up' }).click();
    // The keyboard follows the moved scheme (first now: it can only go down).
    expect(await page.evaluate(() => [document.activeElement?.getAttribute('data-move'), document.activeElement?.closest('[data-testid="scheme"]')?.getAttribute('data-index')])).toEqual(['down', '0']);
    await page.getByTestId('idem-header').fill('X-Event-Id');
    await save();
    const moved = await view();
    expect(moved.schemes.map((s) => [s.type, s.secrets])).toEqual([
      ['stripe', [hint(STRIPE_SECRET)]],
      ['standard-webhooks', [hint(SW_SECRET)]],
    ]);
    expect(moved.idempotency).toEqual({ header: 'X-Event-Id' });
    expect(await badgeOf(idOf(await swSend(SW_SECRET, 'msg_kept_e2e_2')))).toBe('valid');

    // Stripe's saved secret is not GitHub's: the form says so, and a save asks for one.
    await openSettings();
    await scheme(0).getByTestId('kept-secret').waitFor();
    await scheme(0).getByTestId('scheme-type').selectOption('github');
    const note = scheme(0).getByTestId('kept-dropped');
    await note.waitFor();
    expect(await note.textContent()).toMatch(/The saved secret \(…\w{4}\) was for Stripe, so it is not kept for GitHub/);
    expect(await scheme(0).getByTestId('kept-secret').count()).toBe(0);
    await page.getByTestId('save-verify').click();
    const err = page.locator('[data-field="schemes[0].secrets"] [data-testid="field-error"]');
    await err.waitFor();
    expect(await err.textContent()).toBe('type the GitHub secret: the saved ones were for Stripe');
    expect((await view()).schemes[0].type).toBe('stripe');
    // Back to Stripe: its saved secret is kept again.
    await scheme(0).getByTestId('scheme-type').selectOption('stripe');
    await scheme(0).getByTestId('kept-secret').waitFor();
    expect(await scheme(0).getByTestId('kept-dropped').count()).toBe(0);
    expect(tp.problems.filter((p) => !p.includes('400 (Bad Request)'))).toEqual([]);
  });

  it('a rotation adds a secret beside the kept one; removing the old one later needs no typing either', async () => {
    await openSettings();
    await scheme(1).getByTestId('kept-secret').waitFor();
    await scheme(1).getByTestId('scheme-secrets').fill(SW_OTHER);
    await save();
    expect((await view()).schemes[1].secrets).toEqual([hint(SW_SECRET), hint(SW_OTHER)]);
    await scheme(1).locator('[data-testid="kept-secret"]').nth(1).waitFor();
    await scheme(1).getByTestId('remove-kept').first().click();
    expect(await scheme(1).locator('[data-testid="kept-secret"][data-state="removed"]').count()).toBe(1);
    await save();
    expect((await view()).schemes[1].secrets).toEqual([hint(SW_OTHER)]);
    expect(await badgeOf(idOf(await swSend(SW_OTHER, 'msg_kept_e2e_3')))).toBe('valid');
  });

  it('"Keep mine" over a change made elsewhere does not guess which saved secrets were meant; "Load theirs" then saves', async () => {
    await openSettings();
    await scheme(1).getByTestId('kept-secret').waitFor();
    await scheme(1).getByTestId('scheme-tolerance').fill('120');
    // Elsewhere (the API), while this form holds an edit: other secrets in the same places.
    await apiCall(app.base, 'PUT', `/api/bins/${bin.id}/verify`, { schemes: [{ type: 'stripe', secrets: [STRIPE_SECRET] }, { type: 'standard-webhooks', secrets: [SW_SECRET] }] });
    await page.getByTestId('settings-conflict').waitFor();
    await page.getByTestId('keep-mine').click();
    const error = page.getByTestId('verify-error');
    await error.waitFor();
    expect(await error.textContent()).toContain('hooklab cannot tell which secrets those are now');
    expect((await view()).schemes[1]).toEqual({ type: 'standard-webhooks', secrets: [hint(SW_SECRET)] });

    await page.getByTestId('load-theirs').click();
    await page.getByTestId('settings-conflict').waitFor({ state: 'detached' });
    expect(await scheme(1).getByTestId('kept-secret').textContent()).toContain(`…${SW_SECRET.slice(-4)}, saved`);
    await scheme(1).getByTestId('scheme-tolerance').fill('120');
    await save();
    expect((await view()).schemes[1]).toEqual({ type: 'standard-webhooks', toleranceSec: 120, secrets: [hint(SW_SECRET)] });
    expect(await badgeOf(idOf(await swSend(SW_SECRET, 'msg_kept_e2e_4')))).toBe('valid');

    // No secret ever reached the page.
    await openSettings();
    await scheme(1).getByTestId('kept-secret').waitFor();
    const html = await page.content();
    for (const s of SECRETS) expect(html).not.toContain(s);
  });

  it('a save whose re-check of the stored captures did not run through says so, and that it was saved', async () => {
    await openSettings();
    await scheme(1).getByTestId('kept-secret').waitFor();
    await scheme(1).getByTestId('scheme-tolerance').fill('240');
    // The server's answer when its store could not be read for the re-check (see
    // test/api/verify-recheck-fault.test.ts): the settings saved, `rechecked` null and why.
    const why = 'the stored captures could not be checked again (test fault); they keep their earlier verdicts until a retry in the background gets through';
    await page.route(`**/api/bins/${bin.id}/verify`, async (route) => {
      if (route.request().method() !== 'PUT') return route.fallback();
      const response = await route.fetch();
      await route.fulfill({ response, json: { ...(await response.json()), rechecked: null, recheckError: why } });
    });
    try {
      await save();
    } finally {
      await page.unroute(`**/api/bins/${bin.id}/verify`);
    }
    expect(await page.getByTestId('verify-status').textContent()).toContain(`Saved, and new captures are checked under these settings; but ${why}.`);
    expect((await view()).schemes[1]).toMatchObject({ toleranceSec: 240 });
  });
});
