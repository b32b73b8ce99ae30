// Issue 14: signatures made by the senders' own libraries (and, where a sender ships none for
// Node, computed per its published docs and their test vectors) verify as valid.
import { createHmac } from 'node:crypto';
import { Webhooks as OctokitWebhooks } from '@octokit/webhooks';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import Stripe from 'stripe';
import { Webhook as SvixWebhook } from 'svix';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { sign as dispatcherSign } from '../../server/dispatch/signing.ts';
import { verify } from '../../server/verify/index.ts';
import { Verification, VerifySettingsInput, type VerifySettingsT } from '../../shared/schema/verify.ts';

const NOW = 1_700_000_000_000;
const TS = NOW / 1000;
const WHSEC = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const BODY = '{"type":"invoice.paid","data":{"id":"in_1","amount":1200,"note":"café ✓"}}';

const settings = (schemes: unknown[]): VerifySettingsT => VerifySettingsInput.parse({ schemes });
const flat = (h: Record<string, string>) => Object.entries(h).flat();
/** As Node hands a header value over: its UTF-8 bytes as Latin-1 characters. */
const latin1 = (s: string) => Buffer.from(s, 'utf8').toString('latin1');

function check(s: VerifySettingsT, headers: string[], body: Buffer | string, now = NOW) {
  const r = verify(s, { headers, body: Buffer.isBuffer(body) ? body : Buffer.from(body) }, now);
  Verification.parse(r);
  return r;
}

describe('verify: signatures from the senders\' own libraries', () => {
  // The libraries' own verifiers read the clock: give them the arrival time the tests use.
  beforeAll(() => vi.useFakeTimers({ now: NOW, toFake: ['Date'] }));
  afterAll(() => vi.useRealTimers());

  it('standardwebhooks sign() is valid', () => {
    const wh = new StandardWebhook(WHSEC);
    const sig = wh.sign('msg_1', new Date(NOW), BODY);
    const headers = { 'webhook-id': 'msg_1', 'webhook-timestamp': String(TS), 'webhook-signature': sig };
    expect(wh.verify(BODY, headers)).toMatchObject({ type: 'invoice.paid' }); // the library agrees
    const r = check(settings([{ type: 'standard-webhooks', secrets: [WHSEC] }]), flat(headers), BODY);
    expect(r).toEqual({ status: 'valid', scheme: 'standard-webhooks', schemeIndex: 0, secretIndex: 0, skewSec: 0 });
  });

  it('svix Webhook.sign() with svix-* headers is valid', () => {
    const svix = new SvixWebhook(WHSEC);
    const sig = svix.sign('msg_2svix', new Date(NOW - 3000), BODY);
    const headers = ['Svix-Id', 'msg_2svix', 'Svix-Timestamp', String(TS - 3), 'Svix-Signature', sig];
    expect(svix.verify(BODY, { 'svix-id': 'msg_2svix', 'svix-timestamp': String(TS - 3), 'svix-signature': sig })).toBeTruthy();
    const r = check(settings([{ type: 'standard-webhooks', secrets: [WHSEC] }]), headers, BODY);
    expect(r).toMatchObject({ status: 'valid', scheme: 'standard-webhooks', secretIndex: 0, skewSec: 3 });
  });

  it('a webhook-id with non-ASCII bytes is signed as those bytes', () => {
    const id = 'msg_é✓';
    const sig = new StandardWebhook(WHSEC).sign(id, new Date(NOW), BODY);
    const headers = ['webhook-id', latin1(id), 'webhook-timestamp', String(TS), 'webhook-signature', sig];
    expect(check(settings([{ type: 'standard-webhooks', secrets: [WHSEC] }]), headers, BODY).status).toBe('valid');
  });

  it("stripe webhooks.generateTestHeaderString() is valid, and Stripe's verifier agrees", () => {
    const stripe = new Stripe('sk_test_hooklab');
    const secret = 'whsec_test_Q2hhbmdlIG1lIHRvIGEgcmVhbCBzZWNyZXQ';
    const header = stripe.webhooks.generateTestHeaderString({ payload: BODY, secret, timestamp: TS - 10 });
    expect(stripe.webhooks.constructEvent(BODY, header, secret)).toBeTruthy();
    const r = check(settings([{ type: 'stripe', secrets: [secret] }]), ['Stripe-Signature', header], BODY);
    expect(r).toEqual({ status: 'valid', scheme: 'stripe', schemeIndex: 0, secretIndex: 0, skewSec: 10 });
  });

  it('@octokit/webhooks sign() is valid', async () => {
    const secret = 'octo secret';
    const octokit = new OctokitWebhooks({ secret });
    const sig = await octokit.sign(BODY);
    expect(await octokit.verify(BODY, sig)).toBe(true);
    const r = check(settings([{ type: 'github', secrets: [secret] }]), ['X-Hub-Signature-256', sig, 'X-GitHub-Delivery', 'd-1'], BODY);
    expect(r).toEqual({ status: 'valid', scheme: 'github', schemeIndex: 0, secretIndex: 0 });
  });

  it("GitHub's documented test vector is valid", () => {
    const r = check(
      settings([{ type: 'github', secrets: ["It's a Secret to Everybody"] }]),
      ['X-Hub-Signature-256', 'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17'],
      'Hello, World!',
    );
    expect(r.status).toBe('valid');
  });

  it("Slack's documented example is valid (v0:<timestamp>:<body>)", () => {
    const body =
      'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c';
    const headers = ['X-Slack-Request-Timestamp', '1531420618', 'X-Slack-Signature', 'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503'];
    const r = check(settings([{ type: 'slack', secrets: ['8f742231b10e8888abcd99yyyzzz85a5'] }]), headers, body, 1531420618_000 + 42_000);
    expect(r).toEqual({ status: 'valid', scheme: 'slack', schemeIndex: 0, secretIndex: 0, skewSec: 42 });
  });

  it('Shopify: base64 HMAC-SHA256 of the raw body (binary too) is valid', () => {
    const secret = 'shpss_0123456789abcdef';
    for (const body of [Buffer.from(BODY), Buffer.from([0x00, 0xff, 0x80, 0x7b, 0x0a])]) {
      const sig = createHmac('sha256', secret).update(body).digest('base64');
      const r = check(settings([{ type: 'shopify', secrets: [secret] }]), ['X-Shopify-Hmac-Sha256', sig, 'X-Shopify-Topic', 'orders/create'], body);
      expect(r).toEqual({ status: 'valid', scheme: 'shopify', schemeIndex: 0, secretIndex: 0 });
    }
  });

  it('generic HMAC: every algorithm and encoding, with a prefix, over the body', () => {
    for (const algorithm of ['sha1', 'sha256', 'sha512'] as const) {
      for (const encoding of ['hex', 'base64'] as const) {
        const sig = createHmac(algorithm, 's3cret').update(BODY).digest(encoding);
        const s = settings([{ type: 'hmac', secrets: ['s3cret'], header: 'X-Signature', algorithm, encoding, prefix: `${algorithm}=` }]);
        expect(check(s, ['x-signature', `${algorithm}=${sig}`], BODY)).toEqual({ status: 'valid', scheme: 'hmac', schemeIndex: 0, secretIndex: 0 });
      }
    }
  });

  it('generic HMAC over timestamp + separator + body (seconds or milliseconds)', () => {
    const s = (separator?: string) =>
      settings([{ type: 'hmac', secrets: ['k'], header: 'X-Sig', algorithm: 'sha256', encoding: 'hex', signed: 'timestamp+body', timestampHeader: 'X-Ts', ...(separator !== undefined && { separator }) }]);
    const sig = (ts: string, sep: string) => createHmac('sha256', 'k').update(`${ts}${sep}${BODY}`).digest('hex');
    expect(check(s(), ['X-Ts', String(TS - 5), 'X-Sig', sig(String(TS - 5), '.')], BODY)).toMatchObject({ status: 'valid', skewSec: 5 });
    expect(check(s(':'), ['X-Ts', String(NOW - 7000), 'X-Sig', sig(String(NOW - 7000), ':')], BODY)).toMatchObject({ status: 'valid', skewSec: 7 });
    expect(check(s(''), ['X-Ts', String(TS), 'X-Sig', sig(String(TS), '')], BODY)).toMatchObject({ status: 'valid', skewSec: 0 });
  });

  it("the dispatcher's own signing (server/dispatch/signing.ts) is valid", () => {
    // The specification's reference vector, as signing.test.ts uses it.
    const sig = dispatcherSign(WHSEC, 'msg_p5jXN8AQM9LWM0D4loKWxJek', 1614265330, '{"test": 2432232314}');
    const headers = ['webhook-id', 'msg_p5jXN8AQM9LWM0D4loKWxJek', 'webhook-timestamp', '1614265330', 'webhook-signature', sig];
    const r = check(settings([{ type: 'standard-webhooks', secrets: [WHSEC] }]), headers, '{"test": 2432232314}', 1614265330_000);
    expect(r.status).toBe('valid');
  });
});
