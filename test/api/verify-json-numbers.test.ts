// A sender that signs a re-serialised copy of its JSON body (Python's json.dumps spacing) is
// told so (reserialized_json) also when the body holds an id past 2^53: the copies tried keep
// each number as the body writes it. Before, they were rebuilt from JSON.parse, which rounds
// 820982911946154508 to …500, and the capture was "body_changed".
import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RequestDetail } from '../../shared/api.ts';
import { send } from '../helpers/http.ts';
import { createBin, json, startServer, type TestServer } from '../helpers/server.ts';
import { until } from '../helpers/until.ts';

const SECRET = 'shpss_abcdef0123456789';
const GITHUB_SECRET = 'gh-secret-123456';
let srv: TestServer;
beforeAll(async () => {
  srv = await startServer();
});
afterAll(() => srv.cleanup());

async function verdict(bin: { id: string; url: string }, body: string, signed: string, scheme: 'shopify' | 'github' = 'shopify') {
  const sig: Record<string, string> =
    scheme === 'shopify'
      ? { 'x-shopify-hmac-sha256': createHmac('sha256', SECRET).update(signed, 'utf8').digest('base64') }
      : { 'x-hub-signature-256': `sha256=${createHmac('sha256', GITHUB_SECRET).update(signed, 'utf8').digest('hex')}` };
  const r = await send(bin.url, { headers: { 'content-type': 'application/json', ...sig }, body });
  const id = r.headers['x-hooklab-request-id'] as string;
  let d: RequestDetail | undefined;
  await until(async () => (d = (await json<RequestDetail>(srv.base, 'GET', `/api/bins/${bin.id}/requests/${id}`)).body).verification !== undefined, 'verdict');
  return d!.verification!;
}

describe('reserialized_json with numbers JSON.parse does not give back', () => {
  it('an id past 2^53, signed over json.dumps spacing, is reserialized_json; so is 10.50 kept as written', async () => {
    const bin = await createBin(srv.base);
    expect((await json(srv.base, 'PUT', `/api/bins/${bin.id}/verify`, { schemes: [{ type: 'shopify', secrets: [SECRET] }] })).status).toBe(200);
    const sent = '{"id":820982911946154508,"email":"a"}';
    expect(await verdict(bin, sent, sent)).toMatchObject({ status: 'valid' });
    const python = await verdict(bin, sent, '{"id": 820982911946154508, "email": "a"}');
    expect(python).toMatchObject({ status: 'invalid', details: { cause: 'reserialized_json', matched: { how: expect.stringMatching(/^json\.dumps\(json\.loads\(body\)\) .*numbers as written$/) } } });
    const pretty = await verdict(bin, sent, '{\n  "id": 820982911946154508,\n  "email": "a"\n}');
    expect(pretty).toMatchObject({ status: 'invalid', details: { cause: 'reserialized_json', matched: { how: 'JSON.stringify(JSON.parse(body), null, 2), numbers as written' } } });
    const decimal = await verdict(bin, '{"price":"x","total":10.50}', '{"price": "x", "total": 10.50}');
    expect(decimal).toMatchObject({ status: 'invalid', details: { cause: 'reserialized_json' } });
    // A JS re-serialisation (10.50 written 10.5) is still found.
    const js = await verdict(bin, '{"total": 10.50}', '{"total":10.5}');
    expect(js).toMatchObject({ status: 'invalid', details: { cause: 'reserialized_json', matched: { how: 'JSON.stringify(JSON.parse(body)), numbers as JSON.parse reads them' } } });
  });

  // Python's json.loads/json.dumps and PHP's json_decode/json_encode read 10.50 as 10.5 but keep
  // the id exact: a copy neither all-as-written nor all-as-JSON.parse. Unrecognised, each was
  // body_changed, and two of them together became wrong_secret.
  it("a body with 10.50 and an id past 2^53, signed over Python's or PHP's copy, is reserialized_json every time", async () => {
    const bin = await createBin(srv.base);
    expect((await json(srv.base, 'PUT', `/api/bins/${bin.id}/verify`, { schemes: [{ type: 'github', secrets: [GITHUB_SECRET] }] })).status).toBe(200);
    const sent = '{"z":"é/x","amount":10.50,"id":820982911946154508}';
    // Made with Python 3: json.dumps(json.loads(sent)), sort_keys=True, separators=(',', ':'), indent=2; then PHP's json_encode.
    const copies = [
      '{"z": "\\u00e9/x", "amount": 10.5, "id": 820982911946154508}',
      '{"amount": 10.5, "id": 820982911946154508, "z": "\\u00e9/x"}',
      '{"z":"\\u00e9/x","amount":10.5,"id":820982911946154508}',
      '{\n  "z": "\\u00e9/x",\n  "amount": 10.5,\n  "id": 820982911946154508\n}',
      '{"z":"\\u00e9\\/x","amount":10.5,"id":820982911946154508}',
    ];
    for (const signed of copies) {
      const v = await verdict(bin, sent, signed, 'github');
      expect(v, signed).toMatchObject({ status: 'invalid', details: { cause: 'reserialized_json', matched: { how: expect.stringMatching(/floats as parsed, integers exact$/) } } });
    }
    // Read again once all arrived: none was turned into wrong_secret by the others.
    const list = (await json<{ requests: { id: string }[] }>(srv.base, 'GET', `/api/bins/${bin.id}/requests?limit=50`)).body.requests;
    expect(list).toHaveLength(copies.length);
    for (const { id } of list) {
      const d = (await json<RequestDetail>(srv.base, 'GET', `/api/bins/${bin.id}/requests/${id}`)).body;
      expect(d.verification?.details?.cause).toBe('reserialized_json');
    }
  });
});
