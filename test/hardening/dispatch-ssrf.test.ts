// A hooklab listening on a public interface must not let strangers use its dispatcher to call
// the host's own services, the LAN or cloud metadata (SSRF), and read the answer back.
import http from 'node:http';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestResult } from '../../shared/api.ts';
import type { Config } from '../../server/config.ts';
import { applyWebhookInput, parseWebhookInput } from '../../server/dispatch/webhook-input.ts';
import { createBin, startServer, type TestServer } from '../helpers/server.ts';

// A private service on this machine, with a secret answer.
let hits = 0;
const local = http.createServer((_req, res) => {
  hits++;
  res.end('internal secret');
});
let localPort = 0;
const servers: TestServer[] = [];
beforeAll(async () => {
  await new Promise<void>((r) => local.listen(0, '127.0.0.1', r));
  localPort = (local.address() as { port: number }).port;
});
afterAll(async () => {
  await Promise.all(servers.map((s) => s.cleanup()));
  local.closeAllConnections();
  await new Promise((r) => local.close(r));
});

async function server(config: Partial<Config>) {
  const s = await startServer({ storage: 'memory', config });
  servers.push(s);
  return s;
}

async function testFire(s: TestServer, url: string): Promise<TestResult> {
  const w = (await request(s.base).post('/api/webhooks').send({ url }).expect(201)).body;
  return (await request(s.base).post(`/api/webhooks/${w.id}/test`).expect(200)).body as TestResult;
}

/** A URL the rules refuse on sight: a 400 when saved, saying why (nothing is saved). */
async function refusedWhenSaved(s: TestServer, url: string): Promise<string> {
  const before = (await request(s.base).get('/api/webhooks')).body.webhooks;
  const r = await request(s.base).post('/api/webhooks').send({ url });
  expect(r.status, url).toBe(400);
  expect(r.body.error).toMatchObject({ code: 'invalid_field', field: 'url' });
  expect((await request(s.base).get('/api/webhooks')).body.webhooks).toEqual(before);
  return r.body.error.message;
}

/**
 * One saved before the rules changed (as a webhook saved on a loopback HOST, the server then
 * exposed): its attempts are blocked all the same. Stored directly, as that earlier server did.
 */
async function savedEarlier(s: TestServer, url: string): Promise<TestResult> {
  const w = applyWebhookInput(null, parseWebhookInput({ url }, false), 'wh_saved_earlier', new Date().toISOString());
  await s.store.webhooks.put(w);
  return (await request(s.base).post(`/api/webhooks/${w.id}/test`).expect(200)).body as TestResult;
}

describe('dispatcher on a public HOST without DISPATCH_ALLOW', () => {
  it('refuses a loopback IP, says why, and the local service receives nothing', async () => {
    const s = await server({ host: '0.0.0.0' });
    hits = 0;
    const why = '127.0.0.1 is a loopback address; hooklab listens on a public interface, so outbound calls to private networks need DISPATCH_ALLOW';
    expect(await refusedWhenSaved(s, `http://127.0.0.1:${localPort}/admin`)).toBe(`url: ${why}`);
    const r = await savedEarlier(s, `http://127.0.0.1:${localPort}/admin`);
    expect(r).toMatchObject({ ok: false, error: 'blocked', status: null });
    const a = r.delivery.attempts[0];
    expect(a.errorDetail).toBe(why);
    expect(a.responseBody).toBe('');
    expect(JSON.stringify(r)).not.toContain('internal secret');
    expect(hits).toBe(0);
  });

  it('refuses a name that resolves to loopback, at connect time', async () => {
    const s = await server({ host: '0.0.0.0' });
    hits = 0;
    const r = await testFire(s, `http://localhost:${localPort}/admin`);
    expect(r).toMatchObject({ ok: false, error: 'blocked', status: null });
    expect(r.delivery.attempts[0].errorDetail).toMatch(/^localhost resolves to .*(loopback|IPv4 inside IPv6).*need DISPATCH_ALLOW$/);
    expect(hits).toBe(0);
  });

  it('refuses IPv4-mapped IPv6 and metadata addresses before any connection', async () => {
    const s = await server({ host: '0.0.0.0' });
    for (const u of [`http://[::ffff:127.0.0.1]:${localPort}/`, 'http://169.254.169.254/latest/meta-data/', 'http://metadata.google.internal/']) {
      expect(await refusedWhenSaved(s, u)).toContain('need DISPATCH_ALLOW');
      const r = await savedEarlier(s, u);
      await request(s.base).delete('/api/webhooks/wh_saved_earlier').expect(204);
      expect(r, u).toMatchObject({ ok: false, error: 'blocked' });
      expect(r.delivery.attempts[0].errorDetail, u).toContain('need DISPATCH_ALLOW');
    }
    expect(hits).toBe(0);
  });

  it("still reaches hooklab's own bins through PUBLIC_URL", async () => {
    const s = await server({ host: '0.0.0.0' });
    const bin = await createBin(s.base); // PUBLIC_URL is http://127.0.0.1:<port>
    expect(new URL(bin.url).hostname).toBe('127.0.0.1');
    const r = await testFire(s, bin.url + '/sub');
    expect(r).toMatchObject({ ok: true, status: 200 });
    // The same origin outside /h/ is not a receiver: refused.
    expect(await refusedWhenSaved(s, `${new URL(bin.url).origin}/api/bins`)).toContain('127.0.0.1 is a loopback address');
  });

  it("with DISPATCH_ALLOW not naming it, hooklab's own bins are still reached", async () => {
    const s = await server({ host: '0.0.0.0', dispatchAllow: ['example.com'] });
    const bin = await createBin(s.base);
    const r = await testFire(s, bin.url);
    expect(r).toMatchObject({ ok: true, status: 200 });
    expect((await request(s.base).get(`/api/bins/${bin.id}/requests`)).body.requests).toHaveLength(1);
    expect(await refusedWhenSaved(s, `http://127.0.0.1:${localPort}/admin`)).toBe('url: 127.0.0.1 is not in DISPATCH_ALLOW');
    // Nor can a change of URL point a saved one there.
    const w = (await request(s.base).get('/api/webhooks')).body.webhooks[0];
    const p = await request(s.base).patch(`/api/webhooks/${w.id}`).send({ url: `http://127.0.0.1:${localPort}/admin` });
    expect(p.status).toBe(400);
    expect((await request(s.base).get(`/api/webhooks/${w.id}`)).body.url).toBe(bin.url);
  });

  it('with DISPATCH_ALLOW naming it, the private service is reached', async () => {
    const s = await server({ host: '0.0.0.0', dispatchAllow: ['127.0.0.1'] });
    hits = 0;
    const r = await testFire(s, `http://127.0.0.1:${localPort}/admin`);
    expect(r).toMatchObject({ ok: true, status: 200 });
    expect(hits).toBe(1);
  });

  it('on a loopback HOST, nothing changes: anything is reachable', async () => {
    const s = await server({ host: '127.0.0.1' });
    hits = 0;
    const r = await testFire(s, `http://127.0.0.1:${localPort}/admin`);
    expect(r).toMatchObject({ ok: true, status: 200 });
    expect(hits).toBe(1);
  });
});
