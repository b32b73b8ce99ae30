// Issue 15: MAX_CONNECTIONS, and MAX_CONNECTIONS_PER_IP so that one client cannot hold them
// all. Past either, a new connection's request gets 503 + Retry-After and the connection is
// closed; once others go, new ones are served again.
import http from 'node:http';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { send } from '../helpers/http.ts';
import { createBin, startServer, type TestServer } from '../helpers/server.ts';

/** A connection that sends nothing, from `localAddress` (any of 127/8 is this machine). */
function openIdle(base: string, localAddress?: string): Promise<net.Socket> {
  const u = new URL(base);
  return new Promise((resolve) => {
    const s = net.connect({ port: Number(u.port), host: u.hostname, localAddress }, () => resolve(s));
    s.on('error', () => {});
  });
}

/** POST over a new connection from `localAddress`. */
function postFrom(url: string, localAddress: string): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: u.hostname, port: u.port, path: u.pathname, method: 'POST', localAddress, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end('hello');
  });
}

const settle = () => new Promise((r) => setTimeout(r, 50));

describe('connection cap', () => {
  let srv: TestServer;
  beforeAll(async () => {
    srv = await startServer({ config: { maxConnections: 16 } });
  });
  afterAll(() => srv.cleanup());

  it('refuses connections past MAX_CONNECTIONS with a 503, and serves again when they go', async () => {
    const bin = await createBin(srv.base);
    const idle = await Promise.all(Array.from({ length: 16 }, () => openIdle(srv.base)));
    await settle();
    const r = await send(bin.url, { body: 'over the cap' });
    expect(r.status).toBe(503);
    expect(r.headers['retry-after']).toBe('2');
    expect(r.headers.connection).toBe('close');
    const err = JSON.parse(r.body.toString()).error;
    expect(err.code).toBe('too_many_connections');
    expect(err.message).toContain('(MAX_CONNECTIONS)');
    for (const s of idle) s.destroy();
    await new Promise((res) => setTimeout(res, 100));
    expect((await send(bin.url, { body: 'fine' })).status).toBe(200);
  });
});

describe('connection cap per client', () => {
  let srv: TestServer;
  beforeAll(async () => {
    srv = await startServer({ config: { maxConnections: 100, maxConnectionsPerIp: 4 } });
  });
  afterAll(() => srv.cleanup());

  it('refuses a client past MAX_CONNECTIONS_PER_IP while others are served; its slots come back as its connections go', async () => {
    const bin = await createBin(srv.base);
    const idle = await Promise.all(Array.from({ length: 4 }, () => openIdle(srv.base, '127.0.0.2')));
    await settle();
    const over = await postFrom(bin.url, '127.0.0.2');
    expect(over.status).toBe(503);
    expect(over.headers['retry-after']).toBe('2');
    expect(over.headers.connection).toBe('close');
    const err = JSON.parse(over.body).error;
    expect(err.code).toBe('too_many_connections');
    expect(err.message).toContain('MAX_CONNECTIONS_PER_IP, 4');
    // Another client is not held up by it.
    expect((await postFrom(bin.url, '127.0.0.3')).status).toBe(200);
    // Its live handshakes are refused the same way (Socket.IO's long-polling handshake).
    const u = new URL(srv.base);
    const hs = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.get({ host: u.hostname, port: u.port, path: '/socket.io/?EIO=4&transport=polling', localAddress: '127.0.0.2', agent: false }, (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode!, body }));
      });
      req.on('error', reject);
    });
    expect(hs.status).toBe(503);
    expect(hs.body).toContain('MAX_CONNECTIONS_PER_IP');
    idle[0].destroy();
    await settle();
    expect((await postFrom(bin.url, '127.0.0.2')).status).toBe(200);
    for (const s of idle) s.destroy();
  });

  it('does not count per client the connections from this machine (a proxy beside hooklab, its own dispatcher): only in the total', async () => {
    const bin = await createBin(srv.base);
    // The server listens on 127.0.0.1: these come from the address they reach.
    const idle = await Promise.all(Array.from({ length: 6 }, () => openIdle(srv.base, '127.0.0.1')));
    await settle();
    expect((await postFrom(bin.url, '127.0.0.1')).status).toBe(200);
    for (const s of idle) s.destroy();
  });

  it('does not apply the per-client cap behind a proxy (TRUST_PROXY: every connection is the proxy\'s)', async () => {
    const proxied = await startServer({ config: { maxConnections: 100, maxConnectionsPerIp: 4, trustProxy: true } });
    try {
      const bin = await createBin(proxied.base);
      const idle = await Promise.all(Array.from({ length: 6 }, () => openIdle(proxied.base, '127.0.0.2')));
      await settle();
      expect((await postFrom(bin.url, '127.0.0.2')).status).toBe(200);
      for (const s of idle) s.destroy();
    } finally {
      await proxied.cleanup();
    }
  });
});
