// A signature header sent on two lines (raw HTTP). A Node receiver gets them as one value
// joined with ", ", and that value is what the provider's library judges: @octokit/webhooks and
// Slack's SDKs compare it whole (so refuse it), stripe-node reads it as one list, the
// standardwebhooks/svix libraries split signatures on spaces, sign a repeated id joined and
// read a repeated timestamp with parseInt. Before, hooklab checked each line on its own and
// called GitHub, Slack, Shopify and generic-HMAC requests with one right line valid, and a
// Stripe one "body_changed" with a skew from the bogus t=.
import { createHmac } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import { Webhooks as OctokitWebhooks } from '@octokit/webhooks';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import Stripe from 'stripe';
import { Webhook as SvixWebhook } from 'svix';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RequestDetail } from '../../shared/api.ts';
import { rawCapture } from '../helpers/http.ts';
import { createBin, json, startServer, type TestServer } from '../helpers/server.ts';
import { until } from '../helpers/until.ts';

let srv: TestServer;
/** A plain Node receiver: what req.headers holds for the same bytes (the libraries' input). */
let node: http.Server;
let nodeBase = '';
let seen: http.IncomingHttpHeaders = {};
beforeAll(async () => {
  srv = await startServer();
  node = http.createServer((req, res) => {
    seen = req.headers;
    req.resume();
    req.on('end', () => res.end());
  });
  await new Promise<void>((r) => node.listen(0, '127.0.0.1', r));
  nodeBase = `http://127.0.0.1:${(node.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((r) => node.close(r));
  await srv.cleanup();
});

const head = (path: string, host: string, lines: string[], body: string) =>
  `POST ${path} HTTP/1.1\r\nHost: ${host}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n${lines.map((l) => `${l}\r\n`).join('')}\r\n${body}`;

/** The same request to the plain Node receiver: its req.headers. */
function nodeHeaders(lines: string[], body: string): Promise<http.IncomingHttpHeaders> {
  const u = new URL(nodeBase);
  return new Promise((resolve, reject) => {
    const s = net.connect(Number(u.port), u.hostname);
    s.on('error', reject);
    s.on('data', () => {});
    s.on('close', () => resolve(seen));
    s.write(head('/', u.host, lines, body));
  });
}

async function bin(schemes: unknown[]) {
  const b = await createBin(srv.base);
  const put = await json(srv.base, 'PUT', `/api/bins/${b.id}/verify`, { schemes });
  expect(put.status).toBe(200);
  return b;
}

/** Sends the lines raw to the bin and answers the capture's verdict once checked. */
async function verdict(b: { id: string; url: string }, lines: string[], body: string) {
  const u = new URL(b.url);
  const id = await rawCapture(b.url, head(u.pathname, u.host, lines, body));
  let d: RequestDetail | undefined;
  await until(async () => (d = (await json<RequestDetail>(srv.base, 'GET', `/api/bins/${b.id}/requests/${id}`)).body).verification !== undefined, 'verdict');
  return d!.verification!;
}

const hex = (key: string, data: string) => createHmac('sha256', key).update(data).digest('hex');
const now = () => Math.floor(Date.now() / 1000);

describe('a signature header sent on two lines is judged as the one value a Node receiver gets', () => {
  it('GitHub: invalid, malformed_header naming X-Hub-Signature-256, as @octokit/webhooks says', async () => {
    const secret = 'gh-secret';
    const body = '{"action":"opened"}';
    const good = `sha256=${hex(secret, body)}`;
    const b = await bin([{ type: 'github', secrets: [secret] }]);
    const octokit = new OctokitWebhooks({ secret });
    expect(await verdict(b, [`X-Hub-Signature-256: ${good}`], body)).toMatchObject({ status: 'valid' });
    for (const lines of [
      ['X-Hub-Signature-256: sha256=00', `X-Hub-Signature-256: ${good}`],
      [`X-Hub-Signature-256: ${good}`, `x-hub-signature-256: ${good}`],
    ]) {
      const joined = (await nodeHeaders(lines, body))['x-hub-signature-256'] as string;
      expect(joined).toContain(', ');
      expect(await octokit.verify(body, joined)).toBe(false);
      const v = await verdict(b, lines, body);
      expect(v).toMatchObject({ status: 'invalid', scheme: 'github', details: { cause: 'malformed_header', header: 'X-Hub-Signature-256' } });
      expect(v.details!.message).toMatch(/^X-Hub-Signature-256 is sent on 2 lines: .*@octokit\/webhooks/);
    }
  });

  it('Slack: invalid when X-Slack-Signature or X-Slack-Request-Timestamp is repeated', async () => {
    const secret = 'slack-signing-secret';
    const body = 'token=x&text=hi';
    const ts = now();
    const good = `v0=${hex(secret, `v0:${ts}:${body}`)}`;
    const b = await bin([{ type: 'slack', secrets: [secret] }]);
    expect(await verdict(b, [`X-Slack-Request-Timestamp: ${ts}`, `X-Slack-Signature: ${good}`], body)).toMatchObject({ status: 'valid' });
    // No Slack SDK in node_modules: Bolt compares the whole X-Slack-Signature it gets and reads the timestamp with Number().
    const sigs = [`X-Slack-Request-Timestamp: ${ts}`, 'X-Slack-Signature: v0=00', `X-Slack-Signature: ${good}`];
    expect((await nodeHeaders(sigs, body))['x-slack-signature']).toBe(`v0=00, ${good}`);
    const twoSigs = await verdict(b, sigs, body);
    expect(twoSigs).toMatchObject({ status: 'invalid', details: { cause: 'malformed_header', header: 'X-Slack-Signature' } });
    expect(twoSigs.details!.message).toMatch(/^X-Slack-Signature is sent on 2 lines/);
    const stamps = [`X-Slack-Request-Timestamp: ${ts}`, `X-Slack-Request-Timestamp: ${ts}`, `X-Slack-Signature: ${good}`];
    expect(Number((await nodeHeaders(stamps, body))['x-slack-request-timestamp'])).toBeNaN();
    const twoStamps = await verdict(b, stamps, body);
    expect(twoStamps).toMatchObject({ status: 'invalid', details: { cause: 'malformed_header' } });
    expect(twoStamps.details!.message).toMatch(/^X-Slack-Request-Timestamp is sent on 2 lines/);
  });

  it('Shopify and a generic HMAC: invalid, malformed_header', async () => {
    const secret = 'shpss_0123456789abcdef';
    const body = '{"id":1}';
    const good = createHmac('sha256', secret).update(body).digest('base64');
    const shop = await bin([{ type: 'shopify', secrets: [secret] }]);
    expect(await verdict(shop, [`X-Shopify-Hmac-Sha256: ${good}`], body)).toMatchObject({ status: 'valid' });
    const lines = ['X-Shopify-Hmac-Sha256: AAAA', `X-Shopify-Hmac-Sha256: ${good}`];
    expect((await nodeHeaders(lines, body))['x-shopify-hmac-sha256']).not.toBe(good);
    expect(await verdict(shop, lines, body)).toMatchObject({ status: 'invalid', details: { cause: 'malformed_header', message: expect.stringMatching(/^X-Shopify-Hmac-Sha256 is sent on 2 lines/) } });

    const hm = await bin([{ type: 'hmac', secrets: ['s'], header: 'x-sig', algorithm: 'sha256', encoding: 'hex', signed: 'timestamp+body', timestampHeader: 'x-ts', separator: ':' }]);
    const ts = now();
    const sig = hex('s', `${ts}:${body}`);
    expect(await verdict(hm, [`x-ts: ${ts}`, `x-sig: ${sig}`], body)).toMatchObject({ status: 'valid' });
    expect(await verdict(hm, [`x-ts: ${ts}`, 'x-sig: 00', `x-sig: ${sig}`], body)).toMatchObject({ status: 'invalid', details: { cause: 'malformed_header', message: expect.stringMatching(/^x-sig is sent on 2 lines/) } });
    expect(await verdict(hm, [`x-ts: ${ts}`, `x-ts: ${ts}`, `x-sig: ${sig}`], body)).toMatchObject({ status: 'invalid', details: { cause: 'malformed_header', message: expect.stringMatching(/^x-ts is sent on 2 lines/) } });

    // A header Node keeps once (Authorization): a receiver gets the first line, judged alone.
    const auth = await bin([{ type: 'hmac', secrets: ['s'], header: 'Authorization', algorithm: 'sha256', encoding: 'hex' }]);
    const plain = hex('s', body);
    const rightFirst = [`Authorization: ${plain}`, 'Authorization: 00'];
    expect((await nodeHeaders(rightFirst, body)).authorization).toBe(plain);
    expect(await verdict(auth, rightFirst, body)).toMatchObject({ status: 'valid' });
    const rightSecond = ['Authorization: 00', `Authorization: ${plain}`];
    expect((await nodeHeaders(rightSecond, body)).authorization).toBe('00');
    expect(await verdict(auth, rightSecond, body)).toMatchObject({ status: 'invalid' });
  });

  it('Stripe: what stripe-node refuses is malformed_header naming Stripe-Signature, with no skew; what it accepts stays valid', async () => {
    const secret = 'whsec_test_repeated_0123456789';
    const body = '{"id":"evt_1","object":"event"}';
    const stripe = new Stripe('sk_test_hooklab');
    const good = stripe.webhooks.generateTestHeaderString({ payload: body, secret });
    const b = await bin([{ type: 'stripe', secrets: [secret] }]);
    const badFirst = ['Stripe-Signature: t=1,v1=00', `Stripe-Signature: ${good}`];
    const joinedBad = (await nodeHeaders(badFirst, body))['stripe-signature'] as string;
    expect(() => stripe.webhooks.constructEvent(body, joinedBad, secret)).toThrow(/No signatures found/);
    const v = await verdict(b, badFirst, body);
    expect(v).toMatchObject({ status: 'invalid', scheme: 'stripe', details: { cause: 'malformed_header', header: 'Stripe-Signature' } });
    expect(v.details!.message).toMatch(/^Stripe-Signature is sent on 2 lines: .*stripe-node/);
    expect(v.skewSec).toBeUndefined();

    // The right v1= alone on the second line: joined, it starts with a space, which stripe-node
    // reads as no signature. Its cause is the repeat (it was signature_encoding, " v1=…").
    const [tItem, v1Item] = good.split(',');
    const v1Second = [`Stripe-Signature: ${tItem},v1=00`, `Stripe-Signature: ${v1Item}`];
    const joinedV1 = (await nodeHeaders(v1Second, body))['stripe-signature'] as string;
    expect(() => stripe.webhooks.constructEvent(body, joinedV1, secret)).toThrow(/No signatures found/);
    expect(await verdict(b, v1Second, body)).toMatchObject({ status: 'invalid', details: { cause: 'malformed_header', message: expect.stringMatching(/^Stripe-Signature is sent on 2 lines/) } });

    const goodFirst = [`Stripe-Signature: ${good}`, 'Stripe-Signature: t=1,v1=00'];
    const joinedGood = (await nodeHeaders(goodFirst, body))['stripe-signature'] as string;
    expect(stripe.webhooks.constructEvent(body, joinedGood, secret)).toMatchObject({ id: 'evt_1' });
    expect(await verdict(b, goodFirst, body)).toMatchObject({ status: 'valid', scheme: 'stripe' });
  });

  it('Standard Webhooks and Svix: repeated signatures are read as the libraries read them; a repeated id is signed joined', async () => {
    const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
    const body = '{"type":"user.created"}';
    const ts = now();
    const wh = new StandardWebhook(secret);
    const sig = wh.sign('msg_1', new Date(ts * 1000), body);
    const b = await bin([{ type: 'standard-webhooks', secrets: [secret] }]);
    const judge = async (lines: string[]) => {
      const h = await nodeHeaders(lines, body);
      const lib = (f: () => unknown) => {
        try {
          f();
          return 'valid';
        } catch {
          return 'invalid';
        }
      };
      const sw = lib(() => wh.verify(body, h as Record<string, string>));
      const svix = lib(() => new SvixWebhook(secret).verify(body, h as Record<string, string>));
      return { sw, svix, here: await verdict(b, lines, body) };
    };

    // Two signature lines, the right one second or first: the libraries find it in the joined value.
    for (const lines of [
      ['webhook-id: msg_1', `webhook-timestamp: ${ts}`, 'webhook-signature: v1,AAAA', `webhook-signature: ${sig}`],
      ['webhook-id: msg_1', `webhook-timestamp: ${ts}`, `webhook-signature: ${sig}`, 'webhook-signature: v1,AAAA'],
    ]) {
      const r = await judge(lines);
      expect([r.sw, r.svix]).toEqual(['valid', 'valid']);
      expect(r.here).toMatchObject({ status: 'valid' });
    }
    // A repeated id: the libraries sign "msg_1, msg_1".
    const ids = await judge(['webhook-id: msg_1', 'webhook-id: msg_1', `webhook-timestamp: ${ts}`, `webhook-signature: ${sig}`]);
    expect([ids.sw, ids.svix]).toEqual(['invalid', 'invalid']);
    expect(ids.here).toMatchObject({ status: 'invalid', details: { cause: 'malformed_header' } });
    expect(ids.here.details!.message).toMatch(/^webhook-id is sent on 2 lines: .*"msg_1, msg_1"/);
    // A repeated timestamp: parseInt reads the first line's number.
    const firstRight = await judge(['webhook-id: msg_1', `webhook-timestamp: ${ts}`, 'webhook-timestamp: 1', `webhook-signature: ${sig}`]);
    expect([firstRight.sw, firstRight.svix]).toEqual(['valid', 'valid']);
    expect(firstRight.here).toMatchObject({ status: 'valid' });
    const firstWrong = await judge(['webhook-id: msg_1', `webhook-timestamp: ${ts - 1}`, `webhook-timestamp: ${ts}`, `webhook-signature: ${sig}`]);
    expect([firstWrong.sw, firstWrong.svix]).toEqual(['invalid', 'invalid']);
    expect(firstWrong.here).toMatchObject({ status: 'invalid', details: { cause: 'malformed_header', message: expect.stringMatching(/^webhook-timestamp is sent on 2 lines/) } });
  });
});
