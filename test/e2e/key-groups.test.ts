// The bin page's "By key" view in real Chromium (issue 14): the captures grouped by the sender's
// idempotency key, one row per key with its attempts, a flag on keys whose body also arrived
// under another key (the sender defeats de-duplication), the no-key count, the empty state, a
// live refresh, virtual rows on a busy bin, and a row opening the key's captures as the list
// ("attempt n of m").
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bin } from '../../shared/api.ts';
import { type RunningApp, type TestPage, apiCall, axeViolations, hit, hitMany, launchBrowser, openPage, overflowing, screenshot, startApp, stopAppAndPage, until } from '../helpers/browser.ts';

let app: RunningApp;
let browser: Browser;
let tp: TestPage;
let page: Page;

beforeAll(async () => {
  // A busy bin keeps thousands of captures (the default keeps 500).
  [app, browser] = await Promise.all([startApp({ MAX_REQUESTS_PER_BIN: '5000' }), launchBrowser()]);
  tp = await openPage(browser, app.base);
  page = tp.page;
});

afterAll(() => stopAppAndPage({ app, browser }));

const idOf = (r: { headers: Record<string, unknown> }) => r.headers['x-hooklab-request-id'] as string;
const newBin = async (name: string) => {
  const b = await apiCall<Bin>(app.base, 'POST', '/api/bins', { name });
  return { bin: b, url: app.reachable(b.url) };
};
const send = (url: string, key: string | null, body: string) =>
  hit(url, { headers: { 'content-type': 'application/json', ...(key ? { 'webhook-id': key } : {}) }, body });
const group = (key: string) => page.locator(`[data-testid="key-group"][data-key="${key}"]`);
const groupKeys = () => page.locator('[data-testid="key-group"]').evaluateAll((els) => els.map((e) => e.getAttribute('data-key')));
const listCount = (n: number) => page.locator(`[data-testid="request-list"][data-count="${n}"]`).waitFor();

describe('captures grouped by idempotency key', () => {
  it('shows one row per key with its attempts, flags a new key on retry, counts the captures without a key, and opens a key as "attempt n of m"', async () => {
    const { bin, url } = await newBin('by key');
    const a = JSON.stringify({ type: 'invoice.paid', n: 1 });
    const b = JSON.stringify({ type: 'invoice.paid', n: 2 });
    const aIds: string[] = [];
    for (let i = 0; i < 3; i++) aIds.push(idOf(await send(url, 'msg_A', a)));
    await send(url, 'msg_B', b);
    // The same body as msg_B's, under a new key: the sender retried with another id.
    await send(url, 'msg_C', b);
    await send(url, null, 'no key here');

    await page.goto(`/bins/${bin.id}`);
    await listCount(6);
    const keysView = page.getByTestId('view-keys');
    expect(await keysView.getAttribute('aria-pressed')).toBe('false');
    await keysView.click();
    await page.waitForURL((u) => u.searchParams.get('view') === 'keys');
    await page.locator('[data-testid="key-group-list"][data-count="3"]').waitFor();
    expect(await page.getByTestId('view-keys').getAttribute('aria-pressed')).toBe('true');
    expect(await page.getByTestId('view-list').getAttribute('aria-pressed')).toBe('false');

    // The most recently retried key first.
    expect(await groupKeys()).toEqual(['msg_C', 'msg_B', 'msg_A']);
    expect(await group('msg_A').getByTestId('key-attempts').textContent()).toBe('3 attempts');
    expect(await group('msg_A').getByTestId('key-group-key').getAttribute('title')).toBe('Idempotency key msg_A');
    expect(await group('msg_A').getByTestId('key-first').textContent()).toMatch(/^, first (just now|\d+ s ago)$/);
    expect(await group('msg_A').getByTestId('key-latest').textContent()).toMatch(/^, latest (just now|\d+ s ago)$/);
    expect(await group('msg_A').getByTestId('key-churn-flag').count()).toBe(0);
    expect(await group('msg_B').getByTestId('key-attempts').textContent()).toBe('1 attempt');
    expect(await group('msg_B').getByTestId('key-first').count()).toBe(0);
    for (const [key, other] of [
      ['msg_B', 'msg_C'],
      ['msg_C', 'msg_B'],
    ]) {
      const flag = group(key).getByTestId('key-churn-flag');
      expect(await flag.textContent(), key).toContain('new key on retry');
      expect(await flag.getAttribute('title'), key).toContain(`under key ${other}:`);
    }
    // The latest attempt's answer and signature (unchecked here: no badge), from the loaded list.
    expect(await group('msg_A').locator('.badge.tone-ok').textContent()).toBe('200');
    expect(await page.getByTestId('no-key-count').textContent()).toBe('1 capture carries no key.');
    expect(await page.getByTestId('key-churn-summary').textContent()).toContain('The same body arrived under more than one key (2 keys in all)');
    expect(await page.getByTestId('key-groups-summary').textContent()).toBe('3 keys, 5 captures; the most recently retried first.');
    expect(await axeViolations(page)).toEqual([]);
    await screenshot(page, 'key-groups');

    // The keyboard moves between the rows.
    await group('msg_C').getByTestId('key-group-link').focus();
    await page.keyboard.press('ArrowDown');
    expect(await page.evaluate(() => document.activeElement?.closest('[data-testid="key-group"]')?.getAttribute('data-key'))).toBe('msg_B');
    await page.keyboard.press('End');
    expect(await page.evaluate(() => document.activeElement?.closest('[data-testid="key-group"]')?.getAttribute('data-key'))).toBe('msg_A');

    // A row opens the key's captures as the list, numbered by arrival.
    await group('msg_A').getByTestId('key-group-link').click();
    await page.waitForURL((u) => u.searchParams.get('key') === 'msg_A' && !u.searchParams.has('view'));
    await listCount(3);
    await until(page, () => document.querySelector('[data-testid="request-list"] [data-testid="key-tag"]')?.textContent?.startsWith('attempt'));
    const tags = page.locator('[data-testid="request-list"] [data-testid="key-tag"]');
    expect(await tags.allTextContents()).toEqual(['attempt 3 of 3', 'attempt 2 of 3', 'attempt 1 of 3']);
    expect(await page.locator(`[data-request-id="${aIds[0]}"] [data-testid="key-tag"]`).textContent()).toBe('attempt 1 of 3');

    // Back to the groups; a new attempt arrives live and its key moves to the top.
    await page.goBack();
    await page.locator('[data-testid="key-group-list"][data-count="3"]').waitFor();
    await page.locator('[data-testid="connection"][data-state="live"]').waitFor();
    await send(url, 'msg_A', a);
    await until(page, () => document.querySelector('[data-testid="key-group"][data-key="msg_A"] [data-testid="key-attempts"]')?.textContent === '4 attempts');
    expect(await groupKeys()).toEqual(['msg_A', 'msg_C', 'msg_B']);
    await send(url, null, 'another without a key');
    await until(page, () => document.querySelector('[data-testid="no-key-count"]')?.textContent === '2 captures carry no key.');

    // And back to the plain list.
    await page.getByTestId('view-list').click();
    await page.waitForURL((u) => !u.searchParams.has('view'));
    await listCount(8);
    expect(await page.getByTestId('key-groups').count()).toBe(0);
    expect(tp.problems).toEqual([]);
  });

  it('explains where keys come from when no capture has one', async () => {
    const { bin, url } = await newBin('no keys');
    await send(url, null, '{}');
    await page.goto(`/bins/${bin.id}?view=keys`);
    const empty = page.getByTestId('key-groups-empty');
    await empty.waitFor();
    const text = await empty.textContent();
    for (const source of ['webhook-id', 'svix-id', 'X-GitHub-Delivery', 'Stripe', 'Signatures']) expect(text).toContain(source);
    expect(await empty.getByRole('link', { name: 'Signatures' }).getAttribute('href')).toBe(`/bins/${bin.id}/verify`);
    expect(await page.getByTestId('no-key-count').textContent()).toBe('1 capture carries no key.');
    expect(await axeViolations(page)).toEqual([]);

    // The first keyed capture shows up by itself.
    await page.locator('[data-testid="connection"][data-state="live"]').waitFor();
    await send(url, 'msg_first', '{}');
    await page.locator('[data-testid="key-group"][data-key="msg_first"]').waitFor();
    expect(await page.getByTestId('key-groups-empty').count()).toBe(0);
  });

  it('fits a 400 px screen: each row keeps its height and its text inside it, the latest time whole', async () => {
    const { bin, url } = await newBin('phone keys');
    await apiCall(app.base, 'PUT', `/api/bins/${bin.id}/verify`, { schemes: [{ type: 'github', secrets: ['a-github-secret'] }] });
    const body = JSON.stringify({ type: 'order.updated', n: 1 });
    // One body under two keys (a new key on retry), one key retried: the widest second line
    // there is (the flag, a signature badge, the first and the latest time).
    await send(url, 'msg_nd_1text', body);
    await send(url, 'msg_nd_1b64text', body);
    await send(url, 'msg_nd_1b64text', body);
    const phone = await openPage(browser, app.base, { width: 400, height: 800, isMobile: true });
    try {
      const p = phone.page;
      // Close to an hour later: the longest times a row shows ("59 min ago").
      await p.clock.setFixedTime(Date.now() + 59 * 60_000 + 30_000);
      await p.goto(`/bins/${bin.id}?view=keys`);
      await p.locator('[data-testid="key-group-list"][data-count="2"]').waitFor();
      await p.locator('[data-testid="key-group"][data-key="msg_nd_1b64text"] [data-testid="sig-badge"]').waitFor();
      expect(await p.locator('[data-testid="key-group"][data-key="msg_nd_1b64text"] [data-testid="key-latest"]').textContent()).toBe(', latest 59 min ago');
      await screenshot(p, 'key-groups-phone');
      const rows = await p.locator('[data-testid="key-group"]').evaluateAll((els) =>
        els.map((row) => {
          const box = row.getBoundingClientRect();
          const parts = [...row.querySelectorAll('.req-line1 > *, .req-line2 > *')].filter((c) => c.getBoundingClientRect().width > 1);
          const latest = row.querySelector('[data-testid="key-latest"]')!;
          const first = row.querySelector('[data-testid="key-first"]');
          const times = row.querySelector('.key-times')!.getBoundingClientRect();
          // The first time is shown whole, or not at all: never cut to "fir…".
          const f = first?.getBoundingClientRect();
          const firstShown = !first ? 'none' : f!.top >= times.bottom ? 'dropped' : first.scrollWidth <= first.clientWidth && f!.bottom <= times.bottom ? 'whole' : 'cut';
          return {
            key: row.getAttribute('data-key'),
            height: box.height,
            inViewport: box.right <= document.documentElement.clientWidth,
            linesOverflow: [...row.querySelectorAll('.req-line1, .req-line2')].map((l) => l.scrollWidth - l.clientWidth),
            outside: parts.filter((c) => c.getBoundingClientRect().right > box.right + 0.5).map((c) => c.textContent),
            latestWhole: latest.scrollWidth <= latest.clientWidth && latest.getBoundingClientRect().bottom <= times.bottom,
            firstShown,
          };
        }),
      );
      const fit = { height: 56, inViewport: true, linesOverflow: [0, 0], outside: [], latestWhole: true };
      // The retried key has no room for both times next to its flags: the latest stays.
      expect(rows).toEqual([
        { key: 'msg_nd_1b64text', ...fit, firstShown: 'dropped' },
        { key: 'msg_nd_1text', ...fit, firstShown: 'none' },
      ]);
      expect(await overflowing(p)).toEqual([]);
      expect(phone.problems).toEqual([]);
    } finally {
      await phone.context.close();
    }
  });

  it('keeps only the rows in view in the page on a busy bin', async () => {
    const { bin, url } = await newBin('busy');
    const N = 2500;
    await hitMany(N, 16, (i) => [url, { headers: { 'content-type': 'application/json', 'webhook-id': `msg_busy_${String(i).padStart(5, '0')}` }, body: JSON.stringify({ i }) }]);
    await page.goto(`/bins/${bin.id}?view=keys`);
    await page.locator(`[data-testid="key-group-list"][data-count="${N}"]`).waitFor();
    expect(await page.locator('[data-testid="key-group"]').count()).toBeLessThan(60);
    // Scrolled to the end: the oldest key, still only a window of rows.
    await page.getByTestId('key-group-scroller').evaluate((el) => (el.scrollTop = el.scrollHeight));
    await page.locator(`[data-testid="key-group"][data-index="${N - 1}"]`).waitFor();
    expect(await page.locator('[data-testid="key-group"]').count()).toBeLessThan(60);
  });
});
