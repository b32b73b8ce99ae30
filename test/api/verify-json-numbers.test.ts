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
let srv: TestServer;
beforeAll(async () => {
  srv = await startServer();
});
afterAll(() => srv.cleanup());

async function verdict(bin: { id: string; url: string }, body: string, signed: string) {
  const sig = createHmac('sha256', SECRET).update(signed, 'utf8').digest('base64');
  const r = await send(bin.url, { headers: { 'content-type': 'application/json', 'x-shopify-hmac-sha256': sig }, body });
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
});
