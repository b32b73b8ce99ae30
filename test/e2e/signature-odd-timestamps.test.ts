// The Signature panel in real Chromium for timestamps no date in seconds can show: a signed
// timestamp in microseconds (Standard Webhooks' webhook-timestamp, Stripe's t=) made
// toISOString throw and blanked the whole request detail. It now shows the raw number, "out of
// range", and the rest renders. And a valid signature the Node libraries reject (a body that is
// not UTF-8) shows the warning.
import { createHmac } from 'node:crypto';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bin } from '../../shared/api.ts';
import { type RunningApp, type TestPage, apiCall, hit, screenshot, startAppAndPage, stopAppAndPage } from '../helpers/browser.ts';

const WHSEC = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const KEY = Buffer.from(WHSEC.slice(6), 'base64');
const STRIPE_SECRET = 'whsec_e2e_0123456789abcdef';

let app: RunningApp;
let browser: Browser;
let tp: TestPage;
let page: Page;
let bin: Bin;
let url = '';

beforeAll(async () => {
  ({ app, browser, tp, page } = await startAppAndPage());
  bin = await apiCall<Bin>(app.base, 'POST', '/api/bins', { name: 'odd timestamps' });
  url = app.reachable(bin.url);
  await apiCall(app.base, 'PUT', `/api/bins/${bin.id}/verify`, {
    schemes: [
      { type: 'standard-webhooks', secrets: [WHSEC] },
      { type: 'stripe', secrets: [STRIPE_SECRET] },
    ],
  });
});

afterAll(() => stopAppAndPage({ app, browser }));

const idOf = (r: { headers: Record<string, unknown> }) => r.headers['x-hooklab-request-id'] as string;
const swSig = (id: string, ts: string, body: Buffer) => `v1,${createHmac('sha256', KEY).update(Buffer.concat([Buffer.from(`${id}.${ts}.`), body])).digest('base64')}`;

/** Opens a capture's detail; waits for its Signature panel (with the given status). */
async function openDetail(id: string, status: string) {
  await page.goto(`/bins/${bin.id}/requests/${id}`);
  await page.locator(`[data-testid="signature-panel"][data-status="${status}"]`).waitFor();
  return page.getByTestId('signature-panel');
}

describe('Signature panel: timestamps past any date in seconds', () => {
  it('a Standard Webhooks timestamp in microseconds: the detail renders, the timestamp shown raw and out of range', async () => {
    const ts = String(Date.now() * 1000);
    const body = Buffer.from('{"event":"us-test"}');
    const id = idOf(await hit(url, { headers: { 'content-type': 'application/json', 'webhook-id': 'msg_us', 'webhook-timestamp': ts, 'webhook-signature': swSig('msg_us', ts, body) }, body }));
    const panel = await openDetail(id, 'expired');
    expect(await panel.getByTestId('sig-timestamp').textContent()).toContain(`Signed timestamp ${ts} (out of range: no date in Unix seconds)`);
    expect(await panel.getByTestId('sig-message').textContent()).toContain('looks like microseconds');
    // The rest of the detail is there: headers and body.
    expect(await page.getByTestId('headers-section').textContent()).toContain('webhook-timestamp');
    expect(await page.getByTestId('request-detail').textContent()).toContain('us-test');
    await screenshot(page, 'signature-microseconds');
    expect(tp.problems).toEqual([]);
  });

  it('a Stripe t= in microseconds with a wrong v1: invalid, the timestamp shown raw and out of range', async () => {
    const t = String(Date.now() * 1000);
    const id = idOf(await hit(url, { headers: { 'content-type': 'application/json', 'stripe-signature': `t=${t},v1=${'ab'.repeat(32)}` }, body: '{"object":"stripe-us"}' }));
    const panel = await openDetail(id, 'invalid');
    expect(await panel.getByTestId('sig-timestamp').textContent()).toContain(`Signed timestamp ${t} (out of range`);
    expect(await panel.getByTestId('sig-expected').textContent()).toMatch(/^secret #1: v1=[0-9a-f]{64}$/);
    expect(await page.getByTestId('request-detail').textContent()).toContain('stripe-us');
    expect(tp.problems).toEqual([]);
  });

  it('a body that is not UTF-8, signed over its bytes: valid, with the warning that the Node libraries reject it', async () => {
    const ts = String(Math.floor(Date.now() / 1000));
    const body = Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xe9, 0x22, 0x7d]); // {"a":"é"} in Latin-1
    const id = idOf(await hit(url, { headers: { 'content-type': 'application/json', 'webhook-id': 'msg_l1', 'webhook-timestamp': ts, 'webhook-signature': swSig('msg_l1', ts, body) }, body }));
    const panel = await openDetail(id, 'valid');
    const warning = panel.getByTestId('sig-message');
    expect(await warning.textContent()).toContain('the standardwebhooks and svix libraries reject this signature in Node: the body is not valid UTF-8');
    expect(await warning.getAttribute('class')).toContain('notice-warn');
    await screenshot(page, 'signature-not-utf8');
    expect(tp.problems).toEqual([]);
  });
});
