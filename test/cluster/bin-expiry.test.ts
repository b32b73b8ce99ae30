// BIN_IDLE_DAYS with two instances on one Redis: only the instance running the dispatcher
// sweeps, so an idle bin is deleted once, and a viewer on the other instance is told.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api } from '../helpers/http.ts';
import { type InstancePair, startPair } from '../helpers/cluster.ts';
import type { ServerProcess } from '../helpers/process.ts';
import { type RedisServer, startRedis } from '../helpers/redis.ts';
import { collect, connect, subscribe } from '../helpers/socket.ts';

let redis: RedisServer;
let pair: InstancePair;
let a: ServerProcess;
let b: ServerProcess;

beforeAll(async () => {
  redis = await startRedis();
  // Idle after 3 s (the sweep then looks every second).
  pair = await startPair(redis, 'idle:', { BIN_IDLE_DAYS: String(3 / 86_400) });
  ({ a, b } = pair);
}, 60_000);

afterAll(async () => {
  await pair?.stop();
  await redis?.cleanup();
});

describe('idle bins on two instances', () => {
  it('an idle bin made on A is deleted once, by the instance running the dispatcher, and a viewer on B is told', async () => {
    const bin = (await api<{ id: string }>(a.base, 'POST', '/api/bins', {})).body;
    const viewer = await connect(b.base);
    try {
      const deleted = collect(viewer, 'bin:deleted');
      expect((await subscribe(viewer, bin.id)).ok).toBe(true);
      await expect.poll(async () => (await api(b.base, 'GET', `/api/bins/${bin.id}`)).status).toBe(404);
      expect((await api(a.base, 'GET', `/api/bins/${bin.id}`)).status).toBe(404);
      expect((await deleted.until(1)).map((e) => e.id)).toEqual([bin.id]);
      // Logged as a count, never with the id (a receiver URL's secret).
      const sweptBy = [a, b].filter((p) => p.output().includes('deleted idle bins'));
      expect(sweptBy).toHaveLength(1);
      expect(sweptBy[0].output().match(/deleted idle bins.*/g)).toEqual([expect.stringContaining('"count":1')]);
      for (const p of [a, b]) expect(p.output()).not.toContain(bin.id);
      expect(sweptBy[0].output()).toContain('this instance runs the dispatcher now');
    } finally {
      viewer.close();
    }
  });
});
