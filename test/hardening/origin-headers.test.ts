// A bin's answer must not act for hooklab's origin: receiver URLs share the UI's origin, so a
// Set-Cookie or a relaxed CSP there would run as hooklab for a signed-in user who opens it.
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ResponseConfig } from '../../shared/api.ts';
import { initialPlanState } from '../../server/control/engine.ts';
import { ORIGIN_HEADERS } from '../../shared/schema/headers.ts';
import { send } from '../helpers/http.ts';
import { createBin, startServer, type TestServer } from '../helpers/server.ts';

let srv: TestServer;
beforeAll(async () => {
  srv = await startServer({ storage: 'memory' });
});
afterAll(() => srv.cleanup());

// One per class, in the case a user might type them.
const HOSTILE = [
  'Set-Cookie',
  'set-cookie2',
  'Content-Security-Policy',
  'Content-Security-Policy-Report-Only',
  'Clear-Site-Data',
  'Strict-Transport-Security',
  'Service-Worker-Allowed',
  'X-Content-Type-Options',
  'Refresh',
  'Origin-Agent-Cluster',
  'Cross-Origin-Opener-Policy',
  'Cross-Origin-Embedder-Policy',
  'Permissions-Policy',
  'Feature-Policy',
  'Document-Policy',
  'NEL',
  'Report-To',
  'Reporting-Endpoints',
  'Alt-Svc',
  'X-Frame-Options',
  'X-XSS-Protection',
  // The Origin is echoed back (cors): with this, other sites would read with the visitor's credentials.
  'Access-Control-Allow-Credentials',
  // Have the browser fetch and run rules for the origin's pages.
  'Speculation-Rules',
  'Supports-Loading-Mode',
];

describe('bin answer headers that act for the origin', () => {
  it('every listed header is in the shared list', () => {
    for (const h of HOSTILE) expect(ORIGIN_HEADERS.has(h.toLowerCase()), h).toBe(true);
  });

  it.each(HOSTILE)('%s is refused in default, plan and rules with a 400 naming the field; old settings stay', async (name) => {
    const bin = await createBin(srv.base);
    const good = { default: { status: 202, headers: { 'x-kept': 'yes' } }, plan: [{ status: 500 }], seed: 7 };
    await request(srv.base).put(`/api/bins/${bin.id}/response`).send(good).expect(200);
    const before = (await request(srv.base).get(`/api/bins/${bin.id}/response`).expect(200)).body;
    for (const [body, field] of [
      [{ default: { headers: { 'x-ok': '1', [name]: 'x=1' } } }, `default.headers.${name}`],
      [{ plan: [{ status: 500 }, { status: 200, headers: { [name]: 'x=1' } }] }, `plan[1].headers.${name}`],
      [{ rules: [{ headers: { [name]: 'x=1' }, match: { pathPrefix: '/a' } }] }, `rules[0].headers.${name}`],
    ] as const) {
      const r = await request(srv.base).put(`/api/bins/${bin.id}/response`).send(body).expect(400);
      expect(r.body.error.code).toBe('invalid_field');
      expect(r.body.error.field).toBe(field);
      expect(r.body.error.message).toContain(`${field}: `);
      expect(r.body.error.message).toMatch(/hooklab's own origin/);
      expect(r.body.error.message).toMatch(/share the UI's origin/);
    }
    expect((await request(srv.base).get(`/api/bins/${bin.id}/response`).expect(200)).body).toEqual(before);
    // The old plan still runs from its first step: 500, then the default.
    expect((await send(bin.url, { body: 'x' })).status).toBe(500);
    const a = await send(bin.url, { body: 'x' });
    expect(a.status).toBe(202);
    expect(a.headers['x-kept']).toBe('yes');
  });

  it("X-Hooklab-Request-Id is the server's: refused in settings (a sender or script looks the capture up by it)", async () => {
    const bin = await createBin(srv.base);
    const r = await request(srv.base).put(`/api/bins/${bin.id}/response`).send({ default: { headers: { 'X-Hooklab-Request-Id': 'fake' } } }).expect(400);
    expect(r.body.error.fields).toEqual([{ field: 'default.headers.X-Hooklab-Request-Id', message: 'is set by the server and cannot be overridden' }]);
  });

  it('a "__proto__" header name is refused at its field, not dropped without a word (a JSON key JavaScript objects cannot hold)', async () => {
    const bin = await createBin(srv.base);
    // Sent as raw JSON: an object literal's __proto__ would set the prototype, not a key.
    for (const [json, field] of [
      ['{"default":{"headers":{"X-A":"1","__proto__":"x"}}}', 'default.headers.__proto__'],
      ['{"plan":[{"status":500,"headers":{"__proto__":"x"}}]}', 'plan[0].headers.__proto__'],
    ] as const) {
      const r = await request(srv.base).put(`/api/bins/${bin.id}/response`).set('content-type', 'application/json').send(json).expect(400);
      expect(r.body.error.fields).toEqual([{ field, message: 'cannot be used as a header name here (JavaScript reserves it)' }]);
    }
  });

  it('testing headers stay allowed and are sent as configured', async () => {
    const bin = await createBin(srv.base);
    const headers = {
      'Access-Control-Allow-Origin': '*',
      'access-control-allow-headers': 'x-a',
      Location: 'https://example.com/elsewhere',
      'Retry-After': '120',
      'Cache-Control': 'no-store',
      'X-Custom': 'v',
    };
    await request(srv.base).put(`/api/bins/${bin.id}/response`).send({ default: { status: 503, headers } }).expect(200);
    const a = await send(bin.url, { body: 'x' });
    expect(a.status).toBe(503);
    for (const [k, v] of Object.entries(headers)) expect(a.headers[k.toLowerCase()], k).toBe(v);
    expect(a.headers['content-security-policy']).toBe('sandbox');
    expect(a.headers['x-content-type-options']).toBe('nosniff');
  });

  it('settings saved by an earlier build (never validated) answer without those headers, sandboxed', async () => {
    const bin = await createBin(srv.base);
    const hostile = Object.fromEntries(HOSTILE.map((h) => [h, 'x']));
    const config: Omit<ResponseConfig, 'cors'> = {
      default: {
        status: 200,
        headers: { ...hostile, 'content-security-policy': "default-src *; script-src 'unsafe-inline'", 'x-content-type-options': 'sniff', 'X-Still-Here': '1', 'X-Hooklab-Request-Id': 'fake' },
        body: '<script>fetch("/api/bins")</script>',
        contentType: 'text/html',
        delayMs: 0,
      },
      rules: [{ status: 201, headers: { 'Set-Cookie': 'hooklab_token=evil; Path=/' }, match: { pathPrefix: '/rule' } }],
      plan: [{ status: 200, headers: { 'SET-COOKIE': 'a=b', 'Content-Security-Policy': 'script-src *' } }],
      afterPlan: 'default',
      seed: 1,
    };
    // Straight into the store, past the validator, then read back as at start-up.
    // (Before `cors` existed, too: read as on.)
    const old = config as ResponseConfig;
    await srv.store.responses.put({ id: bin.id, config: old, state: initialPlanState(old) });
    await srv.app.control.load();
    for (const sub of ['', '/rule', '']) {
      const a = await send(bin.url + sub, { body: 'x' });
      expect(a.status).toBeLessThan(300);
      for (const h of ORIGIN_HEADERS) if (h !== 'content-security-policy' && h !== 'x-content-type-options') expect(a.headers[h], `${sub} ${h}`).toBeUndefined();
      expect(a.headers['content-security-policy']).toBe('sandbox');
      expect(a.headers['x-content-type-options']).toBe('nosniff');
      // The capture's own id, not one the settings name.
      expect(a.headers['x-hooklab-request-id']).toMatch(/^[0-9a-z]{13,40}$/);
    }
    expect((await send(bin.url, { body: 'x' })).headers['x-still-here']).toBe('1');
  });
});
