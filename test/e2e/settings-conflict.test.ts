// Issue 16, "silent overwrite" and "every error marked in place", in real Chromium: two tabs
// on the same settings. A tab without edits follows the other's save; a tab with edits shows
// the conflict and its Save does not overwrite (the server answers 412 to its stale If-Match);
// "Load theirs" and "Keep mine and overwrite" do what they say. A Save with several bad
// fields marks them all at once, and editing one takes its mark away.
import type { Browser, Page, WebSocketRoute } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bin, ResponseControlView, Webhook } from '../../shared/api.ts';
import { type RunningApp, type TestPage, apiCall, launchBrowser, openPage, screenshot, startApp, stopAppAndPage, until } from '../helpers/browser.ts';

let app: RunningApp;
let browser: Browser;
let a: TestPage;
let b: TestPage;

beforeAll(async () => {
  [app, browser] = await Promise.all([startApp(), launchBrowser()]);
  [a, b] = await Promise.all([openPage(browser, app.base), openPage(browser, app.base)]);
});

afterAll(() => stopAppAndPage({ app, browser }));

const live = (p: Page) => p.locator('[data-testid="connection"][data-state="live"]').waitFor();
const config = (binId: string) => apiCall<ResponseControlView>(app.base, 'GET', `/api/bins/${binId}/response`).then((v) => v.config);

async function openBoth(path: string, ready: string) {
  for (const t of [a, b]) {
    await t.page.goto(path);
    await t.page.getByTestId(ready).waitFor();
    await live(t.page);
  }
}

describe('response settings in two tabs', () => {
  let bin: Bin;
  beforeAll(async () => {
    bin = await apiCall<Bin>(app.base, 'POST', '/api/bins', { name: 'two tabs' });
    await openBoth(`/bins/${bin.id}/response`, 'response-editor');
  });

  it('a tab without edits shows the other tab’s save, and says so', async () => {
    await b.page.locator('[data-field="default.body"] textarea').fill('from B\n');
    await b.page.getByTestId('save-response').click();
    await b.page.getByTestId('response-status').getByText('Saved').waitFor();
    await a.page.getByTestId('updated-elsewhere').waitFor();
    expect(await a.page.locator('[data-field="default.body"] textarea').inputValue()).toBe('from B\n');
    expect(await a.page.getByTestId('dirty-state').textContent()).toBe('All changes saved');
    expect(await a.page.getByTestId('settings-conflict').count()).toBe(0);
  });

  it('a tab with edits shows the conflict, and its Save does not overwrite', async () => {
    await a.page.getByTestId('default-status').fill('201');
    await b.page.locator('[data-field="default.body"] textarea').fill('B again\n');
    await b.page.getByTestId('save-response').click();
    await b.page.getByTestId('response-status').getByText('Saved').waitFor();

    const conflict = a.page.getByTestId('settings-conflict');
    await conflict.waitFor();
    expect(await conflict.textContent()).toContain('These settings were changed elsewhere');
    // A's edit is still in its form, B's settings are on the server.
    expect(await a.page.getByTestId('default-status').inputValue()).toBe('201');
    await screenshot(a.page, 'settings-conflict');

    // Save anyway: the stale revision is refused (412), nothing is overwritten.
    await a.page.getByTestId('save-response').click();
    await a.page.locator('[data-testid="settings-conflict"][data-why="stale"]').waitFor();
    expect(await config(bin.id)).toMatchObject({ default: { status: 200, body: 'B again\n' } });

    // Load theirs: B's settings in the form, A's edit gone.
    await a.page.getByTestId('load-theirs').click();
    await conflict.waitFor({ state: 'detached' });
    expect(await a.page.getByTestId('default-status').inputValue()).toBe('200');
    expect(await a.page.locator('[data-field="default.body"] textarea').inputValue()).toBe('B again\n');
  });

  it('"Keep mine and overwrite" saves the form over the newer settings, knowingly', async () => {
    await a.page.getByTestId('default-status').fill('202');
    await apiCall(app.base, 'PUT', `/api/bins/${bin.id}/response`, { default: { body: 'from the API\n' } });
    await a.page.getByTestId('settings-conflict').waitFor();
    await a.page.getByTestId('keep-mine').click();
    await a.page.getByTestId('response-status').getByText('Saved').waitFor();
    expect(await config(bin.id)).toMatchObject({ default: { status: 202, body: 'B again\n' } });
    // B had no edits: it follows.
    await until(b.page, () => (document.querySelector('[data-testid="default-status"]') as HTMLInputElement | null)?.value === '202');
  });

  it('marks every refused field at once, and editing one takes its mark away', async () => {
    const p = a.page;
    await p.getByTestId('default-status').fill('99');
    await p.getByTestId('default-delay').fill('slow');
    await p.getByTestId('add-step').click();
    const step = p.locator('[data-testid="plan-step"][data-index="0"]');
    await step.getByTestId('step-times').fill('0');
    await p.getByTestId('save-response').click();
    for (const field of ['default.status', 'default.delayMs', 'plan[0].times']) {
      await p.locator(`[data-field="${field}"] [data-testid="field-error"]`).waitFor();
      expect(await p.locator(`[data-field="${field}"] [aria-invalid="true"]`).count(), field).toBe(1);
    }
    expect(await p.getByTestId('response-error').textContent()).toContain('3 highlighted fields');
    await screenshot(p, 'response-all-errors', true);

    // Fix one: only its mark goes.
    await p.getByTestId('default-status').fill('200');
    expect(await p.locator('[data-field="default.status"] [data-testid="field-error"]').count()).toBe(0);
    expect(await p.getByTestId('default-status').getAttribute('aria-invalid')).toBe('false');
    expect(await p.locator('[data-field="default.delayMs"] [data-testid="field-error"]').count()).toBe(1);
    expect(await p.locator('[data-field="plan[0].times"] [data-testid="field-error"]').count()).toBe(1);

    await p.getByTestId('default-delay').fill('0');
    await step.getByTestId('step-times').fill('2');
    await p.getByTestId('save-response').click();
    await p.getByTestId('response-status').getByText('Saved').waitFor();
    expect(await p.getByTestId('field-error').count()).toBe(0);
  });
});

describe('forward settings in two tabs', () => {
  it('follows, conflicts, and marks every bad target', async () => {
    const bin = await apiCall<Bin>(app.base, 'POST', '/api/bins', { name: 'forwarding' });
    await openBoth(`/bins/${bin.id}/forward`, 'forward-panel');

    // B adds a target; A (no edits) shows it.
    await b.page.getByTestId('add-target').click();
    await b.page.getByTestId('forward-target').fill('http://127.0.0.1:9/one');
    await b.page.getByTestId('save-forward').click();
    await b.page.getByTestId('forward-status').waitFor();
    await a.page.getByTestId('updated-elsewhere').waitFor();
    expect(await a.page.getByTestId('forward-target').inputValue()).toBe('http://127.0.0.1:9/one');

    // A edits; B saves proxy mode: A shows the conflict and does not overwrite.
    await a.page.getByTestId('forward-target').fill('http://127.0.0.1:9/mine');
    await b.page.getByTestId('answer-target').check();
    await b.page.getByTestId('save-forward').click();
    await a.page.getByTestId('settings-conflict').waitFor();
    await a.page.getByTestId('save-forward').click();
    await a.page.locator('[data-testid="settings-conflict"][data-why="stale"]').waitFor();
    expect(await apiCall(app.base, 'GET', `/api/bins/${bin.id}/forward`)).toEqual({ targets: [{ url: 'http://127.0.0.1:9/one' }], answerWith: 'target' });
    await a.page.getByTestId('load-theirs').click();
    await a.page.getByTestId('settings-conflict').waitFor({ state: 'detached' });
    expect(await a.page.getByTestId('answer-target').isChecked()).toBe(true);

    // Two bad targets, both marked after one Save.
    await a.page.getByTestId('add-target').click();
    await a.page.getByTestId('forward-target').nth(0).fill('not a url');
    await a.page.getByTestId('forward-target').nth(1).fill('ftp://example.com/hooks');
    await a.page.getByTestId('save-forward').click();
    await a.page.locator('[data-field="targets[0].url"] [data-testid="field-error"]').waitFor();
    await a.page.locator('[data-field="targets[1].url"] [data-testid="field-error"]').waitFor();
    expect(await a.page.locator('[data-testid="forward-target"][aria-invalid="true"]').count()).toBe(2);
  });
});

describe('a settings form while the page loads', () => {
  it('keeps what was typed once it showed: the socket connecting during the first load does not load it again over the edits', async () => {
    const bin = await apiCall<Bin>(app.base, 'POST', '/api/bins', { name: 'slow load' });
    await apiCall(app.base, 'PUT', `/api/bins/${bin.id}/verify`, { schemes: [{ type: 'stripe', secrets: ['whsec_slow_load_secret'], toleranceSec: 300 }] });
    const t = await openPage(browser, app.base);
    try {
      // A slow server: the first read of the settings takes 800 ms, long enough for the live
      // socket to connect (and say "reachable") while it is on its way; any later read 1.5 s,
      // so that one would land after the form showed and the user typed.
      let reads = 0;
      await t.page.route(`**/api/bins/${bin.id}/verify`, async (route) => {
        if (route.request().method() !== 'GET') return route.continue();
        reads++;
        await new Promise((r) => setTimeout(r, reads === 1 ? 800 : 1_500));
        await route.continue();
      });
      await t.page.goto(`/bins/${bin.id}/verify`);
      await t.page.getByTestId('scheme-tolerance').fill('42');
      await live(t.page);
      await new Promise((r) => setTimeout(r, 2_000));
      expect({ typed: await t.page.getByTestId('scheme-tolerance').inputValue(), reads }).toEqual({ typed: '42', reads: 1 });
      expect(t.problems).toEqual([]);
    } finally {
      await t.context.close();
    }
  });
});

describe('two changes made elsewhere close together', () => {
  /** A page of its own on a new bin's response form, loaded and live. */
  async function responseFormLive(name: string) {
    const bin = await apiCall<Bin>(app.base, 'POST', '/api/bins', { name });
    const t = await openPage(browser, app.base);
    try {
      await t.page.goto(`/bins/${bin.id}/response`);
      await t.page.getByTestId('response-editor').waitFor();
      await live(t.page);
      const body = t.page.locator('[data-field="default.body"] textarea');
      await body.waitFor();
      return { bin, t, body };
    } catch (err) {
      await t.context.close();
      throw err;
    }
  }

  it('an untouched form ends on the newer even when the read the first one caused answers last', async () => {
    const { bin, t, body } = await responseFormLive('two changes');
    try {
      // The read the first change causes is answered by the server at once, but reaches the page 1.5 s late.
      let reads = 0;
      let firstAnswered = false;
      let firstDelivered = false;
      await t.page.route(`**/api/bins/${bin.id}/response`, async (route) => {
        if (route.request().method() !== 'GET') return route.continue();
        if (++reads > 1) return route.continue();
        const answer = await route.fetch();
        firstAnswered = true;
        await new Promise((r) => setTimeout(r, 1_500));
        await route.fulfill({ response: answer });
        firstDelivered = true;
      });
      await apiCall(app.base, 'PUT', `/api/bins/${bin.id}/response`, { default: { body: 'first\n' } });
      await expect.poll(() => firstAnswered, { timeout: 30_000 }).toBe(true);
      await apiCall(app.base, 'PUT', `/api/bins/${bin.id}/response`, { default: { body: 'second\n' } });
      await until(t.page, () => (document.querySelector('[data-field="default.body"] textarea') as HTMLTextAreaElement | null)?.value === 'second\n');
      await expect.poll(() => firstDelivered, { timeout: 30_000 }).toBe(true);
      await new Promise((r) => setTimeout(r, 1_000));
      expect(await body.inputValue()).toBe('second\n');
      expect(await t.page.getByTestId('settings-conflict').count()).toBe(0);
    } finally {
      await t.context.close();
    }
  });

  it('when the read the second change caused fails, the first one\'s answer is still shown', async () => {
    const { bin, t } = await responseFormLive('second read fails');
    try {
      // The first change's read reaches the page after the second change's read failed.
      let reads = 0;
      let firstAnswered = false;
      let secondFailed = false;
      let failSecond = () => {};
      const secondFailing = new Promise<void>((r) => (failSecond = r));
      await t.page.route(`**/api/bins/${bin.id}/response`, async (route) => {
        if (route.request().method() !== 'GET') return route.continue();
        const n = ++reads;
        if (n === 1) {
          const answer = await route.fetch();
          firstAnswered = true;
          // Answered only after the second read failed, however long that takes.
          await secondFailing;
          await new Promise((r) => setTimeout(r, 200));
          return route.fulfill({ response: answer });
        }
        if (n === 2) {
          await route.abort('connectionreset');
          secondFailed = true;
          return failSecond();
        }
        return route.continue();
      });
      await apiCall(app.base, 'PUT', `/api/bins/${bin.id}/response`, { default: { body: 'first\n' } });
      await expect.poll(() => firstAnswered, { timeout: 30_000 }).toBe(true);
      await apiCall(app.base, 'PUT', `/api/bins/${bin.id}/response`, { default: { body: 'second\n' } });
      await expect.poll(() => secondFailed, { timeout: 30_000 }).toBe(true);
      // Not the newest (that read failed; the next reconnect checks again), but not left on the original either.
      await until(t.page, () => (document.querySelector('[data-field="default.body"] textarea') as HTMLTextAreaElement | null)?.value === 'first\n');
      await t.page.getByTestId('updated-elsewhere').waitFor();
    } finally {
      await t.context.close();
    }
  });
});

describe('a settings change made before the page joined the bin\'s live events', () => {
  /** A page whose subscribe to the bin waits until `join()`: announcements made before reach no one. */
  async function lateJoiner() {
    const t = await openPage(browser, app.base);
    let open = false;
    const held: (() => void)[] = [];
    const sockets: { page: WebSocketRoute; server: WebSocketRoute }[] = [];
    await t.page.routeWebSocket(/\/socket\.io\//, (ws) => {
      const server = ws.connectToServer();
      ws.onMessage((m) => {
        if (!open && typeof m === 'string' && /"subscribe"/.test(m)) held.push(() => server.send(m));
        else server.send(m);
      });
      server.onMessage((m) => ws.send(m));
      sockets.push({ page: ws, server });
    });
    const join = () => {
      open = true;
      for (const send of held.splice(0)) send();
    };
    /** The live socket drops (as a network does): the page reconnects and joins again. */
    const drop = async () => {
      const before = sockets.length;
      for (const s of sockets) {
        await s.server.close();
        await s.page.close({ code: 1006 });
      }
      await expect.poll(() => sockets.length, { timeout: 30_000 }).toBeGreaterThan(before);
    };
    return { t, join, drop };
  }

  it('an untouched form shows it once the page joins, and says so', async () => {
    const bin = await apiCall<Bin>(app.base, 'POST', '/api/bins', { name: 'late join, untouched' });
    const { t, join } = await lateJoiner();
    try {
      await t.page.goto(`/bins/${bin.id}/response`);
      await t.page.getByTestId('response-editor').waitFor();
      const body = t.page.locator('[data-field="default.body"] textarea');
      await body.waitFor();
      await apiCall(app.base, 'PUT', `/api/bins/${bin.id}/response`, { default: { body: 'changed before the join\n' } });
      join();
      await t.page.getByTestId('updated-elsewhere').waitFor();
      expect(await body.inputValue()).toBe('changed before the join\n');
      expect(await t.page.getByTestId('settings-conflict').count()).toBe(0);
    } finally {
      await t.context.close();
    }
  });

  it('a form holding edits shows the conflict once the page joins; one that saw the change already stays quiet', async () => {
    const bin = await apiCall<Bin>(app.base, 'POST', '/api/bins', { name: 'late join, edited' });
    const { t, join, drop } = await lateJoiner();
    try {
      await t.page.goto(`/bins/${bin.id}/response`);
      await t.page.getByTestId('response-editor').waitFor();
      await t.page.getByTestId('default-status').fill('203');
      await apiCall(app.base, 'PUT', `/api/bins/${bin.id}/response`, { default: { body: 'theirs\n' } });
      join();
      const conflict = t.page.getByTestId('settings-conflict');
      await conflict.waitFor();
      expect(await t.page.getByTestId('default-status').inputValue()).toBe('203');
      await t.page.getByTestId('load-theirs').click();
      await conflict.waitFor({ state: 'detached' });
      expect(await t.page.locator('[data-field="default.body"] textarea').inputValue()).toBe('theirs\n');

      // Joined again (a reconnect) with the form up to date and edited: told where the
      // settings stand, which is what it holds: no conflict.
      await live(t.page);
      await t.page.getByTestId('default-status').fill('204');
      await drop();
      await live(t.page);
      await new Promise((r) => setTimeout(r, 1_000));
      expect(await t.page.getByTestId('settings-conflict').count()).toBe(0);
      expect(await t.page.getByTestId('default-status').inputValue()).toBe('204');
    } finally {
      await t.context.close();
    }
  });
});

describe('the webhook form in two tabs', () => {
  it('follows an untouched form, holds edits with a conflict, and marks every bad field', async () => {
    const bin = await apiCall<Bin>(app.base, 'POST', '/api/bins', { name: 'hook target' });
    const w = await apiCall<Webhook>(app.base, 'POST', '/api/webhooks', { name: 'Shared hook', url: bin.url, events: ['flow_started'] });
    await openBoth('/dispatcher', 'clock');
    const form = (t: TestPage) => t.page.locator(`[data-testid="webhook-form"][data-webhook-id="${w.id}"]`);
    // Each tab has its revision loaded and has joined the dispatcher's events before B saves:
    // otherwise A could load B's save as its first revision, with nothing to announce.
    for (const t of [a, b]) {
      await form(t).and(t.page.locator('[data-loaded="true"]')).waitFor();
      await t.page.locator('.dispatcher[data-joined="true"]').waitFor();
    }

    await form(b).getByTestId('webhook-name').fill('Renamed in B');
    await form(b).getByTestId('save-webhook').click();
    await form(b).getByText('Saved.').waitFor();
    await form(a).getByTestId('updated-elsewhere').waitFor();
    expect(await form(a).getByTestId('webhook-name').inputValue()).toBe('Renamed in B');

    await form(a).getByTestId('webhook-name').fill('A’s edit');
    await form(b).getByTestId('event-flow_failed').check();
    await form(b).getByTestId('save-webhook').click();
    await form(b).getByText('Saved.').waitFor();
    await form(a).getByTestId('settings-conflict').waitFor();
    await form(a).getByTestId('save-webhook').click();
    await form(a).locator('[data-testid="settings-conflict"][data-why="stale"]').waitFor();
    expect(await apiCall<Webhook>(app.base, 'GET', `/api/webhooks/${w.id}`)).toMatchObject({ name: 'Renamed in B', events: ['flow_started', 'flow_failed'] });
    await form(a).getByTestId('keep-mine').click();
    await form(a).getByText('Saved.').waitFor();
    // Keep mine: A's whole form, which still has flow_failed off.
    expect(await apiCall<Webhook>(app.base, 'GET', `/api/webhooks/${w.id}`)).toMatchObject({ name: 'A’s edit', events: ['flow_started'] });

    // Several bad fields in one Save, each marked.
    await form(a).getByTestId('webhook-url').fill('not a url');
    await form(a).locator('summary').getByText('Success rule').click();
    await form(a).locator('[data-field="timeoutMs"] input').fill('0');
    await form(a).locator('[data-field="schedule.jitter"] input').fill('5');
    await form(a).getByTestId('save-webhook').click();
    for (const f of ['url', 'timeoutMs', 'schedule.jitter']) await form(a).locator(`[data-field="${f}"] [data-testid="field-error"]`).waitFor();
    expect(await form(a).locator('[aria-invalid="true"]').count()).toBe(3);
    await form(a).getByTestId('webhook-url').fill(bin.url);
    expect(await form(a).locator('[aria-invalid="true"]').count()).toBe(2);
  });

  it('logged no errors but the 400s and 412s it provoked', () => {
    for (const t of [a, b]) expect(t.problems.filter((p) => !/status of (400|412)/.test(p))).toEqual([]);
  });
});
