// An instance started while Redis cannot be reached: one message that says it waits and for how
// long (REDIS_START_WAIT_MS), health naming Redis as what start-up waits for, refused
// credentials named as such, and past the wait an exit with status 1 that agrees. A Redis that
// comes up meanwhile: start-up goes on, with no fault logged. One that answers but is still
// loading its data is said as such. Compiled processes; an unused port, a real redis-server, and
// (for the loading one: a real Redis loads too fast here) a stand-in that answers INFO with
// loading:1 as Redis does while it loads.
import { type ChildProcess, spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/free-port.ts';
import { type RedisServer, startRedis } from '../helpers/redis.ts';
import { SERVER_ARGS } from '../helpers/process.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
let procs: ChildProcess[] = [];
let redis: RedisServer | null = null;

afterEach(async () => {
  for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  procs = [];
  await redis?.cleanup();
  redis = null;
});

interface Starting {
  /** Where it listens (it answers 503 "starting" while it waits). */
  base: string;
  output(): string;
  exited: Promise<number | null>;
}

/** Spawn hooklab on `redisUrl`; resolve once it listens (before it is ready). */
function spawnWaiting(redisUrl: string, env: Record<string, string> = {}): Promise<Starting> {
  const proc = spawn(process.execPath, SERVER_ARGS, {
    cwd: ROOT,
    env: { ...process.env, HOST: '127.0.0.1', PORT: '0', STORE: 'redis', REDIS_URL: redisUrl, REDIS_PREFIX: 'sw:', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  procs.push(proc);
  let out = '';
  const exited = new Promise<number | null>((resolve) => proc.on('close', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = /hooklab listening on (http:\/\/[\d.]+:\d+)/.exec(out);
      if (m) resolve({ base: m[1], output: () => out, exited });
    };
    proc.stdout!.on('data', onData);
    proc.stderr!.on('data', onData);
    void exited.then(() => reject(new Error(`exited before listening:\n${out}`)));
  });
}

async function health(base: string): Promise<{ status: number; body: { status: string; error?: { message: string } } }> {
  const r = await fetch(`${base}/api/health`);
  return { status: r.status, body: (await r.json()) as { status: string; error?: { message: string } } };
}

const lines = (out: string, re: RegExp) => out.split('\n').filter((l) => re.test(l));

describe('an instance started while Redis cannot be reached', () => {
  it('nothing on the port: says once that it waits and for how long, health names Redis, then exits 1 saying it gave up', async () => {
    const url = `redis://127.0.0.1:${await freePort()}`;
    const s = await spawnWaiting(url, { REDIS_START_WAIT_MS: '4000' });
    await expect.poll(() => s.output()).toMatch(/waiting for Redis/);
    const h = await health(s.base);
    expect(h.status).toBe(503);
    expect(h.body.status).toBe('starting');
    expect(h.body.error?.message).toMatch(/waiting for Redis \(Redis does not answer\); this instance gives up after 4 s \(REDIS_START_WAIT_MS\) and exits/);
    expect(await s.exited).toBe(1);
    const out = s.output();
    expect(lines(out, /WARN waiting for Redis at redis:\/\/127\.0\.0\.1:\d+ \(connect ECONNREFUSED [^)]*\); giving up after 4000 ms \(REDIS_START_WAIT_MS\)/)).toHaveLength(1);
    expect(lines(out, /ERROR Redis at redis:\/\/127\.0\.0\.1:\d+ did not answer within 4000 ms \(connect ECONNREFUSED [^)]*\): giving up\. Start Redis or fix REDIS_URL/)).toHaveLength(1);
    // Nothing that contradicts it: no "storage fault … reconnects by itself".
    expect(out).not.toMatch(/storage fault|reconnects by itself/);
  }, 60_000);

  it('Redis refusing its credentials: named as such, in the log, in health and in the exit', async () => {
    // A user of its own (the helper's readiness PING goes as the default user, without a password).
    redis = await startRedis({ args: ['--user', 'hooklab', 'on', '>right-one', '~*', '+@all'] });
    const s = await spawnWaiting(`redis://hooklab:wrong-one@127.0.0.1:${redis.port}`, { REDIS_START_WAIT_MS: '3000' });
    await expect.poll(() => s.output()).toMatch(/WARN Redis at/);
    expect((await health(s.base)).body.error?.message).toMatch(/Redis refuses hooklab's credentials/);
    expect(await s.exited).toBe(1);
    const out = s.output();
    expect(lines(out, /WARN Redis at redis:\/\/hooklab:\*\*\*@127\.0\.0\.1:\d+ refuses hooklab's credentials \(WRONGPASS/)).toHaveLength(1);
    expect(lines(out, /ERROR Redis at redis:\/\/hooklab:\*\*\*@127\.0\.0\.1:\d+ refused hooklab's credentials for 3000 ms \(WRONGPASS[^)]*\): giving up\. Fix the user and password in REDIS_URL\./)).toHaveLength(1);
    expect(out).not.toMatch(/unreachable|did not answer|wrong-one/);
  }, 60_000);

  it('Redis answering but still loading its data: said once, in the log, in health and in the exit', async () => {
    const loading = net.createServer((sock) => {
      let buf = '';
      sock.on('data', (d) => {
        buf += d.toString('latin1');
        // Each command is a RESP array: INFO gets what a loading Redis says, the rest +OK.
        for (;;) {
          const m = /^\*(\d+)\r\n/.exec(buf);
          if (!m) return;
          const parts: string[] = [];
          let at = m[0].length;
          for (let i = 0; i < Number(m[1]); i++) {
            const b = /^\$(\d+)\r\n/.exec(buf.slice(at));
            if (!b || buf.length < at + b[0].length + Number(b[1]) + 2) return;
            parts.push(buf.slice(at + b[0].length, at + b[0].length + Number(b[1])));
            at += b[0].length + Number(b[1]) + 2;
          }
          buf = buf.slice(at);
          const info = 'loading:1\r\nloading_eta_seconds:1\r\n';
          sock.write(parts[0].toUpperCase() === 'INFO' ? `$${info.length}\r\n${info}\r\n` : '+OK\r\n');
        }
      });
    });
    await new Promise<void>((r) => loading.listen(0, '127.0.0.1', r));
    try {
      const port = (loading.address() as net.AddressInfo).port;
      const s = await spawnWaiting(`redis://127.0.0.1:${port}`, { REDIS_START_WAIT_MS: '4000' });
      await expect.poll(() => s.output()).toMatch(/WARN Redis at/);
      expect((await health(s.base)).body.error?.message).toMatch(/waiting for Redis \(Redis is not ready: still loading its data\?\)/);
      expect(await s.exited).toBe(1);
      const out = s.output();
      expect(lines(out, /WARN Redis at redis:\/\/127\.0\.0\.1:\d+ answers but is not ready \(still loading its data\?\); giving up after 4000 ms/)).toHaveLength(1);
      expect(lines(out, /ERROR Redis at redis:\/\/127\.0\.0\.1:\d+ answered but was not ready \(still loading its data\?\) within 4000 ms: giving up\. Raise REDIS_START_WAIT_MS/)).toHaveLength(1);
    } finally {
      loading.close();
    }
  }, 60_000);

  it('Redis comes up while it waits: start-up goes on, and no fault (nor recovery) is logged', async () => {
    redis = await startRedis();
    await redis.stop();
    const s = await spawnWaiting(redis.url, { REDIS_START_WAIT_MS: '60000' });
    await expect.poll(() => s.output()).toMatch(/waiting for Redis/);
    await redis.start();
    await expect.poll(() => s.output(), { timeout: 30_000 }).toMatch(/hooklab ready on/);
    expect((await health(s.base)).status).toBe(200);
    expect(s.output()).not.toMatch(/storage fault|storage recovered/);
  }, 90_000);
});
