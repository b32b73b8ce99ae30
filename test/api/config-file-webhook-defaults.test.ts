// A config file's webhook is the desired state: a field the file no longer gives takes what
// POST /api/webhooks gives, so deleting a line undoes it. Before, the file was applied like a
// PATCH: a webhook started with "enabled": false stayed disabled after the line was removed
// (logged as updated). The secrets are the exception (often set outside the file): left out,
// the stored ones stay; and so does hooklab's own disabling (state, not a setting).
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Webhook } from '../../shared/api.ts';
import { LowdbStore } from '../../server/store/lowdb.ts';
import { withServer } from '../helpers/process.ts';
import { json, tempDir } from '../helpers/server.ts';

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const URL_ = 'http://127.0.0.1:1/hooks';

describe("config file: a webhook's fields the file leaves out", () => {
  it("take POST's defaults at the next start (removing a line undoes it); a secret set through the API stays", async () => {
    const dataDir = await tempDir();
    dirs.push(dataDir);
    const file = path.join(dataDir, 'hooklab.config.json');
    const env = { DATA_DIR: dataDir, HOOKLAB_CONFIG: file };
    await writeFile(
      file,
      JSON.stringify({
        webhooks: [{ id: 'wh-ci', url: URL_, name: 'CI', enabled: false, events: ['flow_failed'], successPolicy: '2xx', schedule: { firstDelayMs: 5000 }, behaviors: { disableOn410: true }, timeoutMs: 5000 }],
      }),
    );
    await withServer(env, async (base) => {
      expect((await json<Webhook>(base, 'GET', '/api/webhooks/wh-ci')).body).toMatchObject({ name: 'CI', enabled: false, events: ['flow_failed'], successPolicy: '2xx', timeoutMs: 5000, hasSecret: false });
      // A secret set outside the file (the console, the API).
      expect((await json(base, 'PATCH', '/api/webhooks/wh-ci', { secret: SECRET })).status).toBe(200);
    });
    // A POST with only the URL: what the file now gives should come to.
    let defaults: Webhook | undefined;
    const other = await tempDir();
    dirs.push(other);
    await withServer({ DATA_DIR: other }, async (base) => {
      defaults = (await json<Webhook>(base, 'POST', '/api/webhooks', { url: URL_ })).body;
    });
    await writeFile(file, JSON.stringify({ webhooks: [{ id: 'wh-ci', url: URL_ }] }));
    await withServer(env, async (base) => {
      const wh = (await json<Webhook>(base, 'GET', '/api/webhooks/wh-ci')).body;
      const { id: _a, createdAt: _b, updatedAt: _c, hasSecret, ...rest } = wh;
      const { id: _d, createdAt: _e, updatedAt: _f, hasSecret: _g, ...fromPost } = defaults!;
      expect(rest).toEqual(fromPost);
      expect(rest).toMatchObject({ name: '127.0.0.1:1', enabled: true, successPolicy: '200', timeoutMs: null, behaviors: {}, schedule: {} });
      expect(hasSecret).toBe(true);
    });
    // "secret": null in the file does remove it.
    await writeFile(file, JSON.stringify({ webhooks: [{ id: 'wh-ci', url: URL_, secret: null }] }));
    await withServer(env, async (base) => {
      expect((await json<Webhook>(base, 'GET', '/api/webhooks/wh-ci')).body.hasSecret).toBe(false);
    });
  });

  it('a webhook hooklab disabled by itself (a 410) stays disabled when the file does not say `enabled`; "enabled": true turns it on', async () => {
    const dataDir = await tempDir();
    dirs.push(dataDir);
    const file = path.join(dataDir, 'hooklab.config.json');
    const env = { DATA_DIR: dataDir, HOOKLAB_CONFIG: file };
    await writeFile(file, JSON.stringify({ webhooks: [{ id: 'wh-ci', url: URL_ }] }));
    await withServer(env, async () => {});
    // As the dispatcher leaves it after a 410 with disableOn410.
    const store = await LowdbStore.open({ dataDir, flushIntervalMs: 20 });
    const stored = (await store.webhooks.get('wh-ci'))!;
    const disabledBy = { reason: 'gone' as const, at: new Date().toISOString(), deliveryId: null, detail: 'the receiver answered 410 Gone' };
    await store.webhooks.put({ ...stored, enabled: false, disabledBy });
    await store.close();
    await withServer(env, async (base) => {
      expect((await json<Webhook>(base, 'GET', '/api/webhooks/wh-ci')).body).toMatchObject({ enabled: false, disabledBy });
    });
    await writeFile(file, JSON.stringify({ webhooks: [{ id: 'wh-ci', url: URL_, enabled: true }] }));
    await withServer(env, async (base) => {
      expect((await json<Webhook>(base, 'GET', '/api/webhooks/wh-ci')).body).toMatchObject({ enabled: true, disabledBy: null });
    });
  });
});
