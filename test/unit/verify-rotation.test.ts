// Issue 14: key rotation. Two secrets configured, either one signs, both verify and the result
// names which; a sender that signs with both during the rotation (Standard Webhooks allows
// several space-separated signatures; Stripe several v1=) verifies under either secret.
import { createHmac } from 'node:crypto';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import { sign as dispatcherSign } from '../../server/dispatch/signing.ts';
import { verify } from '../../server/verify/index.ts';
import { VerifySettingsInput, type VerifySettingsT } from '../../shared/schema/verify.ts';

const NOW = 1_700_000_000_000;
const TS = NOW / 1000;
const OLD = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const NEW = 'whsec_c2Vjb25kIHNlY3JldCBmb3IgdGVzdGluZyByb3RhdGlvbg==';
const BODY = '{"event":"sync_end","status":"SUCCESSFUL"}';

const settings = (schemes: unknown[]): VerifySettingsT => VerifySettingsInput.parse({ schemes });
const run = (s: VerifySettingsT, headers: string[], body = BODY) => verify(s, { headers, body: Buffer.from(body) }, NOW);
const sw = (sig: string) => ['webhook-id', 'msg_r', 'webhook-timestamp', String(TS), 'webhook-signature', sig];
const swSign = (secret: string) => new StandardWebhook(secret).sign('msg_r', new Date(NOW), BODY);

describe('verify: key rotation', () => {
  const both = settings([{ type: 'standard-webhooks', secrets: [OLD, NEW] }]);

  it('two secrets: either one signs, both verify, and the index says which', () => {
    expect(run(both, sw(swSign(OLD)))).toMatchObject({ status: 'valid', secretIndex: 0 });
    expect(run(both, sw(swSign(NEW)))).toMatchObject({ status: 'valid', secretIndex: 1 });
  });

  it('one header with two signatures (old and new secret) verifies under either secret alone', () => {
    const header = `${swSign(OLD)} ${swSign(NEW)}`;
    expect(run(settings([{ type: 'standard-webhooks', secrets: [OLD] }]), sw(header))).toMatchObject({ status: 'valid', secretIndex: 0 });
    expect(run(settings([{ type: 'standard-webhooks', secrets: [NEW] }]), sw(header))).toMatchObject({ status: 'valid', secretIndex: 0 });
    expect(run(both, sw(header))).toMatchObject({ status: 'valid', secretIndex: 0 });
  });

  it("the dispatcher's two signatures during a rotation verify", () => {
    const header = [OLD, NEW].map((s) => dispatcherSign(s, 'msg_r', TS, BODY)).join(' ');
    expect(run(settings([{ type: 'standard-webhooks', secrets: [NEW] }]), sw(header)).status).toBe('valid');
  });

  it('the signature header repeated (two header lines) counts as one list', () => {
    const h = [...sw(swSign(OLD)), 'webhook-signature', swSign(NEW)];
    expect(run(settings([{ type: 'standard-webhooks', secrets: [NEW] }]), h).status).toBe('valid');
  });

  it('an unknown-version entry beside a v1 one is skipped, not fatal', () => {
    const header = `v1a,c29tZSBlZDI1NTE5IHNpZ25hdHVyZQ== ${swSign(NEW)}`;
    expect(run(settings([{ type: 'standard-webhooks', secrets: [NEW] }]), sw(header)).status).toBe('valid');
  });

  it('a rotated-out secret: invalid, with the expected signature of each configured secret', () => {
    const third = 'whsec_dGhpcmQgc2VjcmV0IG5vdCBjb25maWd1cmVkIGF0IGFsbA==';
    const r = run(both, sw(swSign(third)));
    expect(r.status).toBe('invalid');
    expect(r.details?.expected).toEqual([
      { secretIndex: 0, signature: swSign(OLD) },
      { secretIndex: 1, signature: swSign(NEW) },
    ]);
  });

  it('Stripe: several v1= in one Stripe-Signature (its rolled secrets), any match is valid', () => {
    const stripe = new Stripe('sk_test_hooklab');
    const a = 'whsec_stripe_old_0123456789abcdef';
    const b = 'whsec_stripe_new_fedcba9876543210';
    const sigB = stripe.webhooks.generateTestHeaderString({ payload: BODY, secret: b, timestamp: TS }).split(',')[1];
    const header = `${stripe.webhooks.generateTestHeaderString({ payload: BODY, secret: a, timestamp: TS })},${sigB}`;
    expect(stripe.webhooks.constructEvent(BODY, header, b, 1e10)).toBeTruthy();
    expect(run(settings([{ type: 'stripe', secrets: [b] }]), ['Stripe-Signature', header])).toMatchObject({ status: 'valid', secretIndex: 0 });
    expect(run(settings([{ type: 'stripe', secrets: [a, b] }]), ['Stripe-Signature', header])).toMatchObject({ status: 'valid', secretIndex: 0 });
    expect(run(settings([{ type: 'stripe', secrets: ['whsec_other', b] }]), ['Stripe-Signature', header])).toMatchObject({ status: 'valid', secretIndex: 1 });
  });

  it('GitHub / Shopify / Slack / generic HMAC: the second secret verifies with index 1', () => {
    const mac = (alg: string, key: string, data: string, enc: 'hex' | 'base64') => createHmac(alg, key).update(data).digest(enc);
    const ts = String(TS);
    const cases: [unknown, string[]][] = [
      [{ type: 'github', secrets: ['a', 'b'] }, ['X-Hub-Signature-256', `sha256=${mac('sha256', 'b', BODY, 'hex')}`]],
      [{ type: 'shopify', secrets: ['a', 'b'] }, ['X-Shopify-Hmac-Sha256', mac('sha256', 'b', BODY, 'base64')]],
      [{ type: 'slack', secrets: ['a', 'b'] }, ['X-Slack-Request-Timestamp', ts, 'X-Slack-Signature', `v0=${mac('sha256', 'b', `v0:${ts}:${BODY}`, 'hex')}`]],
      [{ type: 'hmac', secrets: ['a', 'b'], header: 'X-Sig', algorithm: 'sha512', encoding: 'base64' }, ['X-Sig', mac('sha512', 'b', BODY, 'base64')]],
    ];
    for (const [scheme, headers] of cases) expect(run(settings([scheme]), headers)).toMatchObject({ status: 'valid', secretIndex: 1 });
  });
});
