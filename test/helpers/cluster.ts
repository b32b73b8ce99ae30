// Two compiled hooklab instances on one Redis (STORE=redis), as the cluster tests run them.
import { type ServerProcess, spawnServer } from './process.ts';
import type { RedisServer } from './redis.ts';

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
