// A connection refused by MAX_CONNECTIONS_PER_IP is closed by a deadline from its accept,
// whatever it sends: it had an idle timeout only, so a client trickling a header line every
// second kept each refused socket open until HEADERS_TIMEOUT_MS (here 120 s). And only
// MAX_PENDING_REFUSALS of them wait for their deadline at once: past it, a new refused one is
// closed at once, unanswered. Other clients are served meanwhile. Real sockets over loopback;
// time bounds are generous (several times the deadline).
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_PENDING_REFUSALS, REFUSAL_DEADLINE_MS } from '../../server/http/refusals.ts';
import { startServer, type TestServer } from '../helpers/server.ts';
import { until } from '../helpers/until.ts';

interface Trickler {
  socket: net.Socket;
  closed: boolean;
  /** Bytes the server sent it. */
  got: number;
  stop(): void;
}

/** A connection from `localAddress` that starts a request and sends one more header line every second, never ending its head. */
function trickle(base: string, localAddress: string): Promise<Trickler> {
  const u = new URL(base);
  return new Promise((resolve) => {
    const socket = net.connect({ port: Number(u.port), host: u.hostname, localAddress }, () => {
      socket.write('GET /api/health HTTP/1.1\r\n');
      resolve(t);
    });
    const every = setInterval(() => socket.writable && socket.write('X-a: b\r\n'), 1000);
    const t: Trickler = { socket, closed: false, got: 0, stop: () => (clearInterval(every), socket.destroy()) };
    socket.on('data', (d: Buffer) => (t.got += d.length));
    socket.on('error', () => {});
    socket.on('close', () => {
      t.closed = true;
      clearInterval(every);
    });
  });
}

/** A connection from `localAddress` that sends nothing. */
function openIdle(base: string, localAddress: string): Promise<net.Socket> {
  const u = new URL(base);
  return new Promise((resolve) => {
    const s = net.connect({ port: Number(u.port), host: u.hostname, localAddress }, () => resolve(s));
    s.on('error', () => {});
  });
}

async function healthFrom(base: string, localAddress: string): Promise<string> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const s = net.connect({ port: Number(u.port), host: u.hostname, localAddress }, () =>
      s.write(`GET /api/health HTTP/1.1\r\nHost: ${u.host}\r\nConnection: close\r\n\r\n`),
    );
    let text = '';
    s.on('data', (d: Buffer) => (text += d.toString('latin1')));
    s.on('end', () => resolve(text.split('\r\n')[0]));
    s.on('error', reject);
  });
}

describe('refused connections are bounded', () => {
  let srv: TestServer;
  const held: net.Socket[] = [];
  const tricklers: Trickler[] = [];
  beforeAll(async () => {
    // A headers timeout far past the deadline: it is not what closes them.
    srv = await startServer({ storage: 'memory', config: { maxConnections: 1000, maxConnectionsPerIp: 2, headersTimeoutMs: 120_000 } });
    // 127.0.0.2 holds all it may.
    for (let i = 0; i < 2; i++) held.push(await openIdle(srv.base, '127.0.0.2'));
  });
  afterAll(async () => {
    for (const t of tricklers) t.stop();
    for (const s of held) s.destroy();
    await srv.cleanup();
  });

  it('closes a refused connection that trickles header lines by its deadline, and serves others meanwhile', async () => {
    const t = await trickle(srv.base, '127.0.0.2');
    tricklers.push(t);
    expect(await healthFrom(srv.base, '127.0.0.3')).toBe('HTTP/1.1 200 OK');
    await until(() => t.closed, 'the refused trickling connection to be closed', REFUSAL_DEADLINE_MS * 6);
  }, 60_000);

  it(`past ${MAX_PENDING_REFUSALS} refused connections pending, closes a new one at once, unanswered`, async () => {
    const pending = await Promise.all(Array.from({ length: MAX_PENDING_REFUSALS }, () => trickle(srv.base, '127.0.0.2')));
    tricklers.push(...pending);
    const extra = await trickle(srv.base, '127.0.0.2');
    tricklers.push(extra);
    await until(() => extra.closed, 'the refused connection past the bound to be closed', REFUSAL_DEADLINE_MS * 6);
    expect(extra.got).toBe(0);
    // It went before any of those pending reached its deadline.
    expect(pending.filter((p) => p.closed).length).toBe(0);
    expect(await healthFrom(srv.base, '127.0.0.3')).toBe('HTTP/1.1 200 OK');
    // And those pending go by their deadline too.
    await until(() => pending.every((p) => p.closed), 'the pending refused connections to be closed', REFUSAL_DEADLINE_MS * 6);
  }, 90_000);
});
