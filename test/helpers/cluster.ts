// Two compiled hooklab instances on one Redis (STORE=redis), as the cluster tests run them.
import { afterEach, expect } from 'vitest';
import { api } from './http.ts';
import { type ServerProcess, spawnServer } from './process.ts';
import { type RedisServer, type RedisServerOptions, startRedis } from './redis.ts';

export interface InstancePair {
  a: ServerProcess;
  b: ServerProcess;
  /** SIGTERM both and wait until they have exited. */
  stop(): Promise<void>;
}

/** Start A and B on `redis` under `prefix`, with `env` on top. */
export async function startPair(redis: RedisServer, prefix: string, env: Record<string, string> = {}): Promise<InstancePair> {
  const all = { STORE: 'redis', REDIS_URL: redis.url, REDIS_PREFIX: prefix, ...env };
  const [a, b] = await Promise.all([spawnServer(all), spawnServer(all)]);
  return {
    a,
    b,
    async stop() {
      for (const p of [a, b]) p.proc.kill('SIGTERM');
      await Promise.all([a.exited, b.exited]);
    },
  };
}

/**
 * After a test of Redis faults: resume a Redis the test left stopped (SIGSTOP), close what it
 * opened, stop its instances, then remove the Redis. For an afterEach.
 */
export async function cleanUpRedisTest(redis: RedisServer | null, procs: ServerProcess[], closers: (() => unknown)[] = []): Promise<void> {
  if (redis?.pid) process.kill(redis.pid, 'SIGCONT');
  for (const c of closers.splice(0)) await c();
  for (const p of procs) p.proc.kill('SIGTERM');
  await Promise.all(procs.splice(0).map((p) => p.exited));
  await redis?.cleanup();
}

/**
 * For a test file about the dispatcher's lease: the answer starts a fresh Redis and two
 * instances under `prefix` with a lease of `leaseMs` (the dispatcher on the main thread) and
 * answers [the one running the dispatcher, the other]. After each test both are resumed (a
 * test may have stopped one with SIGSTOP) and killed, and the Redis removed.
 */
export function leasePairs(prefix: string, leaseMs: number, redisOptions: RedisServerOptions = {}): () => Promise<[ServerProcess, ServerProcess]> {
  let redis: RedisServer | null = null;
  let procs: ServerProcess[] = [];
  afterEach(async () => {
    for (const p of procs) {
      try {
        process.kill(p.proc.pid!, 'SIGCONT');
      } catch {
        // already gone
      }
      p.proc.kill('SIGKILL');
    }
    await Promise.all(procs.map((p) => p.exited));
    procs = [];
    await redis?.cleanup();
    redis = null;
  });
  return async () => {
    redis = await startRedis(redisOptions);
    const env = { STORE: 'redis', REDIS_URL: redis.url, REDIS_PREFIX: prefix, DISPATCHER_LEASE_MS: String(leaseMs), DISPATCH_WORKER: 'false' };
    procs = await Promise.all([spawnServer(env), spawnServer(env)]);
    const runs = await Promise.all(procs.map(async (p) => (await api<{ dispatcher?: { runsHere: boolean } }>(p.base, 'GET', '/api/health')).body.dispatcher?.runsHere));
    expect(runs.filter(Boolean)).toHaveLength(1);
    return runs[0] ? [procs[0], procs[1]] : [procs[1], procs[0]];
  };
}
