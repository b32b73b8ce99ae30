// Standard Webhooks / Svix headers read as the libraries read them. The timestamp is read with
// parseInt and the number it gives is what is signed: "0<ts>", "<ts>.5" and "<ts>abc" verify in
// the standardwebhooks library with a signature over "<ts>" (hooklab signed the raw text and
// said body_changed). And a request with both header families is read as the svix library
// reads it, each svix-* header before its webhook-* one (hooklab preferred webhook-*).
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { Webhook as SvixWebhook } from 'svix';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RequestDetail } from '../../shared/api.ts';
import type { VerificationT } from '../../shared/schema/verify.ts';
import { send } from '../helpers/http.ts';
import { createBin, json, startServer, type TestServer } from '../helpers/server.ts';
import { until } from '../helpers/until.ts';

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const BODY = '{"type":"user.created","data":{"id":"u_1"}}';

let srv: TestServer;
let bin: { id: string; url: string };
beforeAll(async () => {
  srv = await startServer();
  bin = await createBin(srv.base);
  expect((await json(srv.base, 'PUT', `/api/bins/${bin.id}/verify`, { schemes: [{ type: 'standard-webhooks', secrets: [SECRET] }] })).status).toBe(200);
});
afterAll(() => srv.cleanup());

async function verdict(headers: Record<string, string>): Promise<VerificationT> {
  const r = await send(bin.url, { headers: { 'content-type': 'application/json', ...headers }, body: BODY });
  const id = r.headers['x-hooklab-request-id'] as string;
  let d: RequestDetail | undefined;
  await until(async () => (d = (await json<RequestDetail>(srv.base, 'GET', `/api/bins/${bin.id}/requests/${id}`)).body).verification !== undefined, 'verdict');
  return d!.verification!;
}

/** What a library says of the request: 'valid' or its error. */
function library(f: () => unknown): string {
  try {
    f();
    return 'valid';
  } catch (e) {
    return (e as Error).message;
  }
}

describe('Standard Webhooks timestamps are read with parseInt, as the libraries do', () => {
  it('"0<ts>", "<ts>.5" and "<ts>abc" with a signature over <ts> are valid, in the library and here', async () => {
    const now = new Date();
    const ts = Math.floor(now.getTime() / 1000);
    const sig = new StandardWebhook(SECRET).sign('msg_ts', now, BODY);
    for (const text of [`0${ts}`, `${ts}.5`, `${ts}abc`]) {
      const headers = { 'webhook-id': 'msg_ts', 'webhook-timestamp': text, 'webhook-signature': sig };
      expect(library(() => new StandardWebhook(SECRET).verify(BODY, headers))).toBe('valid');
      const v = await verdict(headers);
      expect(v, text).toMatchObject({ status: 'valid', scheme: 'standard-webhooks', secretIndex: 0 });
      expect(Math.abs(v.skewSec!)).toBeLessThan(60);
    }
  });

  it('a timestamp parseInt reads no number from is refused, as the library refuses it', async () => {
    const headers = { 'webhook-id': 'msg_nan', 'webhook-timestamp': 'soon', 'webhook-signature': new StandardWebhook(SECRET).sign('msg_nan', new Date(), BODY) };
    expect(library(() => new StandardWebhook(SECRET).verify(BODY, headers))).toBe('Invalid Signature Headers');
    const v = await verdict(headers);
    expect(v).toMatchObject({ status: 'invalid', details: { cause: 'malformed_header', message: expect.stringMatching(/^webhook-timestamp "soon" is no number/) } });
  });
});

describe('a request with both header families is read as the svix library reads it', () => {
  it('svix-* set right, webhook-signature wrong: valid (svix reads svix-*; the standardwebhooks library, webhook-* only, refuses)', async () => {
    const now = new Date();
    const ts = String(Math.floor(now.getTime() / 1000));
    const headers = {
      'webhook-id': 'msg_w',
      'webhook-timestamp': ts,
      'webhook-signature': `v1,${Buffer.alloc(32).toString('base64')}`,
      'svix-id': 'msg_s',
      'svix-timestamp': ts,
      'svix-signature': new SvixWebhook(SECRET).sign('msg_s', now, BODY),
    };
    expect(library(() => new SvixWebhook(SECRET).verify(BODY, headers))).toBe('valid');
    expect(library(() => new StandardWebhook(SECRET).verify(BODY, headers))).toBe('No matching signature found');
    expect(await verdict(headers)).toMatchObject({ status: 'valid', scheme: 'standard-webhooks', secretIndex: 0 });
  });

  it('webhook-* set right, svix-signature wrong: invalid, judged on svix-signature', async () => {
    const now = new Date();
    const ts = String(Math.floor(now.getTime() / 1000));
    const headers = {
      'webhook-id': 'msg_w',
      'webhook-timestamp': ts,
      'webhook-signature': new StandardWebhook(SECRET).sign('msg_w', now, BODY),
      'svix-id': 'msg_s',
      'svix-timestamp': ts,
      'svix-signature': `v1,${Buffer.alloc(32).toString('base64')}`,
    };
    expect(library(() => new SvixWebhook(SECRET).verify(BODY, headers))).toBe('No matching signature found');
    expect(await verdict(headers)).toMatchObject({ status: 'invalid', details: { header: 'svix-signature' } });
  });

  it('each svix-* header before its webhook-* one: svix-id with webhook-timestamp and webhook-signature', async () => {
    const now = new Date();
    const headers = {
      'svix-id': 'msg_mixed',
      'webhook-id': 'msg_other',
      'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
      'webhook-signature': new SvixWebhook(SECRET).sign('msg_mixed', now, BODY),
    };
    expect(library(() => new SvixWebhook(SECRET).verify(BODY, headers))).toBe('valid');
    expect(await verdict(headers)).toMatchObject({ status: 'valid' });
  });
});
