// On Redis, instances keep bins and their settings in memory, kept fresh by notes. An instance
// started with a config file that changes a running bin's response plan, forward targets or
// signature settings must tell the others, as the API's writes do. Before, it wrote the store
// and told no one: the instances already running kept forwarding and checking with the old
// settings for good (their periodic check only looks for lost notes, and none was sent).
import { createHmac } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { api } from '../helpers/http.ts';
import { type ServerProcess, spawnServer } from '../helpers/process.ts';
import { type RedisServer, startRedis } from '../helpers/redis.ts';
import { cleanUpRedisTest } from '../helpers/cluster.ts';
import { tempDir } from '../helpers/server.ts';
import { type RecordingTarget, recordingTarget } from '../helpers/target.ts';

let redis: RedisServer | null = null;
let target: RecordingTarget | null = null;
const procs: ServerProcess[] = [];
const dirs: string[] = [];
afterAll(async () => {
  target?.close();
  await cleanUpRedisTest(redis, procs);
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

const BIN = 'cfg-notes-bin-0000001';
const SECRET = 'cfg-github-secret-abcdef';

describe('a config file applied by an instance started next to running ones (Redis)', () => {
  it("reaches the running instances: they answer, forward and check signatures with the file's settings", async () => {
    redis = await startRedis();
    target = await recordingTarget();
    const dir = await tempDir();
    dirs.push(dir);
    const env = { STORE: 'redis', REDIS_URL: redis.url, REDIS_PREFIX: 'cfgnotes:', DISPATCH_ALLOW: '127.0.0.1' };

    // A runs first; the bin is made through its API with a Stripe scheme and no forward targets.
    const a = await spawnServer(env);
    procs.push(a);
    expect((await api(a.base, 'POST', '/api/bins', { id: BIN })).status).toBe(201);
    expect((await api(a.base, 'PUT', `/api/bins/${BIN}/verify`, { schemes: [{ type: 'stripe', secrets: ['whsec_old'] }] })).status).toBe(200);
    expect((await api(a.base, 'GET', `/api/bins/${BIN}/forward`)).body).toMatchObject({ targets: [] });

    // B starts with a file that changes all three.
    const file = path.join(dir, 'hooklab.json');
    await writeFile(
      file,
      JSON.stringify({
        bins: [
          {
            id: BIN,
            response: { plan: [{ status: 418, times: 1000 }] },
            forward: { targets: [{ url: `${target.base}/fw` }] },
            verify: { schemes: [{ type: 'github', secrets: [SECRET] }] },
          },
        ],
      }),
    );
    const b = await spawnServer({ ...env, HOOKLAB_CONFIG: file });
    procs.push(b);

    // A's copies follow (a note's reload takes milliseconds; nothing else would bring them).
    await expect.poll(async () => (await api<{ targets: { url: string }[] }>(a.base, 'GET', `/api/bins/${BIN}/forward`)).body.targets, { timeout: 10_000 }).toEqual([{ url: `${target.base}/fw` }]);
    await expect.poll(async () => (await api<{ schemes: { type: string }[] }>(a.base, 'GET', `/api/bins/${BIN}/verify`)).body.schemes.map((s) => s.type), { timeout: 10_000 }).toEqual(['github']);
    await expect.poll(async () => (await api<{ config: { plan: { status: number }[] } }>(a.base, 'GET', `/api/bins/${BIN}/response`)).body.config.plan.map((s) => s.status), { timeout: 10_000 }).toEqual([418]);

    // A capture taken by A: answered by the file's plan, forwarded to its target, checked with its scheme.
    const body = '{"zen":"Keep it logically awesome."}';
    const sig = `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`;
    const res = await fetch(`${a.base}/h/${BIN}/via-a`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-hub-signature-256': sig }, body });
    expect(res.status).toBe(418);
    await expect.poll(() => target!.got.map((g) => g.url), { timeout: 10_000 }).toEqual(['/fw/via-a']);
    type Page = { requests: { path: string; verification?: { status: string; scheme?: string } }[] };
    await expect
      .poll(async () => (await api<Page>(a.base, 'GET', `/api/bins/${BIN}/requests`)).body.requests.map((r) => [r.path, r.verification?.status, r.verification?.scheme]), { timeout: 10_000 })
      .toEqual([['/via-a', 'valid', 'github']]);
  }, 90_000);
});
