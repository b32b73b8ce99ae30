// Issue 10: config as code. Bins with fixed ids and response settings and webhooks with fixed
// ids and secrets, applied at start-up idempotently (captures and plan positions survive a
// re-apply), pruned only when asked; a bad file stops start-up naming the file, path, problem.
import { createHmac } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Bin, RequestDetail, ResponseControlView, Webhook } from '../../shared/api.ts';
import { loadConfigFile } from '../../server/config-file.ts';
import { LowdbStore } from '../../server/store/lowdb.ts';
import { DEFAULT_RESPONSE_LIMITS } from '../../shared/schema/response.ts';
import { send } from '../helpers/http.ts';
import { startExpectingFailure, withServer } from '../helpers/process.ts';
import { json, tempDir } from '../helpers/server.ts';

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const BIN = 'orders-staging-7f3k2q9w';

function configOf(extra: Record<string, unknown> = {}) {
  return {
    bins: [
      { id: BIN, name: 'Orders', labelFrom: ['json:data.object.type', 'header:x-event'], response: { plan: [{ status: 500, times: 2 }], seed: 7 } },
      { id: 'short', name: 'Guessable' },
    ],
    webhooks: [{ id: 'wh-ci', name: 'CI', url: `http://127.0.0.1:1/h/${BIN}`, events: ['flow_failed'], secret: SECRET }],
    ...extra,
  };
}

describe('config file', () => {
  it('creates bins and webhooks with fixed ids; re-applying keeps captures and plan positions; prune removes the rest', async () => {
    const dataDir = await tempDir();
    dirs.push(dataDir);
    const file = path.join(dataDir, 'hooklab.config.json');
    await writeFile(file, JSON.stringify(configOf()));
    const env = { DATA_DIR: dataDir, HOOKLAB_CONFIG: file };
    let captured = '';
    let apiBin = '';
    await withServer(env, async (base, output) => {
      expect((await json<Bin>(base, 'GET', `/api/bins/${BIN}`)).body).toMatchObject({ name: 'Orders', labelFrom: ['json:data.object.type', 'header:x-event'] });
      expect((await json<Bin>(base, 'GET', '/api/bins/short')).body.name).toBe('Guessable');
      // Named by its place in the file (and name): the id is its URL's secret, and this is logged.
      expect(output()).toMatch(/the id of bins\[1\] \("Guessable"\) is short: anyone who guesses it/);
      const wh = (await json<Webhook>(base, 'GET', '/api/webhooks/wh-ci')).body;
      expect(wh).toMatchObject({ name: 'CI', events: ['flow_failed'], hasSecret: true });
      // The plan answers as configured; one step is used up before the restart.
      const r = await send(`${base}/h/${BIN}/x`, { body: 'first' });
      expect(r.status).toBe(500);
      captured = r.headers['x-hooklab-request-id'] as string;
      apiBin = (await json<Bin>(base, 'POST', '/api/bins', {})).body.id;
    });
    // Same file again: nothing is reset (nor rewritten).
    await withServer(env, async (base, output) => {
      expect((await json(base, 'GET', `/api/bins/${BIN}/requests/${captured}`)).status).toBe(200);
      const view = (await json<ResponseControlView>(base, 'GET', `/api/bins/${BIN}/response`)).body;
      expect(view.position).toMatchObject({ step: 0, usedInStep: 1, consumed: 1 });
      expect((await send(`${base}/h/${BIN}/x`, { body: 'second' })).status).toBe(500);
      expect((await send(`${base}/h/${BIN}/x`, { body: 'third' })).status).toBe(200);
      expect((await json(base, 'GET', `/api/bins/${apiBin}`)).status).toBe(200);
      expect((await json<Bin>(base, 'GET', `/api/bins/${BIN}`)).body.labelFrom).toEqual(['json:data.object.type', 'header:x-event']);
      expect(output()).toContain('"created":0,"updated":0');
    });
    // Changed settings are applied; with prune, what the file does not name goes.
    await writeFile(file, JSON.stringify({ ...configOf({ prune: true }), bins: [{ id: BIN, name: 'Orders v2', labelFrom: ['json:type'], response: { default: { status: 202 } } }] }));
    await withServer(env, async (base) => {
      expect((await json<Bin>(base, 'GET', `/api/bins/${BIN}`)).body).toMatchObject({ name: 'Orders v2', labelFrom: ['json:type'] });
      expect((await send(`${base}/h/${BIN}/x`, { body: 'fourth' })).status).toBe(202);
      expect((await json(base, 'GET', `/api/bins/${BIN}/requests/${captured}`)).status).toBe(200);
      expect((await json(base, 'GET', `/api/bins/${apiBin}`)).status).toBe(404);
      expect((await json(base, 'GET', '/api/bins/short')).status).toBe(404);
    });
  });

  it("a webhook the file disables, or prunes, has its pending deliveries cancelled at start-up, as the API's disable and delete do", async () => {
    const dataDir = await tempDir();
    dirs.push(dataDir);
    const file = path.join(dataDir, 'hooklab.config.json');
    const hook = (id: string, extra: Record<string, unknown> = {}) => ({ id, name: id, url: 'http://127.0.0.1:1/nothing', events: ['flow_failed'], ...extra });
    await writeFile(file, JSON.stringify({ webhooks: [hook('wh-off'), hook('wh-gone')] }));
    const env = { DATA_DIR: dataDir, HOOKLAB_CONFIG: file };
    type Del = { id: string; webhookId: string; state: string; endReason: string | null };
    const deliveries = async (base: string) => (await json<{ deliveries: Del[] }>(base, 'GET', '/api/deliveries?limit=100')).body.deliveries;
    await withServer(env, async (base) => {
      // A failed run: each webhook's delivery fails (nothing listens on port 1) and waits for its retry.
      expect((await json(base, 'POST', '/api/runs', { outcome: 'FAILED', durationMs: 0 })).status).toBe(201);
      await expect.poll(async () => (await deliveries(base)).filter((d) => d.state === 'pending').length, { timeout: 30_000 }).toBe(2);
    });
    await writeFile(file, JSON.stringify({ prune: true, webhooks: [hook('wh-off', { enabled: false })] }));
    await withServer(env, async (base) => {
      const ds = await deliveries(base);
      expect(ds.map((d) => [d.webhookId, d.state, d.endReason]).sort()).toEqual([
        ['wh-gone', 'cancelled', 'webhook_deleted'],
        ['wh-off', 'cancelled', 'webhook_disabled'],
      ]);
    });
  });

  it('sets forward targets and signature settings per bin; a change of secret re-checks what the bin holds', async () => {
    const dataDir = await tempDir();
    dirs.push(dataDir);
    const file = path.join(dataDir, 'hooklab.config.json');
    const got: string[] = [];
    const target = http.createServer((req, res) => {
      got.push(req.url!);
      req.resume();
      req.on('end', () => res.end('ok'));
    });
    await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
    const targetUrl = `http://127.0.0.1:${(target.address() as { port: number }).port}/hooks`;
    const bin = (secret: string) => ({
      id: 'signed-bin-4k9x2m7q',
      forward: { targets: [{ url: targetUrl }] },
      verify: { schemes: [{ type: 'github', secrets: [secret] }] },
    });
    const env = { DATA_DIR: dataDir, HOOKLAB_CONFIG: file };
    const body = '{"zen":"Design for failure."}';
    const sig = `sha256=${createHmac('sha256', 'gh-secret-one').update(body).digest('hex')}`;
    let id = '';
    try {
      await writeFile(file, JSON.stringify({ bins: [bin('gh-secret-one')] }));
      await withServer(env, async (base) => {
        expect((await json(base, 'GET', '/api/bins/signed-bin-4k9x2m7q/forward')).body).toEqual({ targets: [{ url: targetUrl }], answerWith: 'bin' });
        id = (await send(`${base}/h/signed-bin-4k9x2m7q/push`, { headers: { 'x-hub-signature-256': sig }, body })).headers['x-hooklab-request-id'] as string;
        await expect.poll(() => got).toEqual(['/hooks/push']);
        await expect
          .poll(async () => (await json<RequestDetail>(base, 'GET', `/api/bins/signed-bin-4k9x2m7q/requests/${id}`)).body.verification?.status)
          .toBe('valid');
      });
      // Another secret in the file: the stored capture no longer verifies, said at start-up.
      await writeFile(file, JSON.stringify({ bins: [bin('gh-secret-two')] }));
      await withServer(env, async (base) => {
        expect((await json<RequestDetail>(base, 'GET', `/api/bins/signed-bin-4k9x2m7q/requests/${id}`)).body.verification?.status).toBe('invalid');
      });
      // Only where the idempotency key is: kept (no scheme, so the badge goes).
      await writeFile(file, JSON.stringify({ bins: [{ ...bin('x'), verify: { schemes: [], idempotency: { header: 'x-delivery' } } }] }));
      await withServer(env, async (base) => {
        expect((await json(base, 'GET', '/api/bins/signed-bin-4k9x2m7q/verify')).body).toEqual({ schemes: [], idempotency: { header: 'x-delivery' } });
        expect((await json<RequestDetail>(base, 'GET', `/api/bins/signed-bin-4k9x2m7q/requests/${id}`)).body.verification).toBeUndefined();
        const keyed = (await send(`${base}/h/signed-bin-4k9x2m7q`, { headers: { 'x-delivery': 'd-77' }, body })).headers['x-hooklab-request-id'] as string;
        await expect.poll(async () => (await json<RequestDetail>(base, 'GET', `/api/bins/signed-bin-4k9x2m7q/requests/${keyed}`)).body.idempotency?.key).toBe('d-77');
      });
    } finally {
      target.close();
    }
  });

  it("the dispatcher signs with the file's fixed secret", async () => {
    const dataDir = await tempDir();
    dirs.push(dataDir);
    const file = path.join(dataDir, 'hooklab.config.yaml');
    // YAML works too. The webhook points at the server's own bin, on whatever port it gets:
    // the URL is fixed after start through the API. The secret is the file's, taken from the
    // environment (\${NAME}), as a CI system keeps it.
    await writeFile(file, `bins:\n  - id: ${BIN}\nwebhooks:\n  - id: wh-ci\n    url: http://127.0.0.1:1/h/${BIN}\n    secret: \${CI_WEBHOOK_SECRET}\n`);
    await withServer({ DATA_DIR: dataDir, HOOKLAB_CONFIG: file, CI_WEBHOOK_SECRET: SECRET }, async (base) => {
      await json(base, 'PATCH', '/api/webhooks/wh-ci', { url: `${base}/h/${BIN}` });
      const test = (await json<{ ok: boolean; delivery: { attempts: { capturedRequestId: string }[] } }>(base, 'POST', '/api/webhooks/wh-ci/test')).body;
      expect(test.ok).toBe(true);
      const cap = (await json<RequestDetail>(base, 'GET', `/api/bins/${BIN}/requests/${test.delivery.attempts[0].capturedRequestId}`)).body;
      const h = Object.fromEntries(cap.headers.map(([k, v]) => [k.toLowerCase(), v]));
      const key = Buffer.from(SECRET.slice(6), 'base64');
      const expected = createHmac('sha256', key).update(`${h['webhook-id']}.${h['webhook-timestamp']}.${cap.body}`).digest('base64');
      expect(h['webhook-signature']).toBe(`v1,${expected}`);
    });
  });

  it('a bad file stops start-up naming the file, each bad path and the problem, and changes nothing', async () => {
    const dataDir = await tempDir();
    dirs.push(dataDir);
    const file = path.join(dataDir, 'bad.json');
    await writeFile(
      file,
      JSON.stringify({ bins: [{ id: 'a b', labelFrom: ['type'] }, { id: 'ok-bin-0123456789', response: { plan: [{ status: 700 }] } }, { id: 'ok-bin-0123456789' }], webhooks: [{ id: 'w', url: 'ftp://x' }], extra: 1 }),
    );
    const { code, output } = await startExpectingFailure({ DATA_DIR: dataDir, HOOKLAB_CONFIG: file });
    expect(code).toBe(1);
    expect(output).toContain(`Invalid config file bad.json (${file}), nothing was applied:\n`);
    expect(output).toContain('bins[0].id: must be 4 to 64 characters');
    expect(output).toContain('bins[0].labelFrom[0]: must start with json: or header:');
    expect(output).toContain('bins[1].response.plan[0].status: must be from 200 to 599');
    expect(output).toContain('bins[2].id: is used twice (entry 1 has it too)');
    expect(output).toContain('webhooks[0].url: must use http or https');
    expect(output).toContain('extra: unknown field');
    // Proxy mode with no target: refused here too (stored as "bin", it would drop proxy mode unsaid).
    await writeFile(file, JSON.stringify({ bins: [{ id: 'proxy-bin-0123456789', forward: { targets: [], answerWith: 'target' } }] }));
    await expect(loadConfigFile(file, DEFAULT_RESPONSE_LIMITS)).rejects.toThrow(
      'bins[0].forward.answerWith: proxy mode (answerWith: target) needs at least one target: the first target answers the sender',
    );
    await writeFile(file, JSON.stringify({ bins: [{ id: 'proxy-bin-0123456789', forward: { targets: [], answerWith: 'bin' } }] }));
    expect((await loadConfigFile(file, DEFAULT_RESPONSE_LIMITS)).bins?.[0].forward).toEqual({ targets: [], answerWith: 'bin' });
    // \${NAME} from the environment, in secrets and URLs only: one not set is told by where
    // it is used (never a value); $\${ is a literal \${; a response body keeps its \${HOME}.
    const envConfig = {
      bins: [{ id: 'env-bin-0123456789', name: 'costs \${5}', response: { default: { status: 200, body: 'home is \${HOME}' } }, verify: { schemes: [{ type: 'github', secrets: ['\${GH_SECRET}'] }] } }],
      webhooks: [{ id: 'wh-env', url: 'http://127.0.0.1:\${HOOK_PORT}/x?q=$\${kept}', secret: '\${NOT_SET_ANYWHERE}' }],
    };
    await writeFile(file, JSON.stringify(envConfig));
    const env = { HOME: '/root', GH_SECRET: 'gh-from-env', HOOK_PORT: '4567' };
    await expect(loadConfigFile(file, DEFAULT_RESPONSE_LIMITS, env)).rejects.toThrow(`Invalid config file bad.json (${file}), nothing was applied:\n  webhooks[0].secret: \${NOT_SET_ANYWHERE} is not set in the environment`);
    const fromEnv = await loadConfigFile(file, DEFAULT_RESPONSE_LIMITS, { ...env, NOT_SET_ANYWHERE: SECRET });
    expect(fromEnv.bins?.[0]).toMatchObject({ name: 'costs \${5}', response: { default: { body: 'home is \${HOME}' } }, verify: { schemes: [{ secrets: ['gh-from-env'] }] } });
    expect(fromEnv.webhooks?.[0]).toMatchObject({ url: 'http://127.0.0.1:4567/x?q=\${kept}', secret: SECRET });
    await writeFile(file, '{ not json');
    const again = await startExpectingFailure({ DATA_DIR: dataDir, HOOKLAB_CONFIG: file });
    expect(again.output).toMatch(/Config file .*bad\.json is not valid JSON/);
  });

  it('a bin id starting with "-" (refused for new bins since the CLI read it as an option) stays configurable when the bin exists; a new one stops start-up', async () => {
    const dataDir = await tempDir();
    dirs.push(dataDir);
    const OLD = '-older-bin-0123456789';
    // Made by a build from before the rule: written to the store directly.
    const store = await LowdbStore.open({ dataDir, flushIntervalMs: 20 });
    await store.bins.put({ id: OLD, name: 'Old', createdAt: new Date().toISOString() });
    await store.close();
    const file = path.join(dataDir, 'dash.json');
    await writeFile(file, JSON.stringify({ bins: [{ id: OLD, name: 'Renamed' }] }));
    await withServer({ DATA_DIR: dataDir, HOOKLAB_CONFIG: file }, async (base, output) => {
      expect((await json<Bin>(base, 'GET', `/api/bins/${OLD}`)).body.name).toBe('Renamed');
      expect(output()).toContain('the id of bins[0] starts with "-": the CLI takes it for an option');
      expect(output()).not.toContain(OLD);
    });
    await writeFile(file, JSON.stringify({ bins: [{ id: OLD }, { id: '-new-bin-0123456789' }] }));
    const { code, output } = await startExpectingFailure({ DATA_DIR: dataDir, HOOKLAB_CONFIG: file });
    expect(code).toBe(1);
    expect(output).toContain(`bins[1].id: must not start with "-" (the CLI would take it for an option); an existing bin's may`);
    expect(output).not.toContain('bins[0].id');
  });

  it('bin ids that differ only in letter case (one directory on a case-insensitive disk) stop start-up: two in the file, or a new one and a stored one; the stored one itself stays configurable', async () => {
    const dataDir = await tempDir();
    dirs.push(dataDir);
    const file = path.join(dataDir, 'case.json');
    await writeFile(file, JSON.stringify({ bins: [{ id: 'Orders-0123456789' }, { id: 'orders-0123456789' }] }));
    const twins = await startExpectingFailure({ DATA_DIR: dataDir, HOOKLAB_CONFIG: file });
    expect(twins.code).toBe(1);
    expect(twins.output).toContain("bins[1].id: differs only in letter case from bins[0]'s; bin ids are told apart regardless of letter case");
    await writeFile(file, JSON.stringify({ bins: [{ id: 'Orders-0123456789' }] }));
    await withServer({ DATA_DIR: dataDir, HOOKLAB_CONFIG: file }, async (base) => {
      expect((await json<Bin>(base, 'GET', '/api/bins/Orders-0123456789')).status).toBe(200);
    });
    await writeFile(file, JSON.stringify({ bins: [{ id: 'ORDERS-0123456789' }] }));
    const stored = await startExpectingFailure({ DATA_DIR: dataDir, HOOKLAB_CONFIG: file });
    expect(stored.code).toBe(1);
    expect(stored.output).toContain("bins[0].id: a stored bin's id differs from it only in letter case");
    expect(stored.output).not.toContain('ORDERS-0123456789'); // ids are not logged
  });

  it("a bin the file makes again does not inherit the settings a deleted bin with its id left (a deletion while Redis was full)", async () => {
    const dataDir = await tempDir();
    dirs.push(dataDir);
    const ID = 'reborn-bin-0123456789';
    // What such a deletion leaves: the bin gone, its forward targets and signature settings not.
    const store = await LowdbStore.open({ dataDir, flushIntervalMs: 20 });
    await store.forwards.put({ id: ID, targets: [{ url: 'http://example.com/old-target' }], answerWith: 'bin' });
    await store.verifications.put({ id: ID, settings: { schemes: [{ type: 'github', secrets: ['old-secret'] }] }, rev: 'r1' });
    await store.close();
    const file = path.join(dataDir, 'reborn.json');
    await writeFile(file, JSON.stringify({ bins: [{ id: ID, name: 'Reborn' }] }));
    await withServer({ DATA_DIR: dataDir, HOOKLAB_CONFIG: file }, async (base) => {
      expect((await json<Bin>(base, 'GET', `/api/bins/${ID}`)).body.name).toBe('Reborn');
      expect((await json<{ targets: unknown[] }>(base, 'GET', `/api/bins/${ID}/forward`)).body.targets).toEqual([]);
      expect((await json<{ schemes: unknown[] }>(base, 'GET', `/api/bins/${ID}/verify`)).body.schemes).toEqual([]);
    });
  });

  it('a file that would leave more bins or webhooks than MAX_BINS / MAX_WEBHOOKS stops start-up, and nothing of it is applied', async () => {
    const dataDir = await tempDir();
    dirs.push(dataDir);
    const file = path.join(dataDir, 'many.json');
    const bins = ['bin-one-0123456789', 'bin-two-0123456789', 'bin-three-0123456789'].map((id) => ({ id }));
    const webhooks = [{ id: 'wh_one', url: 'http://127.0.0.1:9/a' }, { id: 'wh_two', url: 'http://127.0.0.1:9/b' }];
    await writeFile(file, JSON.stringify({ bins, webhooks }));
    const env = { DATA_DIR: dataDir, HOOKLAB_CONFIG: file, MAX_BINS: '2', MAX_WEBHOOKS: '1' };
    const { code, output } = await startExpectingFailure(env);
    expect(code).toBe(1);
    expect(output).toContain(`Invalid config file many.json (${file}), nothing was applied`);
    expect(output).toContain('bins: the file adds 3, leaving 3 bins, more than MAX_BINS (2); raise MAX_BINS, or delete bins first (or set prune)');
    expect(output).toContain('webhooks: the file adds 2, leaving 2 webhooks, more than MAX_WEBHOOKS (1)');
    // Within them, it starts; the same file applied again adds nothing, so it fits still.
    await writeFile(file, JSON.stringify({ bins: bins.slice(0, 2), webhooks: webhooks.slice(0, 1) }));
    for (let i = 0; i < 2; i++) {
      await withServer(env, async (base) => {
        expect(((await json<{ bins: Bin[] }>(base, 'GET', '/api/bins')).body.bins).map((b) => b.id).sort()).toEqual(['bin-one-0123456789', 'bin-two-0123456789']);
      });
    }
  });

  it('a forward target the API would refuse (a loop into this hooklab) stops start-up too, and nothing of the file is applied', async () => {
    const dataDir = await tempDir();
    dirs.push(dataDir);
    const file = path.join(dataDir, 'loop.json');
    await writeFile(
      file,
      JSON.stringify({
        bins: [
          { id: 'first-bin-0123456789' },
          { id: 'loop-bin-0123456789', forward: { targets: [{ url: 'http://example.com/ok' }, { url: 'https://hooks.example.test/h/loop-bin-0123456789' }] } },
        ],
      }),
    );
    const env = { DATA_DIR: dataDir, HOOKLAB_CONFIG: file, PUBLIC_URL: 'https://hooks.example.test' };
    const { code, output } = await startExpectingFailure(env);
    expect(code).toBe(1);
    expect(output).toContain(`Invalid config file loop.json (${file}), nothing was applied`);
    expect(output).toContain("bins[1].forward.targets[1].url: is one of this hooklab's own receiver URLs: forwarding there would loop");
    // A webhook the dispatcher may not call (as POST /api/webhooks refuses it); its own bins it may.
    await writeFile(
      file,
      JSON.stringify({
        bins: [{ id: 'first-bin-0123456789' }],
        webhooks: [
          { id: 'wh_own_bin', url: 'https://hooks.example.test/h/first-bin-0123456789' },
          { id: 'wh_elsewhere', url: 'http://10.1.2.3/hooks' },
        ],
      }),
    );
    const hook = await startExpectingFailure({ ...env, DISPATCH_ALLOW: 'example.com' });
    expect(hook.code).toBe(1);
    expect(hook.output).toContain('webhooks[1].url: 10.1.2.3 is not in DISPATCH_ALLOW');
    expect(hook.output).not.toContain('webhooks[0]');
    // An old secret without a secret (as the API refuses it).
    await writeFile(file, JSON.stringify({ bins: [{ id: 'first-bin-0123456789' }], webhooks: [{ id: 'wh_rotation', url: 'http://example.com/hooks', previousSecret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' }] }));
    const rotation = await startExpectingFailure(env);
    expect(rotation.code).toBe(1);
    expect(rotation.output).toContain('webhooks[0].previousSecret: needs a secret');
    expect(rotation.output).not.toContain('whsec_');
    // Nothing applied: the same DATA_DIR without the config holds no bin.
    await withServer({ DATA_DIR: dataDir }, async (base) => {
      expect((await json<{ bins: unknown[] }>(base, 'GET', '/api/bins')).body.bins).toEqual([]);
    });
  });

  it('a webhook schedule planning more attempts than MAX_SCHEDULE_ATTEMPTS stops start-up, as the API refuses it, and nothing of the file is applied', async () => {
    const dataDir = await tempDir();
    dirs.push(dataDir);
    const file = path.join(dataDir, 'minutely.json');
    const webhook = { id: 'wh-minutely', url: 'http://127.0.0.1:1/x', schedule: { firstDelayMs: 60_000, factor: 1, jitter: 0 } };
    await writeFile(file, JSON.stringify({ bins: [{ id: 'minutely-bin-0123' }], webhooks: [webhook] }));
    const { code, output } = await startExpectingFailure({ DATA_DIR: dataDir, HOOKLAB_CONFIG: file });
    expect(code).toBe(1);
    expect(output).toContain(
      'webhooks[0].schedule.firstDelayMs: plans 1441 attempts per delivery; at most 200 (MAX_SCHEDULE_ATTEMPTS): raise firstDelayMs or factor, or shorten deadlineMs',
    );
    await withServer({ DATA_DIR: dataDir }, async (base) => {
      expect((await json<{ bins: unknown[] }>(base, 'GET', '/api/bins')).body.bins).toEqual([]);
    });
    // Raised, the same file is fine, and the webhook plans all 1441.
    await withServer({ DATA_DIR: dataDir, HOOKLAB_CONFIG: file, MAX_SCHEDULE_ATTEMPTS: '1441' }, async (base) => {
      const w = (await json<Webhook>(base, 'GET', '/api/webhooks/wh-minutely')).body;
      expect(w.scheduleNote).toBeUndefined();
      expect((await json<{ attempts: unknown[] }>(base, 'GET', '/api/schedule/preview?webhookId=wh-minutely')).body.attempts).toHaveLength(1441);
    });
  });
});
