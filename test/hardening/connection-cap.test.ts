// Issue 15: MAX_CONNECTIONS. Past it, a new connection's request gets 503 + Retry-After and
// the connection is closed; once others go, new ones are served again.
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { send } from '../helpers/http.ts';
import { createBin, startServer, type TestServer } from '../helpers/server.ts';

let srv: TestServer;
beforeAll(async () => {
  srv = await startServer({ config: { maxConnections: 16 } });
});
afterAll(() => srv.cleanup());

function openIdle(base: string): Promise<net.Socket> {
  const u = new URL(base);
  return new Promise((resolve) => {
    const s = net.connect(Number(u.port), u.hostname, () => resolve(s));
    s.on('error', () => {});
  });
}

describe('connection cap', () => {
  it('refuses connections past MAX_CONNECTIONS with a 503, and serves again when they go', async () => {
    const bin = await createBin(srv.base);
    const idle = await Promise.all(Array.from({ length: 16 }, () => openIdle(srv.base)));
    await new Promise((r) => setTimeout(r, 50));
    const r = await send(bin.url, { body: 'over the cap' });
    expect(r.status).toBe(503);
    expect(r.headers['retry-after']).toBe('2');
    expect(r.headers.connection).toBe('close');
    expect(JSON.parse(r.body.toString()).error.code).toBe('too_many_connections');
    for (const s of idle) s.destroy();
    await new Promise((res) => setTimeout(res, 100));
    expect((await send(bin.url, { body: 'fine' })).status).toBe(200);
  });
});
