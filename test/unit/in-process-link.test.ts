// The dispatcher's in-process link to hooklab's own HTTP server (server/net/in-process-link.ts):
// a real node:http server and the real sender (undici), the link instead of a TCP connection.
// The server must see exactly what it would over TCP, flow control must hold for large bodies
// both ways, and a close on either end must reach the other as a socket's would.
import { createHash } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createSender } from '../../server/dispatch/send.ts';
import { linkPair, reachedAt } from '../../server/net/in-process-link.ts';
import { createOutboundPolicy } from '../../server/net/outbound-policy.ts';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

interface Seen {
  rawHeaders: string[];
  body: Buffer;
  remoteAddress: string | undefined;
  tcp: boolean;
}

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A node:http server on 127.0.0.1 that records what it gets and answers with `answer`. */
async function server(answer: (req: http.IncomingMessage, res: http.ServerResponse, body: Buffer) => void, opts: http.ServerOptions = {}) {
  const seen: Seen[] = [];
  const connections: net.Socket[] = [];
  const s = http.createServer(opts, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      seen.push({ rawHeaders: req.rawHeaders, body, remoteAddress: req.socket.remoteAddress, tcp: req.socket instanceof net.Socket });
      answer(req, res, body);
    });
  });
  s.on('connection', (c: net.Socket) => connections.push(c));
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  cleanups.push(
    () =>
      new Promise<void>((r) => {
        s.closeAllConnections();
        s.close(() => r());
      }),
  );
  return { s, port, seen, connections, url: `http://127.0.0.1:${port}` };
}

function sender(link: http.Server | undefined, o: { maxResponseBytes?: number; host?: string } = {}) {
  const policy = o.host ? createOutboundPolicy({ host: o.host, allow: null, publicUrl: () => 'https://hooks.example.com' }) : null;
  const s = createSender({ maxResponseBytes: o.maxResponseBytes ?? 4096, policy, link });
  cleanups.push(() => s.close());
  return s.send;
}

const HEADERS = { 'Content-Type': 'application/json', 'X-Mixed-Case': 'A', 'webhook-id': 'msg_1' };

describe('in-process link', () => {
  it('carries the exact request and answer without a TCP connection; keep-alive reuses the link', async () => {
    const srv = await server((_req, res) => {
      res.writeHead(500, { 'content-type': 'text/plain', 'x-answer': 'yes' });
      res.end('nope');
    });
    const send = sender(srv.s);
    const body = Buffer.from(JSON.stringify({ event: 'sync_start', n: 1 }));
    // The same call over TCP first: what the server sees must not differ.
    const overTcp = await sender(undefined)({ url: `${srv.url}/h/abc?x=1`, headers: HEADERS, body, timeoutMs: 5000 });
    const tcpSeen = srv.seen.shift()!;
    expect(tcpSeen.tcp).toBe(true);
    srv.connections.length = 0;
    const r1 = await send({ url: `${srv.url}/h/abc?x=1`, headers: HEADERS, body, timeoutMs: 5000 });
    // undici puts the connection back in its pool just after the answer is handed over.
    await new Promise((r) => setTimeout(r, 20));
    const r2 = await send({ url: `${srv.url}/h/abc?x=1`, headers: HEADERS, body, timeoutMs: 5000 });
    const same = (r: typeof r1) => ({ ...r, durationMs: 0, headers: r.headers.filter(([n]) => n.toLowerCase() !== 'date') });
    for (const r of [r1, r2]) expect(same(r)).toEqual(same(overTcp));
    expect(r1).toMatchObject({ status: 500, error: null, body: 'nope' });
    expect(r1.headers).toContainEqual(['x-answer', 'yes']);
    expect(srv.seen).toHaveLength(2);
    for (const s of srv.seen) {
      expect(s.tcp).toBe(false);
      expect(s.remoteAddress).toBe(tcpSeen.remoteAddress);
      expect(s.body.equals(body)).toBe(true);
      expect(s.rawHeaders).toEqual(tcpSeen.rawHeaders);
    }
    // Both over one link: the server was handed one connection, and it is no TCP socket.
    expect(srv.connections).toHaveLength(1);
    expect(srv.connections[0]).not.toBeInstanceOf(net.Socket);
  });

  it('without a link (DISPATCH_IN_PROCESS=false) the same call goes over TCP', async () => {
    const srv = await server((_req, res) => res.end('ok'));
    const r = await sender(undefined)({ url: `${srv.url}/h/abc`, headers: HEADERS, body: Buffer.from('{}'), timeoutMs: 5000 });
    expect(r.status).toBe(200);
    expect(srv.seen[0].tcp).toBe(true);
  });

  it('large bodies both ways arrive whole through flow control (a slow reader, a capped answer)', async () => {
    const big = Buffer.alloc(5 * 1024 * 1024);
    for (let i = 0; i < big.length; i += 4) big.writeUInt32LE((i * 2654435761) >>> 0, i);
    const answer = Buffer.alloc(3 * 1024 * 1024, 7);
    const srv = await server((_req, res) => {
      res.writeHead(200, { 'content-length': answer.length });
      res.end(answer);
    });
    // The server reads slowly: the sender's writes must wait for it, not pile up unbounded.
    let mostBuffered = 0;
    srv.s.prependListener('request', (req: http.IncomingMessage) => {
      req.on('data', (c: Buffer) => {
        // What had arrived and was not read yet: this piece and what waits behind it.
        mostBuffered = Math.max(mostBuffered, c.length + req.readableLength + req.socket.readableLength);
        req.pause();
        setTimeout(() => req.resume(), 1);
      });
    });
    const r = await sender(srv.s, { maxResponseBytes: 1024 })({ url: `${srv.url}/h/big`, headers: {}, body: big, timeoutMs: 30_000 });
    expect(r).toMatchObject({ status: 200, error: null, bodyTruncated: true });
    expect(r.body.length).toBe(1024);
    expect(sha(srv.seen[0].body)).toBe(sha(big));
    expect(srv.seen[0].tcp).toBe(false);
    // A few socket-sized pieces at most waited for the server, not the 5 MiB.
    expect(mostBuffered).toBeLessThan(512 * 1024);
  });

  it('a server that drops the connection gives the same error as over TCP; the next call opens a new link', async () => {
    let drop = true;
    const srv = await server((req, res) => {
      if (drop) req.socket.destroy();
      else res.end('back');
    });
    const overTcp = await sender(undefined)({ url: `${srv.url}/h/x`, headers: {}, body: Buffer.from('{}'), timeoutMs: 5000 });
    const linked = sender(srv.s);
    const r = await linked({ url: `${srv.url}/h/x`, headers: {}, body: Buffer.from('{}'), timeoutMs: 5000 });
    expect(overTcp).toMatchObject({ status: null, error: 'reset' });
    expect(r).toMatchObject({ status: null, error: overTcp.error, errorDetail: overTcp.errorDetail });
    drop = false;
    expect(await linked({ url: `${srv.url}/h/x`, headers: {}, body: Buffer.from('{}'), timeoutMs: 5000 })).toMatchObject({ status: 200, body: 'back' });
  });

  it("a server that never answers: the sender's timeout closes the link, and the server sees its request closed", async () => {
    const closed: number[] = [];
    const srv = await server((req, res) => {
      res.on('close', () => closed.push(Date.now()));
    });
    const t0 = Date.now();
    const r = await sender(srv.s)({ url: `${srv.url}/h/hang`, headers: {}, body: Buffer.from('{}'), timeoutMs: 150 });
    expect(r).toMatchObject({ status: null, error: 'timeout' });
    await expect.poll(() => closed.length, { timeout: 5000 }).toBe(1);
    expect(closed[0] - t0).toBeGreaterThanOrEqual(140);
  });

  it("the server's keep-alive timeout closes an idle link, as it would a socket", async () => {
    const srv = await server((_req, res) => res.end('ok'), { keepAliveTimeout: 100 });
    // A client that never closes (undici would, at the Keep-Alive hint): the server's timer must.
    const { client, server: end } = linkPair('127.0.0.1', srv.port);
    srv.s.emit('connection', end);
    const answer: Buffer[] = [];
    client.on('data', (c: Buffer) => answer.push(c));
    client.write(`POST /h/a HTTP/1.1\r\nHost: 127.0.0.1:${srv.port}\r\nContent-Length: 2\r\n\r\n{}`);
    await expect.poll(() => Buffer.concat(answer).toString(), { timeout: 5000 }).toMatch(/^HTTP\/1\.1 200 OK\r\n[\s\S]*\r\n\r\nok$/);
    const t0 = Date.now();
    await expect.poll(() => end.destroyed && client.destroyed, { timeout: 5000 }).toBe(true);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(50);
  });

  it('never bypasses the outbound policy: a name that must be checked after lookup goes the checked way', async () => {
    const srv = await server((_req, res) => res.end('ok'));
    // A public HOST: loopback is refused unless allowed; `localhost` is a name, checked once resolved.
    const r = await sender(srv.s, { host: '0.0.0.0' })({ url: `http://localhost:${srv.port}/h/a`, headers: {}, body: Buffer.from('{}'), timeoutMs: 5000 });
    expect(r).toMatchObject({ status: null, error: 'blocked' });
    expect(srv.seen).toHaveLength(0);
  });
});

describe('which URLs reach the server (reachedAt)', () => {
  const at = (address: string, port = 8080) => ({ address, family: address.includes(':') ? 'IPv6' : 'IPv4', port });
  it('loopback names at the listening port, with the address a TCP peer would have', () => {
    expect(reachedAt(at('127.0.0.1'), '127.0.0.1', 8080)).toBe('127.0.0.1');
    expect(reachedAt(at('127.0.0.1'), 'localhost', 8080)).toBe('127.0.0.1');
    expect(reachedAt(at('0.0.0.0'), '127.0.0.1', 8080)).toBe('127.0.0.1');
    expect(reachedAt(at('::'), '127.0.0.1', 8080)).toBe('::ffff:127.0.0.1');
    expect(reachedAt(at('::'), '[::1]', 8080)).toBe('::1');
    expect(reachedAt(at('::1'), 'localhost', 8080)).toBe('::1');
    expect(reachedAt(at('192.168.1.5'), '192.168.1.5', 8080)).toBe('192.168.1.5');
  });
  it('not another port, another host, or a loopback name the server does not listen on', () => {
    expect(reachedAt(at('127.0.0.1'), '127.0.0.1', 8081)).toBeNull();
    expect(reachedAt(at('127.0.0.1'), 'hooks.example.com', 8080)).toBeNull();
    expect(reachedAt(at('127.0.0.1'), '[::1]', 8080)).toBeNull();
    expect(reachedAt(at('192.168.1.5'), '127.0.0.1', 8080)).toBeNull();
    expect(reachedAt(at('0.0.0.0'), '192.168.1.5', 8080)).toBeNull();
    expect(reachedAt(null, '127.0.0.1', 8080)).toBeNull();
  });
});
