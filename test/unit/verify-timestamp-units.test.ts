// A signed timestamp written in milliseconds, microseconds or nanoseconds where the scheme signs
// seconds is named by its unit: "looks like milliseconds" was said of a 16-digit (µs) value too.
import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { verify } from '../../server/verify/index.ts';
import { timeUnitOf } from '../../server/verify/timestamp.ts';
import { Verification, VerifySettingsInput, type VerifySettingsT } from '../../shared/schema/verify.ts';

const NOW = 1_700_000_000_000;
const WHSEC = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const BODY = '{"a":1}';
const KEY = Buffer.from(WHSEC.slice(6), 'base64');

const settings = (schemes: unknown[]): VerifySettingsT => VerifySettingsInput.parse({ schemes });
function check(s: VerifySettingsT, headers: string[]) {
  const r = verify(s, { headers, body: Buffer.from(BODY) }, NOW);
  Verification.parse(r);
  return r;
}
/** Standard Webhooks, signed right over `ts` as written. */
const standard = (ts: string) => {
  const sig = `v1,${createHmac('sha256', KEY).update(`msg_1.${ts}.${BODY}`).digest('base64')}`;
  return check(settings([{ type: 'standard-webhooks', secrets: [WHSEC] }]), ['webhook-id', 'msg_1', 'webhook-timestamp', ts, 'webhook-signature', sig]);
};
const slack = (ts: string) => {
  const sig = `v0=${createHmac('sha256', 'slack-secret').update(`v0:${ts}:${BODY}`).digest('hex')}`;
  return check(settings([{ type: 'slack', secrets: ['slack-secret'] }]), ['X-Slack-Request-Timestamp', ts, 'X-Slack-Signature', sig]);
};
const hmacScheme = (ts: string) => {
  const sig = createHmac('sha256', 's').update(`${ts}.${BODY}`).digest('hex');
  const s = settings([{ type: 'hmac', secrets: ['s'], header: 'x-sig', algorithm: 'sha256', encoding: 'hex', signed: 'timestamp+body', timestampHeader: 'x-ts' }]);
  return check(s, ['x-ts', ts, 'x-sig', sig]);
};

describe('timestamp units', () => {
  beforeAll(() => vi.useFakeTimers({ now: NOW, toFake: ['Date'] }));
  afterAll(() => vi.useRealTimers());

  it('tells seconds, milliseconds, microseconds and nanoseconds apart by their digits', () => {
    expect(timeUnitOf('1700000000')).toBeNull();
    expect(timeUnitOf('1700000000000')).toBe('milliseconds');
    expect(timeUnitOf('1700000000000000')).toBe('microseconds');
    expect(timeUnitOf('1700000000000000000')).toBe('nanoseconds');
    expect(timeUnitOf('0001700000000000000')).toBe('microseconds'); // parseInt's number
    expect(timeUnitOf('abc')).toBeNull();
  });

  // (Stripe's libraries accept any timestamp from the future, so a µs or ns t= passes there and here.)
  it('Standard Webhooks: µs is said to look like microseconds, ns like nanoseconds, ms still like milliseconds', () => {
    const us = standard(String(NOW * 1000));
    expect(us.status).toBe('expired');
    expect(us.details!.message).toContain('The timestamp looks like microseconds: this scheme signs Unix seconds.');
    expect(us.details!.message).not.toContain('milliseconds');
    expect(standard(String(NOW)).details!.message).toContain('The timestamp looks like milliseconds: this scheme signs Unix seconds.');
    // Past 2^53: no number of seconds at all, but the unit is still named.
    const ns = standard(`${NOW}000000`);
    expect(ns.status).toBe('invalid');
    expect(ns.details!.message).toContain('is not a number of seconds');
    expect(ns.details!.message).toContain('The timestamp looks like nanoseconds');
  });

  it('Slack: microseconds and nanoseconds named too', () => {
    expect(slack(String(NOW * 1000)).details!.message).toContain('looks like microseconds');
    expect(slack(`${NOW}000000`).details!.message).toContain('looks like nanoseconds');
  });

  it('hmac, which reads milliseconds too: a 13-digit timestamp is fine, a 16-digit one looks like microseconds', () => {
    expect(hmacScheme(String(NOW)).status).toBe('valid');
    const r = hmacScheme(String(NOW * 1000));
    expect(r.status).toBe('expired');
    expect(r.details!.message).toContain('The timestamp looks like microseconds: this scheme signs Unix seconds (or milliseconds).');
  });
});
