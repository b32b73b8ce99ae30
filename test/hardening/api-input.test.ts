// Issue 7: the API rejects malformed JSON, wrong types and oversized fields with a 4xx that
// names the problem; nothing already stored changes.
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBin, startServer, type TestServer } from '../helpers/server.ts';

let srv: TestServer;
let bin: { id: string };
let webhookId: string;
let snapshot: () => Promise<string>;

beforeAll(async () => {
  srv = await startServer();
  bin = await createBin(srv.base, 'keep me');
  await request(srv.base).put(`/api/bins/${bin.id}/response`).send({ plan: [{ status: 500 }] }).expect(200);
  webhookId = (await request(srv.base).post('/api/webhooks').send({ url: 'http://127.0.0.1:9/x', name: 'keep' }).expect(201)).body.id;
  snapshot = async () =>
    JSON.stringify([
      (await request(srv.base).get('/api/bins')).body,
      (await request(srv.base).get(`/api/bins/${bin.id}/response`)).body,
      (await request(srv.base).get('/api/webhooks')).body,
      (await request(srv.base).get('/api/deliveries')).body,
      (await request(srv.base).get('/api/runs')).body,
    ]);
});
afterAll(() => srv.cleanup());

const big = 'x'.repeat(300 * 1024);

describe('API input validation', () => {
  it.each([
    ['POST', '/api/bins', '{"name":', 'invalid_json', undefined],
    ['POST', '/api/bins', { name: ['a'] }, 'invalid_field', 'name'],
    ['POST', '/api/bins', { name: 'n'.repeat(201) }, 'invalid_field', 'name'],
    ['POST', '/api/bins', [1, 2], 'invalid_field', 'body'],
    ['PATCH', '/api/bins/:bin', { name: null }, 'invalid_field', 'name'],
    ['PUT', '/api/bins/:bin/response', { default: { body: big } }, 'invalid_field', 'default.body'],
    ['PUT', '/api/bins/:bin/response', { plan: Array.from({ length: 201 }, () => ({ status: 500 })) }, 'invalid_field', 'plan'],
    ['PUT', '/api/bins/:bin/response', { default: { headers: { 'x-a': 5 } } }, 'invalid_field', 'default.headers.x-a'],
    ['PUT', '/api/bins/:bin/response', '{"plan": [}', 'invalid_json', undefined],
    ['POST', '/api/webhooks', { url: 'http://x', name: 'n'.repeat(201) }, 'invalid_field', 'name'],
    ['POST', '/api/webhooks', { url: 'http://x/' + 'u'.repeat(3000) }, 'invalid_field', 'url'],
    ['POST', '/api/webhooks', { url: 'http://x', timeoutMs: '10' }, 'invalid_field', 'timeoutMs'],
    ['POST', '/api/webhooks', { url: 'http://x', events: 'flow_failed' }, 'invalid_field', 'events'],
    ['PATCH', '/api/webhooks/:wh', { enabled: 1 }, 'invalid_field', 'enabled'],
    ['PATCH', '/api/webhooks/:wh', { url: 'javascript:alert(1)' }, 'invalid_field', 'url'],
    ['POST', '/api/runs', { durationMs: -1 }, 'invalid_field', 'durationMs'],
    ['POST', '/api/runs', { flow_id: 'abc' }, 'invalid_field', 'flow_id'],
    ['POST', '/api/runs', { details: big }, 'invalid_field', 'details'],
    ['PUT', '/api/clock', { scale: 'fast' }, 'invalid_field', 'scale'],
    ['PUT', '/api/clock', { paused: 'yes' }, 'invalid_field', 'paused'],
    ['POST', '/api/clock/advance', { ms: 1e20 }, 'invalid_field', 'ms'],
    ['GET', '/api/deliveries?state=lost', undefined, 'invalid_field', 'state'],
    ['GET', '/api/deliveries?limit=-4', undefined, 'invalid_field', 'limit'],
  ] as const)('%s %s %j -> 4xx %s naming %s', async (method, path, body, code, field) => {
    const before = await snapshot();
    const url = path.replace(':bin', bin.id).replace(':wh', webhookId);
    let req = request(srv.base)[method.toLowerCase() as 'get' | 'post' | 'put' | 'patch'](url);
    if (typeof body === 'string') req = req.set('content-type', 'application/json').send(body);
    else if (body !== undefined) req = req.send(body as object);
    const r = await req;
    expect(r.status).toBeGreaterThanOrEqual(400);
    expect(r.status).toBeLessThan(500);
    expect(r.body.error.code).toBe(code);
    if (field) expect(r.body.error.field).toBe(field);
    expect(typeof r.body.error.message).toBe('string');
    expect(await snapshot()).toBe(before);
  });

  it('a body that is not JSON is refused with 415, not taken for no body (curl -d sends a form type): nothing made', async () => {
    const before = await snapshot();
    for (const type of ['application/x-www-form-urlencoded', 'text/plain']) {
      const r = await request(srv.base).post('/api/bins').set('content-type', type).send('{"id":"chosen-id-1234567890"}');
      expect(r.status).toBe(415);
      expect(r.body.error.code).toBe('unsupported_media_type');
      expect(r.body.error.message).toContain(`send the body as JSON, with Content-Type: application/json (it came as "${type}")`);
    }
    const put = await request(srv.base).put(`/api/bins/${bin.id}/response`).set('content-type', 'text/plain').send('{"default":{"status":500}}');
    expect(put.status).toBe(415);
    // JSON in a charset other than UTF-8: the same 415 code (it was a 400 bad_request).
    const latin1 = await request(srv.base).post('/api/bins').set('content-type', 'application/json; charset=latin1').send('{"name":"x"}');
    expect(latin1.status).toBe(415);
    expect(latin1.body.error.code).toBe('unsupported_media_type');
    expect(latin1.body.error.message).toMatch(/UTF-8/);
    expect(await snapshot()).toBe(before);
    // No body at all, with no type, is still a body of none (POST /api/bins makes a random bin).
    expect((await request(srv.base).post('/api/bins')).status).toBe(201);
  });

  it("no schema's default words reach a 400 (\"Invalid input: expected string, received array\"): a query parameter given twice, an import line missing fields", async () => {
    const twice = await request(srv.base).get(`/api/bins/${bin.id}/requests/wait?timeout=1s&timeout=2s`).expect(400);
    expect(twice.body.error.message).toBe('timeout: must be one value, not a list (a query parameter given twice is one)');
    const limit = await request(srv.base).get(`/api/bins/${bin.id}/requests?limit=5&limit=2`).expect(400);
    expect(limit.body.error.message).toBe('limit: must be one value, not a list (a query parameter given twice is one)');
    const other = await createBin(srv.base);
    const line = await request(srv.base).post(`/api/bins/${other.id}/import`).set('content-type', 'application/x-ndjson').send('{"method":"POST"}\n');
    expect(line.status).toBe(400);
    expect(line.body.error.message).not.toMatch(/Invalid input|expected \w+, received/);
    expect(line.body.error.message).toMatch(/id: is required/);
    const har = await request(srv.base).post(`/api/bins/${other.id}/import`).set('content-type', 'application/json').send({ log: { entries: [{ startedDateTime: '2026-01-01T00:00:00Z' }] } });
    expect(har.status).toBe(400);
    expect(har.body.error.message).toMatch(/log\.entries\[0\]\.request: is required/);
  });

  it('a number past the safe integers is one error on its field, not two (its type, then its range)', async () => {
    const r = await request(srv.base).post('/api/clock/advance').send({ ms: 1e20 });
    expect(r.status).toBe(400);
    expect(r.body.error.fields).toEqual([{ field: 'ms', message: 'must be an integer' }]);
    expect(r.body.error.message).toBe('ms: must be an integer');
    // Another rule on the same field is still said.
    const both = await request(srv.base).put(`/api/bins/${bin.id}/response`).send({ plan: [{ fault: 'reset', status: 1e20 }] });
    expect(both.status).toBe(400);
    expect(both.body.error.fields.map((f: { field: string }) => f.field)).toEqual(['plan[0].status', 'plan[0].status']);
    expect(both.body.error.fields[0].message).toBe('must be an integer');
  });

  it('an empty body typed as JSON is no body, not {} (every field at its default): a PUT of the answers is refused, nothing changes', async () => {
    const before = await snapshot();
    // What `jq … fixtures/plans/missing.json | curl -H 'content-type: application/json' --data @- …` sends.
    for (const path of [`/api/bins/${bin.id}/response`, `/api/bins/${bin.id}/verify`]) {
      const r = await request(srv.base).put(path).set('content-type', 'application/json').send('');
      expect(r.status, path).toBe(400);
      expect(r.body.error).toMatchObject({ code: 'invalid_field', field: 'body', message: 'body: is required' });
    }
    expect(await snapshot()).toBe(before);
    // Where no body is a fine request, an empty JSON one is too (a random bin).
    expect((await request(srv.base).post('/api/bins').set('content-type', 'application/json').send('')).status).toBe(201);
  });

  it('a body that is not valid JSON: the answer says where, quoting none of it (a secret may be in it)', async () => {
    const r = await request(srv.base).patch(`/api/webhooks/${webhookId}`).set('content-type', 'application/json').send('{"secret": whsec_MfKQ9r8GKYqrTwJgPNmfNu6n}');
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe('invalid_json');
    expect(r.body.error.message).toBe('body is not valid JSON (line 1, column 12: unexpected character)');
    expect(JSON.stringify(r.body)).not.toContain('whsec');
    // JSON that is not an object is told as such, not as invalid JSON.
    for (const [body, kind] of [['null', 'null'], ['123', 'a number'], ['"whsec_x"', 'a string'], ['true', 'a boolean']]) {
      const s = await request(srv.base).post('/api/bins').set('content-type', 'application/json').send(body);
      expect({ status: s.status, error: s.body.error }).toEqual({ status: 400, error: { code: 'invalid_json', message: `body must be a JSON object, not ${kind}` } });
    }
  });

  it('a body over 1 MB is refused with 413', async () => {
    const r = await request(srv.base).post('/api/bins').send({ name: 'x'.repeat(1_100_000) });
    expect(r.status).toBe(413);
    expect(r.body.error.code).toBe('too_large');
  });
});
