// One Engine.IO session may hold at most LIVE_MAX_SOCKETS_PER_SESSION Socket.IO sockets
// (connected, or connecting). Socket.IO 4.8 makes one socket per namespace CONNECT packet
// it decodes, and a socket only counts as "this namespace is joined" once its middlewares
// have run: so a single long-polling POST of `40␞40␞…` made one socket per packet, 50,000
// acknowledged in one session (200,000 across 4 sessions, +150 MB), all past
// LIVE_MAX_SESSIONS. A session that tries more than the cap is closed at the packet over it:
// the rest of its payload is not read. Real server (lowdb, real DATA_DIR), raw long-polling
// and WebSocket requests over loopback, and real socket.io-clients.
import http from 'node:http';
import { io } from 'socket.io-client';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONFIG_DOCS, loadConfig } from '../../server/config.ts';
import { LIVE_MAX_SOCKETS_PER_SESSION_DEFAULT } from '../../server/live/sessions.ts';
import { type ClientSocket, connect, subscribe } from '../helpers/socket.ts';
import { createBin, startServer, type TestServer } from '../helpers/server.ts';

const CAP = 3;
let srv: TestServer;
/** Every socket Socket.IO let connect, by its Engine.IO session id. */
const connectsBySession = new Map<string, number>();
const clients: ClientSocket[] = [];

beforeAll(async () => {
  srv = await startServer({ config: { liveMaxSocketsPerSession: CAP } });
  srv.app.io.on('connection', (s) => {
    const sid = (s.conn as unknown as { id: string }).id;
    connectsBySession.set(sid, (connectsBySession.get(sid) ?? 0) + 1);
  });
});
afterAll(async () => {
  for (const c of clients) c.close();
  await srv.cleanup();
});

interface Answer {
  status: number;
  body: string;
}

/** One request on a connection of its own; a reset (the server closing the session mid-POST) answers status 0. */
function request(method: string, path: string, body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${srv.base}${path}`, { method, agent: false, headers: body === undefined ? {} : { 'content-type': 'text/plain;charset=UTF-8' } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      res.on('error', () => resolve({ status: 0, body: text }));
    });
    req.on('error', (err: NodeJS.ErrnoException) => (err.code === 'ECONNRESET' || err.code === 'EPIPE' ? resolve({ status: 0, body: '' }) : reject(err)));
    req.end(body);
  });
}

/** A long-polling handshake, as socket.io-client's first request: the new session's id. */
async function handshake(): Promise<string> {
  const a = await request('GET', '/socket.io/?EIO=4&transport=polling');
  expect(a.status).toBe(200);
  return (JSON.parse(a.body.slice(1)) as { sid: string }).sid;
}

const sessions = () => (srv.app.io.engine as unknown as { clientsCount: number }).clientsCount;
const sockets = () => srv.app.io.of('/').sockets.size;

describe('Socket.IO sockets per Engine.IO session', () => {
  it('has a small documented default (LIVE_MAX_SOCKETS_PER_SESSION)', () => {
    expect(LIVE_MAX_SOCKETS_PER_SESSION_DEFAULT).toBe(4);
    expect(loadConfig({}).liveMaxSocketsPerSession).toBe(4);
    expect(CONFIG_DOCS.find((d) => d.name === 'LIVE_MAX_SOCKETS_PER_SESSION')?.default).toBe('4');
  });

  it('a long-polling POST of 50,000 namespace CONNECTs gets CAP sockets, and its session is closed', async () => {
    const before = sessions();
    const sid = await handshake();
    expect(sessions()).toBe(before + 1);
    const flood = Array.from({ length: 50_000 }, () => '40').join('\x1e');
    const started = performance.now();
    // Answered "ok" or reset: the session is closed while its POST is read.
    const post = await request('POST', `/socket.io/?EIO=4&transport=polling&sid=${sid}`, flood);
    const ms = performance.now() - started;
    expect([0, 200]).toContain(post.status);
    // Middlewares and connects settle within a turn or two.
    await new Promise((r) => setTimeout(r, 100));
    const made = connectsBySession.get(sid) ?? 0;
    console.log(`50,000 CONNECTs in one POST: ${made} socket(s) connected, POST took ${ms.toFixed(0)} ms, ${sockets()} socket(s) now`);
    expect(made).toBeLessThanOrEqual(CAP);
    // The session is gone (its sockets with it): the next poll is refused.
    await expect.poll(() => sessions()).toBe(before);
    expect(sockets()).toBe(0);
    expect((await request('GET', `/socket.io/?EIO=4&transport=polling&sid=${sid}`)).status).toBe(400);
  });

  it('CONNECTs to namespaces that do not exist count too (each was answered with an error packet, queued for the client)', async () => {
    const before = sessions();
    const sid = await handshake();
    const flood = Array.from({ length: 20_000 }, (_, i) => `40/nope${i},`).join('\x1e');
    const post = await request('POST', `/socket.io/?EIO=4&transport=polling&sid=${sid}`, flood);
    expect([0, 200]).toContain(post.status);
    await expect.poll(() => sessions()).toBe(before);
    const next = await request('GET', `/socket.io/?EIO=4&transport=polling&sid=${sid}`);
    // Not 20,000 CONNECT_ERROR packets: the session is closed.
    expect(next.status).toBe(400);
    expect(next.body.length).toBeLessThan(1000);
  });

  it('over a WebSocket too: frames past the cap close the session', async () => {
    const before = sessions();
    const ws = new WebSocket(`${srv.base.replace('http', 'ws')}/socket.io/?EIO=4&transport=websocket`);
    const sid = await new Promise<string>((resolve, reject) => {
      ws.once('message', (m) => resolve((JSON.parse(String(m).slice(1)) as { sid: string }).sid));
      ws.once('error', reject);
    });
    const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()));
    ws.on('error', () => {});
    // Corked: the frames reach the server in as few reads as the kernel allows.
    const raw = (ws as unknown as { _socket: import('node:net').Socket })._socket;
    raw.cork();
    for (let i = 0; i < 5000; i++) ws.send('40');
    raw.uncork();
    await closed;
    await expect.poll(() => sessions()).toBe(before);
    expect(connectsBySession.get(sid) ?? 0).toBeLessThanOrEqual(CAP);
  });

  it('real clients are not affected: polling and WebSocket clients connect and subscribe; a session leaving the namespace and joining it again, more times than the cap, is fine', async () => {
    const bin = await createBin(srv.base);
    for (const transports of [['websocket'], ['polling']] as const) {
      const s = io(srv.base, { transports: [...transports], reconnection: false, forceNew: true }) as ClientSocket;
      clients.push(s);
      await new Promise<void>((resolve, reject) => {
        s.once('connect', () => resolve());
        s.once('connect_error', reject);
      });
      expect((await subscribe(s, bin.id)).ok).toBe(true);
    }
    // socket.io-client closes the session with its last socket; the protocol allows leaving
    // (41) and joining again (40) on one session, as often as a client likes.
    const sid = await handshake();
    const poll = `/socket.io/?EIO=4&transport=polling&sid=${sid}`;
    for (let i = 0; i < CAP * 3; i++) {
      expect((await request('POST', poll, '40')).status).toBe(200);
      const ack = await request('GET', poll);
      expect(ack.body).toMatch(/^40\{"sid":/);
      expect((await request('POST', poll, '41')).status).toBe(200);
    }
    expect((await request('POST', poll, '40')).status).toBe(200);
    expect((await request('GET', poll)).body).toMatch(/^40\{"sid":/);
    expect(connectsBySession.get(sid)).toBe(CAP * 3 + 1);
    expect([...srv.app.io.of('/').sockets.values()].filter((x) => (x.conn as unknown as { id: string }).id === sid)).toHaveLength(1);
  });
});
