// Issue 7: exposure. Access token, dispatcher allow-list and response cap, per-bin rate limit,
// security headers, secrets kept out of logs and responses, X-Forwarded-For only on request.
import { isIP } from 'node:net';
import request from 'supertest';
import { afterAll, describe, expect, it } from 'vitest';
import type { Delivery, RequestDetail, TestResult } from '../../shared/api.ts';
import type { Logger } from '../../server/log.ts';
import { send } from '../helpers/http.ts';
import { spawnServer } from '../helpers/process.ts';
import { createBin, json, startServer, tempDir, type TestServer } from '../helpers/server.ts';
import { connect, handshakeStatus, subscribe } from '../helpers/socket.ts';

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
    // Refused at the handshake, before a session is made (see test/live/sessions.test.ts).
    expect(handshakeStatus(await connect(s.base).catch((e: unknown) => e))).toBe(401);
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

  it('behind a proxy (TRUST_PROXY) serving an https PUBLIC_URL, the cookie is Secure without X-Forwarded-Proto; over plain http, not', async () => {
    const login = async (config: NonNullable<Parameters<typeof startServer>[0]>['config'], proto?: string) => {
      const s = await server({ config: { authToken: TOKEN, ...config } });
      const r = request(s.base).post('/auth/login').type('form');
      if (proto) r.set('x-forwarded-proto', proto);
      return (await r.send({ token: TOKEN }).expect(303)).headers['set-cookie'][0] as string;
    };
    // An nginx config without `proxy_set_header X-Forwarded-Proto` (the README's had none).
    expect(await login({ trustProxy: true, publicUrl: 'https://hooks.example.com' })).toMatch(/; Secure/);
    expect(await login({ trustProxy: true, publicUrl: 'http://hooks.example.com' }, 'https')).toMatch(/; Secure/);
    expect(await login({ trustProxy: true, publicUrl: 'http://hooks.example.com' })).not.toMatch(/Secure/);
    // Without TRUST_PROXY nothing says the browser is on https (a sender could claim it).
    expect(await login({ publicUrl: 'https://hooks.example.com' }, 'https')).not.toMatch(/Secure/);
  });

  it('a signed-in browser opening a receiver URL sends its cookie along: the token is not captured (nor forwarded on); other cookies are', async () => {
    const s = await server({ config: { authToken: TOKEN } });
    const bin = (await request(s.base).post('/api/bins').set('authorization', `Bearer ${TOKEN}`).expect(201)).body as { id: string; url: string };
    const detailOf = async (r: { headers: Record<string, unknown> }) =>
      (await request(s.base).get(`/api/bins/${bin.id}/requests/${r.headers['x-hooklab-request-id']}`).set('authorization', `Bearer ${TOKEN}`).expect(200)).body as RequestDetail;
    const cookies = (d: RequestDetail) => d.headers.filter(([n]) => n.toLowerCase() === 'cookie').map(([, v]) => v);
    // Before: ["hooklab_token=tok-…"] in the capture, its export and every forward.
    const alone = await detailOf(await send(bin.url, { headers: { cookie: `hooklab_token=${TOKEN}` } }));
    expect(cookies(alone)).toEqual([]);
    const among = await detailOf(await send(bin.url, { headers: { cookie: `a=1; hooklab_token=${encodeURIComponent(TOKEN)}; b=2` } }));
    expect(cookies(among)).toEqual(['a=1; b=2']);
    expect(JSON.stringify(among)).not.toContain(TOKEN);
    // Not the token: kept as sent (a sender's own cookie of that name is its business).
    const other = await detailOf(await send(bin.url, { headers: { cookie: 'hooklab_token=something-else; c=3' } }));
    expect(cookies(other)).toEqual(['hooklab_token=something-else; c=3']);
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
      const made = await request(s.base).post('/api/webhooks').send({ url });
      // An address it does not list is refused when saved; a name, where it resolves (below).
      if (!ok && isIP(new URL(url).hostname)) {
        expect(made.status, `${allow} ${url}`).toBe(400);
        expect(made.body.error).toMatchObject({ code: 'invalid_field', field: 'url', message: `url: ${new URL(url).hostname} is not in DISPATCH_ALLOW` });
        continue;
      }
      expect(made.status).toBe(201);
      const r = (await request(s.base).post(`/api/webhooks/${made.body.id}/test`).expect(200)).body as TestResult;
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

  it('a receiver that streams its answer forever is read only up to the cap, then cut off', async () => {
    const http = await import('node:http');
    const endless = http.createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('z'.repeat(100)); // a chunk that ends exactly at the cap
      const t = setInterval(() => res.write('more'), 5);
      res.on('close', () => clearInterval(t));
    });
    await new Promise<void>((r) => endless.listen(0, '127.0.0.1', r));
    try {
      const port = (endless.address() as { port: number }).port;
      const s = await server({ config: { dispatchMaxResponseBytes: 100 } });
      const w = (await request(s.base).post('/api/webhooks').send({ url: `http://127.0.0.1:${port}/hook`, timeoutMs: 60_000 }).expect(201)).body;
      const r = (await request(s.base).post(`/api/webhooks/${w.id}/test`).expect(200)).body as TestResult;
      expect(r).toMatchObject({ ok: true, status: 200, error: null });
      expect(r.delivery.attempts[0]).toMatchObject({ responseBody: 'z'.repeat(100), responseBodyTruncated: true });
    } finally {
      endless.closeAllConnections();
      endless.close();
    }
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

  it('X-Forwarded-For is ignored unless TRUST_PROXY is set, and then only what our proxy added counts', async () => {
    for (const [trust, ip] of [
      [false, '127.0.0.1'],
      [true, '203.0.113.7'],
    ] as const) {
      const s = await server({ config: { trustProxy: trust } });
      const bin = await createBin(s.base);
      // A sender forged the first entry; the proxy (nginx $proxy_add_x_forwarded_for) appended the real one.
      const r = await send(bin.url, { headers: { 'X-Forwarded-For': '198.51.100.66, 203.0.113.7' }, body: 'x' });
      const d = (await json<RequestDetail>(s.base, 'GET', `/api/bins/${bin.id}/requests/${r.headers['x-hooklab-request-id']}`)).body;
      expect(d.ip).toBe(ip);
    }
  });
});

describe('strangers cannot take the server down', () => {
  it('a Socket.IO handshake with a non-string token is refused, and the server lives on', async () => {
    const s = await server({ config: { authToken: TOKEN } });
    for (const token of [{}, 42, ['x'], null]) {
      const { io } = await import('socket.io-client');
      const sock = io(s.base, { transports: ['websocket'], reconnection: false, forceNew: true, auth: { token } as never });
      const err = await new Promise<Error>((resolve) => sock.once('connect_error', resolve));
      // Refused at the handshake (no token header), before the payload is even read.
      expect(handshakeStatus(err)).toBe(401);
      sock.close();
    }
    await request(s.base).get('/api/health').expect(200);
  });

  it('a content type that is not a valid header value is refused with a 400, and nothing is saved', async () => {
    const s = await server({});
    const bin = await createBin(s.base);
    for (const [body, field] of [
      [{ default: { contentType: 'text/plain\r\nx-injected: 1' } }, 'default.contentType'],
      [{ default: { contentType: 'text/€' } }, 'default.contentType'],
      [{ plan: [{ status: 500, contentType: 'a\u0000b' }] }, 'plan[0].contentType'],
    ] as const) {
      const r = await request(s.base).put(`/api/bins/${bin.id}/response`).send(body).expect(400);
      expect(r.body.error.field).toBe(field);
    }
    expect((await send(bin.url, { body: 'x' })).status).toBe(200);
  });

  it('a 204 or 304 answer carries no body and no content-length', async () => {
    const s = await server({});
    const bin = await createBin(s.base);
    await request(s.base).put(`/api/bins/${bin.id}/response`).send({ plan: [{ status: 204 }, { status: 304 }] }).expect(200);
    for (const status of [204, 304]) {
      const r = await send(bin.url, { body: 'x' });
      expect(r.status).toBe(status);
      expect(r.headers['content-length']).toBeUndefined();
      expect(r.body.length).toBe(0);
    }
  });
});

describe('other web pages', () => {
  it('without a token, the API answers only to our own host names and origins; receivers to any', async () => {
    const s = await server({ config: { allowedHosts: ['hooks.internal'] } });
    const bin = await createBin(s.base);
    const port = new URL(s.base).port;
    await request(s.base).get('/api/bins').expect(200);
    await request(s.base).get('/api/bins').set('host', `localhost:${port}`).expect(200);
    await request(s.base).get('/api/bins').set('host', `hooks.internal:${port}`).expect(200);
    // Ports count (more in host-guard.test.ts).
    await request(s.base).get('/api/bins').set('host', 'localhost:1234').expect(403);
    // DNS rebinding: the browser thinks it talks to evil.example.
    const rebound = await request(s.base).get('/api/bins').set('host', 'evil.example').expect(403);
    expect(rebound.body.error.code).toBe('forbidden_host');
    // Cross-site request from a page on another origin.
    await request(s.base).post('/api/runs').set('origin', 'https://evil.example').send({}).expect(403);
    await request(s.base).post('/api/bins').set('origin', 'null').expect(403);
    await request(s.base).post('/api/bins').set('origin', `http://127.0.0.1:${new URL(s.base).port}`).expect(201);
    // Receivers stay open to any name.
    expect((await send(bin.url, { headers: { Host: 'whatever.example', Origin: 'https://evil.example' }, body: 'x' })).status).toBe(200);
  });

  it('without a token, Socket.IO refuses a handshake from another origin (cross-site WebSocket hijacking)', async () => {
    const s = await server({});
    const { io } = await import('socket.io-client');
    const evil = io(s.base, { transports: ['websocket'], reconnection: false, forceNew: true, extraHeaders: { origin: 'https://evil.example' } });
    const err = await new Promise<Error>((resolve) => evil.once('connect_error', resolve));
    expect(err).toBeInstanceOf(Error);
    evil.close();
    const ok = await connect(s.base);
    ok.close();
  });

  it('with a token, other host names are fine (the token decides)', async () => {
    const s = await server({ config: { authToken: TOKEN } });
    await request(s.base).get('/api/bins').set('host', 'hooks.example.com').set('authorization', `Bearer ${TOKEN}`).expect(200);
  });

  it("with a token, a page on another origin of the same site is refused though the sign-in cookie comes with it (API and Socket.IO); the page's own origin, PUBLIC_URL's and no Origin pass", async () => {
    const s = await server({ config: { authToken: TOKEN, publicUrl: 'https://hooks.example.com' } });
    const port = new URL(s.base).port;
    const cookie = `hooklab_token=${TOKEN}`;
    // A page at http://localhost:3000 (another port: same site, so SameSite=Strict sends the cookie).
    for (const origin of ['http://localhost:3000', `http://localhost:${Number(port) + 1}`, 'null']) {
      const made = await request(s.base).post('/api/bins').set('host', `localhost:${port}`).set('origin', origin).set('cookie', cookie).set('content-type', 'text/plain;x=json').send('{"name":"made-by-evil-page"}');
      expect(made.status, origin).toBe(403);
      expect(made.body.error.code).toBe('forbidden_origin');
      expect(made.body.error.message).toContain('ALLOWED_HOSTS');
      await request(s.base).get('/api/bins').set('origin', origin).set('cookie', cookie).expect(403);
    }
    const { io } = await import('socket.io-client');
    const evil = io(s.base, { transports: ['websocket'], reconnection: false, forceNew: true, extraHeaders: { origin: 'http://localhost:3000', cookie } });
    expect(handshakeStatus(await new Promise<Error>((resolve) => evil.once('connect_error', resolve)))).toBe(403);
    evil.close();
    const bins = await request(s.base).get('/api/bins').set('cookie', cookie).expect(200);
    expect(JSON.stringify(bins.body)).not.toContain('made-by-evil-page');
    // Its own pages: Origin is the Host it asked; behind a TLS proxy, PUBLIC_URL's (Host without a port).
    await request(s.base).post('/api/bins').set('host', `localhost:${port}`).set('origin', `http://localhost:${port}`).set('cookie', cookie).send({}).expect(201);
    await request(s.base).post('/api/bins').set('host', 'hooks.example.com').set('origin', 'https://hooks.example.com').set('cookie', cookie).send({}).expect(201);
    const own = io(s.base, { transports: ['websocket'], reconnection: false, forceNew: true, extraHeaders: { origin: s.base, cookie } });
    await new Promise<void>((resolve, reject) => (own.once('connect', resolve), own.once('connect_error', reject)));
    own.close();
    // No Origin (curl, the CLI): the token decides.
    await request(s.base).post('/api/bins').set('authorization', `Bearer ${TOKEN}`).send({}).expect(201);
    // JSON is application/json or application/*+json: a type a page may send anywhere unasked is not.
    const plain = await request(s.base).post('/api/bins').set('authorization', `Bearer ${TOKEN}`).set('content-type', 'text/plain;x=json').send('{"name":"x"}').expect(415);
    expect(plain.body.error.code).toBe('unsupported_media_type');
    await request(s.base).post('/api/bins').set('authorization', `Bearer ${TOKEN}`).set('content-type', 'application/vnd.hooklab+json; charset=utf-8').send('{"name":"typed"}').expect(201);
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
