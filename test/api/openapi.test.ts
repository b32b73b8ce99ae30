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
import * as D from '../../shared/schema/dispatch.ts';
import type { ApiContext } from '../../server/api/context.ts';
import { apiRouters } from '../../server/api/index.ts';
import { send } from '../helpers/http.ts';
import { createBin, startServer, type TestServer } from '../helpers/server.ts';

interface Doc {
  paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema: unknown }> }> }>>;
  components: { schemas: Record<string, unknown> };
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

/** Assert an answer matches the schema the document declares for it. */
function conforms(method: string, path: string, r: { status: number; body: unknown }) {
  const op = doc.paths[path]?.[method];
  expect(op, `${method} ${path} is documented`).toBeDefined();
  const declared = op.responses[String(r.status)];
  expect(declared, `${method} ${path} declares ${r.status}`).toBeDefined();
  const schema = declared.content?.['application/json']?.schema;
  if (schema) {
    const fixed = JSON.parse(JSON.stringify(schema).replaceAll('"#/components/', '"doc#/components/'));
    const validate = ajv.compile(fixed);
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
    checked.add('get /api/bins/{id}/requests/{rid}/raw');

    conforms('get', '/api/bins/{id}/response', await api.get(`/api/bins/${bin.id}/response`));
    conforms('put', '/api/bins/{id}/response', await api.put(`/api/bins/${bin.id}/response`).send({ plan: [{ status: 500, times: 2 }, { fault: 'reset' }], rules: [{ status: 204, match: { pathPrefix: '/health' } }] }));
    conforms('put', '/api/bins/{id}/response', await api.put(`/api/bins/${bin.id}/response`).send({ plan: [{ status: 700 }] }));
    conforms('post', '/api/bins/{id}/response/reset', await api.post(`/api/bins/${bin.id}/response/reset`));

    r = await api.get(`/api/bins/${bin.id}/export?format=har`);
    conforms('get', '/api/bins/{id}/export', { status: r.status, body: JSON.parse(r.text) });
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
