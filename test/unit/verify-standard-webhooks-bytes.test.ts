// Standard Webhooks signs the body's bytes, and so does hooklab; the standardwebhooks and svix
// libraries (Node) turn the body into text first, so one that is not UTF-8 (and a non-ASCII
// webhook-id, which Node hands over as Latin-1 text) is refused there. The verdict stays valid by
// the spec but says so: the library itself is the reference here.
import { createHmac } from 'node:crypto';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { Webhook as SvixWebhook } from 'svix';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { verify } from '../../server/verify/index.ts';
import { Verification, VerifySettingsInput } from '../../shared/schema/verify.ts';

const NOW = 1_700_000_000_000;
const TS = String(NOW / 1000);
const WHSEC = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const KEY = Buffer.from(WHSEC.slice(6), 'base64');
const SETTINGS = VerifySettingsInput.parse({ schemes: [{ type: 'standard-webhooks', secrets: [WHSEC] }] });
/** {"a":"é"} with é in Latin-1: one byte 0xe9, no UTF-8. */
const LATIN1_BODY = Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xe9, 0x22, 0x7d]);

/** "v1,<base64>" over the raw bytes "<id>.<ts>.<body>", as the spec says. */
const rawSig = (id: Buffer | string, body: Buffer) => `v1,${createHmac('sha256', KEY).update(Buffer.concat([Buffer.from(id), Buffer.from(`.${TS}.`), body])).digest('base64')}`;
/** The library's answer for headers as Node hands them over (values as Latin-1 text). */
const library = (body: Buffer, headers: Record<string, string>) => {
  try {
    new StandardWebhook(WHSEC).verify(body, headers);
    return 'accepts';
  } catch {
    return 'rejects';
  }
};
function check(headers: Record<string, string>, body: Buffer) {
  const r = verify(SETTINGS, { headers: Object.entries(headers).flat(), body }, NOW);
  Verification.parse(r);
  return r;
}

describe('Standard Webhooks: bytes the libraries read as text', () => {
  beforeAll(() => vi.useFakeTimers({ now: NOW, toFake: ['Date'] }));
  afterAll(() => vi.useRealTimers());

  it('a body that is not UTF-8, signed over its bytes: valid by the spec, with a warning that the libraries reject it', () => {
    const headers = { 'webhook-id': 'msg_1', 'webhook-timestamp': TS, 'webhook-signature': rawSig('msg_1', LATIN1_BODY) };
    expect(library(LATIN1_BODY, headers)).toBe('rejects');
    expect(() => new SvixWebhook(WHSEC).verify(LATIN1_BODY, headers)).toThrow();
    const r = check(headers, LATIN1_BODY);
    expect(r).toMatchObject({ status: 'valid', secretIndex: 0, details: { header: 'webhook-signature' } });
    expect(r.details!.message).toBe(
      'Signed right over the raw bytes, as the spec says, but the standardwebhooks and svix libraries reject this signature in Node: the body is not valid UTF-8 (they decode it as UTF-8 first, each invalid byte becoming U+FFFD). A receiver that signs the raw bytes accepts it.',
    );
  });

  it('a UTF-8 body: valid with no warning, as the library agrees', () => {
    const body = Buffer.from('{"a":"é ✓"}');
    const headers = { 'webhook-id': 'msg_1', 'webhook-timestamp': TS, 'webhook-signature': rawSig('msg_1', body) };
    expect(library(body, headers)).toBe('accepts');
    expect(check(headers, body)).toEqual({ status: 'valid', scheme: 'standard-webhooks', schemeIndex: 0, secretIndex: 0, skewSec: 0 });
  });

  it('a webhook-id with non-ASCII bytes, signed over them: valid, with the warning naming the header', () => {
    const id = Buffer.from('msg_é', 'utf8');
    const body = Buffer.from('{}');
    // As Node hands the header to a receiver: its bytes as Latin-1 characters.
    const headers = { 'webhook-id': id.toString('latin1'), 'webhook-timestamp': TS, 'webhook-signature': rawSig(id, body) };
    expect(library(body, headers)).toBe('rejects');
    const r = check(headers, body);
    expect(r.status).toBe('valid');
    expect(r.details!.message).toContain('webhook-id has non-ASCII bytes');
    expect(r.details!.message).not.toContain('UTF-8 (they decode');
  });

  it('an expired capture with such a body says both', () => {
    const old = String(NOW / 1000 - 3600);
    const sig = `v1,${createHmac('sha256', KEY).update(Buffer.concat([Buffer.from(`msg_1.${old}.`), LATIN1_BODY])).digest('base64')}`;
    const r = check({ 'webhook-id': 'msg_1', 'webhook-timestamp': old, 'webhook-signature': sig }, LATIN1_BODY);
    expect(r.status).toBe('expired');
    expect(r.details!.message).toMatch(/^Signed right, but 3600 s before it arrived.*the body is not valid UTF-8/);
  });
});
