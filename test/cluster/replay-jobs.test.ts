// Bulk replays across instances, with real processes on a real redis-server: a job started on
// A is followed on B (GET /api/replays/:id answers there, with its progress and its end); when
// A dies mid-job (SIGKILL), B reports it failed once its heartbeat is older than the stale
// bound (REPLAY_STALE_MS, lowered here), while a job that merely waits on a slow target keeps
// reading as running past that bound (its instance writes a heartbeat); one whose instance
// stops gracefully is failed by it at once.
import http from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ReplayJob } from '../../shared/api.ts';
import { REPLAY_STOPPED } from '../../server/forward/replay-jobs.ts';
import { api, send } from '../helpers/http.ts';
import { type InstancePair, startPair } from '../helpers/cluster.ts';
import { type RedisServer, startRedis } from '../helpers/redis.ts';

const STALE_MS = 2000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let redis: RedisServer;
let target: http.Server;
let targetBase = '';
/** How the target answers: set per test. */
let behave: (res: http.ServerResponse) => void = (res) => res.end('ok');
let hits = 0;

beforeAll(async () => {
  redis = await startRedis();
  target = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      hits++;
      behave(res);
    });
  });
  await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
  targetBase = `http://127.0.0.1:${(target.address() as { port: number }).port}`;
}, 60_000);

afterAll(async () => {
  target?.closeAllConnections();
  target?.close();
  await redis?.cleanup();
});

let pair: InstancePair | null = null;
afterEach(async () => {
  target.closeAllConnections();
  behave = (res) => res.end('ok');
  await pair?.stop();
  pair = null;
});

async function binWith(base: string, n: number): Promise<{ id: string }> {
  const bin = (await api<{ id: string }>(base, 'POST', '/api/bins', {})).body;
  for (let i = 0; i < n; i++) expect((await send(`${base}/h/${bin.id}/n${i}`, { body: String(i) })).status).toBe(200);
  return bin;
}

describe('bulk replays across instances', () => {
  it('a job started on A shows its progress and its end on B', async () => {
    pair = await startPair(redis, 'rj1:', { DISPATCH_WORKER: 'false', REPLAY_STALE_MS: String(STALE_MS) });
    const { a, b } = pair;
    const bin = await binWith(a.base, 16);
    // A slow-ish target: 80 ms per answer, about 1.3 s for the bin.
    behave = (res) => void setTimeout(() => res.end('ok'), 80);
    hits = 0;
    const start = await api<ReplayJob>(a.base, 'POST', `/api/bins/${bin.id}/replay`, { url: targetBase });
    expect(start.status).toBe(202);
    expect(start.body).toMatchObject({ binId: bin.id, total: 16, done: 0, failed: 0, state: 'running', error: null, finishedAt: null });
    expect(Object.keys(start.body).sort()).toEqual(['binId', 'done', 'error', 'failed', 'finishedAt', 'id', 'missing', 'non2xx', 'startedAt', 'state', 'total']);
    // B knows it at once (written before the 202).
    const first = await api<ReplayJob>(b.base, 'GET', `/api/replays/${start.body.id}`);
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ id: start.body.id, state: 'running', total: 16 });
    // Polled on B as the UI would: progress in between, then the end.
    const seen: ReplayJob[] = [];
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      const r = await api<ReplayJob>(b.base, 'GET', `/api/replays/${start.body.id}`);
      expect(r.status).toBe(200);
      seen.push(r.body);
      if (r.body.state !== 'running') break;
      await sleep(40);
    }
    const last = seen[seen.length - 1];
    expect(last).toMatchObject({ state: 'finished', total: 16, done: 16, failed: 0, error: null });
    expect(last.finishedAt).not.toBeNull();
    // The API shape only: no bookkeeping of the store's.
    expect(Object.keys(last).sort()).toEqual(['binId', 'done', 'error', 'failed', 'finishedAt', 'id', 'missing', 'non2xx', 'startedAt', 'state', 'total']);
    const between = seen.filter((j) => j.state === 'running' && j.done > 0 && j.done < 16).map((j) => j.done);
    expect(between.length).toBeGreaterThan(0);
    // Never backwards.
    const dones = seen.map((j) => j.done);
    expect(dones).toEqual([...dones].sort((x, y) => x - y));
    expect(hits).toBe(16);
    // A answers the same.
    expect((await api<ReplayJob>(a.base, 'GET', `/api/replays/${start.body.id}`)).body).toEqual(last);
    expect((await api(b.base, 'GET', '/api/replays/rp_nosuchjob')).status).toBe(404);
  });

  it('A dies mid-job (SIGKILL): B reports it failed once the stale bound has passed, not before; a job only waiting stays running', async () => {
    pair = await startPair(redis, 'rj2:', { DISPATCH_WORKER: 'false', REPLAY_STALE_MS: String(STALE_MS), FORWARD_TIMEOUT_MS: '60000' });
    const { a, b } = pair;
    const bin = await binWith(a.base, 3);
    // The target holds every answer.
    behave = () => {};
    hits = 0;
    const start = await api<ReplayJob>(a.base, 'POST', `/api/bins/${bin.id}/replay`, { url: targetBase });
    expect(start.status).toBe(202);
    const id = start.body.id;
    await expect.poll(() => hits).toBe(1);
    // Waiting on the target for longer than the stale bound: A's heartbeat keeps it running.
    await sleep(STALE_MS + 1000);
    expect((await api<ReplayJob>(b.base, 'GET', `/api/replays/${id}`)).body).toMatchObject({ state: 'running', done: 0, error: null });
    a.proc.kill('SIGKILL');
    await a.exited;
    const killedAt = Date.now();
    // Still running for B until the heartbeat is older than the bound…
    expect((await api<ReplayJob>(b.base, 'GET', `/api/replays/${id}`)).body.state).toBe('running');
    // …then failed, with why.
    let job: ReplayJob | undefined;
    await expect
      .poll(
        async () => {
          job = (await api<ReplayJob>(b.base, 'GET', `/api/replays/${id}`)).body;
          return job.state;
        },
        { timeout: STALE_MS + 10_000, interval: 100 },
      )
      .toBe('failed');
    // Its last heartbeat came at most ~0.9 s before the kill (every STALE_MS / 3, checked every 250 ms).
    expect(Date.now() - killedAt).toBeGreaterThan(STALE_MS - 1000);
    expect(job).toMatchObject({ id, total: 3, done: 0, error: REPLAY_STOPPED });
    expect(job!.finishedAt).not.toBeNull();
    // Written so: it stays failed.
    expect((await api<ReplayJob>(b.base, 'GET', `/api/replays/${id}`)).body).toEqual(job);
  });

  it('A stopped gracefully (SIGTERM) mid-job: B reports the job failed at once', async () => {
    // A long stale bound: only the stop itself can end the job this soon.
    pair = await startPair(redis, 'rj3:', { DISPATCH_WORKER: 'false', FORWARD_TIMEOUT_MS: '60000' });
    const { a, b } = pair;
    const bin = await binWith(a.base, 2);
    behave = () => {};
    hits = 0;
    const id = (await api<ReplayJob>(a.base, 'POST', `/api/bins/${bin.id}/replay`, { url: targetBase })).body.id;
    await expect.poll(() => hits).toBe(1);
    a.proc.kill('SIGTERM');
    expect((await a.exited).code).toBe(0);
    expect((await api<ReplayJob>(b.base, 'GET', `/api/replays/${id}`)).body).toMatchObject({ state: 'failed', done: 0, total: 2, error: REPLAY_STOPPED });
  });
});
