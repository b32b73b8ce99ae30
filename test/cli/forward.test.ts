// Issue 13: the relay CLI against a real server and a real local target. Every capture is
// forwarded once, in order, byte-exact (method, sub-path, query, headers in order and case,
// body); stopped and restarted, it replays what it missed first, in order, once each.
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { send } from '../helpers/http.ts';
import { type ServerProcess, spawnServer } from '../helpers/process.ts';
import { json, tempDir } from '../helpers/server.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const CLI = path.join(ROOT, 'bin/hooklab.js');
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

interface Got {
  method: string;
  url: string;
  headers: string[];
  sha: string;
}

let srv: ServerProcess;
let dir: string;
let target: http.Server;
let targetBase: string;
const got: Got[] = [];

beforeAll(async () => {
  dir = await tempDir();
  srv = await spawnServer({ DATA_DIR: path.join(dir, 'data'), MAX_REQUESTS_PER_BIN: '1000' });
  target = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      got.push({ method: req.method!, url: req.url!, headers: req.rawHeaders, sha: sha(Buffer.concat(chunks)) });
      res.end('ok');
    });
  });
  await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
  targetBase = `http://127.0.0.1:${(target.address() as { port: number }).port}`;
});
// Relays still running when a test fails midway are stopped here, not left behind.
const relays: ChildProcess[] = [];
afterAll(async () => {
  for (const p of relays) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  srv.proc.kill('SIGTERM');
  await srv.exited;
  target.close();
  await rm(dir, { recursive: true, force: true });
});

function relay(args: string[]) {
  const p: ChildProcess = spawn(process.execPath, [CLI, 'forward', ...args], { cwd: ROOT, env: { ...process.env, HOOKLAB_SERVER: '' } });
  relays.push(p);
  let out = '';
  let err = '';
  p.stdout!.on('data', (d) => (out += d));
  p.stderr!.on('data', (d) => (err += d));
  const exited = new Promise<number | null>((r) => p.on('close', r));
  return { out: () => out, err: () => err, stop: () => p.kill('SIGINT'), signal: (sig: NodeJS.Signals) => p.kill(sig), exited };
}

async function until(check: () => boolean, what: string, ms = 30_000) {
  for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 25))) if (check()) return;
  throw new Error(`timed out waiting for ${what}`);
}

/** n captures, one after another, with varied paths, headers and binary bodies. */
async function capture(binUrl: string, n: number, tag: string) {
  const sent: { id: string; sha: string; path: string }[] = [];
  for (let i = 0; i < n; i++) {
    const body = i % 3 === 0 ? randomBytes(200 + i) : Buffer.from(JSON.stringify({ tag, i }));
    const r = await send(`${binUrl}/${tag}/${i}?i=${i}&tag=${tag}`, { headers: [['X-Signature', `sig-${i}`], ['x-repeat', 'a'], ['X-Repeat', 'b']], body });
    sent.push({ id: r.headers['x-hooklab-request-id'] as string, sha: sha(body), path: `/${tag}/${i}` });
  }
  return sent;
}

describe('hooklab forward', () => {
  it('forwards every capture once, in order, byte-exact; after a stop it replays what it missed first', async () => {
    const bin = (await json<{ id: string; url: string }>(srv.base, 'POST', '/api/bins', {})).body;
    const binUrl = `${srv.base}/h/${bin.id}`;
    const cursor = path.join(dir, 'cursor.json');
    const r1 = relay([binUrl, '--to', `${targetBase}/hooks`, '--cursor', cursor]);
    await until(() => r1.err().includes('forwarding'), 'the relay to start');
    const first = await capture(binUrl, 100, 'live');
    await until(() => got.length >= 100, '100 forwards');
    expect(got.map((g) => g.url)).toEqual(first.map((s, i) => `/hooks${s.path}?i=${i}&tag=live`));
    expect(got.map((g) => g.sha)).toEqual(first.map((s) => s.sha));
    // Headers in order and case, repeats kept; Host set for the target (undici writes it first,
    // as `host`, followed by its `connection: keep-alive`).
    const h = got[1].headers;
    expect(h.slice(0, 10)).toEqual(['host', targetBase.slice(7), 'connection', 'keep-alive', 'X-Signature', 'sig-1', 'x-repeat', 'a', 'X-Repeat', 'b']);
    // The relay prints each line once the target's answer is in, a moment after the target saw it.
    await until(() => r1.out().trim().split('\n').length >= 100, '100 lines of output');
    expect(r1.out().trim().split('\n')).toHaveLength(100);
    expect(r1.out()).toMatch(/POST \/live\/0\?i=0&tag=live {2}→ 200 \(\d+ ms\) http:\/\/127\.0\.0\.1:\d+\/hooks\/live\/0\?i=0&tag=live/);
    r1.stop();
    expect(await r1.exited).toBe(0);

    // While it is away: 100 more.
    const away = await capture(binUrl, 100, 'away');
    got.length = 0;
    const r2 = relay([binUrl, '--to', `${targetBase}/hooks`, '--cursor', cursor]);
    await until(() => got.length >= 100, 'the replay');
    expect(r2.err()).toContain('missed 100 while away, replaying');
    expect(got.map((g) => g.sha)).toEqual(away.map((s) => s.sha));
    // And it goes on live after the replay.
    const after = await capture(binUrl, 3, 'after');
    await until(() => got.length >= 103, 'live after the replay');
    expect(got.slice(100).map((g) => g.sha)).toEqual(after.map((s) => s.sha));
    r2.stop();
    await r2.exited;
    expect(got).toHaveLength(103); // once each
  });

  it('the server restarts while the relay sleeps: it reconnects by itself and replays what it missed first, once each, in order', async () => {
    const data = path.join(dir, 'restart');
    let s = await spawnServer({ DATA_DIR: data });
    const port = new URL(s.base).port;
    try {
      const bin = (await json<{ id: string; url: string }>(s.base, 'POST', '/api/bins', {})).body;
      const binUrl = `${s.base}/h/${bin.id}`;
      const r = relay([binUrl, '--to', `${targetBase}/re`, '--cursor', path.join(dir, 'c-restart.json')]);
      await until(() => r.err().includes('forwarding'), 'the relay to start');
      got.length = 0;
      const before = await capture(binUrl, 5, 'before');
      await until(() => got.length >= 5, '5 forwards');
      // The laptop sleeps (the relay is stopped, so it cannot reconnect early) while the
      // server restarts on the same address and data, and captures arrive.
      r.signal('SIGSTOP');
      s.proc.kill('SIGTERM');
      await s.exited;
      s = await spawnServer({ DATA_DIR: data, PORT: port });
      const away = await capture(binUrl, 20, 'away');
      r.signal('SIGCONT');
      await until(() => got.length >= 25, 'the replay after the reconnect');
      expect(r.err()).toContain('missed 20 while away, replaying');
      // The link's drop and return are said, once each.
      expect(r.err().match(/lost the connection to .* reconnecting\n/g)).toHaveLength(1);
      expect(r.err().match(/reconnected to /g)).toHaveLength(1);
      const live = await capture(binUrl, 3, 'live');
      await until(() => got.length >= 28, 'live after the reconnect');
      await new Promise((res) => setTimeout(res, 300)); // nothing more comes (no duplicates)
      expect(got.map((g) => g.sha)).toEqual([...before, ...away, ...live].map((x) => x.sha));
      r.stop();
      expect(await r.exited).toBe(0);
    } finally {
      s.proc.kill('SIGTERM');
      await s.exited;
    }
  }, 120_000); // a stop waits a while for the sleeping relay's connection to close

  it('--from-start --once forwards what the bin holds, then exits 0', async () => {
    const bin = (await json<{ id: string; url: string }>(srv.base, 'POST', '/api/bins', {})).body;
    const binUrl = `${srv.base}/h/${bin.id}`;
    const held = await capture(binUrl, 5, 'held');
    got.length = 0;
    const r = relay([binUrl, '--to', `${targetBase}/x`, '--from-start', '--once', '--cursor', path.join(dir, 'c2.json')]);
    expect(await r.exited).toBe(0);
    expect(got.map((g) => g.sha)).toEqual(held.map((s) => s.sha));
  });

  it('more missed than the bin keeps: the ones still there are replayed, and the gap is reported with its count', async () => {
    const small = await spawnServer({ DATA_DIR: path.join(dir, 'small'), MAX_REQUESTS_PER_BIN: '50' });
    try {
      const bin = (await json<{ id: string; url: string }>(small.base, 'POST', '/api/bins', {})).body;
      const binUrl = `${small.base}/h/${bin.id}`;
      const cursor = path.join(dir, 'c-gap.json');
      const r1 = relay([binUrl, '--to', targetBase, '--cursor', cursor]);
      await until(() => r1.err().includes('forwarding'), 'the relay to start');
      got.length = 0;
      await capture(binUrl, 3, 'before');
      await until(() => got.length >= 3, '3 forwards');
      r1.stop();
      expect(await r1.exited).toBe(0);
      const away = await capture(binUrl, 120, 'away');
      got.length = 0;
      const r2 = relay([binUrl, '--to', targetBase, '--cursor', cursor, '--once']);
      expect(await r2.exited).toBe(0);
      expect(r2.err()).toContain('missed 50 while away, replaying');
      expect(r2.err()).toContain('70 request(s) were gone from the bin (pushed out by its cap, or deleted) before they could be forwarded');
      expect(got.map((g) => g.sha)).toEqual(away.slice(70).map((s) => s.sha));
    } finally {
      small.proc.kill('SIGTERM');
      await small.exited;
    }
  });

  it('bad arguments, an unknown bin and a target that cannot be reached get one-line errors and non-zero exits', async () => {
    const noTo = relay([`${srv.base}/h/whatever-bin-1234`]);
    expect(await noTo.exited).toBe(2);
    expect(noTo.err()).toBe('hooklab: give at least one --to URL (where to send the captures)\n');
    const unknown = relay([`${srv.base}/h/no-such-bin-1234`, '--to', targetBase]);
    expect(await unknown.exited).toBe(3);
    expect(unknown.err()).toBe('hooklab: not found: bin not found\n');
    // --once with a target that refuses: retried, then it gives up saying what was not forwarded.
    const bin = (await json<{ id: string; url: string }>(srv.base, 'POST', '/api/bins', {})).body;
    await send(`${srv.base}/h/${bin.id}`, { body: 'x' });
    const dead = relay([`${srv.base}/h/${bin.id}`, '--to', 'http://127.0.0.1:9/', '--from-start', '--once', '--cursor', path.join(dir, 'c3.json')]);
    expect(await dead.exited).toBe(1);
    expect(dead.err()).toMatch(/retrying in 0\.5 s/);
    expect(dead.err()).toMatch(/gave up after 5 tries; nothing after 0 was forwarded/);
  }, 60_000);
});
