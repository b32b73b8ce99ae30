// MAX_REQUESTS_PER_BIN and MAX_STORE_BYTES lowered since the captures were stored are applied
// at start-up on Redis too (as lowdb does as it loads), oldest first, said in the log, and told
// to live viewers on an instance already running; two instances starting at once with the
// lower cap evict exactly what is over it between them. Compiled instances on a real redis-server.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api } from '../helpers/http.ts';
import { type ServerProcess, spawnServer } from '../helpers/process.ts';
import { type RedisServer, startRedis } from '../helpers/redis.ts';
import { type ClientSocket, collect, connect, subscribe } from '../helpers/socket.ts';

const PREFIX = 'sc:';
const BODY = 'x'.repeat(50_000);
let redis: RedisServer;
let seeder: ServerProcess;
let viewer: ClientSocket;
const procs: ServerProcess[] = [];

const env = (extra: Record<string, string> = {}) => ({ STORE: 'redis', REDIS_URL: redis.url, REDIS_PREFIX: PREFIX, DISPATCH_WORKER: 'false', ...extra });

/** Ids of a bin's captures, oldest first. */
async function ids(base: string, binId: string): Promise<string[]> {
  const r = await api<{ requests: { id: string }[] }>(base, 'GET', `/api/bins/${binId}/requests?limit=500`);
  return r.body.requests.map((x) => x.id).reverse();
}

async function capture(base: string, binId: string, n: number) {
  for (let i = 0; i < n; i++) expect((await fetch(`${base}/h/${binId}`, { method: 'POST', body: BODY })).status).toBe(200);
}

let x = '';
let y = '';

beforeAll(async () => {
  redis = await startRedis();
  seeder = await spawnServer(env());
  procs.push(seeder);
  x = (await api<{ id: string }>(seeder.base, 'POST', '/api/bins', {})).body.id;
  y = (await api<{ id: string }>(seeder.base, 'POST', '/api/bins', {})).body.id;
  // X's captures first: they are the store's oldest.
  await capture(seeder.base, x, 40);
  await capture(seeder.base, y, 10);
  viewer = await connect(seeder.base);
  await subscribe(viewer, x);
}, 120_000);

afterAll(async () => {
  viewer?.close();
  for (const p of procs) p.proc.kill('SIGTERM');
  await Promise.all(procs.map((p) => p.exited));
  await redis?.cleanup();
});

describe('caps lowered since, applied at start-up on Redis', () => {
  it('MAX_REQUESTS_PER_BIN=30 on two instances starting at once: X keeps its newest 30, the 10 oldest go once, logged; the viewer on the running instance is told', async () => {
    const before = await ids(seeder.base, x);
    expect(before).toHaveLength(40);
    const gone = collect(viewer, 'requests:deleted');
    const started = await Promise.all([spawnServer(env({ MAX_REQUESTS_PER_BIN: '30' })), spawnServer(env({ MAX_REQUESTS_PER_BIN: '30' }))]);
    procs.push(...started);
    // At once, not at the next capture.
    expect(await ids(started[0].base, x)).toEqual(before.slice(10));
    expect(await ids(started[0].base, y)).toHaveLength(10);
    const bin = (await api<{ requestCount: number; maxRequests: number }>(started[1].base, 'GET', `/api/bins/${x}`)).body;
    expect({ requestCount: bin.requestCount, maxRequests: bin.maxRequests }).toEqual({ requestCount: 30, maxRequests: 30 });
    // Said in the log, with counts: between the two, the 10 over the cap.
    const counts = started.map((p) => Number(/MAX_REQUESTS_PER_BIN \(30\) is below what some bins held: evicted the (\d+) oldest/.exec(p.output())?.[1] ?? 0));
    expect(counts[0] + counts[1]).toBe(10);
    await gone.until(1);
    await expect.poll(() => gone.items.flatMap((e) => (e.ids === 'all' ? [] : e.ids)).sort()).toEqual(before.slice(0, 10).sort());
    expect(gone.items.every((e) => e.binId === x && e.reason === 'evicted')).toBe(true);
    gone.stop();
  });

  it('MAX_STORE_BYTES below what is stored: the store\'s oldest go across bins at start-up, logged with counts', async () => {
    // 40 captures of ~50 KB (body and head) are stored: room for about 20 (MAX_STORE_BYTES is 1 MiB at least).
    const budget = 1_048_576;
    const xBefore = await ids(seeder.base, x);
    const yBefore = await ids(seeder.base, y);
    const p = await spawnServer(env({ MAX_STORE_BYTES: String(budget), MAX_REQUESTS_PER_BIN: '30' }));
    procs.push(p);
    const xAfter = await ids(p.base, x);
    const yAfter = await ids(p.base, y);
    // The oldest (all X's) went; Y's, newer, stayed.
    expect(yAfter).toEqual(yBefore);
    expect(xAfter).toEqual(xBefore.slice(xBefore.length - xAfter.length));
    const kept = xAfter.length + yAfter.length;
    expect(kept).toBeGreaterThanOrEqual(15);
    expect(kept).toBeLessThanOrEqual(20);
    const m = /MAX_STORE_BYTES \(1048576\) is below the (\d+) bytes stored \(bodies and heads\): evicted the (\d+) oldest capture\(s\)/.exec(p.output());
    expect(m, p.output()).not.toBeNull();
    expect(Number(m![1])).toBeGreaterThan(budget);
    expect(Number(m![2])).toBe(xBefore.length - xAfter.length);
  });
});
