// On Redis, the dispatcher runs on one instance (its lease). An instance started with a config
// file that disables a webhook or prunes it must tell the dispatcher wherever it runs, as the
// API's disable and delete do: the deliveries those webhooks still owe are cancelled, with why.
// Before, only an instance running the dispatcher itself cancelled them (at its own start);
// on another they stayed pending, counting against MAX_PENDING_DELIVERIES.
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { api } from '../helpers/http.ts';
import { type ServerProcess, spawnServer } from '../helpers/process.ts';
import { type RedisServer, startRedis } from '../helpers/redis.ts';
import { cleanUpRedisTest } from '../helpers/cluster.ts';
import { tempDir } from '../helpers/server.ts';

let redis: RedisServer | null = null;
const procs: ServerProcess[] = [];
const dirs: string[] = [];
afterAll(async () => {
  await cleanUpRedisTest(redis, procs);
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

type Del = { id: string; webhookId: string; state: string; endReason: string | null; attempts: unknown[] };
const deliveries = async (base: string) => (await api<{ deliveries: Del[] }>(base, 'GET', '/api/deliveries?limit=100')).body.deliveries;
const runsHere = async (base: string) => (await api<{ dispatcher?: { runsHere: boolean } }>(base, 'GET', '/api/health')).body.dispatcher?.runsHere;

describe('a config file applied on an instance that does not run the dispatcher', () => {
  it('cancels the pending deliveries of the webhooks it disables or prunes, on the instance that does', async () => {
    redis = await startRedis();
    const dir = await tempDir();
    dirs.push(dir);
    const hook = (id: string, extra: Record<string, unknown> = {}) => ({ id, name: id, url: 'http://127.0.0.1:1/nothing', events: ['flow_failed'], ...extra });
    const first = path.join(dir, 'first.json');
    const second = path.join(dir, 'second.json');
    await writeFile(first, JSON.stringify({ webhooks: [hook('wh-off'), hook('wh-gone'), hook('wh-kept')] }));
    await writeFile(second, JSON.stringify({ prune: true, webhooks: [hook('wh-off', { enabled: false }), hook('wh-kept')] }));
    // Retries 10 minutes away: the next attempt (which would find the webhook gone) is not what cancels them.
    const env = { STORE: 'redis', REDIS_URL: redis.url, REDIS_PREFIX: 'cfg:', RETRY_FIRST_DELAY_MS: '600000' };

    const a = await spawnServer({ ...env, HOOKLAB_CONFIG: first });
    procs.push(a);
    await expect.poll(() => runsHere(a.base), { timeout: 15_000 }).toBe(true);
    // A failed run: each webhook's delivery fails (nothing listens on port 1) and waits for its retry.
    expect((await api(a.base, 'POST', '/api/runs', { outcome: 'FAILED', durationMs: 0 })).status).toBe(201);
    // Each made its first attempt (so the next, 10 minutes away, is what they wait for).
    await expect.poll(async () => (await deliveries(a.base)).filter((d) => d.state === 'pending' && d.attempts.length === 1).length, { timeout: 30_000 }).toBe(3);

    // B starts with the second file while A keeps the dispatcher.
    const b = await spawnServer({ ...env, HOOKLAB_CONFIG: second });
    procs.push(b);
    expect(await runsHere(b.base)).toBe(false);
    await expect
      .poll(async () => (await deliveries(a.base)).map((d) => [d.webhookId, d.state, d.endReason]).sort(), { timeout: 10_000 })
      .toEqual([
        ['wh-gone', 'cancelled', 'webhook_deleted'],
        ['wh-kept', 'pending', null],
        ['wh-off', 'cancelled', 'webhook_disabled'],
      ]);
    expect(await runsHere(a.base)).toBe(true);
  }, 90_000);
});
