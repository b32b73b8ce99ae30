// A --server (or HOOKLAB_SERVER) that is not hooklab's API: a path prefix hooklab is not under
// (its UI page answers), or another web app on that port. One line naming the URL asked, what
// came, and where the server was given; exit 3. Before: a JSON.parse message quoting the page
// ("Unexpected token '<'"), "lost the connection … while reading its answer", or
// "not found: 404 Not Found". Also: a connection closed is said in words, not as undici's code.
import { spawn } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, ROOT } from '../helpers/relay.ts';
import { json } from '../helpers/server.ts';
import { spawnedServers } from '../helpers/spawned.ts';

const servers = spawnedServers();
let hooklabBase: string;
let webApp: http.Server;
let webBase: string;
let hangUp: net.Server;
let hangUpBase: string;

beforeAll(async () => {
  hooklabBase = (await servers.start()).base;
  // Another web app: a page for every GET, its 404 page for the rest.
  webApp = http.createServer((req, res) => {
    if (req.method === 'GET') res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end('<!doctype html><title>Other app</title>');
    else res.writeHead(404, { 'content-type': 'text/html' }).end('<h1>Not Found</h1>');
  });
  await new Promise<void>((r) => webApp.listen(0, '127.0.0.1', r));
  webBase = `http://127.0.0.1:${(webApp.address() as net.AddressInfo).port}`;
  // Takes the connection and closes it unanswered.
  hangUp = net.createServer((s) => s.once('data', () => s.destroy()));
  await new Promise<void>((r) => hangUp.listen(0, '127.0.0.1', r));
  hangUpBase = `http://127.0.0.1:${(hangUp.address() as net.AddressInfo).port}`;
});
afterAll(async () => {
  webApp.closeAllConnections();
  await new Promise((r) => webApp.close(r));
  await new Promise((r) => hangUp.close(r));
});

function hooklab(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, env: { ...process.env, HOOKLAB_SERVER: '', HOOKLAB_TOKEN: '', ...env } });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    p.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('a server that is not hooklab', () => {
  it('hooklab under a path prefix it does not have (its UI page answers): each command says so in one line, exit 3', async () => {
    const bin = (await json<{ id: string }>(hooklabBase, 'POST', '/api/bins', {})).body.id;
    const prefix = `${hooklabBase}/prefix`;
    const cases: [string[], string][] = [
      [['bin', 'list'], `${prefix}/api/bins answered text/html, not hooklab's JSON API: is HOOKLAB_SERVER right?`],
      [['bin', 'new'], `${prefix}/api/bins answered 404 Not Found (text/html), not hooklab's JSON API: is HOOKLAB_SERVER right?`],
      [['wait', bin, '--timeout', '2s'], `${prefix}/api/bins/${bin}/requests/wait answered text/html, not hooklab's JSON API: is HOOKLAB_SERVER right?`],
      [['export', bin], `${prefix}/api/bins/${bin}/export answered text/html, not hooklab's JSON API: is HOOKLAB_SERVER right?`],
    ];
    for (const [args, message] of cases) {
      const r = await hooklab(args, { HOOKLAB_SERVER: prefix });
      expect({ args, code: r.code, stdout: r.stdout, stderr: r.stderr }).toEqual({ args, code: 3, stdout: '', stderr: `hooklab: ${message}\n` });
    }
  }, 60_000);

  it('tail under that path prefix: one line, exit 3 (it retried "Invalid namespace" for ever)', async () => {
    const bin = (await json<{ id: string }>(hooklabBase, 'POST', '/api/bins', {})).body.id;
    const prefix = `${hooklabBase}/prefix`;
    const r = await hooklab(['tail', bin], { HOOKLAB_SERVER: prefix });
    expect({ code: r.code, stdout: r.stdout, stderr: r.stderr }).toEqual({
      code: 3,
      stdout: '',
      stderr: `hooklab: ${prefix} is not where hooklab is (its live connection answered "Invalid namespace" for /prefix): hooklab serves at the root of its origin; is HOOKLAB_SERVER right?\n`,
    });
  }, 60_000);

  it('another web app: named by where the server was given (--server, or the receiver URL)', async () => {
    const list = await hooklab(['bin', 'list', '--server', webBase]);
    expect({ code: list.code, stderr: list.stderr }).toEqual({ code: 3, stderr: `hooklab: ${webBase}/api/bins answered text/html, not hooklab's JSON API: is --server right?\n` });
    const wait = await hooklab(['wait', `${webBase}/h/some-bin-1234`, '--timeout', '2s']);
    expect({ code: wait.code, stderr: wait.stderr }).toEqual({
      code: 3,
      stderr: `hooklab: ${webBase}/api/bins/some-bin-1234/requests/wait answered text/html, not hooklab's JSON API: is the receiver URL right?\n`,
    });
  }, 60_000);

  it('HOOKLAB_SERVER that is not a URL is named as HOOKLAB_SERVER (not --server); a closed connection is said in words', async () => {
    const env = await hooklab(['bin', 'list'], { HOOKLAB_SERVER: 'notaurl' });
    expect({ code: env.code, stderr: env.stderr }).toEqual({ code: 2, stderr: 'hooklab: HOOKLAB_SERVER must be an http(s) URL, got "notaurl"\n' });
    const flag = await hooklab(['bin', 'list', '--server', 'notaurl']);
    expect({ code: flag.code, stderr: flag.stderr }).toEqual({ code: 2, stderr: 'hooklab: --server must be an http(s) URL, got "notaurl"\n' });
    const closed = await hooklab(['bin', 'list', '--server', hangUpBase]);
    expect({ code: closed.code, stderr: closed.stderr }).toEqual({ code: 3, stderr: `hooklab: cannot reach hooklab at ${hangUpBase} (the connection was closed)\n` });
  }, 60_000);
  it("another server's 501 or 505 that is not JSON (a static file server's answer to a POST) is not hooklab's API; a gateway's or CDN's 5xx stays a server down for now", async () => {
    const statuses = [501, 505, 502, 522];
    const other = http.createServer((_req, res) => {
      const status = statuses.shift()!;
      res.writeHead(status, { 'content-type': 'text/html;charset=utf-8' }).end(`<h1>Error ${status}</h1>`);
    });
    await new Promise<void>((r) => other.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(other.address() as net.AddressInfo).port}`;
    try {
      const got = [];
      for (let i = 0; i < 4; i++) {
        const r = await hooklab(['bin', 'new', '--server', base]);
        got.push({ code: r.code, stderr: r.stderr });
      }
      expect(got).toEqual([
        { code: 3, stderr: `hooklab: ${base}/api/bins answered 501 Not Implemented (text/html), not hooklab's JSON API: is --server right?\n` },
        { code: 3, stderr: `hooklab: ${base}/api/bins answered 505 HTTP Version Not Supported (text/html), not hooklab's JSON API: is --server right?\n` },
        { code: 3, stderr: `hooklab: hooklab at ${base} answered 502 (502 Bad Gateway)\n` },
        { code: 3, stderr: `hooklab: hooklab at ${base} answered 522 (522 unknown)\n` },
      ]);
    } finally {
      other.close();
    }
  }, 60_000);
});
