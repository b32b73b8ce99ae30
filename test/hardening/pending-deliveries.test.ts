// MAX_PENDING_DELIVERIES: deliveries still owed attempts had no limit, in memory or on disk
// (100 webhooks with 100-wait plans, clock paused, 300 runs: 30,000 pending, RSS 110 -> 615 MB,
// deliveries.log 163 MB, nothing refused). A run is admitted whole (its sync_start deliveries
// and, held until its end, its sync_end ones) or refused whole with 503
// too_many_pending_deliveries + Retry-After, having made nothing; a test send the same; a run
// that alone is larger than the budget gets 409 (waiting cannot help). Real server on a real
// lowdb DATA_DIR, over loopback; the count survives a restart.
import net from 'node:net';
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Delivery, Run } from '../../shared/api.ts';
import { CONFIG_DOCS, loadConfig } from '../../server/config.ts';
import { PENDING_RETRY_AFTER_S } from '../../server/dispatch/dispatcher.ts';
import { json, startServer, tempDir, type TestServer } from '../helpers/server.ts';
import { deliveriesOf } from '../helpers/dispatch.ts';
import { api } from '../helpers/http.ts';
import { type ServerProcess, spawnServer } from '../helpers/process.ts';
import { type RedisServer, startRedis } from '../helpers/redis.ts';

const servers: TestServer[] = [];
let redis: RedisServer | null = null;
let procs: ServerProcess[] = [];
afterAll(async () => {
  for (const s of servers) await s.cleanup();
  for (const p of procs) p.proc.kill('SIGKILL');
  await Promise.all(procs.map((p) => p.exited));
  await redis?.cleanup();
});

/** A loopback port nothing listens on: every attempt is refused, so deliveries stay pending. */
async function deadPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

const WEBHOOKS = 5;
/** Each run makes WEBHOOKS sync_start and WEBHOOKS sync_end deliveries. */
const PER_RUN = 2 * WEBHOOKS;

async function fireRun(base: string) {
  const r = await fetch(`${base}/api/runs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
  return { status: r.status, retryAfter: r.headers.get('retry-after'), body: (await r.json()) as Run & { error?: { code: string; message: string } } };
}

const pendingIn = async (base: string) => (await deliveriesOf(base, '?state=pending&limit=5000')).length;
const runsIn = async (base: string) => (await json<{ runs: Run[] }>(base, 'GET', '/api/runs')).body.runs.length;

describe('MAX_PENDING_DELIVERIES', () => {
  it('has a documented default', () => {
    expect(loadConfig({}).maxPendingDeliveries).toBe(10_000);
    expect(CONFIG_DOCS.find((d) => d.name === 'MAX_PENDING_DELIVERIES')?.default).toBe('10000');
  });

  it('refuses a run (or a test send) that would pass it, whole and retryably; frees up as deliveries end; holds across a restart', async () => {
    const dataDir = await tempDir();
    const max = 3 * PER_RUN;
    let srv = await startServer({ dataDir, config: { maxPendingDeliveries: max } });
    servers.push(srv);
    const url = `http://127.0.0.1:${await deadPort()}/hook`;
    // A 100-wait plan, as the audit's: the deliveries stay pending while the clock is paused.
    const delaysMs = Array.from({ length: 100 }, () => 60_000);
    const hooks: string[] = [];
    for (let i = 0; i < WEBHOOKS; i++) {
      const r = await json<{ id: string }>(srv.base, 'POST', '/api/webhooks', { url, events: ['flow_started', 'flow_succeeded'], schedule: { delaysMs } });
      expect(r.status).toBe(201);
      hooks.push(r.body.id);
    }
    expect((await json(srv.base, 'PUT', '/api/clock', { paused: true })).status).toBe(200);

    // Many at once: exactly as many as fit are admitted (sync_end ones count from the start).
    const all = await Promise.all(Array.from({ length: 12 }, () => fireRun(srv.base)));
    const ok = all.filter((r) => r.status === 201);
    const refused = all.filter((r) => r.status !== 201);
    expect(ok).toHaveLength(3);
    for (const r of refused) {
      expect(r.status).toBe(503);
      expect(r.retryAfter).toBe(String(PENDING_RETRY_AFTER_S));
      expect(r.body.error?.code).toBe('too_many_pending_deliveries');
      expect(r.body.error?.message).toMatch(/MAX_PENDING_DELIVERIES/);
      expect(r.body.error?.message).toMatch(/paused/);
    }
    // Nothing of a refused run was made: 3 runs, their sync_start deliveries (the sync_end ones come at their end).
    await expect.poll(() => pendingIn(srv.base)).toBe(3 * WEBHOOKS);
    expect(await runsIn(srv.base)).toBe(3);

    // A test send makes a delivery too: refused the same way.
    const t = await fetch(`${srv.base}/api/webhooks/${hooks[0]}/test`, { method: 'POST' });
    expect(t.status).toBe(503);
    expect(t.headers.get('retry-after')).toBe(String(PENDING_RETRY_AFTER_S));
    expect(((await t.json()) as { error: { code: string } }).error.code).toBe('too_many_pending_deliveries');

    // A flood of runs changes nothing more, in memory or on disk.
    const logBytes = async () => {
      let n = 0;
      for (const f of await readdir(dataDir)) if (/deliver/.test(f)) n += (await stat(path.join(dataDir, f))).size;
      return n;
    };
    await srv.store.flush();
    const diskBefore = await logBytes();
    expect(diskBefore).toBeGreaterThan(0);
    for (let i = 0; i < 100; i++) expect((await fireRun(srv.base)).status).toBe(503);
    await srv.store.flush();
    expect(await logBytes()).toBe(diskBefore);
    expect(await pendingIn(srv.base)).toBe(3 * WEBHOOKS);
    expect(await runsIn(srv.base)).toBe(3);

    // After a restart the count is read back (lowdb, the same DATA_DIR): still full.
    await srv.stop();
    srv = await startServer({ dataDir, config: { maxPendingDeliveries: max } });
    servers.push(srv);
    expect((await fireRun(srv.base)).status).toBe(503);

    // Deliveries end: a webhook deleted cancels its own (but the runs' sync_end ones stay
    // held until the runs end), and the clock reaching their last attempts ends the rest.
    expect((await json(srv.base, 'DELETE', `/api/webhooks/${hooks[0]}`)).status).toBe(204);
    expect(await pendingIn(srv.base)).toBe(3 * (WEBHOOKS - 1));
    expect((await fireRun(srv.base)).status).toBe(503);
    // The clock moves on: the runs end, their deliveries are made, attempted and (a 100-wait plan
    // over 100 minutes) still pending; stepping past their deadline ends them all.
    await json(srv.base, 'PUT', '/api/clock', { paused: false });
    expect((await json(srv.base, 'POST', '/api/clock/advance', { ms: 200 * 60_000 })).status).toBe(200);
    await expect.poll(() => pendingIn(srv.base)).toBe(0);
    const again = await fireRun(srv.base);
    expect(again.status).toBe(201);
    const made: Delivery[] = await deliveriesOf(srv.base, `?runId=${again.body.id}`);
    expect(made).toHaveLength(WEBHOOKS - 1);

    // A run larger than the whole budget can never fit: 409, not 503.
    await srv.stop();
    srv = await startServer({ dataDir, config: { maxPendingDeliveries: WEBHOOKS } });
    servers.push(srv);
    const big = await fireRun(srv.base);
    expect(big.status).toBe(409);
    expect(big.retryAfter).toBeNull();
    expect(big.body.error?.code).toBe('too_many_pending_deliveries');
  });

  it('STORE=redis, two instances: a run passed on by the other instance is refused with the same 503 and Retry-After; the count is read from Redis again when the dispatcher moves', async () => {
    redis = await startRedis();
    const env = { STORE: 'redis', REDIS_URL: redis.url, REDIS_PREFIX: 'pend:', DISPATCHER_LEASE_MS: '1500', DISPATCH_WORKER: 'false', MAX_PENDING_DELIVERIES: '6' };
    procs = await Promise.all([spawnServer(env), spawnServer(env)]);
    const runsHere = async (p: ServerProcess) => (await api<{ dispatcher?: { runsHere: boolean } }>(p.base, 'GET', '/api/health')).body.dispatcher?.runsHere;
    await expect.poll(async () => (await Promise.all(procs.map(runsHere))).filter(Boolean).length).toBe(1);
    const [holder, other] = (await runsHere(procs[0])) ? [procs[0], procs[1]] : [procs[1], procs[0]];
    const url = `http://127.0.0.1:${await deadPort()}/hook`;
    for (let i = 0; i < 2; i++) {
      expect((await api(other.base, 'POST', '/api/webhooks', { url, events: ['flow_started', 'flow_succeeded'], schedule: { delaysMs: [60_000] } })).status).toBe(201);
    }
    await api(other.base, 'PUT', '/api/clock', { paused: true });
    // 4 deliveries per run (2 now, 2 at its end): one fits in 6, a second does not.
    expect((await fireRun(other.base)).status).toBe(201);
    for (const base of [other.base, holder.base]) {
      const r = await fireRun(base);
      expect(r.status).toBe(503);
      expect(r.retryAfter).toBe(String(PENDING_RETRY_AFTER_S));
      expect(r.body.error?.code).toBe('too_many_pending_deliveries');
    }
    // The holder dies: the other runs the dispatcher now, and counts what Redis holds.
    holder.proc.kill('SIGKILL');
    await holder.exited;
    await expect.poll(() => runsHere(other), { timeout: 15_000 }).toBe(true);
    expect((await fireRun(other.base)).status).toBe(503);
    expect(await runsIn(other.base)).toBe(1);
    // The clock moves past the run's end and every last attempt: room again.
    await api(other.base, 'PUT', '/api/clock', { paused: false });
    expect((await api(other.base, 'POST', '/api/clock/advance', { ms: 5 * 60_000 })).status).toBe(200);
    await expect.poll(() => pendingIn(other.base)).toBe(0);
    expect((await fireRun(other.base)).status).toBe(201);
  }, 120_000);
});
