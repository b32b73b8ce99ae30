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
