// Issue 15: hooklab listens at once. While the store loads, health and receivers answer 503
// with Retry-After (senders retry) instead of "connection refused"; then the app takes over
// on the same port, Socket.IO included.
import { rm } from 'node:fs/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { createApp, type HooklabApp } from '../../server/app.ts';
import { testConfig } from '../../server/config.ts';
import { createHttp } from '../../server/http/server.ts';
import { LowdbStore } from '../../server/store/lowdb.ts';
import { send } from '../helpers/http.ts';
import { createBin, tempDir } from '../helpers/server.ts';
import { connect, subscribe } from '../helpers/socket.ts';

let app: HooklabApp | null = null;
const dirs: string[] = [];
afterAll(async () => {
  await app?.close();
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

describe('start-up', () => {
  it('answers 503 + Retry-After while loading, then serves the app on the same port', async () => {
    const dataDir = await tempDir();
    dirs.push(dataDir);
    const config = testConfig({ dataDir });
    const web = createHttp(config);
    const base = await web.listen();

    const health = await fetch(`${base}/api/health`);
    expect(health.status).toBe(503);
    expect(health.headers.get('retry-after')).toBe('2');
    expect(await health.json()).toMatchObject({ ok: false, status: 'starting' });
    const capture = await send(`${base}/h/some-bin`, { body: 'early' });
    expect(capture.status).toBe(503);
    expect(capture.headers['retry-after']).toBe('2');
    expect((await fetch(`${base}/api/bins`)).status).toBe(503);

    const store = await LowdbStore.open({ dataDir, flushIntervalMs: 20 });
    app = await createApp({ config, store, http: web, staticDir: null });
    config.publicUrl = base;
    expect(await (await fetch(`${base}/api/health`)).json()).toMatchObject({ ok: true, status: 'ok' });
    const bin = await createBin(base);
    const s = await connect(base);
    expect((await subscribe(s, bin.id)).ok).toBe(true);
    s.close();
    expect((await send(bin.url, { body: 'now' })).status).toBe(200);
  });
});
