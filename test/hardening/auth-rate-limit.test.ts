// With AUTH_TOKEN set, wrong tokens are rate-limited per client (an IPv4 address, an IPv6 /64), wherever they are tried:
// the login form, Bearer/cookie on the API, and Socket.IO handshakes. The server's clock is
// injected, so the minute passes without sleeping.
import { io } from 'socket.io-client';
import request from 'supertest';
import { afterAll, describe, expect, it } from 'vitest';
import type { Config } from '../../server/config.ts';
import { startServer, type TestServer } from '../helpers/server.ts';
import { connect, handshakeStatus } from '../helpers/socket.ts';

const TOKEN = 'tok-' + 'f00dcafe1234';
const servers: TestServer[] = [];
afterAll(async () => {
  await Promise.all(servers.map((s) => s.cleanup()));
});

async function server(config: Partial<Config> = {}) {
  const clock = { t: Date.now() };
  const s = await startServer({ storage: 'memory', now: () => clock.t, config: { authToken: TOKEN, ...config } });
  servers.push(s);
  return { s, clock };
}

/** A new wrong token each time: a guess (the same wrong one again counts once, see the last test). */
let guesses = 0;
const guess = () => `wrong-${++guesses}`;

const login = (base: string, token: string) => request(base).post('/auth/login').type('form').send({ token, next: '/bins/x' });
const api = (base: string, token: string) => request(base).get('/api/bins').set('authorization', `Bearer ${token}`);

/** A handshake with this token as its header: refused (401, 429) before a session is made. */
function handshake(base: string, token: string): Promise<string> {
  const sock = io(base, { transports: ['websocket'], reconnection: false, forceNew: true, extraHeaders: { authorization: `Bearer ${token}` } });
  return new Promise((resolve) => {
    sock.once('connect', () => (sock.close(), resolve('connected')));
    sock.once('connect_error', (e) => {
      sock.close();
      const status = handshakeStatus(e);
      resolve(status === 401 ? 'unauthorized' : status === 429 ? 'rate_limited' : e.message);
    });
  });
}

describe('wrong tokens per client IP', () => {
  it('the login form: 10 wrong tries, then 429 with Retry-After (the right token too) until the minute is over', async () => {
    const { s, clock } = await server();
    for (let i = 0; i < 10; i++) {
      const r = await login(s.base, `wrong-${i}`);
      expect(r.status, `try ${i + 1}`).toBe(401);
      expect(r.text).toContain('That token is not right.');
    }
    const limited = await login(s.base, 'wrong-again');
    expect(limited.status).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBe(60);
    expect(limited.text).toMatch(/Too many wrong tokens from your address\. Wait 60 s, then try again\./);
    expect(limited.text).toContain('name="next" value="/bins/x"');
    // Even the right token: a hit must not show while guessing is blocked.
    const right = await login(s.base, TOKEN);
    expect(right.status).toBe(429);
    expect(right.headers['set-cookie']).toBeUndefined();
    clock.t += 45_000;
    expect(Number((await login(s.base, TOKEN)).headers['retry-after'])).toBe(15);
    clock.t += 15_000;
    const after = await login(s.base, TOKEN);
    expect(after.status).toBe(303);
    expect(after.headers['set-cookie'][0]).toMatch(/^hooklab_token=/);
  });

  it('a success does not count, and asking without a token is not a guess', async () => {
    const { s } = await server({ authFailuresPerMinute: 3 });
    for (let i = 0; i < 5; i++) await request(s.base).get('/api/bins').expect(401); // no token at all
    await request(s.base).get('/').expect(401);
    await login(s.base, 'wrong-1').expect(401);
    await login(s.base, TOKEN).expect(303);
    await api(s.base, TOKEN).expect(200);
    await api(s.base, 'wrong-2').expect(401);
    for (let i = 0; i < 5; i++) await api(s.base, TOKEN).expect(200);
    await login(s.base, 'wrong-3').expect(401); // the third failure: still answered
    await api(s.base, TOKEN).expect(429);
  });

  it('the API: Bearer and cookie failures count; then JSON rate_limited with Retry-After', async () => {
    const { s, clock } = await server({ authFailuresPerMinute: 4 });
    await api(s.base, guess()).expect(401);
    await api(s.base, guess()).expect(401);
    await request(s.base).get('/api/bins').set('cookie', `hooklab_token=${guess()}`).expect(401);
    await request(s.base).get('/bins/abc').set('cookie', `hooklab_token=${guess()}`).expect(401); // a page
    const r = await api(s.base, TOKEN).expect(429);
    expect(r.body.error.code).toBe('rate_limited');
    expect(r.body.error.message).toMatch(/try again in 60 s/);
    expect(r.headers['retry-after']).toBe('60');
    const page = await request(s.base).get('/bins/abc').set('cookie', `hooklab_token=${TOKEN}`).expect(429);
    expect(page.text).toMatch(/Wait 60 s/);
    // Receiver URLs and health are not behind the token: unaffected.
    await request(s.base).get('/api/health').expect(200);
    clock.t += 60_000;
    await api(s.base, TOKEN).expect(200);
  });

  it('Socket.IO handshakes share the count with the API', async () => {
    const { s, clock } = await server({ authFailuresPerMinute: 3 });
    expect(await handshake(s.base, guess())).toBe('unauthorized');
    expect(await handshake(s.base, guess())).toBe('unauthorized');
    await api(s.base, guess()).expect(401);
    expect(await handshake(s.base, TOKEN)).toBe('rate_limited');
    await api(s.base, TOKEN).expect(429);
    clock.t += 61_000;
    const sock = await connect(s.base, { token: TOKEN });
    sock.close();
  });

  it('counts the client IP as the receiver does: X-Forwarded-For only with TRUST_PROXY', async () => {
    // Without TRUST_PROXY a forged header changes nothing: one IP.
    const plain = (await server({ authFailuresPerMinute: 2 })).s;
    for (const xff of ['198.51.100.1', '198.51.100.2']) await api(plain.base, guess()).set('x-forwarded-for', xff).expect(401);
    await api(plain.base, TOKEN).set('x-forwarded-for', '198.51.100.3').expect(429);
    // Behind a proxy, the address it appended is the client.
    const proxied = (await server({ authFailuresPerMinute: 2, trustProxy: true })).s;
    for (let i = 0; i < 2; i++) await api(proxied.base, guess()).set('x-forwarded-for', '203.0.113.9').expect(401);
    await api(proxied.base, TOKEN).set('x-forwarded-for', '203.0.113.9').expect(429);
    await api(proxied.base, TOKEN).set('x-forwarded-for', '203.0.113.9, 203.0.113.10').expect(200);
  });

  it('an X-Forwarded-For entry with a port (as some proxies append) counts by its address: a new port per guess does not get round it', async () => {
    const { s } = await server({ authFailuresPerMinute: 2, trustProxy: true });
    await api(s.base, guess()).set('x-forwarded-for', '4.4.4.4:40001').expect(401);
    await api(s.base, guess()).set('x-forwarded-for', '[2001:db8:9:1::1]:40002').expect(401);
    await api(s.base, guess()).set('x-forwarded-for', '4.4.4.4:40003').expect(401);
    await api(s.base, TOKEN).set('x-forwarded-for', '4.4.4.4:40004').expect(429);
    await api(s.base, TOKEN).set('x-forwarded-for', '4.4.4.4').expect(429);
    await api(s.base, guess()).set('x-forwarded-for', '[2001:db8:9:1::2]').expect(401);
    await api(s.base, TOKEN).set('x-forwarded-for', '2001:db8:9:1::3').expect(429);
    // An entry that is no address is not a client of its own: it counts as the proxy (the socket).
    await api(s.base, guess()).set('x-forwarded-for', 'junk1').expect(401);
    await api(s.base, guess()).set('x-forwarded-for', 'junk2').expect(401);
    await api(s.base, TOKEN).set('x-forwarded-for', 'junk3').expect(429);
    await api(s.base, TOKEN).expect(429);
  });

  it('counts an IPv6 client by its /64: a new address for every guess does not get round it', async () => {
    const { s } = await server({ authFailuresPerMinute: 2, trustProxy: true });
    await api(s.base, guess()).set('x-forwarded-for', '2001:db8:7:1::a').expect(401);
    await api(s.base, guess()).set('x-forwarded-for', '2001:db8:7:1:ffff::b').expect(401);
    await api(s.base, TOKEN).set('x-forwarded-for', '2001:db8:7:1::c').expect(429);
    // Another /64 is another client.
    await api(s.base, TOKEN).set('x-forwarded-for', '2001:db8:7:2::a').expect(200);
  });

  it('the same wrong token again counts once (a tab left open after AUTH_TOKEN changed): its address is not locked out, and the new token works', async () => {
    const { s } = await server({ authFailuresPerMinute: 3 });
    const stale = 'hooklab_token=the-token-before-the-restart';
    for (let i = 0; i < 20; i++) {
      await request(s.base).get('/api/bins').set('cookie', stale).expect(401);
      await request(s.base).get('/bins/abc').set('cookie', stale).expect(401);
    }
    expect(await handshake(s.base, 'the-token-before-the-restart')).toBe('unauthorized');
    await login(s.base, TOKEN).expect(303);
    await api(s.base, TOKEN).expect(200);
    // Guesses are new values: each counts (with the stale one, 3).
    await api(s.base, guess()).expect(401);
    await api(s.base, guess()).expect(401);
    await api(s.base, TOKEN).expect(429);
  });
});
