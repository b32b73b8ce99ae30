// Issue 14: a signature whose MAC is right but written in a form the provider's own library
// compares as text (URL-safe base64, upper-case hex, spaces in Stripe-Signature) fails there:
// hooklab says so (signature_encoding) rather than "valid". And the tolerance is the library's:
// Stripe's accepts a timestamp from the future.
import { createHmac } from 'node:crypto';
import { Webhooks as OctokitWebhooks } from '@octokit/webhooks';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { verify } from '../../server/verify/index.ts';
import { Verification, VerifySettingsInput, type VerifySettingsT } from '../../shared/schema/verify.ts';

const NOW = 1_700_000_000_000;
const TS = NOW / 1000;
const WHSEC = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const BODY = '{"type":"invoice.paid","id":"evt_1"}';

const settings = (schemes: unknown[]): VerifySettingsT => VerifySettingsInput.parse({ schemes });
function check(s: VerifySettingsT, headers: string[], body: string, now = NOW) {
  const r = verify(s, { headers, body: Buffer.from(body) }, now);
  Verification.parse(r);
  return r;
}
const hmacHex = (key: string, data: string) => createHmac('sha256', key).update(data).digest('hex');

describe("verify: the provider's library is the judge of a signature's form", () => {
  beforeAll(() => vi.useFakeTimers({ now: NOW, toFake: ['Date'] }));
  afterAll(() => vi.useRealTimers());

  it('Standard Webhooks: a signature in URL-safe base64 (or without padding) fails in the library, and here', () => {
    const wh = new StandardWebhook(WHSEC);
    // An id whose signature's base64 has a + or / (where the two alphabets differ); every one is padded.
    let id = '';
    let sig = '';
    for (let i = 0; !/[+/]/.test(sig); i++) sig = wh.sign((id = `msg_${i}`), new Date(NOW), BODY); // "v1,<base64>"
    const b64 = sig.slice(3);
    const urlSafe = `v1,${b64.replace(/\+/g, '-').replace(/\//g, '_')}`;
    const unpadded = `v1,${b64.replace(/=+$/, '')}`;
    expect([urlSafe, unpadded]).not.toContain(sig);
    const s = settings([{ type: 'standard-webhooks', secrets: [WHSEC] }]);
    for (const bad of [urlSafe, unpadded]) {
      const headers = { 'webhook-id': id, 'webhook-timestamp': String(TS), 'webhook-signature': bad };
      expect(() => wh.verify(BODY, headers)).toThrow();
      const r = check(s, Object.entries(headers).flat(), BODY);
      expect(r).toMatchObject({ status: 'invalid', secretIndex: 0, details: { cause: 'signature_encoding' } });
      expect(r.details!.message).toBe(`The signature is right, but written "${bad}": the provider's library (the standardwebhooks and svix libraries) compares it as text with "${sig}" and rejects it.`);
    }
    // As the library writes it: valid.
    expect(check(s, ['webhook-id', id, 'webhook-timestamp', String(TS), 'webhook-signature', sig], BODY).status).toBe('valid');
  });

  it('GitHub: upper-case hex fails in @octokit/webhooks, and here', async () => {
    const octokit = new OctokitWebhooks({ secret: 'gh-secret' });
    const sig = await octokit.sign(BODY);
    const upper = `sha256=${sig.slice(7).toUpperCase()}`;
    expect(await octokit.verify(BODY, upper)).toBe(false);
    const r = check(settings([{ type: 'github', secrets: ['gh-secret'] }]), ['X-Hub-Signature-256', upper], BODY);
    expect(r).toMatchObject({ status: 'invalid', secretIndex: 0, details: { cause: 'signature_encoding' } });
    expect(check(settings([{ type: 'github', secrets: ['gh-secret'] }]), ['X-Hub-Signature-256', sig], BODY).status).toBe('valid');
  });

  it('Stripe: spaces after the commas, or upper-case hex, fail in constructEvent, and here', () => {
    const stripe = new Stripe('sk_test_hooklab');
    const secret = 'whsec_stripe_test';
    const header = stripe.webhooks.generateTestHeaderString({ payload: BODY, secret, timestamp: TS });
    const v1 = header.split('v1=')[1];
    const s = settings([{ type: 'stripe', secrets: [secret] }]);
    for (const bad of [`t=${TS}, v1=${v1}`, `t=${TS},v1=${v1.toUpperCase()}`, `v1=${v1}, t=${TS}`]) {
      expect(() => stripe.webhooks.constructEvent(BODY, bad, secret)).toThrow();
      const r = check(s, ['Stripe-Signature', bad], BODY);
      expect(r, bad).toMatchObject({ status: 'invalid', secretIndex: 0, details: { cause: 'signature_encoding' } });
    }
    expect(check(s, ['Stripe-Signature', `t=${TS}, v1=${v1}`], BODY).details!.message).toBe(
      `The signature is right, but written " v1=${v1}": the provider's library (Stripe's libraries (constructEvent)) compares it as text with "v1=${v1}" and rejects it.`,
    );
    expect(check(s, ['Stripe-Signature', `v1=${v1}, t=${TS}`], BODY).details!.message).toContain('a space before its "t="');
    // Spaces elsewhere (another signature, after the timestamp's value) Stripe reads past: valid.
    for (const ok of [header, `${header}, v0=abc`, `${header}, v1=00ff`, `t=${TS} ,v1=${v1}`]) {
      expect(stripe.webhooks.constructEvent(BODY, ok, secret)).toBeTruthy();
      expect(check(s, ['Stripe-Signature', ok], BODY).status, ok).toBe('valid');
    }
  });

  it("Stripe: Stripe-Signature is read as stripe-node's constructEvent reads it (the last t= counts, as parseInt reads it): the verdicts agree", () => {
    const stripe = new Stripe('sk_test_hooklab');
    const secret = 'whsec_stripe_test';
    const s = settings([{ type: 'stripe', secrets: [secret] }]);
    const v1 = (ts: number | string) => hmacHex(secret, `${ts}.${BODY}`);
    const real = stripe.webhooks.generateTestHeaderString({ payload: BODY, secret, timestamp: TS }).split('v1=')[1];
    const shapes = [
      `t=${TS},t=1,v1=${real}`, // the last t= is 1: Stripe refuses (hooklab said valid)
      `t=0${TS},v1=${real}`, // parseInt reads 0<t> as <t>: Stripe accepts (hooklab said invalid)
      `t=1,t=${TS},v1=${real}`,
      `t=${TS}abc,v1=${real}`,
      `t=${TS}=9,v1=${real}`,
      `t=+${TS},v1=${real}`,
      `t=${TS}.5,v1=${real}`,
      `t=${TS},v1=${v1(`0${TS}`)}`, // signed over the text, not the number
      `t=,v1=${v1('')}`,
      `t=abc,v1=${v1('abc')}`,
      `t=-1,v1=${v1(-1)}`,
      `t=-5,v1=${v1(-5)}`,
      `t=${TS - 600},v1=${v1(TS - 600)}`,
      `t=${TS + 600},t=${TS - 600},v1=${v1(TS - 600)}`,
      `t=${TS - 600},t=${TS + 600},v1=${v1(TS + 600)}`,
      `v1=${real}`,
    ];
    for (const header of shapes) {
      let library: string;
      try {
        stripe.webhooks.constructEvent(BODY, header, secret);
        library = 'valid';
      } catch {
        library = 'refused';
      }
      const r = check(s, ['Stripe-Signature', header], BODY);
      expect(r.status === 'valid' ? 'valid' : 'refused', `${header}: ${r.status} ${r.details?.message ?? ''}`).toBe(library);
    }
    expect(check(s, ['Stripe-Signature', `t=0${TS},v1=${real}`], BODY)).toMatchObject({ status: 'valid', skewSec: 0 });
    expect(check(s, ['Stripe-Signature', `t=${TS},t=1,v1=${real}`], BODY).details!.signed!.text).toBe(`1.${BODY}`);
  });

  it("Stripe: a timestamp from the future passes, as in Stripe's libraries (only age counts); one too old is expired", () => {
    const stripe = new Stripe('sk_test_hooklab');
    const secret = 'whsec_stripe_test';
    const s = settings([{ type: 'stripe', secrets: [secret] }]);
    const future = stripe.webhooks.generateTestHeaderString({ payload: BODY, secret, timestamp: TS + 600 });
    expect(stripe.webhooks.constructEvent(BODY, future, secret)).toBeTruthy();
    expect(check(s, ['Stripe-Signature', future], BODY)).toMatchObject({ status: 'valid', skewSec: -600 });
    const old = stripe.webhooks.generateTestHeaderString({ payload: BODY, secret, timestamp: TS - 600 });
    expect(() => stripe.webhooks.constructEvent(BODY, old, secret)).toThrow();
    const r = check(s, ['Stripe-Signature', old], BODY);
    expect(r).toMatchObject({ status: 'expired', skewSec: 600 });
    expect(r.details!.message).toBe('Signed right, but 600 s before it arrived; the tolerance is 300 s in the past (a timestamp from the future passes).');
  });

  it('Slack: upper-case hex is refused (its SDKs compare "v0=<hex>" as text); a future timestamp is still expired (Slack checks both ways)', () => {
    const s = settings([{ type: 'slack', secrets: ['slack-secret'] }]);
    const sig = `v0=${hmacHex('slack-secret', `v0:${TS}:${BODY}`)}`;
    const r = check(s, ['X-Slack-Request-Timestamp', String(TS), 'X-Slack-Signature', `v0=${sig.slice(3).toUpperCase()}`], BODY);
    expect(r).toMatchObject({ status: 'invalid', details: { cause: 'signature_encoding' } });
    const ahead = `v0=${hmacHex('slack-secret', `v0:${TS + 600}:${BODY}`)}`;
    expect(check(s, ['X-Slack-Request-Timestamp', String(TS + 600), 'X-Slack-Signature', ahead], BODY).status).toBe('expired');
  });

  it('a timestamp in milliseconds is said to look like one', () => {
    const wh = new StandardWebhook(WHSEC);
    const ms = String(NOW);
    // Signed over the 13-digit text, as a sender that wrote Date.now() would.
    const key = Buffer.from(WHSEC.slice(6), 'base64');
    const sig = `v1,${createHmac('sha256', key).update(`msg_1.${ms}.${BODY}`).digest('base64')}`;
    expect(() => wh.verify(BODY, { 'webhook-id': 'msg_1', 'webhook-timestamp': ms, 'webhook-signature': sig })).toThrow();
    const r = check(settings([{ type: 'standard-webhooks', secrets: [WHSEC] }]), ['webhook-id', 'msg_1', 'webhook-timestamp', ms, 'webhook-signature', sig], BODY);
    expect(r.status).toBe('expired');
    expect(r.details!.message).toContain('The timestamp looks like milliseconds: this scheme signs Unix seconds.');
  });
});

describe('a request carrying only GitHub\'s legacy SHA-1 signature', () => {
  it('is missing, and the answer names the header it carries', () => {
    const sig = `sha1=${createHmac('sha1', 'gh-secret').update(BODY).digest('hex')}`;
    const r = check(settings([{ type: 'github', secrets: ['gh-secret'] }]), ['X-Hub-Signature', sig], BODY);
    expect(r.status).toBe('missing');
    expect(r.details!.message).toBe(
      "No signature header of the configured schemes (looked for X-Hub-Signature-256). The request carries X-Hub-Signature, GitHub's legacy SHA-1 signature, which is not checked: GitHub sends X-Hub-Signature-256 beside it.",
    );
  });
});

describe('a capture whose signature is right in another form proves the secret', () => {
  it("beside it, failures of the bin's other captures are changed bodies, not a wrong secret", async () => {
    const { refineCauses } = await import('../../server/verify/index.ts');
    const s = settings([{ type: 'github', secrets: ['gh-secret'] }]);
    const sig = (b: string) => `sha256=${createHmac('sha256', 'gh-secret').update(b).digest('hex')}`;
    const upper = check(s, ['X-Hub-Signature-256', `sha256=${sig(BODY).slice(7).toUpperCase()}`], BODY);
    expect(upper.details!.cause).toBe('signature_encoding');
    const changed = [check(s, ['X-Hub-Signature-256', sig(BODY)], BODY.replace('evt_1', 'evt_2')), check(s, ['X-Hub-Signature-256', sig('{"a":1}')], '{"a":2}')];
    expect(refineCauses(changed).map((v) => v.details?.cause)).toEqual(['wrong_secret', 'wrong_secret']); // alone: alike, so the secret
    expect(refineCauses([upper, ...changed]).map((v) => v.details?.cause)).toEqual(['signature_encoding', 'body_changed', 'body_changed']);
  });
});
