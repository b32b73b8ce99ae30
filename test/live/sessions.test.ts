// Live sessions have a budget, decided at the handshake, before a session is made: with
// AUTH_TOKEN, no token, no session (it was made before any check: 30,000 sessions in 4.4 s,
// +200 MB); and at most LIVE_MAX_SESSIONS per instance and LIVE_MAX_SESSIONS_PER_IP per
// client IP (503 + Retry-After past them, which socket.io-client retries). Real server
// processes (compiled), raw handshakes over keep-alive connections and real socket.io-clients.
import http from 'node:http';
import { io } from 'socket.io-client';
import { afterAll, describe, expect, it } from 'vitest';
import { spawnedServers } from '../helpers/spawned.ts';
import { type ClientSocket, connect, handshakeStatus } from '../helpers/socket.ts';

const { start } = spawnedServers();
const sockets: ClientSocket[] = [];
afterAll(() => {
  for (const s of sockets) s.close();
});

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** Eight keep-alive connections, as the flood that found this used. */
const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });

function request(base: string, method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${base}${path}`, { method, agent, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** A long-polling handshake, as socket.io-client's first request: answers the session id, if one was made. */
async function handshake(base: string, headers: Record<string, string> = {}): Promise<Answer & { sid: string | null }> {
  const a = await request(base, 'GET', '/socket.io/?EIO=4&transport=polling', headers);
  const sid = a.status === 200 ? ((JSON.parse(a.body.slice(1)) as { sid: string }).sid ?? null) : null;
  return { ...a, sid };
}

/** Close a long-polling session as its client would (an Engine.IO close packet). */
async function closeSession(base: string, sid: string, headers: Record<string, string> = {}) {
  const r = await request(base, 'POST', `/socket.io/?EIO=4&transport=polling&sid=${sid}`, { 'content-type': 'text/plain;charset=UTF-8', ...headers }, '1');
  expect(r.status).toBe(200);
}

/** `n` handshakes at once: the sessions made, and every refusal. */
async function flood(base: string, n: number, headers: Record<string, string>) {
  const all = await Promise.all(Array.from({ length: n }, () => handshake(base, headers)));
  return { sids: all.flatMap((a) => (a.sid ? [a.sid] : [])), refused: all.filter((a) => !a.sid) };
}

function expectBusy(a: Answer) {
  expect(a.status).toBe(503);
  expect(Number(a.headers['retry-after'])).toBeGreaterThan(0);
  expect(JSON.parse(a.body).error.code).toBe('too_many_sessions');
}

describe('live session budget', () => {
  it('a flood past the caps is refused (503 + Retry-After), per client IP and per instance; a client refused meanwhile connects by itself once the sessions close', async () => {
    const p = await start({ LIVE_MAX_SESSIONS: '12', LIVE_MAX_SESSIONS_PER_IP: '5', TRUST_PROXY: 'true' });
    // Behind a proxy (TRUST_PROXY), the address it appended is the client.
    const from = (ip: string) => ({ 'x-forwarded-for': ip });
    const a = await flood(p.base, 40, from('198.51.100.1'));
    expect(a.sids).toHaveLength(5);
    expect(a.refused).toHaveLength(35);
    for (const r of a.refused) expectBusy(r);
    expect(JSON.parse(a.refused[0].body).error.message).toMatch(/LIVE_MAX_SESSIONS_PER_IP/);
    // A WebSocket handshake over the cap is refused the same way.
    const ws = io(p.base, { transports: ['websocket'], reconnection: false, forceNew: true, extraHeaders: from('198.51.100.1') });
    expect(handshakeStatus(await new Promise((resolve) => ws.once('connect_error', resolve)))).toBe(503);
    ws.close();
    const b = await flood(p.base, 40, from('198.51.100.2'));
    expect(b.sids).toHaveLength(5);
    // The instance's cap: 12 in all.
    const c = await flood(p.base, 40, from('198.51.100.3'));
    expect(c.sids).toHaveLength(2);
    for (const r of c.refused) expectBusy(r);
    expect(JSON.parse(c.refused[0].body).error.message).toMatch(/\(LIVE_MAX_SESSIONS\)/);

    // A normal client (as the CLI makes it), from an address that holds nothing: refused while
    // the instance is full, it retries on its own backoff.
    const refusals: (number | null)[] = [];
    const client = io(p.base, { transports: ['websocket', 'polling'], tryAllTransports: true, forceNew: true, reconnectionDelay: 200, reconnectionDelayMax: 1000, extraHeaders: from('198.51.100.4') });
    sockets.push(client as ClientSocket);
    client.on('connect_error', (e) => void refusals.push(handshakeStatus(e)));
    await expect.poll(() => refusals.length).toBeGreaterThanOrEqual(2);
    expect(client.connected).toBe(false);
    expect(new Set(refusals)).toEqual(new Set([503]));
    // The flood's sessions close: the client gets in, with no help.
    for (const [sids, ip] of [[a.sids, '198.51.100.1'], [b.sids, '198.51.100.2'], [c.sids, '198.51.100.3']] as const) {
      for (const sid of sids) await closeSession(p.base, sid, from(ip));
    }
    await expect.poll(() => client.connected).toBe(true);
    // Each address has its sessions back.
    const again = await flood(p.base, 6, from('198.51.100.1'));
    expect(again.sids).toHaveLength(5);
    for (const sid of again.sids) await closeSession(p.base, sid, from('198.51.100.1'));
  });

  it('with AUTH_TOKEN, a handshake without the token is refused (401) and makes no session; the client IP is the socket\'s without TRUST_PROXY', async () => {
    const token = 'live-token-1f2e3d4c';
    const p = await start({ AUTH_TOKEN: token, LIVE_MAX_SESSIONS: '50', LIVE_MAX_SESSIONS_PER_IP: '3' });
    for (let i = 0; i < 20; i++) {
      const r = await handshake(p.base);
      expect(r.status).toBe(401);
      expect(r.sid).toBeNull();
      expect(JSON.parse(r.body).error.code).toBe('unauthorized');
    }
    const ws = io(p.base, { transports: ['websocket'], reconnection: false, forceNew: true });
    expect(handshakeStatus(await new Promise((resolve) => ws.once('connect_error', resolve)))).toBe(401);
    ws.close();
    // None of those made a session: this address still has all 3 of its own. A forged
    // X-Forwarded-For changes nothing without TRUST_PROXY: a fourth is over the cap.
    const ok: string[] = [];
    for (const xff of ['203.0.113.1', '203.0.113.2', '203.0.113.3']) {
      const r = await handshake(p.base, { authorization: `Bearer ${token}`, 'x-forwarded-for': xff });
      expect(r.status).toBe(200);
      ok.push(r.sid!);
    }
    const fourth = await handshake(p.base, { cookie: `hooklab_token=${token}`, 'x-forwarded-for': '203.0.113.4' });
    expectBusy(fourth);
    for (const sid of ok) await closeSession(p.base, sid);
    // The cookie (the UI's) and the header (the CLI's) both get a client in.
    expect((await handshake(p.base, { cookie: `hooklab_token=${token}` })).status).toBe(200);
    const s = await connect(p.base, { token });
    sockets.push(s);
    expect(s.connected).toBe(true);
  });

  it('a handshake with more headers than MAX_HEADER_COUNT is refused 431 too_many_headers, long-polling and WebSocket alike (Socket.IO takes those requests before the server counts headers)', async () => {
    const p = await start({ MAX_HEADER_COUNT: '50' });
    const many = Object.fromEntries(Array.from({ length: 60 }, (_, i) => [`x-h${i}`, 'v']));
    const r = await handshake(p.base, many);
    expect(r.status).toBe(431);
    expect(r.sid).toBeNull();
    expect(JSON.parse(r.body).error).toEqual({ code: 'too_many_headers', message: 'The request has more than 50 headers (MAX_HEADER_COUNT).' });
    const ws = io(p.base, { transports: ['websocket'], reconnection: false, forceNew: true, extraHeaders: many });
    expect(handshakeStatus(await new Promise((resolve) => ws.once('connect_error', resolve)))).toBe(431);
    ws.close();
    // Within it, both are let in.
    expect((await handshake(p.base, { 'x-a': '1' })).status).toBe(200);
    const ok = io(p.base, { transports: ['websocket'], reconnection: false, forceNew: true, extraHeaders: { 'x-a': '1' } });
    await new Promise<void>((resolve) => ok.once('connect', resolve));
    ok.close();
  });
});
