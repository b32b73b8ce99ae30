// Without a token, the host/origin guard compares host AND port: another web app on the same
// machine (http://localhost:3000) is another origin and must not drive hooklab.
import { io } from 'socket.io-client';
import request from 'supertest';
import { afterAll, describe, expect, it } from 'vitest';
import type { Config } from '../../server/config.ts';
import { startServer, type TestServer } from '../helpers/server.ts';
import { connect } from '../helpers/socket.ts';

const servers: TestServer[] = [];
async function server(config: Partial<Config> = {}) {
  const s = await startServer({ storage: 'memory', config });
  servers.push(s);
  return s;
}
afterAll(async () => {
  await Promise.all(servers.map((s) => s.cleanup()));
});

function socketRefused(base: string, headers: Record<string, string>): Promise<Error> {
  const sock = io(base, { transports: ['websocket'], reconnection: false, forceNew: true, extraHeaders: headers });
  return new Promise((resolve, reject) => {
    sock.once('connect_error', (e) => (sock.close(), resolve(e)));
    sock.once('connect', () => (sock.close(), reject(new Error('connected'))));
  });
}

describe('host and origin, port included', () => {
  it('a page on another localhost port is refused on the API and on Socket.IO', async () => {
    const s = await server();
    const port = new URL(s.base).port;
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`]) {
      const r = await request(s.base).post('/api/bins').set('host', host).set('origin', 'http://localhost:3000').expect(403);
      expect(r.body.error.code).toBe('forbidden_host');
      await request(s.base).get('/api/bins').set('host', host).set('origin', 'http://127.0.0.1:3000').expect(403);
    }
    // Same name, the scheme's default port (80) is not ours either.
    await request(s.base).get('/api/bins').set('origin', 'http://localhost').expect(403);
    await socketRefused(s.base, { origin: 'http://localhost:3000' });
    await socketRefused(s.base, { origin: 'http://localhost' });
    expect((await request(s.base).get('/api/bins')).status).toBe(200);
    expect((await request(s.base).get('/api/bins').set('origin', `http://localhost:${port}`)).status).toBe(200);
  });

  it('a Host with another port is refused; the real port works under every own name', async () => {
    const s = await server();
    const port = Number(new URL(s.base).port);
    for (const host of [`localhost:${port + 1}`, `127.0.0.1:${port === 3000 ? 3001 : 3000}`, 'localhost', `[::1]:${port + 1}`, `localhost:${port}x`]) {
      const r = await request(s.base).get('/api/bins').set('host', host);
      expect(r.status, host).toBe(403);
      expect(r.body.error.code).toBe('forbidden_host');
    }
    await socketRefused(s.base, { host: `localhost:${port + 1}` });
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `127.0.0.2:${port}`, `[::1]:${port}`, `LOCALHOST:${port}`]) {
      expect((await request(s.base).get('/api/bins').set('host', host)).status, host).toBe(200);
    }
    const ok = await connect(s.base);
    ok.close();
  });

  it('ALLOWED_HOSTS entries: with a port, exactly that port; without, the listening port', async () => {
    const s = await server({ allowedHosts: ['hooks.internal:9443', 'lan-box'] });
    const port = Number(new URL(s.base).port);
    const get = (host: string, origin?: string) => {
      const r = request(s.base).get('/api/bins').set('host', host);
      return (origin ? r.set('origin', origin) : r).then((x) => x.status);
    };
    expect(await get('hooks.internal:9443')).toBe(200);
    expect(await get('hooks.internal:9443', 'https://hooks.internal:9443')).toBe(200);
    expect(await get('hooks.internal:9444')).toBe(403);
    expect(await get(`hooks.internal:${port}`)).toBe(403);
    expect(await get('hooks.internal:9443', 'https://hooks.internal')).toBe(403);
    expect(await get(`lan-box:${port}`)).toBe(200);
    expect(await get(`lan-box:${port}`, `http://lan-box:${port}`)).toBe(200);
    expect(await get(`lan-box:${port + 1}`)).toBe(403);
    expect(await get(`lan-box:${port}`, 'http://lan-box:3000')).toBe(403);
    const sock = io(s.base, { transports: ['websocket'], reconnection: false, forceNew: true, extraHeaders: { host: 'hooks.internal:9443', origin: 'https://hooks.internal:9443' } });
    await new Promise<void>((resolve, reject) => {
      sock.once('connect', () => resolve());
      sock.once('connect_error', reject);
    });
    sock.close();
  });

  it("PUBLIC_URL's host answers on PUBLIC_URL's port (the scheme's default when it has none)", async () => {
    const s = await server({ publicUrl: 'https://hooks.example.com' });
    const get = (host: string, origin?: string) => {
      const r = request(s.base).get('/api/bins').set('host', host);
      return (origin ? r.set('origin', origin) : r).then((x) => x.status);
    };
    // Behind a TLS proxy that passes Host on as the browser sent it.
    expect(await get('hooks.example.com', 'https://hooks.example.com')).toBe(200);
    expect(await get('hooks.example.com:443', 'https://hooks.example.com:443')).toBe(200);
    expect(await get('hooks.example.com', 'http://hooks.example.com')).toBe(403);
    expect(await get('hooks.example.com', 'https://hooks.example.com:8443')).toBe(403);
    expect(await get('hooks.example.com:8443')).toBe(403);
  });
});

describe('the dev UI (Vite on its own port, proxying to hooklab)', () => {
  it("presents hooklab's own origin for its own pages, and only for them", async () => {
    const s = await server();
    const { createServer } = await import('vite');
    process.env.HOOKLAB_BACKEND = s.base;
    const vite = await createServer({
      configFile: new URL('../../vite.config.ts', import.meta.url).pathname,
      server: { host: '127.0.0.1', port: 0, hmr: false },
      logLevel: 'silent',
    });
    try {
      await vite.listen();
      const dev = `http://127.0.0.1:${(vite.httpServer!.address() as { port: number }).port}`;
      // The UI's own page: its Origin is the dev server's.
      expect((await request(dev).post('/api/bins').set('origin', dev).send({})).status).toBe(201);
      expect((await request(dev).get('/api/bins')).status).toBe(200);
      const sock = io(dev, { transports: ['websocket'], reconnection: false, forceNew: true, extraHeaders: { origin: dev } });
      await new Promise<void>((resolve, reject) => {
        sock.once('connect', () => resolve());
        sock.once('connect_error', reject);
      });
      sock.close();
      // Another page cannot use the dev server to reach hooklab.
      const r = await request(dev).post('/api/bins').set('origin', 'http://localhost:3000').send({});
      expect(r.status).toBe(403);
      expect(r.body.error.code).toBe('forbidden_host');
      await socketRefused(dev, { origin: 'http://localhost:3000' });
    } finally {
      await vite.close();
      delete process.env.HOOKLAB_BACKEND;
    }
  });
});
