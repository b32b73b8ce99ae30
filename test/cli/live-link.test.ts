// The CLI's live link (tail, forward) as a user behind a proxy sees it: a proxy that accepts
// WebSockets and drops them before the handshake leaves long-polling to carry the events, and
// the link's ups and downs are said on stderr, once each.
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import http from 'node:http';
import net, { type AddressInfo, type Socket } from 'node:net';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RequestItem } from '../../shared/api.ts';
import { send } from '../helpers/http.ts';
import { type ServerProcess, spawnServer } from '../helpers/process.ts';
import { json, tempDir } from '../helpers/server.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const CLI = path.join(ROOT, 'bin/hooklab.js');

let srv: ServerProcess;
let dataDir: string;
let proxy: http.Server;
let proxyBase = '';
let wsDropped = 0;
const tails: ChildProcess[] = [];

beforeAll(async () => {
  dataDir = await tempDir();
  srv = await spawnServer({ DATA_DIR: dataDir });
  const upstream = new URL(srv.base);
  // Plain HTTP (long-polling included) passes on, as to nginx without WebSocket upgrades set up;
  // a WebSocket is accepted (101) and dropped 20 ms later.
  proxy = http.createServer((req, res) => {
    const out = http.request({ host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers: { ...req.headers, host: upstream.host } }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    out.on('error', () => res.destroy());
    req.pipe(out);
  });
  proxy.on('upgrade', (req: http.IncomingMessage, sock: Socket) => {
    wsDropped++;
    const accept = createHash('sha1').update(`${req.headers['sec-websocket-key']}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
    sock.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
    setTimeout(() => sock.destroy(), 20);
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  proxyBase = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
});

afterAll(async () => {
  for (const p of tails) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  proxy?.closeAllConnections();
  proxy?.close();
  srv.proc.kill('SIGTERM');
  await srv.exited;
  await rm(dataDir, { recursive: true, force: true });
});

function tail(server: string, bin: string) {
  const p = spawn(process.execPath, [CLI, 'tail', bin, '--json'], { cwd: ROOT, env: { ...process.env, HOOKLAB_SERVER: server } });
  tails.push(p);
  let out = '';
  let err = '';
  p.stdout.on('data', (d) => (out += d));
  p.stderr.on('data', (d) => (err += d));
  return { out: () => out, err: () => err, stop: () => p.kill('SIGINT') };
}

/**
 * A TCP proxy that can cut every connection and refuse new ones meanwhile, to its own hooklab
 * (which must answer to the proxy's host:port, ALLOWED_HOSTS).
 */
async function cuttableProxy() {
  let u = new URL('http://127.0.0.1:9');
  const open = new Set<Socket>();
  let refusing = false;
  const server = net.createServer((c) => {
    if (refusing) return void c.destroy();
    const up = net.connect(Number(u.port), u.hostname);
    open.add(c).add(up);
    c.pipe(up).pipe(c);
    const done = () => {
      c.destroy();
      up.destroy();
      open.delete(c);
      open.delete(up);
    };
    for (const s of [c, up]) s.on('error', done).on('close', done);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const data = await tempDir();
  let up: ServerProcess | null = await spawnServer({ DATA_DIR: data, ALLOWED_HOSTS: new URL(base).host });
  u = new URL(up.base);
  return {
    base,
    /** The hooklab behind it. */
    upstream: up.base,
    cut() {
      refusing = true;
      for (const s of open) s.destroy();
    },
    restore() {
      refusing = false;
    },
    async close() {
      refusing = true;
      for (const s of open) s.destroy();
      server.close();
      up?.proc.kill('SIGTERM');
      await up?.exited;
      up = null;
      await rm(data, { recursive: true, force: true });
    },
  };
}

async function until(check: () => boolean, what: string, ms = 30_000) {
  for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 25))) if (check()) return;
  throw new Error(`timed out waiting for ${what}`);
}

describe('the CLI live link', () => {
  it('behind a proxy that drops WebSockets, tail follows the bin over long-polling and says how it connected', async () => {
    const bin = (await json<{ id: string }>(srv.base, 'POST', '/api/bins', {})).body;
    const t = tail(proxyBase, bin.id);
    // Below the client's 20 s connect timeout, which the old CLI (WebSocket only) waited for
    // and then tried a WebSocket again, forever. This takes 1-2 s.
    await until(() => t.err().includes('following'), 'the subscribe', 18_000);
    expect(wsDropped).toBeGreaterThanOrEqual(1);
    const lines = t.err().trim().split('\n');
    expect(lines).toEqual([
      `cannot reach ${proxyBase} (WebSocket closed before the handshake; trying long-polling); retrying`,
      `connected to ${proxyBase}`,
      `following ${proxyBase}/h/${bin.id} (Ctrl-C to stop)`,
    ]);
    const sent = await send(`${srv.base}/h/${bin.id}/polled`, { body: 'over long-polling' });
    await until(() => t.out().includes('\n'), 'the capture');
    const got = JSON.parse(t.out().trim()) as RequestItem;
    expect(got).toMatchObject({ id: sent.headers['x-hooklab-request-id'], path: '/polled' });
    t.stop();
  });

  it('tail: what arrives while the link is down, before anything was printed, is replayed once it is back', async () => {
    const p = await cuttableProxy();
    try {
      const bin = (await json<{ id: string }>(p.upstream, 'POST', '/api/bins', {})).body;
      const before = await send(`${p.upstream}/h/${bin.id}/before`, { body: 'before tail' });
      const t = tail(p.base, bin.id);
      await until(() => t.err().includes('following'), 'the subscribe');
      p.cut();
      await until(() => t.err().includes('lost the connection'), 'the drop to be said');
      // Sent while tail cannot reach the server, and before it printed any request: it used to
      // resubscribe with no cursor, and this one was never shown.
      const away = await send(`${p.upstream}/h/${bin.id}/away`, { body: 'while away' });
      p.restore();
      await until(() => t.out().includes(away.headers['x-hooklab-request-id'] as string), 'the request sent while away', 20_000);
      const shown = t.out().trim().split('\n').map((l) => (JSON.parse(l) as RequestItem).id);
      // Once, and nothing from before tail started.
      expect(shown).toEqual([away.headers['x-hooklab-request-id']]);
      expect(shown).not.toContain(before.headers['x-hooklab-request-id']);
      t.stop();
    } finally {
      await p.close();
    }
  });

  it('forward: what arrives while the link is down, before anything was forwarded, is forwarded once it is back', async () => {
    const p = await cuttableProxy();
    const bin = (await json<{ id: string; url: string }>(p.upstream, 'POST', '/api/bins', {})).body;
    await send(`${p.upstream}/h/${bin.id}/before`, { body: 'before the relay' });
    const got: string[] = [];
    const target = http.createServer((req, res) => {
      got.push(req.url ?? '');
      req.resume();
      req.on('end', () => res.end('ok'));
    });
    await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
    const cursorDir = await tempDir();
    const relay = spawn(process.execPath, [CLI, 'forward', `${p.base}/h/${bin.id}`, '--to', `http://127.0.0.1:${(target.address() as AddressInfo).port}/hooks`, '--cursor', path.join(cursorDir, 'cursor.json')], {
      cwd: ROOT,
      env: { ...process.env, HOOKLAB_SERVER: '' },
    });
    tails.push(relay);
    let err = '';
    relay.stderr.on('data', (d) => (err += d));
    try {
      await until(() => err.includes('forwarding'), 'the relay to start');
      p.cut();
      await until(() => err.includes('lost the connection'), 'the drop to be said');
      await send(`${p.upstream}/h/${bin.id}/away`, { body: 'while away' });
      p.restore();
      await until(() => got.includes('/hooks/away'), 'the request sent while away to be forwarded', 20_000);
      expect(err).toContain('missed 1 while away, replaying');
      await new Promise((r) => setTimeout(r, 300));
      expect(got).toEqual(['/hooks/away']);
    } finally {
      relay.kill('SIGINT');
      await p.close();
      target.close();
      await rm(cursorDir, { recursive: true, force: true });
    }
  });

  it('says once that the server went away, and again when it is back', async () => {
    const data = await tempDir();
    let s = await spawnServer({ DATA_DIR: data });
    const port = new URL(s.base).port;
    try {
      const bin = (await json<{ id: string }>(s.base, 'POST', '/api/bins', {})).body;
      const t = tail(s.base, bin.id);
      await until(() => t.err().includes('following'), 'the subscribe');
      s.proc.kill('SIGTERM');
      await s.exited;
      await until(() => t.err().includes('lost the connection'), 'the drop to be said');
      // Down for a while: the retries fail, and are not said again.
      await new Promise((r) => setTimeout(r, 3000));
      s = await spawnServer({ DATA_DIR: data, PORT: port });
      await until(() => t.err().includes('reconnected'), 'the reconnect to be said');
      const sent = await send(`${s.base}/h/${bin.id}/back`, { body: 'back' });
      await until(() => t.out().includes(sent.headers['x-hooklab-request-id'] as string), 'the capture after the reconnect');
      const said = t.err().trim().split('\n');
      expect(said[0]).toBe(`following ${s.base}/h/${bin.id} (Ctrl-C to stop)`);
      expect(said[1]).toMatch(new RegExp(`^lost the connection to ${s.base.replace(/[.]/g, '\\.')} \\(transport close\\); reconnecting$`));
      expect(said.slice(2)).toEqual([`reconnected to ${s.base}`]);
      t.stop();
    } finally {
      s.proc.kill('SIGTERM');
      await s.exited;
      await rm(data, { recursive: true, force: true });
    }
  });
});
