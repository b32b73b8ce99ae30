// Issue 7: exposure. Access token, dispatcher allow-list and response cap, per-bin rate limit,
// security headers, secrets kept out of logs and responses, X-Forwarded-For only on request.
import request from 'supertest';
import { afterAll, describe, expect, it } from 'vitest';
import type { Delivery, RequestDetail, TestResult } from '../../shared/api.ts';
import type { Logger } from '../../server/log.ts';
import { send } from '../helpers/http.ts';
import { spawnServer } from '../helpers/process.ts';
import { createBin, json, startServer, tempDir, type TestServer } from '../helpers/server.ts';
import { connect, subscribe } from '../helpers/socket.ts';

const TOKEN = 'tok-' + 'a1b2c3d4e5f6';
const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const servers: TestServer[] = [];
async function server(o: Parameters<typeof startServer>[0]) {
  const s = await startServer({ storage: 'memory', ...o });
  servers.push(s);
  return s;
}
afterAll(async () => {
  await Promise.all(servers.map((s) => s.cleanup()));
});

describe('AUTH_TOKEN', () => {
  it('guards the API, the UI and Socket.IO; receiver URLs stay open', async () => {
    const s = await server({ config: { authToken: TOKEN } });
    await request(s.base).get('/api/bins').expect(401);
    await request(s.base).get('/api/bins').set('authorization', 'Bearer wrong').expect(401);
    const created = await request(s.base).post('/api/bins').set('authorization', `Bearer ${TOKEN}`).expect(201);
    const page = await request(s.base).get('/').expect(401);
    expect(page.text).toContain('Access token');
    expect(page.text).not.toContain(TOKEN);
    // Senders cannot log in: the receiver answers without a token.
    expect((await send(created.body.url, { body: 'x' })).status).toBe(200);
    // Health stays open for load balancers; it reveals nothing.
    await request(s.base).get('/api/health').expect(200);
    await expect(connect(s.base)).rejects.toThrow(/unauthorized/);
    const sock = await connect(s.base, { token: TOKEN });
    expect(await subscribe(sock, created.body.id)).toMatchObject({ ok: true });
    sock.close();
  });

  it('the login form sets an HttpOnly, SameSite=Strict cookie that then works for the UI and API', async () => {
    const s = await server({ config: { authToken: TOKEN } });
    const bad = await request(s.base).post('/auth/login').type('form').send({ token: 'nope' }).expect(401);
    expect(bad.headers['set-cookie']).toBeUndefined();
    const page = await request(s.base).get('/bins/abc?x=1').expect(401);
    expect(page.text).toContain('name="next" value="/bins/abc?x=1"');
    const evil = await request(s.base).post('/auth/login').type('form').send({ token: TOKEN, next: '//evil.example/' }).expect(303);
    expect(evil.headers.location).toBe('/');
    const ok = await request(s.base).post('/auth/login').type('form').send({ token: TOKEN, next: '/bins/abc' }).expect(303);
    expect(ok.headers.location).toBe('/bins/abc');
    const cookie = ok.headers['set-cookie'][0] as string;
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    await request(s.base).get('/api/bins').set('cookie', cookie.split(';')[0]).expect(200);
  });

  it('warns in plain words when HOST is not loopback and no token is set; never prints the token', async () => {
    const dir = await tempDir();
    const open = await spawnServer({ DATA_DIR: dir, HOST: '0.0.0.0' });
    open.proc.kill('SIGTERM');
    await open.exited;
    expect(open.output()).toMatch(/WARN HOST is 0\.0\.0\.0, so anyone who can reach this machine can read every captured request/);
    const guarded = await spawnServer({ DATA_DIR: dir, HOST: '0.0.0.0', AUTH_TOKEN: TOKEN });
    guarded.proc.kill('SIGTERM');
    await guarded.exited;
    expect(guarded.output()).not.toMatch(/WARN/);
    expect(guarded.output()).not.toContain(TOKEN);
  });
});

describe('dispatcher exposure', () => {
  it('DISPATCH_ALLOW limits hosts by name or CIDR, checked on the resolved address', async () => {
    const recv = await server({});
    const bin = await createBin(recv.base);
    const port = new URL(bin.url).port;
    for (const [allow, url, ok] of [
      [['10.0.0.0/8'], bin.url, false],
      [['127.0.0.0/8'], bin.url, true],
      [['example.com'], bin.url, false],
      [['localhost'], `http://localhost:${port}${new URL(bin.url).pathname}`, true],
      [['10.0.0.0/8'], `http://localhost:${port}${new URL(bin.url).pathname}`, false],
    ] as const) {
      const s = await server({ config: { dispatchAllow: [...allow] } });
      const w = (await request(s.base).post('/api/webhooks').send({ url }).expect(201)).body;
      const r = (await request(s.base).post(`/api/webhooks/${w.id}/test`).expect(200)).body as TestResult;
      if (ok) expect(r, `${allow} ${url}`).toMatchObject({ ok: true, status: 200 });
      else {
        expect(r, `${allow} ${url}`).toMatchObject({ ok: false, error: 'blocked', status: null });
        expect(r.delivery.attempts[0].errorDetail).toContain('DISPATCH_ALLOW');
      }
    }
  });

  it('response bodies read back are capped (DISPATCH_MAX_RESPONSE_BYTES)', async () => {
    const s = await server({ config: { dispatchMaxResponseBytes: 100 } });
    const bin = await createBin(s.base);
    await request(s.base).put(`/api/bins/${bin.id}/response`).send({ default: { body: 'y'.repeat(50_000) } }).expect(200);
    const w = (await request(s.base).post('/api/webhooks').send({ url: bin.url }).expect(201)).body;
    const r = (await request(s.base).post(`/api/webhooks/${w.id}/test`).expect(200)).body as TestResult;
    const a = r.delivery.attempts[0];
    expect(a.responseBody).toBe('y'.repeat(100));
    expect(a.responseBodyTruncated).toBe(true);
    expect(a.ok).toBe(true);
  });

  it('the webhook secret never reaches logs or API answers after it is saved', async () => {
    const lines: string[] = [];
    const rec = (m: string, f?: Record<string, unknown>) => void lines.push(m + JSON.stringify(f ?? {}));
    const log: Logger = { info: rec, warn: rec, error: rec };
    const s = await server({ log });
    const bin = await createBin(s.base);
    const created = await request(s.base).post('/api/webhooks').send({ url: bin.url, secret: SECRET }).expect(201);
    const id = created.body.id;
    const answers = [
      created.text,
      (await request(s.base).get(`/api/webhooks/${id}`)).text,
      (await request(s.base).get('/api/webhooks')).text,
      (await request(s.base).patch(`/api/webhooks/${id}`).send({ name: 'x' })).text,
      (await request(s.base).post(`/api/webhooks/${id}/test`)).text,
      (await request(s.base).post('/api/webhooks').send({ url: 'http://x', secret: SECRET.slice(0, 20) })).text,
      (await request(s.base).get('/api/deliveries')).text,
    ];
    const key = SECRET.slice('whsec_'.length);
    for (const a of answers) expect(a).not.toContain(key);
    for (const l of lines) expect(l).not.toContain(key);
  });
});

describe('receiver exposure', () => {
  it('per-bin rate limit answers 429 with Retry-After, other bins unaffected', async () => {
    const s = await server({ config: { rateLimitPerBin: 5 } });
    const a = await createBin(s.base);
    const b = await createBin(s.base);
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) statuses.push((await send(a.url, { body: 'x' })).status);
    expect(statuses.slice(0, 5)).toEqual([200, 200, 200, 200, 200]);
    expect(statuses.slice(5)).toContain(429);
    const limited = await send(a.url, { body: 'x' });
    expect(limited.status).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect((await send(b.url, { body: 'x' })).status).toBe(200);
  });

  it('security headers on the UI: a CSP that forbids inline script', async () => {
    const s = await server({ staticDir: null });
    const r = await request(s.base).get('/');
    const csp = r.headers['content-security-policy'] as string;
    const scriptSrc = csp.split(';').map((x) => x.trim()).find((x) => x.startsWith('script-src'))!;
    expect(scriptSrc).toBe("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(r.headers['x-content-type-options']).toBe('nosniff');
    expect(r.headers['x-powered-by']).toBeUndefined();
  });

  it('X-Forwarded-For is ignored unless TRUST_PROXY is set', async () => {
    for (const [trust, ip] of [
      [false, '127.0.0.1'],
      [true, '203.0.113.7'],
    ] as const) {
      const s = await server({ config: { trustProxy: trust } });
      const bin = await createBin(s.base);
      const r = await send(bin.url, { headers: { 'X-Forwarded-For': '203.0.113.7, 10.0.0.1' }, body: 'x' });
      const d = (await json<RequestDetail>(s.base, 'GET', `/api/bins/${bin.id}/requests/${r.headers['x-hooklab-request-id']}`)).body;
      expect(d.ip).toBe(ip);
    }
  });
});

describe('deliveries from a stranger', () => {
  it('the dispatcher only calls the URL configured, with no redirects followed', async () => {
    const s = await server({});
    const elsewhere = await createBin(s.base);
    const bin = await createBin(s.base);
    await request(s.base).put(`/api/bins/${bin.id}/response`).send({ default: { status: 307, headers: { location: elsewhere.url } } }).expect(200);
    const w = (await request(s.base).post('/api/webhooks').send({ url: bin.url }).expect(201)).body;
    const r = (await request(s.base).post(`/api/webhooks/${w.id}/test`).expect(200)).body as TestResult;
    expect(r.delivery.attempts[0]).toMatchObject({ status: 307, error: 'redirect', ok: false });
    const d = (await json<Delivery>(s.base, 'GET', `/api/deliveries/${r.delivery.id}`)).body;
    expect(d.attempts).toHaveLength(1);
    expect((await json<{ requestCount: number }>(s.base, 'GET', `/api/bins/${elsewhere.id}`)).body.requestCount).toBe(0);
  });
});
