// Issue 14's UI in real Chromium: signature settings on the bin page (write-only secrets,
// every refused field marked at once), a badge on each list row in words, a Signature panel
// that explains a failure (cause, signed string, expected and received signatures), the
// idempotency line with links to the other attempts of the same key, and grouping by key: a
// key tag on each row, "Show all N with this key" filtering the list to the group, whose rows
// then read "attempt n of m".
import Stripe from 'stripe';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bin } from '../../shared/api.ts';
import { type RunningApp, type TestPage, apiCall, axeViolations, hit, openPage, screenshot, startAppAndPage, stopAppAndPage, tabStopsHidden, until } from '../helpers/browser.ts';

const STRIPE_SECRET = 'whsec_e2e_0123456789abcdef';

let app: RunningApp;
let browser: Browser;
let tp: TestPage;
let page: Page;
let bin: Bin;
let url = '';

beforeAll(async () => {
  ({ app, browser, tp, page } = await startAppAndPage());
  bin = await apiCall<Bin>(app.base, 'POST', '/api/bins', { name: 'signed' });
  url = app.reachable(bin.url);
});

afterAll(() => stopAppAndPage({ app, browser }));

const idOf = (r: { headers: Record<string, unknown> }) => r.headers['x-hooklab-request-id'] as string;
const stripeSend = (payload: string, body = payload) =>
  hit(url, { headers: { 'content-type': 'application/json', 'stripe-signature': Stripe.webhooks.generateTestHeaderString({ payload, secret: STRIPE_SECRET }) }, body });
const badge = (id: string) => page.locator(`[data-request-id="${id}"] [data-testid="sig-badge"]`);

describe('signatures', () => {
  let good = '';
  let tampered = '';
  let unsigned = '';

  it('saves Stripe settings from the bin page; the secret is never shown again', async () => {
    await page.goto(`/bins/${bin.id}/verify`);
    await page.getByTestId('verify-panel').waitFor();
    await page.getByTestId('add-scheme').click();
    await page.getByTestId('scheme-type').selectOption('stripe');
    await page.getByTestId('scheme-secrets').fill(STRIPE_SECRET);
    // Drawn as dots as typed (a shared screen), shown when asked for.
    const drawn = () => page.getByTestId('scheme-secrets').evaluate((el) => getComputedStyle(el).getPropertyValue('-webkit-text-security'));
    expect(await drawn()).toBe('disc');
    await page.getByTestId('show-secrets').click();
    expect(await drawn()).toBe('none');
    expect(await page.getByTestId('show-secrets').getAttribute('aria-pressed')).toBe('true');
    await page.getByTestId('show-secrets').click();
    expect(await drawn()).toBe('disc');
    await page.getByTestId('save-verify').click();
    await page.getByTestId('verify-status').getByText('Saved').waitFor();
    expect(await page.getByTestId('scheme-secrets').inputValue()).toBe('');
    expect(await page.getByTestId('kept-secret').textContent()).toContain(`…cdef, saved (${STRIPE_SECRET.length} characters)`);
    await page.reload();
    await page.getByTestId('scheme').waitFor();
    expect(await page.content()).not.toContain(STRIPE_SECRET);
    expect(await page.getByTestId('scheme-type').inputValue()).toBe('stripe');
    await screenshot(page, 'verify-settings');
  });

  it('badges each row in words: valid, invalid, unsigned', async () => {
    await page.getByTestId('tab-requests').click();
    await page.locator('[data-testid="connection"][data-state="live"]').waitFor();
    const payload = JSON.stringify({ id: 'evt_e2e_1', object: 'event', type: 'charge.succeeded' });
    good = idOf(await stripeSend(payload));
    tampered = idOf(await stripeSend(payload, payload.replace('succeeded', 'refunded')));
    unsigned = idOf(await hit(url, { body: 'no signature' }));
    // Checked off the answer path, before the live events leave: the badges come with the rows.
    for (const [id, status, word] of [
      [good, 'valid', 'valid'],
      [tampered, 'invalid', 'invalid'],
      [unsigned, 'missing', 'unsigned'],
    ] as const) {
      await until(page, ([rid, s]) => document.querySelector(`[data-request-id="${rid}"] [data-testid="sig-badge"]`)?.getAttribute('data-status') === s, [id, status] as const);
      expect(await badge(id).textContent(), status).toContain(word);
      expect(await badge(id).textContent(), status).toContain('signature');
    }
    await screenshot(page, 'signature-badges');
  });

  it('explains an invalid signature: the cause, what was signed, expected and received', async () => {
    await page.locator(`[data-request-id="${tampered}"]`).click();
    const panel = page.getByTestId('signature-panel');
    await panel.waitFor();
    expect(await panel.getAttribute('data-status')).toBe('invalid');
    expect(await panel.textContent()).toContain('Stripe');
    const cause = panel.getByTestId('sig-cause');
    expect(await cause.getAttribute('data-cause')).toBe('body_changed');
    expect(await cause.textContent()).toContain('Body changed');
    expect(await panel.getByTestId('sig-signed').textContent()).toContain('"type":"charge.refunded"');
    expect(await panel.getByTestId('sig-expected').textContent()).toMatch(/^secret #1: v1=[0-9a-f]{64}$/);
    expect(await panel.getByTestId('sig-received').textContent()).toMatch(/[0-9a-f]{64}/);
    await screenshot(page, 'signature-invalid');

    await page.locator(`[data-request-id="${good}"]`).click();
    await page.locator('[data-testid="signature-panel"][data-status="valid"]').waitFor();
    expect(await page.getByTestId('sig-secret').textContent()).toContain('secret #1');
    expect(await page.getByTestId('signature-panel').textContent()).toMatch(/signed (the second it arrived|\d+ (ms|s) (before|after) it arrived)/);
  });

  it('says which attempt of an idempotency key a capture is, with links to the others', async () => {
    const payload = JSON.stringify({ id: 'evt_retry_7', object: 'event', type: 'invoice.paid' });
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push(idOf(await stripeSend(payload)));
    await page.locator(`[data-request-id="${ids[2]}"]`).waitFor();
    await page.locator(`[data-request-id="${ids[1]}"]`).click();
    const line = page.getByTestId('idempotency');
    await line.waitFor();
    expect(await line.textContent()).toContain('attempt 2 of 3 of key evt_retry_7');
    expect(await line.getByTestId('same-key-link').allTextContents()).toEqual(['attempt 1', 'attempt 3']);
    await line.getByTestId('same-key-link').first().click();
    await page.locator(`[data-testid="request-detail"][data-detail-id="${ids[0]}"]`).waitFor();
    expect(await page.getByTestId('idempotency').textContent()).toContain('attempt 1 of 3');
  });

  it('marks every refused settings field at once', async () => {
    await page.goto(`/bins/${bin.id}/verify`);
    await page.getByTestId('scheme').waitFor();
    // The saved Stripe scheme, its saved secret removed and none typed; a bad tolerance.
    await page.getByTestId('remove-kept').click();
    await page.getByTestId('scheme-tolerance').fill('-5');
    // A generic HMAC without a header, signing a timestamp it cannot find.
    await page.getByTestId('add-scheme').click();
    const hmac = page.locator('[data-testid="scheme"][data-index="1"]');
    await hmac.getByTestId('scheme-type').selectOption('hmac');
    await hmac.getByTestId('scheme-header').fill('');
    await hmac.getByTestId('scheme-signed').selectOption('timestamp+body');
    // Standard Webhooks secrets, the second one bad, after a blank line (blank lines are not sent).
    await page.getByTestId('add-scheme').click();
    await page.locator('[data-testid="scheme"][data-index="2"]').getByTestId('scheme-secrets').fill('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n\nwhsec_bad!!');
    await page.getByTestId('idem-json-path').fill('data..id');
    await page.getByTestId('save-verify').click();
    const marked = ['schemes[0].secrets', 'schemes[0].toleranceSec', 'schemes[1].secrets', 'schemes[1].header', 'schemes[1].timestampHeader', 'schemes[2].secrets', 'idempotency.jsonPath'];
    for (const f of marked) await page.locator(`[data-field="${f}"] [data-testid="field-error"]`).waitFor();
    expect(await page.locator('[data-field="schemes[0].secrets"] [data-testid="field-error"]').textContent()).toContain('keep a saved secret or type a new one');
    // The bad secret by its line as typed (the API calls it schemes[2].secrets[1]), on Scheme 3's Secrets.
    expect(await page.locator('[data-field="schemes[2].secrets"] [data-testid="field-error"]').textContent()).toMatch(/^line 3: must be a Standard Webhooks secret/);
    expect(await page.getByTestId('verify-panel').locator('[data-testid="field-error"]').allTextContents()).not.toContainEqual(expect.stringContaining('schemes['));
    expect(await page.locator('[data-testid="verify-panel"] [aria-invalid="true"]').count()).toBe(marked.length);
    await screenshot(page, 'verify-all-errors', true);
    // Nothing was saved.
    expect(((await apiCall<{ schemes: unknown[] }>(app.base, 'GET', `/api/bins/${bin.id}/verify`)).schemes).length).toBe(1);
    expect(tp.problems.filter((p) => !p.includes('400 (Bad Request)'))).toEqual([]);
  });
});

describe('signature settings and detail: keyboard and layout', () => {
  it('keeps the field Tab lands on clear of the sticky Save bar, on a desktop and on a phone', async () => {
    for (const [width, height] of [
      [1280, 860],
      [400, 800],
    ]) {
      const t = await openPage(browser, app.base, { width, height });
      try {
        await t.page.goto(`/bins/${bin.id}/verify`);
        await t.page.getByTestId('scheme').waitFor();
        // A form taller than the window: the saved scheme and three more.
        for (let i = 0; i < 3; i++) await t.page.getByTestId('add-scheme').click();
        await t.page.locator('[data-testid="scheme"][data-index="3"]').waitFor();
        await t.page.evaluate(() => window.scrollTo(0, 0));
        const { stops, hidden } = await tabStopsHidden(t.page, '[data-testid="verify-panel"]');
        expect(stops, `${width}px`).toBeGreaterThan(10);
        expect(hidden, `${width}px`).toEqual([]);
      } finally {
        await t.context.close();
      }
    }
  });

  it('puts the keyboard on a scheme that is added, and on the next one (or "+ Add scheme") when one is removed', async () => {
    await page.goto(`/bins/${bin.id}/verify`);
    await page.getByTestId('scheme').waitFor();
    const focused = () => page.evaluate(() => [document.activeElement?.getAttribute('data-testid'), document.activeElement?.closest('[data-testid="scheme"]')?.getAttribute('data-index') ?? null]);
    await page.getByTestId('add-scheme').focus();
    await page.keyboard.press('Enter');
    expect(await focused()).toEqual(['scheme-type', '1']);
    await page.getByTestId('add-scheme').click();
    await page.getByRole('button', { name: 'Remove scheme 2' }).focus();
    await page.keyboard.press('Enter');
    expect(await focused()).toEqual(['scheme-type', '1']);
    await page.getByRole('button', { name: 'Remove scheme 2' }).focus();
    await page.keyboard.press('Enter');
    expect(await focused()).toEqual(['add-scheme', null]);
  });

  it("does not grow the page below a detail with a Signature panel (its badge's hidden text stays in the detail's scroll box)", async () => {
    const payload = JSON.stringify({ id: 'evt_layout', object: 'event', type: 'charge.succeeded' });
    const id = idOf(await stripeSend(payload));
    for (const [width, height] of [
      [400, 800],
      [1280, 860],
    ]) {
      const t = await openPage(browser, app.base, { width, height });
      try {
        await t.page.goto(`/bins/${bin.id}/requests/${id}`);
        await t.page.locator('[data-testid="signature-panel"][data-status="valid"]').waitFor();
        // The page ends where the bin page's layout does: one window tall on a desktop; on a
        // phone the page scrolls by design (the list or detail gets a window-tall box below the
        // bin's header), but nothing may hang below that box.
        const [height, end, inner] = await t.page.evaluate(() => {
          const layout = document.querySelector('.bin-page')!.getBoundingClientRect().bottom + window.scrollY;
          const pad = parseFloat(getComputedStyle(document.querySelector('main') ?? document.body).paddingBottom) || 0;
          return [document.documentElement.scrollHeight, Math.ceil(Math.max(window.innerHeight, layout + pad)), window.innerHeight];
        });
        expect(height, `${width}px: page height`).toBeLessThanOrEqual(end + 1);
        if (width > 760) expect(height, `${width}px: no page scroll`).toBeLessThanOrEqual(inner);
      } finally {
        await t.context.close();
      }
    }
  });
});

describe('grouping by idempotency key', () => {
  const KEY = 'msg_2Lq4HbXyZ0123456789group';
  const tags = () => page.locator('[data-testid="request-list"] [data-testid="key-tag"]');
  const rowIds = () => page.locator('[data-testid="request-list"] [data-request-id]').evaluateAll((els) => els.map((e) => e.getAttribute('data-request-id')));
  const listCount = (n: number) => page.locator(`[data-testid="request-list"][data-count="${n}"]`).waitFor();

  it('tags rows with their key; "Show all 3 with this key" lists the group as numbered attempts; clearing brings the rest back', async () => {
    const b = await apiCall<Bin>(app.base, 'POST', '/api/bins', { name: 'keys' });
    const u = app.reachable(b.url);
    const send = (key: string, n: number) => hit(u, { headers: { 'webhook-id': key, 'content-type': 'application/json' }, body: JSON.stringify({ n }) });
    const same = [idOf(await send(KEY, 1))];
    const other = idOf(await send('msg_other', 2));
    same.push(idOf(await send(KEY, 3)), idOf(await send(KEY, 4)));

    await page.goto(`/bins/${b.id}`);
    await listCount(4);
    // Every row shows its key, shortened; the whole key is in the title.
    for (const id of same) {
      const tag = page.locator(`[data-request-id="${id}"] [data-testid="key-tag"]`);
      expect(await tag.textContent()).toBe('idempotency key msg_2Lq4HbX…roup');
      expect(await tag.getAttribute('title')).toBe(`Idempotency key ${KEY}`);
    }
    expect(await page.locator(`[data-request-id="${other}"] [data-testid="key-tag"]`).textContent()).toBe('idempotency key msg_other');
    expect(await page.locator('[data-testid="request-list"] [role="option"] :is(a, button, input, select, [tabindex])').count()).toBe(0);

    // From the second attempt's detail to its group.
    await page.locator(`[data-request-id="${same[1]}"]`).click();
    const line = page.getByTestId('idempotency');
    await line.waitFor();
    expect(await line.textContent()).toContain(`attempt 2 of 3 of key ${KEY}`);
    const all = line.getByTestId('same-key-all');
    expect(await all.textContent()).toBe('Show all 3 with this key');
    await all.click();
    await page.waitForURL((url) => url.searchParams.get('key') === KEY && url.pathname.endsWith(`/requests/${same[1]}`));
    await listCount(3);
    await until(page, () => document.querySelector('[data-testid="key-tag"]')?.textContent?.startsWith('attempt'));
    expect(await rowIds()).toEqual([same[2], same[1], same[0]]);
    expect(await tags().allTextContents()).toEqual(['attempt 3 of 3', 'attempt 2 of 3', 'attempt 1 of 3']);
    expect(await page.getByTestId('filter-key-value').getAttribute('title')).toBe(KEY);
    // The detail stays open; the list already shows the group.
    await page.locator(`[data-testid="request-detail"][data-detail-id="${same[1]}"]`).waitFor();
    expect(await page.getByTestId('same-key-all').count()).toBe(0);
    expect(await axeViolations(page)).toEqual([]);
    await screenshot(page, 'idempotency-group');

    // Live: a fourth attempt joins at the top; a capture under another key does not.
    await send('msg_other', 5);
    const fourth = idOf(await send(KEY, 6));
    await listCount(4);
    await until(page, () => document.querySelector('[data-testid="key-tag"]')?.textContent === 'attempt 4 of 4');
    expect(await rowIds()).toEqual([fourth, same[2], same[1], same[0]]);
    expect(await tags().allTextContents()).toEqual(['attempt 4 of 4', 'attempt 3 of 4', 'attempt 2 of 4', 'attempt 1 of 4']);

    // Clearing the key filter: everything again, the rows back to showing their key.
    await page.getByTestId('filter-key-clear').click();
    await page.waitForURL((url) => !url.searchParams.has('key'));
    await listCount(6);
    expect(await page.getByTestId('filter-key').count()).toBe(0);
    expect(await page.locator(`[data-request-id="${other}"] [data-testid="key-tag"]`).textContent()).toBe('idempotency key msg_other');
    expect(await page.locator(`[data-request-id="${same[0]}"] [data-testid="key-tag"]`).textContent()).toBe('idempotency key msg_2Lq4HbX…roup');
  });
});

describe('an expired signature', () => {
  it("says a Stripe capture signed too long ago is expired, with Stripe's tolerance as past-only (no ±)", async () => {
    const own = await apiCall<Bin>(app.base, 'POST', '/api/bins', { name: 'signed-late' });
    await apiCall(app.base, 'PUT', `/api/bins/${own.id}/verify`, { schemes: [{ type: 'stripe', secrets: [STRIPE_SECRET] }] });
    const payload = JSON.stringify({ id: 'evt_e2e_late', object: 'event', type: 'charge.succeeded' });
    const header = Stripe.webhooks.generateTestHeaderString({ payload, secret: STRIPE_SECRET, timestamp: Math.floor(Date.now() / 1000) - 900 });
    const late = idOf(await hit(app.reachable(own.url), { headers: { 'content-type': 'application/json', 'stripe-signature': header }, body: payload }));
    await page.goto(`/bins/${own.id}/requests/${late}`);
    await page.locator('[data-testid="signature-panel"][data-status="expired"]').waitFor();
    const text = (await page.getByTestId('signature-panel').textContent())!;
    expect(text).toContain('tolerance 5 min in the past (a timestamp from the future passes).');
    expect(await page.getByTestId('sig-message').textContent()).toMatch(/^Signed right, but 9\d\d s before it arrived; the tolerance is 300 s in the past \(a timestamp from the future passes\)\.$/);
    expect(text).not.toContain('±');
  });
});
