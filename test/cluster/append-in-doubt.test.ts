// An append whose answer never came (Redis stalled past the 5 s command timeout, or the link
// broke after it was sent) may still run once Redis goes on: the MULTI … EXEC was written to
// the socket and a timeout does not withdraw it. The sender was told 503 + Retry-After (it
// must retry: hooklab cannot claim it was stored), so should the capture land after all, its
// record must say that: answered 503 by hooklab ("store"), corrected in the store and on live
// viewers, and the sender's retry is a capture of its own. A definite refusal (Redis out of
// memory) stores nothing and is never "corrected"; an append that never ran is never found.
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import type { RequestItem } from '../../shared/api.ts';
import { RedisStore } from '../../server/store/redis/redis-store.ts';
import { AppendInDoubtError, InDoubtAppends, MAX_IN_DOUBT } from '../../server/store/redis/in-doubt.ts';
import { StoreUnavailableError } from '../../server/store/types.ts';
import type { AnswerOutcome } from '../../shared/api.ts';
import { api, send } from '../helpers/http.ts';
import { type ServerProcess, spawnServer } from '../helpers/process.ts';
import { type RedisServer, startRedis } from '../helpers/redis.ts';
import { cleanUpRedisTest } from '../helpers/cluster.ts';
import { collectUpdates, connect, subscribe } from '../helpers/socket.ts';
import { fakeRequest } from '../store/contract.ts';

let redis: RedisServer | null = null;
let procs: ServerProcess[] = [];
const closers: (() => Promise<void> | void)[] = [];

afterEach(async () => {
  await cleanUpRedisTest(redis, procs, closers);
  redis = null;
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function list(base: string, bin: string): Promise<RequestItem[]> {
  return (await api<{ requests: RequestItem[] }>(base, 'GET', `/api/bins/${bin}/requests`)).body.requests;
}

const IN_DOUBT_LOG = /stored after all/;

describe('an append Redis did not confirm in time', () => {
  it('a capture stored after a stall past the command timeout is recorded as answered 503, in the list and on live viewers; the retry is a capture of its own', async () => {
    redis = await startRedis();
    const s = await spawnServer({ STORE: 'redis', REDIS_URL: redis.url, REDIS_PREFIX: 'doubt:', DISPATCH_WORKER: 'false' });
    procs = [s];
    const bin = (await api<{ id: string }>(s.base, 'POST', '/api/bins', {})).body.id;
    // The bin known to the receiver, the append script loaded: the stall meets the append itself.
    expect((await send(`${s.base}/h/${bin}/warm`, { body: 'warm' })).status).toBe(200);
    const viewer = await connect(s.base);
    closers.push(() => void viewer.close());
    expect((await subscribe(viewer, bin)).ok).toBe(true);
    const updates = collectUpdates(viewer);

    process.kill(redis.pid!, 'SIGSTOP');
    const t0 = performance.now();
    const r = await send(`${s.base}/h/${bin}/stalled`, { body: 'stalled', timeoutMs: 20_000 });
    expect(r.status).toBe(503);
    expect(r.headers['retry-after']).toBeDefined();
    expect(JSON.parse(r.body.toString()).error.code).toBe('storage_unavailable');
    // A stall of about 6 s, as the probe's.
    await sleep(Math.max(0, 6000 - (performance.now() - t0)));
    process.kill(redis.pid!, 'SIGCONT');

    // Redis ran the append once it went on: the record says what the sender got.
    await expect.poll(async () => (await list(s.base, bin)).find((x) => x.path === '/stalled')?.answer ?? null, { timeout: 20_000, interval: 200 }).toMatchObject({
      status: 503,
      source: 'store',
      fault: null,
    });
    const row = (await list(s.base, bin)).find((x) => x.path === '/stalled')!;
    expect(row.status).toBe(503);
    // Live viewers were told.
    await expect.poll(() => updates.items.find((x) => x.id === row.id)?.status ?? null, { timeout: 10_000 }).toBe(503);
    expect(s.output()).toMatch(IN_DOUBT_LOG);

    // The sender's retry: a capture of its own, answered 200.
    expect((await send(`${s.base}/h/${bin}/stalled`, { body: 'stalled' })).status).toBe(200);
    const rows = (await list(s.base, bin)).filter((x) => x.path === '/stalled');
    expect(rows.map((x) => x.status).sort()).toEqual([200, 503]);
    expect(new Set(rows.map((x) => x.id)).size).toBe(2);
  }, 90_000);

  it('a definite refusal (Redis out of memory) stores nothing, and nothing is corrected later', async () => {
    redis = await startRedis();
    const s = await spawnServer({ STORE: 'redis', REDIS_URL: redis.url, REDIS_PREFIX: 'oom:', DISPATCH_WORKER: 'false' });
    procs = [s];
    const raw = new Redis(redis.url);
    closers.push(() => void raw.disconnect());
    const bin = (await api<{ id: string }>(s.base, 'POST', '/api/bins', {})).body.id;
    expect((await send(`${s.base}/h/${bin}/warm`, { body: 'warm' })).status).toBe(200);

    await raw.config('SET', 'maxmemory', '1');
    const r = await send(`${s.base}/h/${bin}/refused`, { body: 'refused', timeoutMs: 20_000 });
    expect(r.status).toBe(503);
    expect(r.headers['retry-after']).toBeDefined();
    await raw.config('SET', 'maxmemory', '0');
    await expect.poll(async () => (await fetch(`${s.base}/api/health`)).status, { timeout: 10_000 }).toBe(200);
    await sleep(1500);
    const rows = await list(s.base, bin);
    expect(rows.map((x) => x.path)).toEqual(['/warm']);
    expect(s.output()).not.toMatch(IN_DOUBT_LOG);
  }, 60_000);
});

describe('the store: appends in doubt', () => {
  const ANSWER: AnswerOutcome = { status: 503, delayMs: 0, fault: null, source: 'store', index: null, roll: null };

  it('an append that never ran (Redis killed while stalled, before it read it) is never found: settled with nothing, nothing stored', async () => {
    redis = await startRedis({ appendonly: true, appendfsync: 'always' });
    const store = await RedisStore.open({ url: redis.url, prefix: 'never:', commandTimeoutMs: 500 });
    closers.push(() => store.close());
    const bin = { id: 'bin-never-ran' };
    await store.bins.put({ id: bin.id, name: 'x', createdAt: new Date().toISOString() });
    await store.requests.append({ ...fakeRequest(bin.id, 'warm'), id: '' }, 100);

    process.kill(redis.pid!, 'SIGSTOP');
    const err = await store.requests.append({ ...fakeRequest(bin.id, 'lost'), id: '' }, 100).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(AppendInDoubtError);
    const settled = (err as AppendInDoubtError).settle(ANSWER);
    // Killed with the append unread in its socket: it never runs.
    await redis.kill();
    await redis.start();
    await expect(settled).resolves.toBeNull();
    const items = await store.requests.items(bin.id, { limit: 10 });
    expect(items).toHaveLength(1);
  }, 60_000);

  it('a stalled append that ran later is found by its own tail and corrected; another capture with the same receivedAt is left alone', async () => {
    redis = await startRedis();
    const store = await RedisStore.open({ url: redis.url, prefix: 'found:', commandTimeoutMs: 500 });
    closers.push(() => store.close());
    const bin = { id: 'bin-found-late' };
    await store.bins.put({ id: bin.id, name: 'x', createdAt: new Date().toISOString() });
    const base = fakeRequest(bin.id, 'warm');
    await store.requests.append({ ...base, id: '' }, 100);

    process.kill(redis.pid!, 'SIGSTOP');
    const late = { ...fakeRequest(bin.id, 'late'), id: '', receivedAt: base.receivedAt };
    const err = await store.requests.append(late, 100).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(AppendInDoubtError);
    const settled = (err as AppendInDoubtError).settle(ANSWER);
    await sleep(300);
    process.kill(redis.pid!, 'SIGCONT');
    const item = await settled;
    expect(item).toMatchObject({ status: 503, answer: ANSWER });
    const items = await store.requests.items(bin.id, { limit: 10 });
    expect(items).toHaveLength(2);
    expect(items.find((x) => x.id === item!.id)).toMatchObject({ status: 503, answer: { source: 'store' } });
    expect(items.find((x) => x.id !== item!.id)).toMatchObject({ status: 200 });
    expect((await store.requests.get(bin.id, item!.id))?.answer).toEqual(ANSWER);
  }, 60_000);

  it('a definite refusal (OOM) is not in doubt: a plain StoreUnavailableError, nothing remembered', async () => {
    redis = await startRedis();
    const store = await RedisStore.open({ url: redis.url, prefix: 'refused:' });
    closers.push(() => store.close());
    const raw = new Redis(redis.url);
    closers.push(() => void raw.disconnect());
    await store.bins.put({ id: 'bin-refused', name: 'x', createdAt: new Date().toISOString() });
    await store.requests.append({ ...fakeRequest('bin-refused', 'warm'), id: '' }, 100);
    await raw.config('SET', 'maxmemory', '1');
    const err = await store.requests.append({ ...fakeRequest('bin-refused', 'oom'), id: '' }, 100).then(
      () => null,
      (e: unknown) => e,
    );
    await raw.config('SET', 'maxmemory', '0');
    expect(err).toBeInstanceOf(StoreUnavailableError);
    expect(err).not.toBeInstanceOf(AppendInDoubtError);
    expect((err as Error).message).toMatch(/out of memory/);
    expect(store.requests.inDoubtCount()).toBe(0);
    expect(await store.requests.items('bin-refused', { limit: 10 })).toHaveLength(1);
  }, 60_000);

  it('what is remembered is bounded: past MAX_IN_DOUBT the oldest is given up, and that is logged', async () => {
    const warnings: [string, Record<string, unknown> | undefined][] = [];
    const doubts = new InDoubtAppends({
      find: () => Promise.reject(new Error('not called: never ready')),
      correct: () => Promise.resolve(null),
      ready: () => false,
      stream: () => null,
      feedPosition: () => '',
      warn: (m, d) => warnings.push([m, d]),
    });
    const a = (i: number) => ({ binId: 'b', id: '', tail: `t${i}`, receivedAt: 'x', sentAt: performance.now(), stream: null });
    const first = doubts.track(a(0), ANSWER);
    for (let i = 1; i < MAX_IN_DOUBT; i++) void doubts.track(a(i), ANSWER);
    expect(doubts.size).toBe(MAX_IN_DOUBT);
    expect(warnings).toHaveLength(0);
    void doubts.track(a(MAX_IN_DOUBT), ANSWER);
    expect(doubts.size).toBe(MAX_IN_DOUBT);
    await expect(first).resolves.toBeNull();
    expect(warnings).toHaveLength(1);
    expect(warnings[0][1]).toMatchObject({ overflowed: 1 });
    doubts.close();
    expect(doubts.size).toBe(0);
  });
});
