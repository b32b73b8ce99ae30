// Issue 10: the CLI, each command run as a real process against a real server: one-line
// errors and exit codes (0 done, 1 timed out, 2 bad arguments, 3 cannot talk to the server).
import { type ChildProcess, spawn } from 'node:child_process';
import { readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RequestDetail, RequestPage } from '../../shared/api.ts';
import { send } from '../helpers/http.ts';
import { type ServerProcess, spawnServer } from '../helpers/process.ts';
import { json, tempDir } from '../helpers/server.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const CLI = path.join(ROOT, 'bin/hooklab.js');

let srv: ServerProcess;
let dataDir: string;
beforeAll(async () => {
  dataDir = await tempDir();
  srv = await spawnServer({ DATA_DIR: dataDir });
});
afterAll(async () => {
  srv.proc.kill('SIGTERM');
  await srv.exited;
  await rm(dataDir, { recursive: true, force: true });
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function hooklab(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, env: { ...process.env, HOOKLAB_SERVER: srv.base, ...env } });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    p.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** A long-running command (tail): its output so far, and a stop. */
function follow(args: string[]) {
  const p: ChildProcess = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, env: { ...process.env, HOOKLAB_SERVER: srv.base } });
  let out = '';
  let err = '';
  p.stdout!.on('data', (d) => (out += d));
  p.stderr!.on('data', (d) => (err += d));
  return { out: () => out, err: () => err, stop: () => p.kill('SIGINT') };
}

/** A port nothing listens on. */
function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

async function until(check: () => boolean, ms = 15_000) {
  for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 25))) if (check()) return;
  throw new Error('timed out');
}

describe('hooklab CLI', () => {
  it('--help for every command; bad arguments exit 2 with one line', async () => {
    const top = await hooklab(['--help']);
    expect(top.code).toBe(0);
    for (const cmd of ['serve', 'bin', 'tail', 'wait', 'export', 'import']) expect(top.stdout).toContain(cmd);
    expect((await hooklab(['wait', '--help'])).stdout).toMatch(/--timeout <duration>/);
    const bad = await hooklab(['wait']);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim().split('\n')).toEqual(["hooklab: missing required argument 'bin'"]);
    const unknown = await hooklab(['frobnicate']);
    expect(unknown.code).toBe(2);
  });

  it('bin new (with a slug), wait (found, then timed out), tail --json', async () => {
    const made = await hooklab(['bin', 'new', '--slug', 'ci-orders-0123456789', '--name', 'CI']);
    expect(made.code).toBe(0);
    expect(made.stdout.trim()).toMatch(/\/h\/ci-orders-0123456789$/);
    const taken = await hooklab(['bin', 'new', '--slug', 'ci-orders-0123456789']);
    expect(taken.code).toBe(3);
    expect(taken.stderr).toMatch(/^hooklab: a bin with id "ci-orders-0123456789" exists already\n$/);
    const short = await hooklab(['bin', 'new', '--slug', 'tiny', '--json']);
    expect(JSON.parse(short.stdout).id).toBe('tiny');
    expect(short.stderr).toMatch(/warning: bin id "tiny" is short/);

    const t = follow(['tail', 'ci-orders-0123456789', '--json']);
    await until(() => t.err().includes('following'));
    const waiting = hooklab(['wait', `${srv.base}/h/ci-orders-0123456789`, '--header', 'x-kind:order', '--timeout', '20s']);
    await new Promise((r) => setTimeout(r, 300));
    await send(`${srv.base}/h/ci-orders-0123456789/noise`, { body: 'n' });
    const sent = await send(`${srv.base}/h/ci-orders-0123456789/orders?x=1`, { headers: { 'x-kind': 'order' }, body: '{"order":1}' });
    const w = await waiting;
    expect(w.code).toBe(0);
    const got = JSON.parse(w.stdout) as RequestDetail;
    expect(got).toMatchObject({ id: sent.headers['x-hooklab-request-id'], path: '/orders', body: '{"order":1}' });
    await until(() => t.out().trim().split('\n').length >= 2);
    t.stop();
    const lines = t.out().trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => l.path)).toEqual(['/noise', '/orders']);

    const late = await hooklab(['wait', 'ci-orders-0123456789', '--q', 'never', '--after', got.id, '--timeout', '300ms']);
    expect(late.code).toBe(1);
    expect(late.stderr).toBe('hooklab: no matching request within 300ms\n');
  });

  it('export and import through files, byte-exact', async () => {
    const from = (await json<{ id: string; url: string }>(srv.base, 'POST', '/api/bins', {})).body;
    await send(`${srv.base}/h/${from.id}/a`, { body: Buffer.from([0, 1, 2, 255]) });
    await send(`${srv.base}/h/${from.id}/b`, { body: 'text' });
    const file = path.join(dataDir, 'export.ndjson');
    const ex = await hooklab(['export', from.id, '--out', file]);
    // Code and stderr together: a failure then says why.
    expect({ code: ex.code, stderr: ex.stderr }).toEqual({ code: 0, stderr: '' });
    expect((await readFile(file, 'utf8')).trim().split('\n')).toHaveLength(2);
    const to = (await json<{ id: string }>(srv.base, 'POST', '/api/bins', {})).body;
    const im = await hooklab(['import', to.id, file]);
    expect({ code: im.code, stderr: im.stderr }).toEqual({ code: 0, stderr: 'imported 2 capture(s)\n' });
    const page = (await json<RequestPage>(srv.base, 'GET', `/api/bins/${to.id}/requests`)).body;
    expect(page.requests.map((r) => r.path)).toEqual(['/b', '/a']);
    const har = await hooklab(['export', from.id, '--format', 'har']);
    expect(JSON.parse(har.stdout).log.entries).toHaveLength(2);
  });

  it('server errors are one line with exit 3: no server, unknown bin, wrong token', async () => {
    const closed = await freePort();
    const none = await hooklab(['bin', 'new'], { HOOKLAB_SERVER: `http://127.0.0.1:${closed}` });
    expect(none.code).toBe(3);
    expect(none.stderr).toBe(`hooklab: cannot reach hooklab at http://127.0.0.1:${closed} (ECONNREFUSED)\n`);
    const missing = await hooklab(['wait', 'no-such-bin', '--timeout', '1s']);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toBe('hooklab: not found: bin not found\n');
    const locked = await spawnServer({ DATA_DIR: await tempDir(), AUTH_TOKEN: 'right-token-123' });
    try {
      const wrong = await hooklab(['bin', 'new', '--token', 'wrong'], { HOOKLAB_SERVER: locked.base });
      expect(wrong.code).toBe(3);
      expect(wrong.stderr).toMatch(/^hooklab: .* refused the access token given \(--token or HOOKLAB_TOKEN\)/);
      const right = await hooklab(['bin', 'new'], { HOOKLAB_SERVER: locked.base, HOOKLAB_TOKEN: 'right-token-123' });
      expect(right.code).toBe(0);
    } finally {
      locked.proc.kill('SIGTERM');
      await locked.exited;
    }
  });

  it('serve runs the server with a config file', async () => {
    const dir = await tempDir();
    const file = path.join(dir, 'hooklab.config.json');
    await writeFile(file, JSON.stringify({ bins: [{ id: 'from-config-0123456789' }] }));
    const p = spawn(process.execPath, [CLI, 'serve', '--config', file], { cwd: ROOT, env: { ...process.env, PORT: '0', DATA_DIR: dir } });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (out += d));
    try {
      await until(() => /ready on (http:\/\/[\d.:]+)/.test(out));
      const base = /ready on (http:\/\/[\d.:]+)/.exec(out)![1];
      expect((await json(base, 'GET', '/api/bins/from-config-0123456789')).status).toBe(200);
      // Run from the source (tsx), the dispatcher's sender thread works too.
      const wh = await json<{ id: string }>(base, 'POST', '/api/webhooks', { url: `${base}/h/from-config-0123456789` });
      const test = await json<{ ok: boolean }>(base, 'POST', `/api/webhooks/${wh.body.id}/test`);
      expect(test.body.ok, JSON.stringify(test.body)).toBe(true);
      expect((await json(base, 'GET', '/api/health')).status).toBe(200);
    } finally {
      p.kill('SIGTERM');
      await new Promise((r) => p.on('close', r));
      await rm(dir, { recursive: true, force: true });
    }
  });
});
