// `hooklab wait` waits out a server restart, as tail and forward do: a lost connection (closed,
// reset, refused) is asked again for the rest of --timeout, said once on stderr; exit 3 only
// when the timeout ends without reaching the server. Before, it gave up at once (exit 3,
// "cannot reach hooklab … (UND_ERR_SOCKET)") with most of the wait left.
import { type ChildProcess, spawn } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/free-port.ts';
import { send } from '../helpers/http.ts';
import { CLI, ROOT } from '../helpers/relay.ts';
import { json } from '../helpers/server.ts';
import { spawnedServers } from '../helpers/spawned.ts';
import { until } from '../helpers/until.ts';

const servers = spawnedServers();
const children: ChildProcess[] = [];
afterAll(() => {
  for (const p of children) p.kill('SIGKILL');
});

function runWait(args: string[], server: string) {
  const p = spawn(process.execPath, [CLI, 'wait', ...args], { cwd: ROOT, env: { ...process.env, HOOKLAB_SERVER: server, HOOKLAB_TOKEN: '' } });
  children.push(p);
  let out = '';
  let err = '';
  p.stdout.on('data', (d) => (out += d));
  p.stderr.on('data', (d) => (err += d));
  const exited = new Promise<number | null>((r) => p.on('close', r));
  return { out: () => out, err: () => err, exited };
}

/** The line a lost server gets: the cause in words (not undici's code), and how long it keeps trying. */
const RETRYING = /^cannot reach hooklab at \S+ \((the connection was closed|connection refused, ECONNREFUSED)\); trying again for up to \d+(\.\d)? s \(the rest of --timeout\)$/;

describe('hooklab wait across a server restart', () => {
  it('a restart mid-wait: said once, asked again, and the capture sent after it is printed (exit 0)', async () => {
    const port = await freePort();
    const dataDir = await servers.dataDir();
    const env = { PORT: String(port), DATA_DIR: dataDir };
    const first = await servers.start(env);
    const bin = (await json<{ id: string; url: string }>(first.base, 'POST', '/api/bins', {})).body;
    const w = runWait([bin.id, '--new', '--q', 'after-restart', '--timeout', '60s'], first.base);
    await until(() => w.err().includes('waiting for a new request'), 'the wait to start');
    // Its long poll open (or about to be: refused while the server is down is retried too).
    await new Promise((r) => setTimeout(r, 500));
    first.proc.kill('SIGTERM');
    await first.exited;
    await until(() => RETRYING.test(w.err().split('\n')[1] ?? ''), 'the wait to say it lost the server');
    // Down for a while: it keeps trying (asks every second), saying so only once.
    await new Promise((r) => setTimeout(r, 2500));
    const second = await servers.start(env);
    const sent = await send(`${second.base}/h/${bin.id}/x`, { body: 'after-restart' });
    expect(await w.exited, w.err()).toBe(0);
    expect(JSON.parse(w.out())).toMatchObject({ id: sent.headers['x-hooklab-request-id'], body: 'after-restart' });
    const lines = w.err().trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatch(RETRYING);
  }, 120_000);

  it('a host name that does not exist: exit 3 at once (asking again cannot help), not after --timeout', async () => {
    const t0 = Date.now();
    const w = runWait(['some-bin-1234', '--timeout', '60s'], 'http://no-such-host.invalid:8080');
    expect(await w.exited).toBe(3);
    expect(Date.now() - t0).toBeLessThan(30_000);
    expect(w.err()).toBe('hooklab: cannot reach hooklab at http://no-such-host.invalid:8080 (no such host, ENOTFOUND)\n');
  }, 60_000);

  // With --new, its lookup of the bin's newest capture is asked again too.
  it.each([[[]], [['--new']]])('a server that stays away (%j): exit 3 once --timeout has passed, not at once', async (extra: string[]) => {
    const closed = await freePort();
    const t0 = Date.now();
    const w = runWait(['some-bin-1234', ...extra, '--timeout', '2s'], `http://127.0.0.1:${closed}`);
    expect(await w.exited).toBe(3);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(2000);
    const lines = w.err().trimEnd().split('\n');
    expect(lines[0]).toMatch(RETRYING);
    expect(lines.slice(1)).toEqual([`hooklab: cannot reach hooklab at http://127.0.0.1:${closed} (connection refused, ECONNREFUSED)`]);
  }, 60_000);

  it('--new started while the server is down: waits for it, takes its cursor once it is up, prints the capture sent after', async () => {
    const port = await freePort();
    const dataDir = await servers.dataDir();
    const env = { PORT: String(port), DATA_DIR: dataDir };
    const first = await servers.start(env);
    const bin = (await json<{ id: string }>(first.base, 'POST', '/api/bins', {})).body;
    await send(`${first.base}/h/${bin.id}/x`, { body: 'before' });
    first.proc.kill('SIGTERM');
    await first.exited;
    const w = runWait([bin.id, '--new', '--timeout', '60s'], first.base);
    await until(() => RETRYING.test(w.err().split('\n')[0] ?? ''), 'the wait to say it cannot reach the server');
    await new Promise((r) => setTimeout(r, 1500));
    const second = await servers.start(env);
    await until(() => w.err().includes('waiting for a new request (newer than '), 'the lookup to reach the restarted server');
    const sent = await send(`${second.base}/h/${bin.id}/x`, { body: 'after' });
    expect(await w.exited, w.err()).toBe(0);
    expect(JSON.parse(w.out())).toMatchObject({ id: sent.headers['x-hooklab-request-id'], body: 'after' });
    expect(w.err().trimEnd().split('\n')).toHaveLength(2);
  }, 120_000);
});
