// A real redis-server for tests: on a free loopback port, its files in a temp dir, stopped by
// pid. It can be stopped and started again on the same port and dir (its AOF, with
// appendonly, survives that), or killed hard to test what a crash leaves.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Redis } from 'ioredis';
import { freePort } from './free-port.ts';

export interface RedisServerOptions {
  /** appendonly yes (default no): data survives a stop and start. */
  appendonly?: boolean;
  /** appendfsync (with appendonly): 'always' makes what was acknowledged survive a SIGKILL. */
  appendfsync?: 'always' | 'everysec' | 'no';
  /** More arguments for redis-server, e.g. ['--maxmemory', '10mb']. */
  args?: string[];
  /** How long to wait for it to answer PING (default 20 s: the machine is noisy). */
  startTimeoutMs?: number;
}

export interface RedisServer {
  /** redis://127.0.0.1:<port> */
  readonly url: string;
  readonly port: number;
  readonly dir: string;
  /** The running server's pid (null while stopped). */
  readonly pid: number | null;
  /** What it printed (for failure messages). */
  output(): string;
  /** SIGTERM (it saves its AOF and exits), SIGKILL after `graceMs`; resolves once it is gone. */
  stop(graceMs?: number): Promise<void>;
  /** SIGKILL at once: a crash. */
  kill(): Promise<void>;
  /** Start again on the same port and dir (after stop or kill). */
  start(): Promise<void>;
  /** Stop it and remove its dir. */
  cleanup(): Promise<void>;
}

/** REDIS_SERVER, or redis-server on PATH (Debian: /usr/bin/redis-server). */
export function redisServerBinary(): string {
  const fromEnv = process.env.REDIS_SERVER;
  if (fromEnv) {
    if (!existsSync(fromEnv)) throw new Error(`redis-server is not installed at REDIS_SERVER=${fromEnv}. ${INSTALL}`);
    return fromEnv;
  }
  for (const dir of (process.env.PATH ?? '').split(path.delimiter).concat(['/usr/bin', '/usr/local/bin'])) {
    const p = path.join(dir, 'redis-server');
    if (dir && existsSync(p)) return p;
  }
  throw new Error(`redis-server is not installed, and the Redis store tests need a real one. ${INSTALL}`);
}
const INSTALL = 'Install it (Debian/Ubuntu: apt-get install -y --no-install-recommends redis-server; .ci/run does) or point REDIS_SERVER at the binary.';

/**
 * Is the server on `port` ours (INFO names its pid: a port picked then freed may have been
 * taken by another) and ready (PING answers +PONG, not -LOADING)? Over a raw socket.
 */
function answers(port: number, pid: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect({ host: '127.0.0.1', port });
    let got = '';
    const done = (ok: boolean) => {
      sock.destroy();
      clearTimeout(timer);
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    sock.on('connect', () => sock.write('INFO server\r\nPING\r\n'));
    sock.on('data', (d) => {
      got += d.toString();
      if (got.endsWith('+PONG\r\n')) done(got.includes(`process_id:${pid}\r\n`));
      else if (/\r\n-[A-Z]+[^\r]*\r\n$/.test(got)) done(false); // -LOADING and the like
    });
    sock.on('error', () => done(false));
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Servers still running: killed if the test process exits without stopping them. */
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const p of running) p.kill('SIGKILL');
});

/** Start a redis-server; reject with its output if it does not answer PING in time. */
export async function startRedis(opts: RedisServerOptions = {}): Promise<RedisServer> {
  const bin = redisServerBinary();
  const dir = await mkdtemp(path.join(os.tmpdir(), 'hooklab-redis-'));
  const startTimeoutMs = opts.startTimeoutMs ?? 20_000;
  let port = 0;
  let proc: ChildProcess | null = null;
  let exited: Promise<void> = Promise.resolve();
  let out = '';

  const args = () => [
    '--port', String(port),
    '--bind', '127.0.0.1',
    '--save', '',
    '--appendonly', opts.appendonly ? 'yes' : 'no',
    ...(opts.appendonly ? ['--appendfsync', opts.appendfsync ?? 'everysec'] : []),
    '--dir', dir,
    '--daemonize', 'no',
    '--protected-mode', 'yes',
    '--logfile', '',
    '--loglevel', 'warning',
    ...(opts.args ?? []),
  ];

  const launch = async (): Promise<boolean> => {
    const p = spawn(bin, args(), { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    proc = p;
    running.add(p);
    let gone = false;
    exited = new Promise<void>((resolve) =>
      p.on('exit', () => {
        gone = true;
        running.delete(p);
        resolve();
      }),
    );
    p.on('error', (e) => (out += `spawn error: ${e.message}\n`));
    p.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    const deadline = Date.now() + startTimeoutMs;
    while (Date.now() < deadline) {
      if (gone) {
        proc = null;
        return false;
      }
      if (p.pid !== undefined && (await answers(port, p.pid))) return true;
      await sleep(25);
    }
    p.kill('SIGKILL');
    await exited;
    proc = null;
    throw new Error(`redis-server did not answer PING on port ${port} within ${startTimeoutMs} ms:\n${out}`);
  };

  let started = false;
  const start = async () => {
    if (proc) throw new Error('redis-server is already running');
    if (!started) {
      // A port picked then freed can be taken by someone else meanwhile: try another.
      for (let attempt = 0; attempt < 5; attempt++) {
        port = await freePort();
        if (await launch()) {
          started = true;
          return;
        }
      }
    } else {
      // A restart keeps its port (clients reconnect to it); the old socket may linger a moment.
      for (let attempt = 0; attempt < 40; attempt++) {
        if (await launch()) return;
        await sleep(250);
      }
    }
    throw new Error(`redis-server exited at start (port ${port}, dir ${dir}):\n${out}`);
  };

  const stopWith = async (graceMs: number) => {
    const p = proc;
    if (!p) return;
    p.kill(graceMs > 0 ? 'SIGTERM' : 'SIGKILL');
    const timer = graceMs > 0 ? setTimeout(() => p.kill('SIGKILL'), graceMs) : null;
    await exited;
    if (timer) clearTimeout(timer);
    proc = null;
  };

  const server: RedisServer = {
    get url() {
      return `redis://127.0.0.1:${port}`;
    },
    get port() {
      return port;
    },
    dir,
    get pid() {
      return (proc as ChildProcess | null)?.pid ?? null;
    },
    output: () => out,
    stop: (graceMs = 10_000) => stopWith(graceMs),
    kill: () => stopWith(0),
    start,
    cleanup: async () => {
      await stopWith(5_000);
      await rm(dir, { recursive: true, force: true });
    },
  };
  try {
    await start();
  } catch (e) {
    await rm(dir, { recursive: true, force: true });
    throw e;
  }
  return server;
}

/** Every key matching `pattern` (SCAN, not KEYS: tests look at what a step left behind). */
export async function keysOf(r: Redis, pattern: string): Promise<string[]> {
  const out: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await r.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    out.push(...keys);
  } while (cursor !== '0');
  return out;
}
