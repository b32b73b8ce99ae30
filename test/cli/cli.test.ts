// Issue 10: the CLI, each command run as a real process against a real server: one-line
// errors and exit codes (0 done, 1 timed out, 2 the user's to fix: bad arguments, what the
// server refused, a local file; 3 cannot talk to the server).
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RequestDetail, RequestPage } from '../../shared/api.ts';
import { send } from '../helpers/http.ts';
import { type ServerProcess, spawnServer } from '../helpers/process.ts';
import { json, tempDir } from '../helpers/server.ts';
import { freePort } from '../helpers/free-port.ts';

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

const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

async function until(check: () => boolean, ms = 15_000) {
  for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 25))) if (check()) return;
  throw new Error('timed out');
}

// Each test starts the CLI a dozen times or more (a Node process each, ~1 s of CPU on a
// loaded machine): a generous bound for all of them, not the suite's default 60 s.
describe('hooklab CLI', { timeout: 180_000 }, () => {
  it('--help for every command; bad arguments exit 2 with one line', async () => {
    const top = await hooklab(['--help']);
    expect(top.code).toBe(0);
    for (const cmd of ['serve', 'bin', 'tail', 'wait', 'export', 'import']) expect(top.stdout).toContain(cmd);
    const waitHelp = (await hooklab(['wait', '--help'])).stdout;
    expect(waitHelp).toMatch(/--timeout <duration>/);
    // The options every command takes (README: --server, --token) are on each command's page.
    for (const page of [waitHelp, (await hooklab(['bin', 'new', '--help'])).stdout]) expect(page).toMatch(/Global Options:[\s\S]*--server <url>[\s\S]*--token <token>/);
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
    expect(taken.code).toBe(2);
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

    // --status: what the sender was answered (a stored one counts).
    await json(srv.base, 'PUT', '/api/bins/ci-orders-0123456789/response', { rules: [{ status: 503, match: { pathPrefix: '/down' } }] });
    const failed = await send(`${srv.base}/h/ci-orders-0123456789/down`, { body: 'x' });
    expect(failed.status).toBe(503);
    const byStatus = await hooklab(['wait', 'ci-orders-0123456789', '--status', '5xx', '--timeout', '5s']);
    expect({ code: byStatus.code, id: JSON.parse(byStatus.stdout || '{}').id }).toEqual({ code: 0, id: failed.headers['x-hooklab-request-id'] });
    const badStatus = await hooklab(['wait', 'ci-orders-0123456789', '--status', 'failed', '--timeout', '1s']);
    expect({ code: badStatus.code, stderr: badStatus.stderr }).toEqual({ code: 2, stderr: 'hooklab: --status: must be a status such as 500, or a class such as 5xx\n' });
  });

  it('tail: a sender that hung up before a slow answer (or a hang) is told, after the line that showed the status it was to get', async () => {
    const bin = (await json<{ id: string; url: string }>(srv.base, 'POST', '/api/bins', {})).body;
    await json(srv.base, 'PUT', `/api/bins/${bin.id}/response`, { plan: [{ status: 200, delayMs: 5000 }, { fault: 'timeout' }, { status: 201, delayMs: 50 }] });
    const t = follow(['tail', bin.id]);
    await until(() => t.err().includes('following'));
    for (const [path, told] of [['/slow', 'the sender hung up'], ['/hang', 'the sender gave up']]) {
      const err = await send(`${bin.url}${path}`, { body: 'x', timeoutMs: 300 }).catch((e) => e);
      expect(err.code).toBe('CLIENT_TIMEOUT');
      await until(() => t.out().includes(`${path}  ${told}`));
    }
    expect((await send(`${bin.url}/waited`, { body: 'x', timeoutMs: 5000 })).status).toBe(201);
    await until(() => t.out().includes('/waited'));
    await new Promise((r) => setTimeout(r, 200));
    t.stop();
    const lines = t.out().trim().split('\n');
    expect(lines.map((l) => l.replace(/^\S+ {2}/, '').replace(/\d+\.\d s|\d+ ms/, 'N s'))).toEqual([
      'POST   /slow  200  1 B',
      'POST   /slow  the sender hung up after N s: it never got the 200',
      'POST   /hang  timeout  1 B',
      'POST   /hang  the sender gave up after N s (this answer never comes)',
      'POST   /waited  201  1 B',
    ]);
  });

  it('a reader that goes away (`| head`) ends a command quietly, as Unix tools do', async () => {
    const from = (await json<{ id: string; url: string }>(srv.base, 'POST', '/api/bins', {})).body;
    for (let i = 0; i < 50; i++) await send(`${srv.base}/h/${from.id}/x${i}`, { body: 'y'.repeat(20_000) });
    const r = await new Promise<Run>((resolve) => {
      const p = spawn(process.execPath, [CLI, 'export', from.id], { cwd: ROOT, env: { ...process.env, HOOKLAB_SERVER: srv.base } });
      let stderr = '';
      p.stderr.on('data', (d) => (stderr += d));
      // The first bytes read, then the pipe closed (what `head -c` does).
      p.stdout.once('data', () => p.stdout.destroy());
      p.on('close', (code) => resolve({ code, stdout: '', stderr }));
    });
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
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

  it('import tells NDJSON from HAR by the content, whatever the file is named, and says when the name disagrees', async () => {
    const from = (await json<{ id: string }>(srv.base, 'POST', '/api/bins', {})).body;
    await send(`${srv.base}/h/${from.id}/a`, { body: 'one' });
    await send(`${srv.base}/h/${from.id}/b`, { body: 'two' });
    const ndjson = path.join(dataDir, 'ndjson-export.json');
    const har = path.join(dataDir, 'har-export.txt');
    const harPretty = path.join(dataDir, 'pretty.har');
    expect((await hooklab(['export', from.id, '--out', ndjson])).code).toBe(0);
    expect((await hooklab(['export', from.id, '--format', 'har', '--out', har])).code).toBe(0);
    await writeFile(harPretty, JSON.stringify(JSON.parse(await readFile(har, 'utf8')), null, 2));
    // Before: "body is not valid JSON (line 2 …)" and a dozen "is required" errors.
    for (const [file, note] of [
      [ndjson, `hooklab: note: ${ndjson} looks like an NDJSON export (one JSON object per line), though its name says HAR (.har/.json): importing it as NDJSON\n`],
      [har, `hooklab: note: ${har} looks like a HAR document (one JSON object with "log"), though its name says NDJSON: importing it as HAR\n`],
      [harPretty, ''],
    ]) {
      const to = (await json<{ id: string }>(srv.base, 'POST', '/api/bins', {})).body;
      const im = await hooklab(['import', to.id, file]);
      expect({ file, code: im.code, stderr: im.stderr }).toEqual({ file, code: 0, stderr: `${note}imported 2 capture(s)\n` });
      const page = (await json<RequestPage>(srv.base, 'GET', `/api/bins/${to.id}/requests`)).body;
      expect(page.requests.map((r) => r.path)).toEqual(['/b', '/a']);
    }
  });

  it('server errors are one line with exit 3: no server, wrong token; an unknown bin is exit 2', async () => {
    const closed = await freePort();
    const none = await hooklab(['bin', 'new'], { HOOKLAB_SERVER: `http://127.0.0.1:${closed}` });
    expect(none.code).toBe(3);
    expect(none.stderr).toBe(`hooklab: cannot reach hooklab at http://127.0.0.1:${closed} (connection refused, ECONNREFUSED)\n`);
    const missing = await hooklab(['wait', 'no-such-bin', '--timeout', '1s']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe(`hooklab: there is no bin no-such-bin on ${srv.base}\n`);
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

  it('what the server refuses and local file problems exit 2, saying what happened; its own failures exit 3', async () => {
    const bin = (await json<{ id: string }>(srv.base, 'POST', '/api/bins', {})).body.id;
    const bad = path.join(dataDir, 'bad.ndjson');
    await writeFile(bad, 'not json\n');
    const aDir = path.join(dataDir, 'a-directory');
    await mkdir(aDir, { recursive: true });
    const cases: [string[], RegExp][] = [
      // Refused by the server (400, 404, 409): the arguments are wrong.
      [['bin', 'new', '--slug', 'ab'], /^hooklab: --slug: must be 4 to 64 characters/],
      [['bin', 'new', '--slug', bin], /^hooklab: a bin with id "\S+" exists already\n$/],
      [['wait', bin, '--header', '', '--timeout', '1s'], /^hooklab: --header: /],
      [['import', bin, bad], new RegExp(`^hooklab: ${esc(bad)}: line 1: not valid JSON`)],
      [['wait', 'no-such-bin-9', '--timeout', '1s'], new RegExp(`^hooklab: there is no bin no-such-bin-9 on ${esc(srv.base)}\n$`)],
      [['wait', 'no-such-bin-9', '--new', '--timeout', '1s'], new RegExp(`^hooklab: there is no bin no-such-bin-9 on ${esc(srv.base)}\n$`)],
      [['export', 'no-such-bin-9'], new RegExp(`^hooklab: there is no bin no-such-bin-9 on ${esc(srv.base)}\n$`)],
      [['import', 'no-such-bin-9', bad], new RegExp(`^hooklab: there is no bin no-such-bin-9 on ${esc(srv.base)}\n$`)],
      [['tail', 'no-such-bin-9'], /^hooklab: cannot follow bin no-such-bin-9: bin not found\n$/],
      // Local files: the file and the problem, never "cannot reach hooklab".
      [['export', bin, '--out', '/nonexistent/dir/x'], /^hooklab: cannot write \/nonexistent\/dir\/x: no such file or directory \(ENOENT\)\n$/],
      [['import', bin, aDir], new RegExp(`^hooklab: cannot read ${esc(aDir)}: it is a directory \\(EISDIR\\)\\n$`)],
      [['import', bin, path.join(dataDir, 'missing.ndjson')], /^hooklab: cannot read \S+missing\.ndjson: no such file or directory \(ENOENT\)\n$/],
    ];
    // A few at a time: each is a process of its own.
    for (let i = 0; i < cases.length; i += 4) {
      const batch = cases.slice(i, i + 4);
      const runs = await Promise.all(batch.map(([args]) => hooklab(args)));
      batch.forEach(([args, message], j) => expect({ args, code: runs[j].code, stderr: runs[j].stderr }).toEqual({ args, code: 2, stderr: expect.stringMatching(message) }));
    }
    expect((await hooklab(['export', 'no-such-bin-9', '--out', path.join(dataDir, 'never.ndjson')])).code).toBe(2);
    await expect(readFile(path.join(dataDir, 'never.ndjson'))).rejects.toThrow(/ENOENT/);

    // A stand-in server answering each status in turn: 4xx the user's (2), 5xx and busy its own (3).
    const answers = [413, 422, 500, 503, 429];
    const fake = http.createServer((_req, res) => {
      const status = answers.shift()!;
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { code: 'x', message: `said ${status}` } }));
    });
    await new Promise<void>((r) => fake.listen(0, '127.0.0.1', r));
    const fakeBase = `http://127.0.0.1:${(fake.address() as net.AddressInfo).port}`;
    try {
      const got: [number | null, string][] = [];
      for (let i = 0; i < 5; i++) {
        const r = await hooklab(['bin', 'new'], { HOOKLAB_SERVER: fakeBase });
        got.push([r.code, r.stderr]);
      }
      expect(answers).toEqual([]);
      expect(got).toEqual([
        [2, 'hooklab: said 413\n'],
        [2, 'hooklab: said 422\n'],
        [3, `hooklab: hooklab at ${fakeBase} answered 500 (said 500)\n`],
        [3, `hooklab: hooklab at ${fakeBase} answered 503 (said 503)\n`],
        [3, `hooklab: hooklab at ${fakeBase} answered 429 (said 429)\n`],
      ]);
    } finally {
      fake.close();
    }
  }, 180_000);

  it('bin list (a table, or NDJSON) and bin delete (ids or receiver URLs; --missing-ok for a clean-up run again)', async () => {
    const a = JSON.parse((await hooklab(['bin', 'new', '--slug', 'list-me-aaaa', '--name', 'Orders CI', '--json'])).stdout) as { id: string; url: string };
    // A name with a line break and an escape sequence: shown, not obeyed by the terminal.
    const odd = (await json<{ id: string }>(srv.base, 'POST', '/api/bins', { id: 'list-me-odd1', name: 'two\nlines \u001b[31mred' })).body;
    const b = JSON.parse((await hooklab(['bin', 'new', '--slug', 'list-me-bbbb', '--json'])).stdout) as { id: string; url: string };
    await send(`${srv.base}/h/${a.id}/x`, { body: '1' });
    await send(`${srv.base}/h/${a.id}/y`, { body: '2' });

    const table = await hooklab(['bin', 'list']);
    expect({ code: table.code, stderr: table.stderr }).toEqual({ code: 0, stderr: '' });
    const rows = table.stdout.trimEnd().split('\n');
    expect(rows[0]).toMatch(/^ID +REQUESTS +LAST +NAME +URL$/);
    const rowOf = (id: string) => rows.find((r) => r.startsWith(`${id} `))!;
    // The last request: its time of day (or its date, just after midnight).
    expect(rowOf(a.id)).toMatch(new RegExp(`^${a.id} +2 +(\\d\\d:\\d\\d:\\d\\d|\\d{4}-\\d\\d-\\d\\d) +Orders CI +${esc(a.url)}$`));
    expect(rowOf(odd.id)).toContain(' two?lines ?[31mred ');
    expect(table.stdout).not.toContain('\u001b');
    await json(srv.base, 'DELETE', `/api/bins/${odd.id}`);
    expect(rowOf(b.id)).toMatch(new RegExp(`^${b.id} +0 +never +Bin list-m +${esc(b.url)}$`));
    // Newest first.
    expect(rows.indexOf(rowOf(b.id))).toBeLessThan(rows.indexOf(rowOf(a.id)));
    const nd = (await hooklab(['bin', 'list', '--json'])).stdout.trim().split('\n').map((l) => JSON.parse(l) as { id: string; requestCount: number });
    expect(nd.find((x) => x.id === a.id)?.requestCount).toBe(2);

    // A bad argument among them: nothing is deleted.
    const bad = await hooklab(['bin', 'delete', a.id, 'no/such thing']);
    expect({ code: bad.code, stderr: bad.stderr }).toEqual({ code: 2, stderr: 'hooklab: "no/such thing" is not a bin id or receiver URL\n' });
    expect((await json(srv.base, 'GET', `/api/bins/${a.id}`)).status).toBe(200);

    // By receiver URL (its server taken from it) and by id.
    const byUrl = await hooklab(['bin', 'delete', `${a.url}/some/path`], { HOOKLAB_SERVER: '' });
    expect({ code: byUrl.code, stdout: byUrl.stdout, stderr: byUrl.stderr }).toEqual({ code: 0, stdout: `deleted ${a.id}\n`, stderr: '' });
    const byId = await hooklab(['bin', 'delete', b.id]);
    expect({ code: byId.code, stdout: byId.stdout }).toEqual({ code: 0, stdout: `deleted ${b.id}\n` });
    expect((await json(srv.base, 'GET', `/api/bins/${a.id}`)).status).toBe(404);
    expect((await json(srv.base, 'GET', `/api/bins/${b.id}`)).status).toBe(404);
    expect((await hooklab(['bin', 'list', '--json'])).stdout).not.toContain('list-me-');

    // Gone already: an error of its own (exit 2), or fine with --missing-ok.
    const again = await hooklab(['bin', 'delete', a.id]);
    expect({ code: again.code, stderr: again.stderr }).toEqual({ code: 2, stderr: `hooklab: there is no bin ${a.id} on ${srv.base} (--missing-ok lets a clean-up go on past it)\n` });
    const ok = await hooklab(['bin', 'delete', '--missing-ok', a.id, a.id]);
    expect({ code: ok.code, stdout: ok.stdout }).toEqual({ code: 0, stdout: `${a.id}: not there (already deleted?)\n` });
    // A 404 that is not hooklab's "bin not found" (a wrong --server, a proxy's path) is no bin already gone.
    const notHooklab = http.createServer((_req, res) => res.writeHead(404, { 'content-type': 'text/html' }).end('<h1>Not Found</h1>'));
    await new Promise<void>((r) => notHooklab.listen(0, '127.0.0.1', r));
    try {
      const notBase = `http://127.0.0.1:${(notHooklab.address() as net.AddressInfo).port}`;
      const wrong = await hooklab(['bin', 'delete', '--missing-ok', a.id], { HOOKLAB_SERVER: notBase });
      expect({ code: wrong.code, stderr: wrong.stderr }).toEqual({ code: 3, stderr: `hooklab: ${notBase}/api/bins/${a.id} answered 404 Not Found (text/html), not hooklab's JSON API: is HOOKLAB_SERVER right?\n` });
    } finally {
      notHooklab.close();
    }
    // Several, one of them missing: the others are deleted, each failure said, the worst code.
    const c = JSON.parse((await hooklab(['bin', 'new', '--json'])).stdout) as { id: string };
    const mixed = await hooklab(['bin', 'delete', a.id, c.id]);
    expect(mixed.code).toBe(2);
    expect(mixed.stdout).toBe(`deleted ${c.id}\n`);
    expect(mixed.stderr).toBe(`hooklab: ${a.id}: there is no bin ${a.id} on ${srv.base} (--missing-ok lets a clean-up go on past it)\nhooklab: 1 of 2 bins not deleted (see above)\n`);
  });

  it('a receiver URL names its server for every bin command (wait, export, tail), unless --server says otherwise', async () => {
    const b = (await json<{ id: string; url: string }>(srv.base, 'POST', '/api/bins', {})).body;
    await send(`${srv.base}/h/${b.id}/one`, { body: 'x' });
    // No HOOKLAB_SERVER: before, these went to localhost:8080 and exited 3.
    const env = { HOOKLAB_SERVER: '' };
    const w = await hooklab(['wait', `${srv.base}/h/${b.id}`, '--timeout', '5s'], env);
    expect({ code: w.code, stderr: w.stderr }).toEqual({ code: 0, stderr: '' });
    expect(JSON.parse(w.stdout).path).toBe('/one');
    const ex = await hooklab(['export', `${srv.base}/h/${b.id}/any/sub/path`], env);
    expect({ code: ex.code, lines: ex.stdout.trim().split('\n').length }).toEqual({ code: 0, lines: 1 });
    // An explicit --server wins (here: one where that bin is not).
    const other = await spawnServer({ DATA_DIR: await tempDir() });
    try {
      const there = await hooklab(['wait', `${srv.base}/h/${b.id}`, '--timeout', '1s', '--server', other.base], env);
      expect({ code: there.code, stderr: there.stderr }).toEqual({ code: 2, stderr: `hooklab: there is no bin ${b.id} on ${other.base}\n` });
    } finally {
      other.proc.kill('SIGTERM');
      await other.exited;
    }
  });

  it('a server that accepts and never answers: a call ends after 30 s of silence, exit 3 (not undici\'s 300 s)', async () => {
    const mute = net.createServer((s) => s.on('data', () => {}));
    await new Promise<void>((r) => mute.listen(0, '127.0.0.1', r));
    const muteBase = `http://127.0.0.1:${(mute.address() as net.AddressInfo).port}`;
    try {
      const r = await hooklab(['bin', 'new'], { HOOKLAB_SERVER: muteBase });
      expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 3, stderr: `hooklab: cannot reach hooklab at ${muteBase} (nothing came for 30 s)\n` });
    } finally {
      mute.close();
    }
  }, 120_000);

  it('durations need a unit: a bare number is refused (exit 2), as are waits past the server\'s 10 minutes', async () => {
    const bin = (await json<{ id: string }>(srv.base, 'POST', '/api/bins', {})).body.id;
    const cases: [string[], string][] = [
      [['wait', bin, '--timeout', '30'], 'hooklab: --timeout 30 has no unit: write 30s, 30ms or 30m\n'],
      [['wait', bin, '--timeout', 'abc'], 'hooklab: --timeout must be a duration such as 30s, 500ms or 2m, got "abc"\n'],
      [['wait', bin, '--timeout', '11m'], 'hooklab: --timeout must be at most 10m (the server\'s limit), got "11m"\n'],
      [['wait', bin, '--after', 'XYZ'], 'hooklab: --after must be a request id (as in X-Hooklab-Request-Id or a capture\'s "id"), got "XYZ"\n'],
      [['forward', bin, '--to', 'http://127.0.0.1:9/', '--give-up', '30'], 'hooklab: --give-up 30 has no unit: write 30s, 30ms or 30m\n'],
      [['forward', bin, '--to', 'http://127.0.0.1:9/', '--timeout', '10'], 'hooklab: --timeout 10 has no unit: write 10s, 10ms or 10m\n'],
      [['fire', '--url', 'http://127.0.0.1:9/', '--timeout', '500'], 'hooklab: --timeout 500 has no unit: write 500s, 500ms or 500m\n'],
    ];
    const runs = await Promise.all(cases.map(([args]) => hooklab(args)));
    cases.forEach(([args, message], j) => expect({ args, code: runs[j].code, stderr: runs[j].stderr }).toEqual({ args, code: 2, stderr: message }));
    // With its unit, the timeout says it.
    const late = await hooklab(['wait', bin, '--timeout', '0.2s']);
    expect({ code: late.code, stderr: late.stderr }).toEqual({ code: 1, stderr: 'hooklab: no matching request within 0.2s\n' });
  }, 120_000);

  it('wait --new: only a request that arrives after the command starts, not the one the bin holds', async () => {
    const bin = (await json<{ id: string }>(srv.base, 'POST', '/api/bins', {})).body.id;
    const old = await send(`${srv.base}/h/${bin}/old`, { headers: { 'x-kind': 'order' }, body: 'old' });
    // Without --new the stored one answers at once.
    const stored = await hooklab(['wait', bin, '--header', 'x-kind:order', '--timeout', '2s']);
    expect(JSON.parse(stored.stdout).id).toBe(old.headers['x-hooklab-request-id']);
    const p = spawn(process.execPath, [CLI, 'wait', bin, '--header', 'x-kind:order', '--new', '--timeout', '20s'], { cwd: ROOT, env: { ...process.env, HOOKLAB_SERVER: srv.base } });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err += d));
    const code = new Promise<number | null>((r) => p.on('close', r));
    await until(() => err.includes('waiting for a new request'));
    expect(err).toBe(`waiting for a new request (newer than ${old.headers['x-hooklab-request-id']})\n`);
    await send(`${srv.base}/h/${bin}/noise`, { body: 'n' });
    const fresh = await send(`${srv.base}/h/${bin}/new`, { headers: { 'x-kind': 'order' }, body: 'new' });
    expect(await code).toBe(0);
    expect(JSON.parse(out)).toMatchObject({ id: fresh.headers['x-hooklab-request-id'], path: '/new' });
    // On an empty bin, the first one; and not with --after as well.
    const empty = (await json<{ id: string }>(srv.base, 'POST', '/api/bins', {})).body.id;
    const q = spawn(process.execPath, [CLI, 'wait', empty, '--new', '--timeout', '20s'], { cwd: ROOT, env: { ...process.env, HOOKLAB_SERVER: srv.base } });
    let qErr = '';
    let qOut = '';
    q.stderr.on('data', (d) => (qErr += d));
    q.stdout.on('data', (d) => (qOut += d));
    const qCode = new Promise<number | null>((r) => q.on('close', r));
    await until(() => qErr.includes('waiting'));
    expect(qErr).toBe('waiting for a new request (the bin is empty)\n');
    const first = await send(`${srv.base}/h/${empty}/first`, { body: 'x' });
    expect(await qCode).toBe(0);
    expect(JSON.parse(qOut).id).toBe(first.headers['x-hooklab-request-id']);
    const both = await hooklab(['wait', bin, '--new', '--after', 'abc']);
    expect({ code: both.code, stderr: both.stderr }).toEqual({ code: 2, stderr: 'hooklab: give --after or --new, not both\n' });
  }, 120_000);

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
    }
    try {
      // A config file it cannot use: exit 1 (as the server), one line naming the file.
      await writeFile(file, '{"bins": [{"id": "x"}]');
      const bad = spawn(process.execPath, [CLI, 'serve', '--config', file], { cwd: ROOT, env: { ...process.env, PORT: '0', DATA_DIR: dir } });
      let badOut = '';
      bad.stdout.on('data', (d) => (badOut += d));
      bad.stderr.on('data', (d) => (badOut += d));
      const code = await new Promise((r) => bad.on('close', r));
      expect(code).toBe(1);
      expect(badOut.trim().split('\n')).toHaveLength(1);
      expect(badOut).toContain(file);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
