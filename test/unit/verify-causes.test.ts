// Issue 14: a failed check says what was signed, what each secret would have given, what came,
// and why: each cause here is produced by the mistake itself, made with the senders' libraries.
import { createHmac } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { refineCauses, verify } from '../../server/verify/index.ts';
import { SecretEvidence } from '../../server/verify/evidence.ts';
import { Verification, type VerificationT, VerifySettingsInput, type VerifySettingsT } from '../../shared/schema/verify.ts';

const NOW = 1_700_000_000_000;
const TS = NOW / 1000;
const WHSEC = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const OTHER = 'whsec_c2Vjb25kIHNlY3JldCBmb3IgdGVzdGluZyByb3RhdGlvbg==';
const STRIPE = 'whsec_1234567890abcdefghijklmnopqrstuv';
const OBJ = { type: 'invoice.paid', data: { id: 'in_1', amount: 1200, tags: ['a', 'b'], note: 'café' } };
const BODY = JSON.stringify(OBJ);
const stripe = new Stripe('sk_test_hooklab');

const settings = (schemes: unknown[]): VerifySettingsT => VerifySettingsInput.parse({ schemes });
const SW = settings([{ type: 'standard-webhooks', secrets: [WHSEC] }]);

function check(s: VerifySettingsT | null, headers: string[], body: Buffer | string, extra: { truncated?: boolean; now?: number } = {}): VerificationT {
  const r = verify(s, { headers, body: Buffer.isBuffer(body) ? body : Buffer.from(body), truncated: extra.truncated }, extra.now ?? NOW);
  Verification.parse(r);
  // Results may show expected signatures (that is the point), never a secret.
  for (const secret of [WHSEC, OTHER, STRIPE, 'gh-secret', 'wrong-gh-secret']) expect(JSON.stringify(r)).not.toContain(secret);
  return r;
}

/** Standard Webhooks headers, signed by the library over `signedBody`. */
function swHeaders(signedBody: string, opts: { secret?: string; id?: string; ts?: number } = {}) {
  const id = opts.id ?? 'msg_1';
  const ts = opts.ts ?? TS;
  const sig = new StandardWebhook(opts.secret ?? WHSEC).sign(id, new Date(ts * 1000), signedBody);
  return ['webhook-id', id, 'webhook-timestamp', String(ts), 'webhook-signature', sig];
}

describe('verify: invalid, with the cause', () => {
  beforeAll(() => vi.useFakeTimers({ now: NOW, toFake: ['Date'] }));
  afterAll(() => vi.useRealTimers());

  it('a flipped body byte: body_changed, with the signed string, expected and received signatures', () => {
    const headers = swHeaders(BODY);
    const tampered = Buffer.from(BODY);
    tampered[20] ^= 0x01;
    const lib = new StandardWebhook(WHSEC);
    expect(() => lib.verify(tampered.toString(), Object.fromEntries([[headers[0], headers[1]], [headers[2], headers[3]], [headers[4], headers[5]]]))).toThrow();

    const r = check(SW, headers, tampered);
    expect(r).toMatchObject({ status: 'invalid', scheme: 'standard-webhooks', schemeIndex: 0, skewSec: 0 });
    expect(r.details?.cause).toBe('body_changed');
    expect(r.details?.header).toBe('webhook-signature');
    expect(r.details?.signed).toEqual({ text: `msg_1.${TS}.${tampered.toString()}`, encoding: 'utf8', bytes: `msg_1.${TS}.`.length + tampered.length, truncated: false });
    // What the secret gives over the received bytes, exactly as the library would sign them.
    expect(r.details?.expected).toEqual([{ secretIndex: 0, signature: lib.sign('msg_1', new Date(NOW), tampered.toString()) }]);
    expect(r.details?.received).toEqual([headers[5]]);
    expect(r.details?.timestamp).toBe(TS);
  });

  it('a wrong secret: one request alone cannot tell it from a changed body', () => {
    const r = check(SW, swHeaders(BODY, { secret: OTHER }), BODY);
    expect(r.status).toBe('invalid');
    expect(r.details?.cause).toBe('body_changed');
    expect(r.details?.message).toMatch(/secret/);
  });

  it("a wrong secret: another configured scheme's secret is named", () => {
    const s = settings([
      { type: 'standard-webhooks', secrets: [WHSEC] },
      { type: 'stripe', secrets: [STRIPE, OTHER] },
    ]);
    const r = check(s, swHeaders(BODY, { secret: OTHER }), BODY);
    expect(r.details).toMatchObject({ cause: 'wrong_secret', matched: { schemeIndex: 1, secretIndex: 1 } });
    // Text for people counts from 1 as the UI does ("secret #2", "Scheme 2"); the fields stay 0-based.
    expect(r.details?.message).toBe("Signed with secret #2 of scheme 2 (stripe), not with one of this scheme's secrets.");
    expect(r.details?.matched?.how).toBe('secret #2 of scheme 2 (stripe) as the key');
  });

  it("a wrong secret: the bin's captures tell it (refineCauses)", () => {
    const bad = [check(SW, swHeaders(BODY, { secret: OTHER, id: 'msg_a' }), BODY), check(SW, swHeaders('{"b":1}', { secret: OTHER, id: 'msg_b' }), '{"b":1}')];
    const refined = refineCauses(bad);
    expect(refined.map((v) => v.details?.cause)).toEqual(['wrong_secret', 'wrong_secret']);
    expect(refined[0].details?.message).toMatch(/another secret/);
    // One lone failure is no evidence either way.
    expect(refineCauses(bad.slice(0, 1))[0]).toBe(bad[0]);

    // A changed body among captures that verify stays body_changed, with the reason.
    const good = check(SW, swHeaders(BODY), BODY);
    const changed = check(SW, swHeaders(BODY, { id: 'msg_c' }), BODY.replace('1200', '1300'));
    const mixed = refineCauses([good, changed, bad[0]]);
    expect(mixed[0]).toBe(good);
    expect(mixed.slice(1).map((v) => v.details?.cause)).toEqual(['body_changed', 'body_changed']);
    expect(mixed[1].details?.message).toMatch(/verify other captures/);
  });

  it('captures checked as they come get the cause a re-check would give (SecretEvidence)', () => {
    const bad = (i: number) => check(SW, swHeaders(`{"b":${i}}`, { secret: OTHER, id: `msg_${i}` }), `{"b":${i}}`);
    // Unknown (nothing seen since start): the result as it is, and a re-check asked for.
    const fresh = new SecretEvidence();
    expect(fresh.add(bad(0), 'c1')).toMatchObject({ refresh: true, v: { details: { cause: 'body_changed' } } });

    // Known from a re-check of an empty bin: the first failure alone tells nothing...
    const e = new SecretEvidence();
    e.seed([]);
    const first = e.add(bad(1), 'c2');
    expect(first).toMatchObject({ refresh: false, v: { details: { cause: 'body_changed' } } });
    // ...the second shows the pattern: wrong_secret, and the first must be told again.
    expect(e.add(bad(2), 'c3')).toMatchObject({ refresh: true, v: { details: { cause: 'wrong_secret' } } });
    expect(e.add(bad(3), 'c4')).toMatchObject({ refresh: false, v: { details: { cause: 'wrong_secret' } } });
    // A valid one proves the secret after all: those told wrong_secret must be told again.
    const good = check(SW, swHeaders(BODY), BODY);
    expect(e.add(good, 'c5')).toEqual({ v: good, refresh: true });
    expect(e.add(check(SW, swHeaders(BODY), BODY), 'c6').refresh).toBe(false);
    const changed = e.add(check(SW, swHeaders(BODY, { id: 'msg_c' }), BODY.replace('1200', '1300')), 'c7');
    expect(changed).toMatchObject({ refresh: false, v: { details: { cause: 'body_changed' } } });
    expect(changed.v.details?.message).toMatch(/verify other captures/);

    // Seeded from a re-check that saw a valid capture: failures are changed bytes at once.
    const proven = new SecretEvidence();
    proven.seed([{ id: 'g', v: good }]);
    expect(proven.add(bad(4), 'c8')).toMatchObject({ refresh: false, v: { details: { cause: 'body_changed', message: expect.stringMatching(/verify other captures/) } } });
    // Seeded with two failures: the next one is wrong_secret without a re-check.
    const failing = new SecretEvidence();
    failing.seed([{ id: 'b5', v: bad(5) }, { id: 'b6', v: bad(6) }]);
    expect(failing.add(bad(7), 'c9')).toMatchObject({ refresh: false, v: { details: { cause: 'wrong_secret' } } });
  });

  it('a re-check counts the captures checked while it ran, once each (SecretEvidence.begin)', () => {
    const bad = (i: number) => check(SW, swHeaders(`{"b":${i}}`, { secret: OTHER, id: `msg_${i}` }), `{"b":${i}}`);
    // The re-check reads the bin (empty), then a capture comes and is checked (f1) before the
    // re-check is done: f1 is not in its results, yet it must count (the next failure is the
    // second: wrong_secret; before, f1 was forgotten and it read body_changed).
    const e = new SecretEvidence();
    e.begin();
    e.add(bad(1), 'f1');
    e.seed([]);
    expect(e.add(bad(2), 'f2')).toMatchObject({ refresh: true, v: { details: { cause: 'wrong_secret' } } });
    // A capture both checked as it came and in the re-check's results counts once: after it,
    // one more failure is only the second.
    const once = new SecretEvidence();
    once.begin();
    once.add(bad(1), 'f1');
    once.seed([{ id: 'f1', v: bad(1) }]);
    expect(once.add(bad(2), 'f2')).toMatchObject({ refresh: true, v: { details: { cause: 'wrong_secret' } } });
    // A re-check that ended without a seed (its store failed) keeps nothing from then on: a
    // later seed does not count what was added after it ended (the next re-check covers that).
    const failed = new SecretEvidence();
    failed.begin();
    failed.abort();
    failed.add(bad(1), 'f1');
    failed.seed([]);
    expect(failed.add(bad(2), 'f2')).toMatchObject({ refresh: false, v: { details: { cause: 'body_changed' } } });
    // Without begin, what came before the seed does not count (the re-check covered it).
    const none = new SecretEvidence();
    none.add(bad(1), 'f1');
    none.seed([]);
    expect(none.add(bad(2), 'f2')).toMatchObject({ refresh: false, v: { details: { cause: 'body_changed' } } });
  });

  it('captures that leave the bin count no more, and a turn asks for a re-check (SecretEvidence.forget)', () => {
    const bad = (i: number) => check(SW, swHeaders(`{"b":${i}}`, { secret: OTHER, id: `msg_${i}` }), `{"b":${i}}`);
    const good = check(SW, swHeaders(BODY), BODY);
    const e = new SecretEvidence();
    e.seed([{ id: 'g', v: good }, { id: 'b1', v: bad(1) }, { id: 'b2', v: bad(2) }]);
    expect(e.add(bad(3), 'b3').v.details?.message).toMatch(/verify other captures/);
    // The only valid capture deleted: nothing proves the secret, three fail alike.
    expect(e.forget(['g'])).toBe(true);
    expect(e.add(bad(4), 'b4')).toMatchObject({ refresh: false, v: { details: { cause: 'wrong_secret' } } });
    // Failures down to one: those told wrong_secret are changed bodies again.
    expect(e.forget(['b1', 'b2', 'b3'])).toBe(true);
    // Ids it never counted, or a change that turns nothing: no re-check.
    expect(e.forget(['elsewhere'])).toBe(false);
    expect(e.add(good, 'g2').refresh).toBe(false);
    expect(e.forget(['b4'])).toBe(false);
    // Cleared: nothing the bin held counts (this failure is a lone one, proven by nothing).
    expect(e.forget('all')).toBe(false);
    const after = e.add(bad(5), 'b5');
    expect(after).toMatchObject({ refresh: false, v: { details: { cause: 'body_changed' } } });
    expect(after.v.details?.message).not.toMatch(/verify other captures/);
    // While a re-check runs its results may hold what left: it is run again.
    const running = new SecretEvidence();
    running.begin();
    expect(running.forget(['x'])).toBe(true);
  });

  describe('the other schemes: a flipped body byte, a wrong secret, a stale timestamp', () => {
    const mac = (alg: string, key: string, data: string, enc: 'hex' | 'base64' = 'hex') => createHmac(alg, key).update(data).digest(enc);
    const flip = (b: string) => b.replace('1200', '1201');
    // Each case: settings with secret 'right', and the headers a sender with `key` writes for `body` at TS.
    const cases: { name: string; s: VerifySettingsT; headers: (key: string, body: string, ts?: number) => string[]; timed: boolean }[] = [
      { name: 'github', s: settings([{ type: 'github', secrets: ['right'] }]), headers: (k, b) => ['X-Hub-Signature-256', `sha256=${mac('sha256', k, b)}`], timed: false },
      { name: 'shopify', s: settings([{ type: 'shopify', secrets: ['right'] }]), headers: (k, b) => ['X-Shopify-Hmac-Sha256', mac('sha256', k, b, 'base64')], timed: false },
      {
        name: 'slack',
        s: settings([{ type: 'slack', secrets: ['right'] }]),
        headers: (k, b, ts = TS) => ['X-Slack-Request-Timestamp', String(ts), 'X-Slack-Signature', `v0=${mac('sha256', k, `v0:${ts}:${b}`)}`],
        timed: true,
      },
      {
        name: 'hmac (sha1, base64, prefix)',
        s: settings([{ type: 'hmac', secrets: ['right'], header: 'X-Sig', algorithm: 'sha1', encoding: 'base64', prefix: 'sha1=' }]),
        headers: (k, b) => ['X-Sig', `sha1=${mac('sha1', k, b, 'base64')}`],
        timed: false,
      },
      {
        name: 'hmac (sha512, timestamp+body)',
        s: settings([{ type: 'hmac', secrets: ['right'], header: 'X-Sig', algorithm: 'sha512', encoding: 'hex', signed: 'timestamp+body', timestampHeader: 'X-Ts', separator: ':' }]),
        headers: (k, b, ts = TS) => ['X-Ts', String(ts), 'X-Sig', mac('sha512', k, `${ts}:${b}`)],
        timed: true,
      },
    ];
    for (const c of cases) {
      it(c.name, () => {
        expect(check(c.s, c.headers('right', BODY), BODY).status).toBe('valid');
        // A flipped byte: invalid, what was signed shows the byte as it came, the expected signature is the right one's.
        const changed = check(c.s, c.headers('right', BODY), flip(BODY));
        expect(changed).toMatchObject({ status: 'invalid', details: { cause: 'body_changed' } });
        expect(changed.details!.signed!.text).toContain('1201');
        expect(changed.details!.expected).toHaveLength(1);
        // A wrong secret: alone it reads as changed bytes; two alike tell it.
        const wrong = [check(c.s, c.headers('wrong', BODY), BODY), check(c.s, c.headers('wrong', '{"x":1}'), '{"x":1}')];
        expect(refineCauses(wrong).map((v) => v.details?.cause)).toEqual(['wrong_secret', 'wrong_secret']);
        // Beside a capture that verifies, a failure is a changed body again.
        expect(refineCauses([check(c.s, c.headers('right', BODY), BODY), changed])[1].details?.cause).toBe('body_changed');
        if (c.timed) {
          expect(check(c.s, c.headers('right', BODY, TS - 3600), BODY)).toMatchObject({ status: 'expired', skewSec: 3600, details: { toleranceSec: 300 } });
        }
      });
    }
  });

  it('a stale timestamp: expired with the skew; a future one too; within the tolerance: valid', () => {
    expect(check(SW, swHeaders(BODY, { ts: TS - 600 }), BODY)).toMatchObject({ status: 'expired', secretIndex: 0, skewSec: 600, details: { timestamp: TS - 600, toleranceSec: 300 } });
    expect(check(SW, swHeaders(BODY, { ts: TS + 400 }), BODY)).toMatchObject({ status: 'expired', skewSec: -400 });
    expect(check(SW, swHeaders(BODY, { ts: TS - 300 }), BODY)).toMatchObject({ status: 'valid', skewSec: 300 });
    const lax = settings([{ type: 'standard-webhooks', secrets: [WHSEC], toleranceSec: 3600 }]);
    expect(check(lax, swHeaders(BODY, { ts: TS - 600 }), BODY)).toMatchObject({ status: 'valid', skewSec: 600 });

    const stale = stripe.webhooks.generateTestHeaderString({ payload: BODY, secret: STRIPE, timestamp: TS - 1000 });
    expect(() => stripe.webhooks.constructEvent(BODY, stale, STRIPE)).toThrow(/tolerance/);
    expect(check(settings([{ type: 'stripe', secrets: [STRIPE] }]), ['Stripe-Signature', stale], BODY)).toMatchObject({ status: 'expired', scheme: 'stripe', skewSec: 1000 });

    const ts = String(TS - 301);
    const slackSig = `v0=${createHmac('sha256', 'slack-secret').update(`v0:${ts}:${BODY}`).digest('hex')}`;
    const slack = settings([{ type: 'slack', secrets: ['slack-secret'] }]);
    expect(check(slack, ['X-Slack-Request-Timestamp', ts, 'X-Slack-Signature', slackSig], BODY)).toMatchObject({ status: 'expired', skewSec: 301 });
  });

  it('signed, then compressed (Content-Encoding: gzip): signed_before_compression, naming the encoding; a gzip body signed as sent is valid', () => {
    const gz = gzipSync(Buffer.from(BODY));
    const gh = settings([{ type: 'github', secrets: ['gh-secret'] }]);
    const over = (b: Buffer | string) => `sha256=${createHmac('sha256', 'gh-secret').update(b).digest('hex')}`;
    const r = check(gh, ['Content-Encoding', 'gzip', 'X-Hub-Signature-256', over(BODY)], gz);
    expect(r).toMatchObject({ status: 'invalid', details: { cause: 'signed_before_compression', matched: { schemeIndex: 0, secretIndex: 0, how: 'the body before its Content-Encoding (gzip)' } } });
    expect(r.details!.message).toContain('signed the body before compressing it (Content-Encoding: gzip)');
    expect(check(gh, ['Content-Encoding', 'gzip', 'X-Hub-Signature-256', over(gz)], gz).status).toBe('valid');
    // What inflates past 64 KiB is not tried (a few hundred bytes of gzip, every secret HMACing megabytes).
    const big = Buffer.alloc(65 * 1024, 32);
    expect(check(gh, ['Content-Encoding', 'gzip', 'X-Hub-Signature-256', over(big.toString())], gzipSync(big)).details!.cause).toBe('body_changed');
    const small = Buffer.alloc(63 * 1024, 32);
    expect(check(gh, ['Content-Encoding', 'gzip', 'X-Hub-Signature-256', over(small.toString())], gzipSync(small)).details!.cause).toBe('signed_before_compression');
    // Not gzip after all: the usual judgement, no throw.
    expect(check(gh, ['Content-Encoding', 'gzip', 'X-Hub-Signature-256', over(BODY)], 'not gzip').details!.cause).toBe('body_changed');
  });

  it('a Stripe secret saved without its "whsec_" prefix: the cause says so (Stripe signs with the whole text)', () => {
    const header = stripe.webhooks.generateTestHeaderString({ payload: BODY, secret: STRIPE, timestamp: TS });
    const r = check(settings([{ type: 'stripe', secrets: [STRIPE.slice('whsec_'.length)] }]), ['Stripe-Signature', header], BODY);
    expect(r).toMatchObject({ status: 'invalid', details: { cause: 'wrong_secret', matched: { schemeIndex: 0, secretIndex: 0 } } });
    expect(r.details!.message).toBe('The signature is secret #1\'s, made with the secret with "whsec_" before it: Stripe signs with the whole "whsec_…" text, and the one saved here lacks the prefix.');
  });

  it('a stale timestamp and a bad signature: invalid (the signature is the bigger problem), with the skew', () => {
    const r = check(SW, swHeaders(BODY, { ts: TS - 600 }), `${BODY} `);
    expect(r).toMatchObject({ status: 'invalid', skewSec: 600 });
  });

  it('JSON re-serialised with other spacing: reserialized_json, naming the re-serialisation', () => {
    // The sender signed a pretty copy but sent it compact …
    let r = check(SW, swHeaders(JSON.stringify(OBJ, null, 2)), BODY);
    expect(r.details).toMatchObject({ cause: 'reserialized_json', matched: { schemeIndex: 0, secretIndex: 0, how: 'JSON.stringify(JSON.parse(body), null, 2)' } });
    // … or signed compact and sent it pretty.
    r = check(SW, swHeaders(BODY), JSON.stringify(OBJ, null, 2));
    expect(r.details).toMatchObject({ cause: 'reserialized_json', matched: { how: 'JSON.stringify(JSON.parse(body))' } });
    // Python's json.dumps defaults (", " and ": ", non-ASCII escaped), Stripe's scheme.
    const python = '{"type": "invoice.paid", "data": {"id": "in_1", "amount": 1200, "tags": ["a", "b"], "note": "caf\\u00e9"}}';
    const header = stripe.webhooks.generateTestHeaderString({ payload: python, secret: STRIPE, timestamp: TS });
    r = check(settings([{ type: 'stripe', secrets: [STRIPE] }]), ['Stripe-Signature', header], BODY);
    expect(r.details).toMatchObject({ cause: 'reserialized_json', matched: { how: expect.stringMatching(/^json\.dumps/) } });
    // Sorted keys.
    const sorted = '{"data":{"amount":1200,"id":"in_1","note":"café","tags":["a","b"]},"type":"invoice.paid"}';
    r = check(SW, swHeaders(sorted), BODY);
    expect(r.details?.cause).toBe('reserialized_json');
  });

  it('the "whsec_" text used as the key: secret_not_decoded (both ways senders get it wrong)', () => {
    const head = `msg_1.${TS}.`;
    for (const [key, how] of [
      [WHSEC, /whole "whsec_…" text/],
      [WHSEC.slice(6), /base64 text after "whsec_"/],
    ] as const) {
      const sig = `v1,${createHmac('sha256', key).update(head + BODY).digest('base64')}`;
      const r = check(SW, ['webhook-id', 'msg_1', 'webhook-timestamp', String(TS), 'webhook-signature', sig], BODY);
      expect(r.details).toMatchObject({ cause: 'secret_not_decoded', matched: { schemeIndex: 0, secretIndex: 0, how: expect.stringMatching(how) } });
      expect(r.details?.message).toMatch(/^The signature is secret #1's, made with /);
    }
  });

  it('a Stripe secret decoded as Standard Webhooks does: secret_decoded', () => {
    const sig = createHmac('sha256', Buffer.from(STRIPE.slice(6), 'base64')).update(`${TS}.${BODY}`).digest('hex');
    const r = check(settings([{ type: 'stripe', secrets: [STRIPE] }]), ['Stripe-Signature', `t=${TS},v1=${sig}`], BODY);
    expect(r.details).toMatchObject({ cause: 'secret_decoded', matched: { secretIndex: 0 } });
  });

  it('the timestamp that is signed is not there: timestamp_missing', () => {
    const sw = swHeaders(BODY);
    expect(check(SW, [sw[0], sw[1], sw[4], sw[5]], BODY)).toMatchObject({ status: 'invalid', details: { cause: 'timestamp_missing', message: expect.stringMatching(/webhook-timestamp/) } });
    const slack = settings([{ type: 'slack', secrets: ['slack-secret'] }]);
    expect(check(slack, ['X-Slack-Signature', 'v0=00'], BODY).details?.cause).toBe('timestamp_missing');
    const st = settings([{ type: 'stripe', secrets: [STRIPE] }]);
    expect(check(st, ['Stripe-Signature', `v1=${'0'.repeat(64)}`], BODY).details?.cause).toBe('timestamp_missing');
    const hm = settings([{ type: 'hmac', secrets: ['k'], header: 'X-Sig', algorithm: 'sha256', encoding: 'hex', signed: 'timestamp+body', timestampHeader: 'X-Ts' }]);
    expect(check(hm, ['X-Sig', '00'], BODY).details).toMatchObject({ cause: 'timestamp_missing', message: expect.stringMatching(/X-Ts/) });
  });

  it('an unreadable signature header: malformed_header', () => {
    const sw = swHeaders(BODY);
    const bad = (sig: string) => check(SW, [sw[0], sw[1], sw[2], sw[3], 'webhook-signature', sig], BODY);
    expect(bad('v1,not base64!!').details?.cause).toBe('malformed_header');
    expect(bad('v1,AAAA').details).toMatchObject({ cause: 'malformed_header', expected: [{ secretIndex: 0 }] }); // 3 bytes, not 32
    expect(bad('v1a,c29tZSBlZDI1NTE5IHNpZ25hdHVyZQ==').details).toMatchObject({ cause: 'malformed_header', message: expect.stringMatching(/v1a/) });
    expect(check(settings([{ type: 'stripe', secrets: [STRIPE] }]), ['Stripe-Signature', `t=${TS},v0=abcd`], BODY).details?.cause).toBe('malformed_header');
    const gh = settings([{ type: 'github', secrets: ['gh-secret'] }]);
    expect(check(gh, ['X-Hub-Signature-256', `sha1=${'0'.repeat(40)}`], BODY).details?.cause).toBe('malformed_header');
    // A right signature over a timestamp that is not a number: the libraries (parseInt) refuse it before checking.
    const sig = `v1,${createHmac('sha256', Buffer.from(WHSEC.slice(6), 'base64')).update(`msg_1.soon.${BODY}`).digest('base64')}`;
    const soon = check(SW, ['webhook-id', 'msg_1', 'webhook-timestamp', 'soon', 'webhook-signature', sig], BODY);
    expect(soon).toMatchObject({ status: 'invalid', details: { cause: 'malformed_header', message: expect.stringMatching(/"soon" is no number.*parseInt/) } });
    expect(soon.secretIndex).toBeUndefined();
  });

  it('a body stored truncated: body_truncated', () => {
    const r = check(SW, swHeaders(BODY), BODY.slice(0, 10), { truncated: true });
    expect(r.details?.cause).toBe('body_truncated');
  });

  it('shows only the first 256 bytes of a long signed string, and its length', () => {
    const long = JSON.stringify({ pad: 'é'.repeat(2000) });
    const r = check(settings([{ type: 'github', secrets: ['gh-secret'] }]), ['X-Hub-Signature-256', `sha256=${'ab'.repeat(32)}`], long);
    expect(r.details?.signed).toMatchObject({ encoding: 'utf8', bytes: Buffer.byteLength(long), truncated: true });
    expect(Buffer.byteLength(r.details!.signed!.text)).toBeLessThanOrEqual(256);
    expect(long.startsWith(r.details!.signed!.text)).toBe(true);
    const bin = check(settings([{ type: 'shopify', secrets: ['s'] }]), ['X-Shopify-Hmac-Sha256', 'AAAA'], Buffer.from([0xff, 0xfe, 0x00]));
    expect(bin.details?.signed).toEqual({ text: '//4A', encoding: 'base64', bytes: 3, truncated: false });
  });
});

describe('verify: which scheme decides', () => {
  it('unchecked without settings; missing without any configured signature header', () => {
    expect(check(null, [], BODY)).toEqual({ status: 'unchecked' });
    expect(check(settings([]), [], BODY)).toEqual({ status: 'unchecked' });
    const s = settings([{ type: 'standard-webhooks', secrets: [WHSEC] }, { type: 'stripe', secrets: [STRIPE] }]);
    const r = check(s, ['X-Hub-Signature-256', 'sha256=00', 'content-type', 'application/json'], BODY);
    expect(r.status).toBe('missing');
    expect(r.details?.message).toMatch(/webhook-signature, svix-signature, Stripe-Signature/);
  });

  it('the scheme whose header the request carries decides', () => {
    const s = settings([
      { type: 'github', secrets: ['gh-secret'] },
      { type: 'stripe', secrets: [STRIPE] },
      { type: 'standard-webhooks', secrets: [WHSEC] },
    ]);
    const header = stripe.webhooks.generateTestHeaderString({ payload: BODY, secret: STRIPE, timestamp: TS });
    expect(check(s, ['Stripe-Signature', header], BODY)).toMatchObject({ status: 'valid', scheme: 'stripe', schemeIndex: 1 });
    expect(check(s, swHeaders(BODY), BODY)).toMatchObject({ status: 'valid', scheme: 'standard-webhooks', schemeIndex: 2 });
    // Two carried, one valid: the valid one answers; both invalid: the first configured.
    expect(check(s, ['X-Hub-Signature-256', 'sha256=00', 'Stripe-Signature', header], BODY)).toMatchObject({ status: 'valid', scheme: 'stripe' });
    expect(check(s, ['X-Hub-Signature-256', `sha256=${'0'.repeat(64)}`, ...swHeaders('x')], BODY)).toMatchObject({ status: 'invalid', scheme: 'github', schemeIndex: 0 });
  });

  it('the same type twice (two accounts): either verifies', () => {
    const s = settings([{ type: 'github', secrets: ['gh-secret'] }, { type: 'github', secrets: ['wrong-gh-secret'] }]);
    const sig = `sha256=${createHmac('sha256', 'wrong-gh-secret').update(BODY).digest('hex')}`;
    expect(check(s, ['X-Hub-Signature-256', sig], BODY)).toMatchObject({ status: 'valid', schemeIndex: 1, secretIndex: 0 });
  });
});
