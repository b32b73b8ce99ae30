// KEEP_ALIVE_TIMEOUT_MS: how long an idle keep-alive connection stays open. Behind a proxy
// that keeps its upstream connections longer than hooklab does (nginx, an AWS ALB: 60 s), the
// proxy may reuse one hooklab is closing and answer 502: the operator sets it above theirs.
// A real server over loopback, a raw socket that sends one request and then stays idle.
import net from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../server/config.ts';
import { startServer, type TestServer } from '../helpers/server.ts';

const servers: TestServer[] = [];
afterAll(async () => {
  for (const s of servers) await s.cleanup();
});

/** One keep-alive request on a fresh connection; answers when the server closed it (ms after the answer), or null if still open after `waitMs`. */
async function idleClose(base: string, waitMs: number): Promise<number | null> {
  const u = new URL(base);
  const sock = net.connect(Number(u.port), u.hostname);
  let answeredAt = 0;
  let got = '';
  const closed = new Promise<number>((r) => sock.on('close', () => r(performance.now() - answeredAt)));
  sock.on('data', (d) => {
    got += d;
    if (!answeredAt && got.includes('\r\n\r\n')) answeredAt = performance.now();
  });
  sock.write(`GET /api/health HTTP/1.1\r\nhost: ${u.host}\r\nconnection: keep-alive\r\n\r\n`);
  try {
    return await Promise.race([closed, new Promise<null>((r) => setTimeout(() => r(null), waitMs))]);
  } finally {
    sock.destroy();
  }
}

describe('KEEP_ALIVE_TIMEOUT_MS', () => {
  it('is read from the environment (Node\'s 5 s by default) and bounded', () => {
    expect(loadConfig({}).keepAliveTimeoutMs).toBe(5_000);
    expect(loadConfig({ KEEP_ALIVE_TIMEOUT_MS: '65000' }).keepAliveTimeoutMs).toBe(65_000);
    expect(() => loadConfig({ KEEP_ALIVE_TIMEOUT_MS: '10' })).toThrow(/KEEP_ALIVE_TIMEOUT_MS/);
  });

  it('closes an idle connection after it, and not before: a short one closes at once, a long one outlives Node\'s 5 s default', async () => {
    const short = await startServer({ storage: 'memory', config: { keepAliveTimeoutMs: 300 } });
    const long = await startServer({ storage: 'memory', config: { keepAliveTimeoutMs: 60_000 } });
    servers.push(short, long);
    const [a, b] = await Promise.all([idleClose(short.base, 10_000), idleClose(long.base, 6_500)]);
    expect(a).not.toBeNull();
    // After it, and well before Node's 5 s (a generous bound: the machine may be busy).
    expect(a!).toBeGreaterThanOrEqual(250);
    expect(a!).toBeLessThan(4_000);
    expect(b).toBeNull();
  }, 30_000);
});
