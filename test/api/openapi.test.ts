// Issue 10: one schema source. The OpenAPI document is valid (checked by an independent
// validator), lists every route the API serves, and real answers match what it declares
// (checked with Ajv against the document itself). A bad body gets every error at once.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Validator } from '@seriousme/openapi-schema-validator';
import Ajv2020 from 'ajv/dist/2020.js';
import type { Router } from 'express';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SCHEDULE_PRESETS, SUBSCRIPTIONS } from '../../shared/api.ts';
import { NOT_HTTP_TOKEN, ORIGIN_HEADER_REASON, SET_BY_SERVER } from '../../shared/header-reasons.ts';
import * as D from '../../shared/schema/dispatch.ts';
import { LEADING_DASH } from '../../shared/schema/bins.ts';
import { PROXY_NEEDS_TARGET } from '../../shared/schema/forward.ts';
import { FRAGMENT_REASON } from '../../shared/forward-target.ts';
import type { ApiContext } from '../../server/api/context.ts';
import { apiRouters } from '../../server/api/index.ts';
import { send } from '../helpers/http.ts';
import { createBin, startServer, type TestServer } from '../helpers/server.ts';

interface Declared {
  $ref?: string;
  description?: string;
  headers?: Record<string, unknown>;
  content?: Record<string, { schema?: unknown }>;
}
interface Operation {
  operationId?: string;
  summary?: string;
  tags?: string[];
  description?: string;
  security?: unknown[];
  parameters?: { name: string; in: string }[];
  requestBody?: { content: Record<string, { schema?: unknown }>; required?: boolean };
  responses: Record<string, Declared>;
}
interface Doc {
  tags?: { name: string }[];
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, unknown>; responses: Record<string, Declared> };
}

let srv: TestServer;
let doc: Doc;
const ajv = new Ajv2020({ strict: false, validateFormats: false, allErrors: true });
const checked = new Set<string>();

beforeAll(async () => {
  srv = await startServer();
  doc = (await request(srv.base).get('/api/openapi.json').expect(200)).body;
  ajv.addSchema({ $id: 'doc', components: doc.components });
});
afterAll(() => srv.cleanup());

/** A declared response, its $ref (a shared one, components.responses) followed. */
function response(op: Operation, status: number | string): Declared | undefined {
  const r = op.responses[String(status)];
  const ref = r?.$ref?.match(/^#\/components\/responses\/(\w+)$/)?.[1];
  return ref ? doc.components.responses[ref] : r;
}

/** A schema of the document, compiled (its $refs resolved against the document). */
function compiled(schema: unknown) {
  return ajv.compile(JSON.parse(JSON.stringify(schema).replaceAll('"#/components/', '"doc#/components/')));
}

/** Does the document accept this JSON body for this operation? */
function docAccepts(method: string, path: string, body: unknown): boolean {
  const schema = doc.paths[path]?.[method]?.requestBody?.content['application/json']?.schema;
  expect(schema, `${method} ${path} documents a JSON body`).toBeDefined();
  return compiled(schema)(body) as boolean;
}

/** Assert an answer matches the schema the document declares for it. */
function conforms(method: string, path: string, r: { status: number; body: unknown }, d: Doc = doc) {
  const op = d.paths[path]?.[method];
  expect(op, `${method} ${path} is documented`).toBeDefined();
  const declared = response(op, r.status);
  expect(declared, `${method} ${path} declares ${r.status}`).toBeDefined();
  const schema = declared!.content?.['application/json']?.schema;
  if (schema) {
    const validate = compiled(schema);
    expect(validate(r.body), `${method} ${path} ${r.status}: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(r.body).slice(0, 500)}`).toBe(true);
  }
  checked.add(`${method} ${path}`);
}

/** Every route of the API routers, as the document names them. */
function serverRoutes(): string[] {
  const out: string[] = [];
  for (const router of apiRouters({} as ApiContext) as (Router & { stack: { route?: { path: string; methods: Record<string, boolean> } }[] })[]) {
    for (const layer of router.stack) {
      if (!layer.route) continue;
      const path = '/api' + layer.route.path.replace(/:(\w+)/g, '{$1}');
      for (const m of Object.keys(layer.route.methods)) out.push(`${m} ${path}`);
    }
  }
  return out;
}

describe('OpenAPI document', () => {
  it('is a valid OpenAPI 3.1 document (independent validator)', async () => {
    const v = new Validator();
    const res = await v.validate(doc as never);
    expect(res.errors ?? []).toEqual([]);
    expect(res.valid).toBe(true);
    expect((doc as unknown as { openapi: string }).openapi).toBe('3.1.0');
  });

  it('documents every route the API serves, and nothing it does not', () => {
    const served = serverRoutes();
    const documented = Object.entries(doc.paths)
      .filter(([p]) => p.startsWith('/api/') && !['/api/health', '/api/openapi.json', '/api/docs'].includes(p))
      .flatMap(([p, ms]) => Object.keys(ms).map((m) => `${m} ${p}`));
    expect([...served].sort()).toEqual([...documented].sort());
  });

  it('serves a readable page of it, without any script', async () => {
    const r = await request(srv.base).get('/api/docs').expect(200);
    expect(r.headers['content-type']).toMatch(/text\/html/);
    expect(r.text).not.toMatch(/<script/i);
    expect(r.text).toContain('/api/bins/{id}/response');
    expect(r.text).toContain('id="schema-ResponseConfigInput"');
  });

  it('the shared constants agree with the schemas', () => {
    expect([...SUBSCRIPTIONS]).toEqual([...D.SUBSCRIPTIONS]);
    expect([...SCHEDULE_PRESETS]).toEqual([...D.SCHEDULE_PRESETS]);
  });
});

describe('real answers match their declared schemas', () => {
  it('bins, requests and response settings', async () => {
    const api = request(srv.base);
    let r = await api.post('/api/bins').send({ name: 'schema' });
    conforms('post', '/api/bins', r);
    const bin = r.body as { id: string; url: string };
    conforms('get', '/api/bins', await api.get('/api/bins'));
    conforms('get', '/api/bins/{id}', await api.get(`/api/bins/${bin.id}`));
    conforms('get', '/api/bins/{id}', await api.get('/api/bins/nope'));
    conforms('patch', '/api/bins/{id}', await api.patch(`/api/bins/${bin.id}`).send({ name: 'renamed' }));
    conforms('patch', '/api/bins/{id}', await api.patch(`/api/bins/${bin.id}`).send({ name: 5 }));
    conforms('patch', '/api/bins/{id}', await api.patch(`/api/bins/${bin.id}`).send({ labelFrom: ['json:data.object.type', 'header:x-event'] }));
    conforms('patch', '/api/bins/{id}', await api.patch(`/api/bins/${bin.id}`).send({ labelFrom: ['type', 7] }));
    conforms('get', '/api/bins/{id}', await api.get(`/api/bins/${bin.id}`));
    conforms('get', '/api/bins', await api.get('/api/bins'));

    const sent = await send(`${bin.url}/hooks?x=1&x=2`, { headers: { 'content-type': 'application/json', 'content-encoding': 'identity' }, body: '{"a":1}' });
    const rid = sent.headers['x-hooklab-request-id'] as string;
    conforms('get', '/api/bins/{id}/requests', await api.get(`/api/bins/${bin.id}/requests?limit=10`));
    conforms('get', '/api/bins/{id}/requests', await api.get(`/api/bins/${bin.id}/requests?limit=0`));
    conforms('get', '/api/bins/{id}/requests/{rid}', await api.get(`/api/bins/${bin.id}/requests/${rid}`));
    conforms('get', '/api/bins/{id}/requests/{rid}', await api.get(`/api/bins/${bin.id}/requests/zzz`));
    conforms('get', '/api/bins/{id}/requests/wait', await api.get(`/api/bins/${bin.id}/requests/wait?path=/hooks`));
    conforms('get', '/api/bins/{id}/requests/wait', await api.get(`/api/bins/${bin.id}/requests/wait?path=/nope&timeout=50ms`));
    r = await api.get(`/api/bins/${bin.id}/requests/${rid}/raw`);
    expect(r.status).toBe(200);
    // Served in the capture's own type (JSON here): the document says any type, not octet-stream only.
    expect(r.headers['content-type']).toMatch(/^application\/json/);
    expect(Object.keys((doc.paths['/api/bins/{id}/requests/{rid}/raw'].get as { responses: Record<string, { content: object }> }).responses['200'].content)).toEqual(['*/*']);
    checked.add('get /api/bins/{id}/requests/{rid}/raw');

    conforms('get', '/api/bins/{id}/response', await api.get(`/api/bins/${bin.id}/response`));
    conforms('put', '/api/bins/{id}/response', await api.put(`/api/bins/${bin.id}/response`).send({ plan: [{ status: 500, times: 2 }, { fault: 'reset' }], rules: [{ status: 204, match: { pathPrefix: '/health' } }] }));
    conforms('put', '/api/bins/{id}/response', await api.put(`/api/bins/${bin.id}/response`).send({ plan: [{ status: 700 }] }));
    conforms('post', '/api/bins/{id}/response/reset', await api.post(`/api/bins/${bin.id}/response/reset`));
    conforms('post', '/api/bins/{id}/response/check', await api.post(`/api/bins/${bin.id}/response/check`).send({ plan: [{ status: 503, times: 2 }] }));
    conforms('post', '/api/bins/{id}/response/check', await api.post(`/api/bins/${bin.id}/response/check`).send({ plan: [{ status: 700 }] }));

    r = await api.get(`/api/bins/${bin.id}/export?format=har`);
    conforms('get', '/api/bins/{id}/export', { status: r.status, body: JSON.parse(r.text) });
    // Every field of the HAR's log is documented (its creator was not).
    const harLog = (doc.paths['/api/bins/{id}/export'].get as { responses: Record<string, { content: Record<string, { schema: { properties: { log: { properties: object } } } }> }> }).responses['200'].content['application/json'].schema.properties.log.properties;
    expect(Object.keys(harLog).sort()).toEqual(Object.keys(JSON.parse(r.text).log).sort());
    const ndjson = (await api.get(`/api/bins/${bin.id}/export`).buffer(true).parse((res, cb) => {
      let t = '';
      res.on('data', (c: Buffer) => (t += c.toString()));
      res.on('end', () => cb(null, t));
    })).body as string;
    conforms('post', '/api/bins/{id}/import', await api.post(`/api/bins/${bin.id}/import`).set('content-type', 'application/x-ndjson').send(ndjson));
    conforms('post', '/api/bins/{id}/import', await api.post(`/api/bins/${bin.id}/import`).send({ log: {} }));
    conforms('delete', '/api/bins/{id}/requests/{rid}', await api.delete(`/api/bins/${bin.id}/requests/${rid}`));
    conforms('delete', '/api/bins/{id}/requests', await api.delete(`/api/bins/${bin.id}/requests`));
    conforms('delete', '/api/bins/{id}', await api.delete(`/api/bins/${bin.id}`));
    conforms('get', '/api/health', await api.get('/api/health'));
  });

  it('webhooks, runs, deliveries, the clock and the schedule preview', async () => {
    const api = request(srv.base);
    const bin = await createBin(srv.base);
    await api.put('/api/clock').send({ paused: true });
    let r = await api.post('/api/webhooks').send({ url: bin.url, events: ['flow_failed', 'flow_started'], secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', schedule: { factor: 2 } });
    conforms('post', '/api/webhooks', r);
    const withBehaviors = await api.post('/api/webhooks').send({ url: bin.url, enabled: false, schedule: { preset: 'svix' }, behaviors: { retryAfter: true, abortHeader: 'x-stop', disableAfterDays: 2 } });
    conforms('post', '/api/webhooks', withBehaviors);
    conforms('post', '/api/webhooks', await api.post('/api/webhooks').send({ url: bin.url, schedule: { preset: 'svix', factor: 3 } }));
    const wh = r.body as { id: string };
    conforms('post', '/api/webhooks', await api.post('/api/webhooks').send({ url: 'ftp://x' }));
    conforms('get', '/api/webhooks', await api.get('/api/webhooks'));
    conforms('get', '/api/webhooks/{id}', await api.get(`/api/webhooks/${wh.id}`));
    conforms('patch', '/api/webhooks/{id}', await api.patch(`/api/webhooks/${wh.id}`).send({ timeoutMs: 5000 }));
    conforms('post', '/api/webhooks/{id}/test', await api.post(`/api/webhooks/${wh.id}/test`));

    r = await api.post('/api/runs').send({ outcome: 'FAILED', durationMs: 1000 });
    conforms('post', '/api/runs', r);
    const runId = r.body.id as string;
    conforms('get', '/api/runs', await api.get('/api/runs'));
    conforms('get', '/api/runs/{id}', await api.get(`/api/runs/${r.body.id}`));
    r = await api.get('/api/deliveries?limit=5');
    conforms('get', '/api/deliveries', r);
    const del = r.body.deliveries[0] as { id: string };
    conforms('get', '/api/deliveries', await api.get('/api/deliveries?state=lost'));
    conforms('get', '/api/deliveries/{id}', await api.get(`/api/deliveries/${del.id}`));
    conforms('post', '/api/deliveries/{id}/retry', await api.post(`/api/deliveries/${del.id}/retry`));
    conforms('get', '/api/deliveries/{id}/wait', await api.get(`/api/deliveries/${del.id}/wait?timeout=50ms`));

    conforms('get', '/api/clock', await api.get('/api/clock'));
    conforms('put', '/api/clock', await api.put('/api/clock').send({ scale: 60 }));
    conforms('post', '/api/clock/advance', await api.post('/api/clock/advance').send({ to: 'next' }));
    conforms('post', '/api/clock/advance', await api.post('/api/clock/advance').send({ ms: 1, to: 'next' }));
    conforms('get', '/api/schedule/preview', await api.get(`/api/schedule/preview?webhookId=${wh.id}&seed=3&jitter=0`));
    conforms('get', '/api/schedule/preview', await api.get('/api/schedule/preview?preset=svix&retryAfter=true&retryAfterS=60&disableAfterDays=0.5'));
    conforms('get', '/api/schedule/preview', await api.get('/api/schedule/preview?delaysMs=1,x'));
    conforms('get', '/api/deliveries/{id}/timeline', await api.get(`/api/deliveries/${del.id}/timeline`));
    conforms('get', '/api/deliveries/{id}/timeline', await api.get(`/api/deliveries/${del.id}/timeline?format=pdf`));
    conforms('get', '/api/runs/{id}/timeline', await api.get(`/api/runs/${runId}/timeline`));
    conforms('get', '/api/runs/{id}/timeline', await api.get('/api/runs/nope/timeline'));
    const csv = await api.get(`/api/runs/${runId}/timeline?format=csv`);
    expect(csv.headers['content-type']).toMatch(/^text\/csv/);
    expect(Object.keys(doc.paths['/api/runs/{id}/timeline'].get.responses['200'].content ?? {})).toEqual(['application/json', 'text/csv']);
    conforms('delete', '/api/webhooks/{id}', await api.delete(`/api/webhooks/${wh.id}`));
  });

  it('forwarding, replays, signature settings and idempotency', async () => {
    const api = request(srv.base);
    const target = http.createServer((req, res) => req.resume().on('end', () => res.end('ok')));
    await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
    try {
      const to = `http://127.0.0.1:${(target.address() as AddressInfo).port}/in`;
      const bin = await createBin(srv.base);
      conforms('get', '/api/bins/{id}/forward', await api.get(`/api/bins/${bin.id}/forward`));
      conforms('put', '/api/bins/{id}/forward', await api.put(`/api/bins/${bin.id}/forward`).send({ targets: [{ url: to }] }));
      conforms('put', '/api/bins/{id}/forward', await api.put(`/api/bins/${bin.id}/forward`).send({ targets: [{ url: 'ftp://x' }] }));
      const sent = await send(bin.url, { headers: { 'content-type': 'application/json', 'idempotency-key': 'k1' }, body: '{"a":1}' });
      const rid = sent.headers['x-hooklab-request-id'] as string;
      conforms('post', '/api/bins/{id}/requests/{rid}/replay', await api.post(`/api/bins/${bin.id}/requests/${rid}/replay`).send({ url: to, body: '{"a":2}' }));
      conforms('post', '/api/bins/{id}/requests/{rid}/replay', await api.post(`/api/bins/${bin.id}/requests/${rid}/replay`).send({ url: 'nope' }));
      const job = await api.post(`/api/bins/${bin.id}/replay`).send({ url: to });
      conforms('post', '/api/bins/{id}/replay', job);
      conforms('get', '/api/replays/{id}', await api.get(`/api/replays/${job.body.id}`));
      conforms('get', '/api/replays/{id}', await api.get('/api/replays/rp_nope'));
      conforms('delete', '/api/bins/{id}/forward', await api.delete(`/api/bins/${bin.id}/forward`));

      conforms('get', '/api/bins/{id}/verify', await api.get(`/api/bins/${bin.id}/verify`));
      conforms('put', '/api/bins/{id}/verify', await api.put(`/api/bins/${bin.id}/verify`).send({ schemes: [{ type: 'stripe', secrets: ['whsec_abcdefgh12345678'] }] }));
      conforms('put', '/api/bins/{id}/verify', await api.put(`/api/bins/${bin.id}/verify`).send({ schemes: [{ type: 'paypal' }] }));
      conforms('get', '/api/bins/{id}/verify', await api.get(`/api/bins/${bin.id}/verify`));
      conforms('get', '/api/bins/{id}/idempotency', await api.get(`/api/bins/${bin.id}/idempotency`));
      conforms('get', '/api/bins/{id}/requests/{rid}', await api.get(`/api/bins/${bin.id}/requests/${rid}`));
      conforms('delete', '/api/bins/{id}/verify', await api.delete(`/api/bins/${bin.id}/verify`));
    } finally {
      target.closeAllConnections();
      target.close();
    }
  });

  it('covered every documented API route above', () => {
    const all = serverRoutes();
    expect(all.filter((r) => !checked.has(r))).toEqual([]);
  });
});

describe('every error at once', () => {
  it('a body with several bad fields gets one 400 listing all of them, the first also as `field`', async () => {
    const bin = await createBin(srv.base);
    const r = await request(srv.base)
      .put(`/api/bins/${bin.id}/response`)
      .send({
        default: { status: 99, delayMs: -1, headers: { 'Set-Cookie': 'a=b', 'x-ok': 'fine' } },
        plan: [{ status: 500 }, { status: 'x', stauts: 1 }, { fault: 'reset', body: 'no' }],
        afterPlan: 'forever',
      })
      .expect(400);
    expect(r.body.error.code).toBe('invalid_field');
    const fields = (r.body.error.fields as { field: string; message: string }[]).map((f) => f.field);
    expect(fields).toEqual([
      'default.status',
      'default.headers.Set-Cookie',
      'default.delayMs',
      'plan[1].status',
      'plan[1].stauts',
      'plan[2].body',
      'afterPlan',
    ].sort((a, b) => fields.indexOf(a) - fields.indexOf(b)));
    expect(fields).toHaveLength(7);
    expect(r.body.error.field).toBe(fields[0]);
    const byField = Object.fromEntries((r.body.error.fields as { field: string; message: string }[]).map((f) => [f.field, f.message]));
    expect(byField['default.status']).toBe('must be from 200 to 599');
    expect(byField['plan[1].stauts']).toMatch(/^unknown field \(allowed: status, headers, /);
    expect(byField['plan[2].body']).toBe('cannot be combined with a fault (a "reset" sends no response)');
    expect(byField.afterPlan).toBe('must be one of: default, loop');
    expect(r.body.error.message).toContain('plan[1].status: must be an integer');
    // Nothing changed.
    expect((await request(srv.base).get(`/api/bins/${bin.id}/response`)).body.config.plan).toEqual([]);
  });

  it('a missing required field says so', async () => {
    const r = await request(srv.base).post('/api/webhooks').send({ name: 'no url' }).expect(400);
    expect(r.body.error.fields).toEqual([{ field: 'url', message: 'is required' }]);
  });
});

describe('the document refuses what the server refuses (walkthrough findings)', () => {
  /** The server answers 400 naming `field` with `message`, and the document rejects the body too. */
  async function bothRefuse(method: 'put' | 'post' | 'patch', url: string, docPath: string, body: unknown, field: string, message: string) {
    const r = await request(srv.base)[method](url).send(body as object);
    expect(r.status, `${method} ${url} ${JSON.stringify(body)}: ${JSON.stringify(r.body)}`).toBe(400);
    expect(r.body.error.fields).toContainEqual({ field, message });
    expect(docAccepts(method, docPath, body), `the document accepts ${method} ${docPath} ${JSON.stringify(body)}`).toBe(false);
  }
  /** The server takes it (2xx) and so does the document. */
  async function bothAccept(method: 'put' | 'post' | 'patch', url: string, docPath: string, body: unknown) {
    const r = await request(srv.base)[method](url).send(body as object);
    expect(r.status, `${method} ${url} ${JSON.stringify(body)}: ${JSON.stringify(r.body)}`).toBeLessThan(300);
    expect(docAccepts(method, docPath, body), `the document refuses ${method} ${docPath} ${JSON.stringify(body)}`).toBe(true);
    return r;
  }

  it('response header names: HTTP tokens, none the server sets, none that act for the origin (any case)', async () => {
    const bin = await createBin(srv.base);
    const at = (headers: Record<string, string>) => ({ default: { headers } });
    const url = `/api/bins/${bin.id}/response`;
    const path = '/api/bins/{id}/response';
    await bothRefuse('put', url, path, at({ 'bad name': 'x' }), 'default.headers.bad name', NOT_HTTP_TOKEN);
    await bothRefuse('put', url, path, at({ ['x'.repeat(257)]: 'x' }), `default.headers.${'x'.repeat(257)}`, NOT_HTTP_TOKEN);
    await bothRefuse('put', url, path, at({ 'Content-Length': '1' }), 'default.headers.Content-Length', SET_BY_SERVER);
    await bothRefuse('put', url, path, at({ 'sEt-CoOkIe': 'a=b' }), 'default.headers.sEt-CoOkIe', ORIGIN_HEADER_REASON);
    await bothRefuse('put', url, path, { rules: [{ headers: { 'Strict-Transport-Security': 'max-age=1' } }] }, 'rules[0].headers.Strict-Transport-Security', ORIGIN_HEADER_REASON);
    const many = Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`x-h${i}`, 'v']));
    await bothRefuse('put', url, path, at(many), 'default.headers', 'at most 50 headers');
    await bothAccept('put', url, path, at({ 'X-Ok': '1', "x-!#$%&'*+.^_`|~": '2', 'Set-Cookie-Not': '3' }));
  });

  it('a plan step or rule with a fault has no status, headers, body or content type', async () => {
    const bin = await createBin(srv.base);
    const url = `/api/bins/${bin.id}/response`;
    const path = '/api/bins/{id}/response';
    const why = 'cannot be combined with a fault (a "reset" sends no response)';
    await bothRefuse('put', url, path, { plan: [{ fault: 'reset', status: 500 }] }, 'plan[0].status', why);
    await bothRefuse('put', url, path, { rules: [{ fault: 'reset', contentType: 'text/plain' }] }, 'rules[0].contentType', why);
    await bothAccept('put', url, path, { plan: [{ fault: 'reset', delayMs: 5, times: 2 }, { status: 500, headers: { 'x-a': 'b' } }], rules: [{ fault: 'timeout', match: { pathPrefix: '/slow' } }] });
  });

  it('proxy mode needs a target; URLs are http(s) without a user name or password', async () => {
    const bin = await createBin(srv.base);
    const url = `/api/bins/${bin.id}/forward`;
    const path = '/api/bins/{id}/forward';
    await bothRefuse('put', url, path, { answerWith: 'target', targets: [] }, 'answerWith', PROXY_NEEDS_TARGET);
    await bothRefuse('put', url, path, { targets: [{ url: 'http://user:pw@example.com/' }] }, 'targets[0].url', 'must not contain a user name or password');
    await bothRefuse('put', url, path, { targets: [{ url: 'https://token@example.com/' }] }, 'targets[0].url', 'must not contain a user name or password');
    await bothRefuse('put', url, path, { targets: [{ url: 'mailto:a@example.com' }] }, 'targets[0].url', 'must use http or https');
    await bothRefuse('put', url, path, { targets: [{ url: 'ftp://x' }] }, 'targets[0].url', 'must use http or https');
    await bothRefuse('put', url, path, { targets: [{ url: 'nope' }] }, 'targets[0].url', 'must be an absolute URL such as https://example.com/hooks');
    await bothRefuse('put', url, path, { targets: [{ url: '' }] }, 'targets[0].url', 'must not be empty');
    // URL parsing would drop them: the request would go to /okX:%201, not what was typed.
    await bothRefuse('put', url, path, { targets: [{ url: 'http://127.0.0.1:9/ok\r\nX: 1' }] }, 'targets[0].url', 'must not contain a tab or line break');
    await bothRefuse('put', url, path, { targets: [{ url: 'http://exa\tmple.com/in' }] }, 'targets[0].url', 'must not contain a tab or line break');
    await bothAccept('put', url, path, { answerWith: 'target', targets: [{ url: 'HTTPS://hooks.example.com/in?who=a@b.example' }] });
    await bothAccept('put', url, path, { answerWith: 'bin', targets: [] });
    // At either end they are white space, trimmed as before.
    await bothAccept('put', url, path, { targets: [{ url: '\thttps://hooks.example.com/in\r\n' }] });
    // What depends on the server (its own receiver URLs, the outbound rules) is said in words.
    expect(doc.paths[path].put.description).toMatch(/own receiver URLs .*outbound rules/);

    await bothRefuse('post', '/api/webhooks', '/api/webhooks', { url: 'http://user:pw@example.com/' }, 'url', 'must not contain a user name or password');
    await bothRefuse('post', '/api/webhooks', '/api/webhooks', { url: 'mailto:a@example.com' }, 'url', 'must use http or https');
    const wh = await bothAccept('post', '/api/webhooks', '/api/webhooks', { url: `HTTP://${new URL(bin.url).host}/h/${bin.id}?who=a@b`, enabled: false });
    expect(wh.body.url).toBe(`http://${new URL(bin.url).host}/h/${bin.id}?who=a@b`);
    await bothRefuse('patch', `/api/webhooks/${wh.body.id}`, '/api/webhooks/{id}', { url: 'http://u@example.com/' }, 'url', 'must not contain a user name or password');
    await request(srv.base).delete(`/api/webhooks/${wh.body.id}`).expect(204);
  });

  it('a new bin id not starting with "-", a whsec_ secret, a port up to 65535, a forward target without #fragment and given once', async () => {
    await bothRefuse('post', '/api/bins', '/api/bins', { id: '-abcdefghijklmnop' }, 'id', LEADING_DASH);
    const secret = `whsec_${Buffer.alloc(24, 7).toString('base64')}`;
    const hook = { url: 'http://127.0.0.1:65535/in', enabled: false };
    for (const bad of ['nope', 'whsec_', `whsec_${Buffer.alloc(15, 7).toString('base64')}`, `whsec_${Buffer.alloc(65, 7).toString('base64')}`, `${secret}!`]) {
      await bothRefuse('post', '/api/webhooks', '/api/webhooks', { ...hook, secret: bad }, 'secret', 'must be "whsec_" followed by base64 of 16 to 64 random bytes');
    }
    for (const url of ['http://example.com:99999/in', 'http://example.com:65536/', 'http://[::1]:123456/', 'http://a:b:c/']) {
      await bothRefuse('post', '/api/webhooks', '/api/webhooks', { url, enabled: false }, 'url', 'must be an absolute URL such as https://example.com/hooks');
    }
    for (const body of [{ ...hook, secret }, { ...hook, secret: `whsec_${Buffer.alloc(64, 1).toString('base64')}`, previousSecret: secret }, { url: 'http://[::1]:00080/in', enabled: false }, { url: 'http://127.0.0.1:/in', enabled: false }]) {
      const r = await bothAccept('post', '/api/webhooks', '/api/webhooks', body);
      await request(srv.base).delete(`/api/webhooks/${r.body.id}`).expect(204);
    }
    const bin = await createBin(srv.base);
    const url = `/api/bins/${bin.id}/forward`;
    const path = '/api/bins/{id}/forward';
    await bothRefuse('put', url, path, { targets: [{ url: 'https://hooks.example.com/in#part' }] }, 'targets[0].url', FRAGMENT_REASON);
    await bothRefuse('put', url, path, { targets: [{ url: 'https://hooks.example.com/in#' }] }, 'targets[0].url', FRAGMENT_REASON);
    const twice = { url: 'https://hooks.example.com/in' };
    await bothRefuse('put', url, path, { targets: [twice, twice] }, 'targets[1].url', 'is targets[0] again: each capture would be sent there twice');
    // Written differently: no schema keyword says it, the words do.
    expect(doc.components.schemas.ForwardSettings).toMatchObject({ properties: { targets: { description: expect.stringMatching(/at most once: .*written differently/) } } });
  });

  it('GET /api/docs declares its HTML', async () => {
    const r = await request(srv.base).get('/api/docs').expect(200);
    expect(r.headers['content-type']).toMatch(/^text\/html/);
    expect(Object.keys(response(doc.paths['/api/docs'].get, 200)?.content ?? {})).toEqual(['text/html']);
  });

  it('search and wait filters: a method or header name no request can have is refused by both; spaces around are not', async () => {
    const bin = await createBin(srv.base);
    for (const [p, url] of [
      ['/api/bins/{id}/requests', `/api/bins/${bin.id}/requests?`],
      ['/api/bins/{id}/requests/wait', `/api/bins/${bin.id}/requests/wait?timeout=1ms&`],
    ]) {
      const params = (doc.paths[p].get.parameters ?? []) as unknown as { name: string; schema: object }[];
      const docTakes = (name: string, v: string) => ajv.validate(params.find((x) => x.name === name)!.schema, v);
      const serverTakes = async (name: string, v: string) => (await request(srv.base).get(`${url}${name}=${encodeURIComponent(v)}`)).status !== 400;
      for (const [name, v, ok] of [
        ['method', 'BAD METHOD', false],
        ['method', 'PURGE', true],
        ['method', ' post ', true],
        ['header', 'x y:1', false],
        ['header', ':v', false],
        ['header', 'x-a:1', true],
        ['header', ' content-type : x ', true],
      ] as const) {
        expect([name, v, docTakes(name, v), await serverTakes(name, v)]).toEqual([name, v, ok, ok]);
      }
    }
  });

  it('label sources are json:<path> or header:<name>', async () => {
    const bin = await createBin(srv.base);
    const url = `/api/bins/${bin.id}`;
    await bothRefuse('patch', url, '/api/bins/{id}', { labelFrom: ['xml:a'] }, 'labelFrom[0]', 'must start with json: or header:');
    await bothRefuse('patch', url, '/api/bins/{id}', { labelFrom: ['json:a..b'] }, 'labelFrom[0]', 'has an empty path segment (write json:a.b.0.c)');
    await bothRefuse('patch', url, '/api/bins/{id}', { labelFrom: ['header:x y'] }, 'labelFrom[0]', 'is not a valid header name');
    await bothRefuse('post', '/api/bins', '/api/bins', { labelFrom: ['json:'] }, 'labelFrom[0]', 'needs a path after "json:" (e.g. json:data.object.type)');
    await bothRefuse('patch', url, '/api/bins/{id}', { labelFrom: [''] }, 'labelFrom[0]', 'must not be empty');
    await bothAccept('patch', url, '/api/bins/{id}', { labelFrom: ['json:data.items.0.kind', 'header:X-GitHub-Event'] });
  });

  it('the clock advances by exactly one of ms and to', async () => {
    const one = 'give exactly one of "ms" or "to"';
    await bothRefuse('post', '/api/clock/advance', '/api/clock/advance', {}, 'body', one);
    await bothRefuse('post', '/api/clock/advance', '/api/clock/advance', { ms: 1, to: 'next' }, 'body', one);
    await request(srv.base).put('/api/clock').send({ paused: true }).expect(200);
    await bothAccept('post', '/api/clock/advance', '/api/clock/advance', { ms: 1 });
  });

  it("a webhook's schedule: a preset or delaysMs, and no firstDelayMs or factor with a list of waits", async () => {
    const bin = await createBin(srv.base);
    const wh = (schedule: object) => ({ url: bin.url, enabled: false, schedule });
    await bothRefuse('post', '/api/webhooks', '/api/webhooks', wh({ preset: 'svix', firstDelayMs: 10 }), 'schedule.firstDelayMs', 'does not apply to the svix preset (a list of waits)');
    await bothRefuse('post', '/api/webhooks', '/api/webhooks', wh({ delaysMs: [1000], factor: 2 }), 'schedule.factor', 'does not apply to delaysMs (a list of waits)');
    await bothRefuse('post', '/api/webhooks', '/api/webhooks', wh({ preset: 'stripe', delaysMs: [1000] }), 'schedule.delaysMs', 'give either a preset or delaysMs, not both');
    const ok = await bothAccept('post', '/api/webhooks', '/api/webhooks', wh({ preset: 'stripe', factor: 3 }));
    await request(srv.base).delete(`/api/webhooks/${ok.body.id}`).expect(204);
  });
});

describe('the schedule preview refuses what a webhook refuses', () => {
  it('firstDelayMs or factor with a list of waits, or a preset with delaysMs: 400, in the same words', async () => {
    const api = request(srv.base);
    const bin = await createBin(srv.base);
    for (const [query, schedule] of [
      ['preset=svix&firstDelayMs=10', { preset: 'svix', firstDelayMs: 10 }],
      ['preset=standard-webhooks&factor=2', { preset: 'standard-webhooks', factor: 2 }],
      ['delaysMs=1000,2000&firstDelayMs=10&factor=2', { delaysMs: [1000, 2000], firstDelayMs: 10, factor: 2 }],
      ['preset=stripe&delaysMs=1000', { preset: 'stripe', delaysMs: [1000] }],
    ] as const) {
      const preview = await api.get(`/api/schedule/preview?${query}`);
      expect(preview.status, query).toBe(400);
      conforms('get', '/api/schedule/preview', preview);
      const webhook = await api.post('/api/webhooks').send({ url: bin.url, enabled: false, schedule }).expect(400);
      const asWebhook = (webhook.body.error.fields as { field: string; message: string }[]).map((f) => ({ ...f, field: f.field.replace(/^schedule\./, '') }));
      expect(preview.body.error.fields).toEqual(asWebhook);
      expect(preview.body.error.field).toBe(asWebhook[0].field);
    }
    // What a webhook accepts, the preview shows.
    await api.get('/api/schedule/preview?preset=stripe&factor=3&firstDelayMs=10').expect(200);
    await api.get('/api/schedule/preview?delaysMs=1000,2000&deadlineMs=5000').expect(200);
  });

  it("with webhookId: numbers on the webhook's list of waits are refused too; a new schedule replaces it", async () => {
    const api = request(srv.base);
    const bin = await createBin(srv.base);
    const wh = (await api.post('/api/webhooks').send({ url: bin.url, enabled: false, schedule: { preset: 'svix' } }).expect(201)).body as { id: string };
    try {
      const r = await api.get(`/api/schedule/preview?webhookId=${wh.id}&firstDelayMs=10`).expect(400);
      expect(r.body.error.fields).toEqual([{ field: 'firstDelayMs', message: 'does not apply to the svix preset (a list of waits)' }]);
      conforms('get', '/api/schedule/preview', r);
      const own = (await api.get(`/api/schedule/preview?webhookId=${wh.id}&jitter=0`).expect(200)).body as { settings: { preset?: string } };
      expect(own.settings.preset).toBe('svix');
      const replaced = (await api.get(`/api/schedule/preview?webhookId=${wh.id}&preset=stripe&firstDelayMs=10`).expect(200)).body as { settings: { firstDelayMs: number } };
      expect(replaced.settings.firstDelayMs).toBe(10);
      expect(doc.paths['/api/schedule/preview'].get.description).toMatch(/same combinations are a 400/);
    } finally {
      await api.delete(`/api/webhooks/${wh.id}`);
    }
  });
});

describe("the guards' answers are documented", () => {
  it('for client generators: every operation has a unique operationId and a summary, its tags are declared; settings with revisions declare If-Match and ETag; JSON bodies declare 413', () => {
    const ops = Object.entries(doc.paths).flatMap(([path, methods]) => Object.entries(methods).map(([method, op]) => ({ path, method, op })));
    const ids = ops.map((o) => o.op.operationId);
    expect(ids.filter((id) => !id)).toEqual([]);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ops.find((o) => o.method === 'get' && o.path === '/api/bins/{id}/requests/{rid}')?.op.operationId).toBe('getBinsByIdRequestsByRid');
    expect(ops.filter((o) => !o.op.summary).map((o) => `${o.method} ${o.path}`)).toEqual([]);
    const declared = new Set((doc.tags ?? []).map((t) => t.name));
    expect(ops.flatMap((o) => o.op.tags ?? []).filter((t) => !declared.has(t))).toEqual([]);
    for (const path of ['/api/bins/{id}/response', '/api/bins/{id}/forward', '/api/bins/{id}/verify', '/api/webhooks/{id}']) {
      const methods = doc.paths[path];
      expect(methods.get.responses['200'].headers, `get ${path}`).toHaveProperty('ETag');
      for (const [method, op] of Object.entries(methods).filter(([m]) => m !== 'get')) {
        expect(op.parameters?.some((p) => p.in === 'header' && p.name === 'If-Match'), `${method} ${path}`).toBe(true);
        expect(op.responses['412'], `${method} ${path}`).toBeDefined();
      }
    }
    for (const o of ops.filter((x) => x.path.startsWith('/api/') && x.op.requestBody?.content['application/json'] && !x.path.endsWith('/import'))) {
      expect(o.op.responses['413'], `${o.method} ${o.path}`).toBeDefined();
    }
  });

  it('answers the server sends that a probe found missing: 409 body_truncated on a replay, 503 busy on a search and a detail, 404 on a preview for no webhook, 304 on a JSON GET; POST /api/bins and /api/runs take no body', async () => {
    const paths = doc.paths;
    expect(paths['/api/bins/{id}/requests/{rid}/replay'].post.responses['409']).toBeDefined();
    expect(paths['/api/bins/{id}/requests'].get.responses['503']).toBeDefined();
    expect(paths['/api/bins/{id}/requests/{rid}'].get.responses['503']).toBeDefined();
    expect(paths['/api/schedule/preview'].get.responses['404']).toBeDefined();
    expect(paths['/api/bins/{id}'].get.responses['304']).toBeDefined();
    expect(paths['/api/bins/{id}/export'].get.responses['304']).toBeUndefined(); // streamed: no ETag
    expect(paths['/api/bins'].post.requestBody?.required).toBe(false);
    expect(paths['/api/runs'].post.requestBody?.required).toBe(false);
    // And the server does send them.
    const bin = await createBin(srv.base);
    const first = await request(srv.base).get(`/api/bins/${bin.id}`).expect(200);
    await request(srv.base).get(`/api/bins/${bin.id}`).set('if-none-match', first.headers.etag).expect(304);
    await request(srv.base).get('/api/schedule/preview?webhookId=wh_nope').expect(404);
    await request(srv.base).post('/api/bins').expect(201);
  });

  it('a path parameter that is not valid percent-encoding, and a bad body sent to an operation that takes none, answer as documented', async () => {
    const bin = await createBin(srv.base);
    conforms('get', '/api/bins/{id}', await request(srv.base).get('/api/bins/%ZZ').expect(400));
    conforms('get', '/api/bins/{id}/requests/{rid}', await request(srv.base).get(`/api/bins/${bin.id}/requests/%E0%A4%A`).expect(400));
    const reset = `/api/bins/${bin.id}/response/reset`;
    conforms('post', '/api/bins/{id}/response/reset', await request(srv.base).post(reset).set('content-type', 'application/json').send('{not json').expect(400));
    conforms('post', '/api/bins/{id}/response/reset', await request(srv.base).post(reset).set('content-type', 'text/plain').send('x').expect(415));
    conforms('post', '/api/bins/{id}/response/reset', await request(srv.base).post(reset).set('content-type', 'application/json; charset=latin1').send('{}').expect(415));
  });

  it('every API operation but /api/health declares 401, 403 and 429 as the shared error responses', () => {
    const shared = { 401: 'Unauthorized', 403: 'ForbiddenHost', 429: 'RateLimited' };
    for (const [path, methods] of Object.entries(doc.paths).filter(([p]) => p.startsWith('/api/'))) {
      for (const [method, op] of Object.entries(methods)) {
        for (const [status, name] of Object.entries(shared)) {
          if (path === '/api/health') expect(op.responses[status], `${method} ${path} ${status}`).toBeUndefined();
          else expect(op.responses[status], `${method} ${path} ${status}`).toEqual({ $ref: `#/components/responses/${name}` });
        }
      }
    }
    for (const name of Object.values(shared)) expect(doc.components.responses[name].content?.['application/json'].schema).toEqual({ $ref: '#/components/schemas/ApiError' });
    expect(doc.components.responses.RateLimited.headers).toHaveProperty('Retry-After');
  });

  it('real 401, 429 (AUTH_TOKEN) and 403 (a foreign Host) answers match them', async () => {
    const guarded = await startServer({ storage: 'memory', config: { authToken: 'sekrit-token-for-the-doc', authFailuresPerMinute: 2 } });
    try {
      const gdoc = (await request(guarded.base).get('/api/openapi.json').set('authorization', 'Bearer sekrit-token-for-the-doc').expect(200)).body as Doc;
      let r = await request(guarded.base).get('/api/bins');
      expect(r.status).toBe(401);
      conforms('get', '/api/bins', r, gdoc);
      expect(r.body.error.code).toBe('unauthorized');
      await request(guarded.base).get('/api/bins').set('authorization', 'Bearer wrong-1').expect(401);
      await request(guarded.base).get('/api/bins').set('authorization', 'Bearer wrong-2').expect(401);
      r = await request(guarded.base).post('/api/bins').set('authorization', 'Bearer sekrit-token-for-the-doc').send({});
      expect(r.status).toBe(429);
      conforms('post', '/api/bins', r, gdoc);
      expect(r.body.error.code).toBe('rate_limited');
      expect(Number(r.headers['retry-after'])).toBeGreaterThan(0);
    } finally {
      await guarded.cleanup();
    }
    const r = await request(srv.base).get('/api/webhooks').set('host', 'evil.example');
    expect(r.status).toBe(403);
    conforms('get', '/api/webhooks', r);
    expect(r.body.error.code).toBe('forbidden_host');
    // /api/health answers before the guards.
    await request(srv.base).get('/api/health').set('host', 'evil.example').expect(200);
  });

  it('/auth/login and /auth/logout are documented, and answer as documented', async () => {
    const login = doc.paths['/auth/login']?.post;
    const logout = doc.paths['/auth/logout']?.post;
    expect(login).toBeDefined();
    expect(logout).toBeDefined();
    expect(Object.keys(login.requestBody!.content)).toEqual(['application/x-www-form-urlencoded']);
    expect(Object.keys(login.responses).sort()).toEqual(['303', '401', '429']);
    expect(Object.keys(logout.responses)).toEqual(['303', '403']);
    expect(login.security).toEqual([]);
    const guarded = await startServer({ storage: 'memory', config: { authToken: 'sekrit-token-for-the-doc', authFailuresPerMinute: 1 } });
    try {
      const ok = await request(guarded.base).post('/auth/login').type('form').send({ token: 'sekrit-token-for-the-doc', next: '/bins/x' }).expect(303);
      expect(ok.headers['set-cookie']?.[0]).toMatch(/^hooklab_token=/);
      expect(ok.headers.location).toBe('/bins/x');
      const out = await request(guarded.base).post('/auth/logout').expect(303);
      expect(out.headers.location).toBe('/');
      // Another site's form: refused, the cookie left alone. Our own page's "null" passes.
      for (const h of [{ origin: 'http://evil.example' }, { origin: 'null', 'sec-fetch-site': 'cross-site' }, { origin: 'null' }]) {
        const csrf = await request(guarded.base).post('/auth/logout').set(h).expect(403);
        expect([csrf.body.error.code, csrf.headers['set-cookie']]).toEqual(['forbidden_origin', undefined]);
      }
      await request(guarded.base).post('/auth/logout').set({ origin: 'null', 'sec-fetch-site': 'same-origin' }).expect(303);
      await request(guarded.base).post('/auth/logout').set({ origin: guarded.base }).expect(303);
      const bad = await request(guarded.base).post('/auth/login').type('form').send({ token: 'nope' }).expect(401);
      expect(bad.headers['content-type']).toMatch(/^text\/html/);
      expect(Object.keys(login.responses['401'].content!)).toEqual(['text/html']);
      const limited = await request(guarded.base).post('/auth/login').type('form').send({ token: 'nope' }).expect(429);
      expect(limited.headers['retry-after']).toBeDefined();
      expect(login.responses['429'].headers).toHaveProperty('Retry-After');
    } finally {
      await guarded.cleanup();
    }
  });
});

describe('the receiver is documented as it is', () => {
  it('any method, with or without a sub-path', async () => {
    const all = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
    for (const path of ['/h/{binId}', '/h/{binId}/{path}']) {
      expect(Object.keys(doc.paths[path] ?? {}).sort(), path).toEqual([...all].sort());
      for (const op of Object.values(doc.paths[path])) {
        expect(op.security).toEqual([]);
        expect(op.description).toMatch(/Any method .*any sub-path/);
      }
    }
    expect(doc.paths['/h/{binId}/{path}'].post.parameters?.map((p) => p.name).sort()).toEqual(['binId', 'path']);
    // What the document says, the receiver does: every method, on a sub-path, is captured.
    const bin = await createBin(srv.base);
    for (const method of [...all.map((m) => m.toUpperCase()), 'PROPFIND']) {
      // A body on every method HTTP lets carry one (Node's client frames GET, DELETE and OPTIONS bodies only when told their length).
      const body = method === 'HEAD' || method === 'TRACE' ? undefined : 'x';
      const r = await send(`${bin.url}/deep/sub/path?m=${method}`, { method, headers: body ? { 'content-type': 'text/plain', 'content-length': '1' } : {}, body });
      expect(r.status, method).toBe(200);
      const rid = r.headers['x-hooklab-request-id'] as string;
      const cap = (await request(srv.base).get(`/api/bins/${bin.id}/requests/${rid}`).expect(200)).body as { method: string; path: string; body: string };
      expect(cap).toMatchObject({ method, path: '/deep/sub/path', body: body ?? '' });
    }
  });
});

describe('the export is documented per format', () => {
  it('NDJSON lines under application/x-ndjson, the HAR document under application/json', async () => {
    const bin = await createBin(srv.base);
    await send(`${bin.url}/x`, { headers: { 'content-type': 'application/json' }, body: '{"a":1}' });
    await send(`${bin.url}/y`, { headers: { 'content-type': 'application/octet-stream' }, body: Buffer.from([0, 255]) });
    const content = doc.paths['/api/bins/{id}/export'].get.responses['200'].content!;
    expect(Object.keys(content).sort()).toEqual(['application/json', 'application/x-ndjson']);
    const nd = await fetch(`${srv.base}/api/bins/${bin.id}/export`);
    expect(nd.status).toBe(200);
    expect(nd.headers.get('content-type')).toMatch(/^application\/x-ndjson/);
    const line = compiled(content['application/x-ndjson'].schema);
    const lines = (await nd.text()).trim().split('\n');
    expect(lines).toHaveLength(2);
    for (const l of lines) expect(line(JSON.parse(l)), ajv.errorsText(line.errors)).toBe(true);
    const har = await fetch(`${srv.base}/api/bins/${bin.id}/export?format=har`);
    expect(har.status).toBe(200);
    expect(har.headers.get('content-type')).toMatch(/^application\/json/);
    const harDoc: unknown = await har.json();
    const harSchema = compiled(content['application/json'].schema);
    expect(harSchema(harDoc), ajv.errorsText(harSchema.errors)).toBe(true);
    expect(line(harDoc)).toBe(false);
  });
});
