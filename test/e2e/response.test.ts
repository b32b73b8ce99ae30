// Response control in real Chromium: presets, a plan built in the editor, the live plan
// position, reset, and validation messages next to the field at fault. The sender (this
// test, over HTTP) gets exactly what the plan says.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bin } from '../../shared/api.ts';
import { type RunningApp, type TestPage, apiCall, hit, openPage, screenshot, startAppAndPage, stopAppAndPage, tabStopsHidden, until } from '../helpers/browser.ts';

let app: RunningApp;
let browser: Browser;
let tp: TestPage;
let page: Page;
let bin: Bin;
let target = '';

beforeAll(async () => {
  ({ app, browser, tp, page } = await startAppAndPage());
  bin = await apiCall<Bin>(app.base, 'POST', '/api/bins', { name: 'flaky receiver' });
  target = app.reachable(bin.url);
});

afterAll(() => stopAppAndPage({ app, browser }));

const position = () => page.getByTestId('plan-position');
const waitConsumed = (n: number) => until(page, (c) => document.querySelector('[data-testid="plan-position"]')?.getAttribute('data-consumed') === String(c), n);

/** Click a preset and wait until the server has it (the message names the preset). */
async function applyPreset(id: string, label: string) {
  await page.getByTestId(`preset-${id}`).click();
  await until(page, (text) => document.querySelector('[data-testid="response-status"]')?.textContent === text, `Applied “${label}”.`);
}

/** Status the sender got, or the network error code when there was no answer. */
async function send(path = '/'): Promise<number | string> {
  try {
    return (await hit(target + path, { body: '{}' })).status;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code ?? String(e);
  }
}

describe('response control', () => {
  it('one-click preset "500 ×3, then 200": the sender gets it, the position follows live, reset starts over', async () => {
    await page.goto(`/bins/${bin.id}/response`);
    await page.getByTestId('response-editor').waitFor();
    await applyPreset('500x3-then-200', '500 ×3, then 200');
    expect(await position().textContent()).toContain('step 1 of 1');

    const got: (number | string)[] = [];
    for (let i = 0; i < 3; i++) {
      got.push(await send());
      await waitConsumed(i + 1);
    }
    await until(page, () => document.querySelector('[data-testid="plan-position"]')?.getAttribute('data-exhausted') === 'true');
    expect(await position().textContent()).toContain('The plan is finished');
    got.push(await send());
    expect(got).toEqual([500, 500, 500, 200]);

    await page.getByTestId('reset-plan').click();
    await until(page, () => document.querySelector('[data-testid="plan-position"]')?.getAttribute('data-consumed') === '0');
    expect(await send()).toBe(500);
    await waitConsumed(1);
    expect(await position().textContent()).toContain('1 of 3 used');
  });

  it('a reset whose answer comes after the next request was shown does not take the position back', async () => {
    // Each change is announced live; here the reset's own answer is held until the next
    // request's step has shown (a loaded machine can deliver them in that order).
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    await page.route('**/response/reset', async (route) => {
      const answer = await route.fetch();
      await held;
      await route.fulfill({ response: answer });
    });
    try {
      await page.getByTestId('reset-plan').click();
      await until(page, () => document.querySelector('[data-testid="plan-position"]')?.getAttribute('data-consumed') === '0');
      expect(await send()).toBe(500);
      await waitConsumed(1);
      release();
      await page.getByTestId('response-status').getByText('Plan reset').waitFor();
      expect(await position().getAttribute('data-consumed')).toBe('1');
      expect(await position().textContent()).toContain('1 of 3 used');
    } finally {
      release();
      await page.unroute('**/response/reset');
    }
  });

  it('the other presets answer as named', async () => {
    const cases: [string, string, (number | string)[]][] = [
      ['always-500', 'Always 500', [500, 500]],
      ['503-retry-after', '503 + Retry-After, then 200', [503, 200, 200]],
      ['slow-200', 'Slow 200', [200]],
    ];
    for (const [id, label, want] of cases) {
      await applyPreset(id, label);
      const got: (number | string)[] = [];
      for (let i = 0; i < want.length; i++) got.push(await send());
      expect(got, id).toEqual(want);
    }
    // 503 + Retry-After carries the header.
    await applyPreset('503-retry-after', '503 + Retry-After, then 200');
    const r = await hit(target, { body: 'x' });
    expect([r.status, r.headers['retry-after']]).toEqual([503, '120']);
    // "30% 503" is seeded: both outcomes appear and the plan loops.
    await applyPreset('30pct-503', '30% 503');
    const mix = new Set<number | string>();
    for (let i = 0; i < 40; i++) mix.add(await send());
    expect([...mix].sort()).toEqual([200, 503]);
  });

  it('a plan built in the editor: 503 ×2 with Retry-After, a connection reset, then 202; the sender gets exactly that', async () => {
    await applyPreset('always-500', 'Always 500'); // start from a known state
    // A preset sets the plan only: clear it, and end on the default.
    await page.getByRole('button', { name: 'Remove step 1' }).click();
    await page.locator('input[name="afterPlan"]').first().check();
    await page.getByTestId('default-status').fill('200');
    await page.locator('[data-field="default.body"] textarea').fill('fine\n');

    await page.getByTestId('add-step').click();
    const step1 = page.locator('[data-testid="plan-step"][data-index="0"]');
    await step1.getByTestId('step-status').fill('503');
    await step1.getByTestId('step-times').fill('2');
    await step1.locator('summary').click();
    await step1.locator('[data-field="plan[0].headers"] textarea').fill('Retry-After: 7');

    await page.getByTestId('add-step').click();
    const step2 = page.locator('[data-testid="plan-step"][data-index="1"]');
    await step2.getByTestId('step-kind').selectOption('reset');

    await page.getByTestId('add-step').click();
    const step3 = page.locator('[data-testid="plan-step"][data-index="2"]');
    await step3.getByTestId('step-status').fill('202');

    await page.getByTestId('save-response').click();
    await page.getByTestId('response-status').getByText('Saved').waitFor();
    await screenshot(page, 'response-editor', true);
    const saved = await apiCall<{ config: { plan: unknown[]; default: { status: number; delayMs: number } } }>(app.base, 'GET', `/api/bins/${bin.id}/response`);
    expect(saved.config.plan).toEqual([{ status: 503, times: 2, headers: { 'Retry-After': '7' } }, { fault: 'reset' }, { status: 202 }]);
    expect(saved.config.default).toMatchObject({ status: 200, delayMs: 0, body: 'fine\n' });

    const first = await hit(target, { body: 'a' });
    expect([first.status, first.headers['retry-after']]).toEqual([503, '7']);
    // The current step is marked in the editor as the plan moves.
    await waitConsumed(1);
    await page.locator('[data-testid="plan-step"][data-index="0"][aria-current="step"]').waitFor();
    expect(await send()).toBe(503);
    await page.locator('[data-testid="plan-step"][data-index="1"][aria-current="step"]').waitFor();
    expect(await send()).toBe('ECONNRESET');
    expect(await send()).toBe(202);
    expect(await send()).toBe(200);
    await until(page, () => document.querySelector('[data-testid="plan-position"]')?.getAttribute('data-exhausted') === 'true');
    expect(await page.locator('[aria-current="step"]').count()).toBe(0);
  });

  it('a preset sets the plan only: a custom default header and body survive it, and Undo puts the plan back', async () => {
    await page.getByTestId('default-headers').fill('Access-Control-Allow-Origin: https://app.example');
    await page.locator('[data-field="default.body"] textarea').fill('custom\n');
    await page.getByTestId('save-response').click();
    await page.getByTestId('response-status').getByText('Saved').waitFor();
    const before = (await apiCall<{ config: { plan: unknown[] } }>(app.base, 'GET', `/api/bins/${bin.id}/response`)).config.plan;

    await applyPreset('503-retry-after', '503 + Retry-After, then 200');
    expect(await page.getByTestId('default-headers').inputValue()).toBe('Access-Control-Allow-Origin: https://app.example');
    const after = await apiCall<{ config: { default: { headers: Record<string, string>; body: string }; plan: unknown[] } }>(app.base, 'GET', `/api/bins/${bin.id}/response`);
    expect(after.config.default).toMatchObject({ headers: { 'Access-Control-Allow-Origin': 'https://app.example' }, body: 'custom\n' });
    expect(after.config.plan).toEqual([{ status: 503, headers: { 'Retry-After': '120' } }]);
    expect((await hit(target, { body: 'x' })).status).toBe(503);
    const ok = await hit(target, { body: 'x' });
    expect([ok.status, ok.headers['access-control-allow-origin'], ok.body]).toEqual([200, 'https://app.example', 'custom\n']);

    await page.getByTestId('undo-preset').click();
    await page.getByTestId('response-status').getByText('Undone').waitFor();
    expect((await apiCall<{ config: { plan: unknown[] } }>(app.base, 'GET', `/api/bins/${bin.id}/response`)).config.plan).toEqual(before);
  });

  it('shows the server\'s validation message next to the field it names', async () => {
    const step3Status = page.locator('[data-testid="plan-step"][data-index="2"]').getByTestId('step-status');
    await step3Status.fill('99');
    await page.getByTestId('save-response').click();
    const slot = page.locator('[data-field="plan[2].status"]');
    await slot.getByTestId('field-error').waitFor();
    expect(await slot.getByTestId('field-error').textContent()).toBe('must be from 200 to 599');
    expect(await step3Status.getAttribute('aria-invalid')).toBe('true');
    expect(await page.getByTestId('response-error').textContent()).toContain('highlighted');
    // Keyboard users land on the field at fault.
    await until(page, () => document.activeElement?.getAttribute('data-testid') === 'step-status');
    await screenshot(page, 'response-validation');

    // Only the form can say "percent": checked before sending.
    await step3Status.fill('202');
    const chance = page.locator('[data-testid="plan-step"][data-index="0"]').getByTestId('step-probability');
    await chance.fill('150');
    await page.getByTestId('save-response').click();
    expect(await page.locator('[data-field="plan[0].probability"]').getByTestId('field-error').textContent()).toContain('percentage from 0 to 100');

    // With a field only the form can read, the server still checks the rest: every refusal
    // shows after one save (a status of 700 and a header the server keeps showed a save later).
    await step3Status.fill('700');
    const headersBox = page.locator('[data-field="plan[0].headers"] textarea');
    const headersBefore = await headersBox.inputValue();
    await headersBox.fill('no colon here\nContent-Length: 5');
    await page.getByTestId('save-response').click();
    const statusError = page.locator('[data-field="plan[2].status"]').getByTestId('field-error');
    await statusError.waitFor();
    expect(await statusError.textContent()).toBe('must be from 200 to 599');
    expect(await page.locator('[data-field="plan[0].probability"]').getByTestId('field-error').textContent()).toContain('percentage from 0 to 100');
    expect(await page.locator('[data-field="plan[0].headers"]').getByTestId('field-error').textContent()).toBe(
      'line 1: write each header as "Name: value"; line 2: Content-Length is set by the server and cannot be overridden',
    );
    await headersBox.fill(headersBefore);
    await step3Status.fill('202');

    // Headers the server keeps to itself are refused by name, shown under the headers box by
    // the line as typed (the blank one counted), not by the API's path. So is a match's header
    // name, on the "Only with header" input itself.
    await chance.fill('');
    await page.locator('[data-field="plan[0].headers"] textarea').fill('Retry-After: 7\n\nContent-Length: 5');
    const matchHeader = page.locator('[data-field="plan[0].match.header"] input');
    await matchHeader.fill('X Event');
    await page.getByTestId('save-response').click();
    const hdr = page.locator('[data-field="plan[0].headers"]').getByTestId('field-error');
    await hdr.waitFor();
    expect(await hdr.textContent()).toBe('line 3: Content-Length is set by the server and cannot be overridden');
    expect(await page.locator('[data-field="plan[0].match.header"]').getByTestId('field-error').textContent()).toBe("must be an HTTP token (letters, digits and !#$%&'*+-.^_`|~)");
    expect(await matchHeader.getAttribute('aria-invalid')).toBe('true');
    await matchHeader.fill('');

    // Nothing was stored by the failed saves.
    const stored = await apiCall<{ config: { plan: { status?: number }[] } }>(app.base, 'GET', `/api/bins/${bin.id}/response`);
    expect(stored.config.plan[2].status).toBe(202);
    await page.locator('[data-field="plan[0].headers"] textarea').fill('Retry-After: 7');
    await page.getByTestId('save-response').click();
    await page.getByTestId('response-status').getByText('Saved').waitFor();
    expect(await page.getByTestId('field-error').count()).toBe(0);
    expect(tp.problems.filter((p) => !p.includes('400 (Bad Request)'))).toEqual([]);
  });

  it('a save the form refuses still shows the server\'s refusals when its check is lost once, and says so when the check cannot be made', async () => {
    const step3Status = page.locator('[data-testid="plan-step"][data-index="2"]').getByTestId('step-status');
    const chance = page.locator('[data-testid="plan-step"][data-index="0"]').getByTestId('step-probability');
    const statusSlot = page.locator('[data-field="plan[2].status"]');
    // The connection drops under the check (a proxy restarting, a keep-alive closed under it).
    let drop = 1;
    const checks: string[] = [];
    await page.route('**/response/check', (route) => {
      checks.push(route.request().method());
      return drop-- > 0 ? route.abort('connectionreset') : route.continue();
    });
    try {
      await step3Status.fill('700');
      await chance.fill('150');
      await page.getByTestId('save-response').click();
      await statusSlot.getByTestId('field-error').waitFor();
      expect(await statusSlot.getByTestId('field-error').textContent()).toBe('must be from 200 to 599');
      expect(await page.locator('[data-field="plan[0].probability"]').getByTestId('field-error').textContent()).toContain('percentage from 0 to 100');
      expect(checks).toEqual(['POST', 'POST']);
      expect(await page.getByTestId('response-error').textContent()).toBe('Fix the highlighted fields, then save again.');

      // Lost twice: the form's own refusal shows, and the message says the rest went unchecked.
      drop = 2;
      await step3Status.fill('701');
      await page.getByTestId('save-response').click();
      await until(page, () => /could not check/.test(document.querySelector('[data-testid="response-error"]')?.textContent ?? ''));
      expect(await page.getByTestId('response-error').textContent()).toContain('The server could not check the other fields, so it may refuse more');
      expect(await statusSlot.getByTestId('field-error').count()).toBe(0);
      expect(await page.locator('[data-field="plan[0].probability"]').getByTestId('field-error').textContent()).toContain('percentage from 0 to 100');
      expect(checks.length).toBe(4);
    } finally {
      await page.unroute('**/response/check');
    }
    await step3Status.fill('202');
    await chance.fill('');
    await page.getByTestId('save-response').click();
    await page.getByTestId('response-status').getByText('Saved').waitFor();
  });

  it('a body under a 205 (or 204, 304) is hinted as not sent; the sender gets the 205 without it', async () => {
    const other = await apiCall<Bin>(app.base, 'POST', '/api/bins', { name: 'reset content' });
    await page.goto(`/bins/${other.id}/response`);
    await page.getByTestId('response-editor').waitFor();
    const hint = page.locator('[data-field="default.body"] .muted.small');
    await page.getByTestId('default-status').fill('205');
    await page.locator('[data-field="default.body"] textarea').fill('yy');
    await hint.waitFor();
    expect(await hint.textContent()).toBe('Not sent: a 205 carries no body (HTTP; a 205 goes with Content-Length: 0).');
    // A plan step without a status answers with the default's: hinted too.
    await page.getByTestId('add-step').click();
    const step = page.locator('[data-testid="plan-step"][data-index="0"]');
    await step.getByTestId('step-status').fill('');
    await step.locator('summary').click();
    await step.locator('[data-field="plan[0].body"] textarea').fill('zz');
    await step.locator('[data-field="plan[0].body"] .muted.small').waitFor();
    await page.getByTestId('save-response').click();
    await page.getByTestId('response-status').getByText('Saved').waitFor();
    const r = await hit(app.reachable(other.url), { body: 'x' });
    expect(r.status).toBe(205);
    expect(r.headers['content-length']).toBe('0');
    // Another status: no hint.
    await page.getByTestId('default-status').fill('200');
    await until(page, () => !document.querySelector('[data-field="default.body"] .muted.small'));
  });

  it('a request decided before the page joined the bin\'s live events (a slow subscribe, a reconnect) still shows in the position', async () => {
    const own = await apiCall<Bin>(app.base, 'POST', '/api/bins', { name: 'late join' });
    const late = await openPage(browser, app.base);
    try {
      // The page's subscribe to the bin reaches the server 2 s late; the rest passes at once.
      await late.page.routeWebSocket(/\/socket\.io\//, (ws) => {
        const server = ws.connectToServer();
        ws.onMessage((m) => (typeof m === 'string' && /"subscribe"/.test(m) ? setTimeout(() => server.send(m), 2000) : server.send(m)));
        server.onMessage((m) => ws.send(m));
      });
      await late.page.goto(`/bins/${own.id}/response`);
      await late.page.getByTestId('response-editor').waitFor();
      await late.page.getByTestId('preset-500x3-then-200').click();
      await until(late.page, (text) => document.querySelector('[data-testid="response-status"]')?.textContent === text, 'Applied “500 ×3, then 200”.');
      expect((await hit(app.reachable(own.url), { body: '{}' })).status).toBe(500);
      await until(late.page, () => document.querySelector('[data-testid="plan-position"]')?.getAttribute('data-consumed') === '1');
      expect(await late.page.getByTestId('plan-position').textContent()).toContain('1 of 3 used');
    } finally {
      await late.context.close();
    }
  });

  it('keeps the field Tab lands on clear of the sticky Save bar on a phone', async () => {
    const phone = await openPage(browser, app.base, { width: 400, height: 800 });
    try {
      await phone.page.goto(`/bins/${bin.id}/response`);
      await phone.page.locator('[data-testid="plan-step"]').first().waitFor();
      const { stops, hidden } = await tabStopsHidden(phone.page, '[data-testid="response-editor"]', 200);
      expect(stops).toBeGreaterThan(10);
      expect(hidden).toEqual([]);
    } finally {
      await phone.context.close();
    }
  });
});
