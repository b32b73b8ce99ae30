// Issue 13: the relay CLI against a real server and a real local target. Every capture is
// forwarded once, in order, byte-exact (method, sub-path, query, headers in order and case,
// body); stopped and restarted, it replays what it missed first, in order, once each.
import { type ChildProcess, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import http from 'node:http';
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { send } from '../helpers/http.ts';
import { type ServerProcess, spawnServer } from '../helpers/process.ts';
import { json, tempDir } from '../helpers/server.ts';
import { CLI, ROOT, spawnRelay } from '../helpers/relay.ts';
import { freePort } from '../helpers/free-port.ts';

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

const relay = (args: string[]) => spawnRelay(args, relays);

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
/** The exit code, or 'still running' after `ms` (a relay that should have refused to start). */
const exitWithin = (r: ReturnType<typeof relay>, ms: number) => Promise.race([r.exited, sleep(ms).then(() => 'still running' as const)]);

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

/**
 * A local target that answers at once or, once told to hold, keeps its answers until released:
 * the relay is then mid-forward, with more queued behind. `seen`: the sub-paths it was sent.
 */
async function holdingTarget() {
  const seen: string[] = [];
  const held: ((how: 'answer' | 'reset') => void)[] = [];
  let holding = false;
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      seen.push(new URL(req.url!, 'http://x').pathname);
      if (holding) held.push((how) => (how === 'answer' ? res.end('ok') : req.socket.destroy()));
      else res.end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    base: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    seen,
    held: () => held.length,
    hold: () => void (holding = true),
    /** The held requests answered, or their connections cut (the forward fails). */
    release: (how: 'answer' | 'reset' = 'answer') => {
      holding = false;
      for (const end of held.splice(0)) end(how);
    },
    close: () => (server.closeAllConnections(), server.close()),
  };
}

const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** The give-up line, whole (main.ts prefixes 'hooklab: '), as the last line of stderr. */
const giveUpLine = (server: string, last: string, cursor: string) =>
  new RegExp(
    `(^|\\n)hooklab: hooklab at ${esc(server)} could not be reached \\(or kept failing\\) for 2 s: gave up \\(--give-up\\); ` +
      `the last capture every target had: ${esc(last)}; run again to go on from the cursor file ${esc(cursor)}\\n$`,
  );

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

  it('--json: one JSON object per capture on stdout (id, arrival, method, path, query, each target\'s status or error and time); messages stay on stderr', async () => {
    const bin = (await json<{ id: string; url: string }>(srv.base, 'POST', '/api/bins', {})).body;
    const binUrl = `${srv.base}/h/${bin.id}`;
    const held = await capture(binUrl, 3, 'js');
    // And one whose sub-path climbs out of the target (refused by rule): an entry with its error.
    await new Promise<void>((resolve, reject) => {
      const u = new URL(srv.base);
      const req = http.request({ host: u.hostname, port: u.port, path: `/h/${bin.id}/../../admin`, method: 'POST', agent: false }, (res) => {
        res.resume();
        resolve();
      });
      req.on('error', reject);
      req.end('climb');
    });
    const r = relay([binUrl, '--to', `${targetBase}/j`, '--from-start', '--once', '--json', '--cursor', path.join(dir, 'c-json.json')]);
    expect(await r.exited).toBe(0);
    const lines = r.out().trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.slice(0, 3).map((l) => [l.id, l.method, l.path, l.queryString])).toEqual(held.map((h, i) => [h.id, 'POST', h.path, `i=${i}&tag=js`]));
    for (const l of lines.slice(0, 3)) {
      expect(l.targets).toEqual([{ url: expect.stringMatching(new RegExp(`^${targetBase}/j/js/\\d\\?`)), status: 200, durationMs: expect.any(Number) }]);
      expect(Date.parse(l.receivedAt)).not.toBeNaN();
    }
    expect(lines).toHaveLength(4);
    expect(lines[3].targets).toEqual([expect.objectContaining({ status: null, error: 'blocked', errorDetail: expect.any(String) })]);
    expect(r.err()).toMatch(/forwarding the 4 requests the bin holds/);
  });

  it('a capture whose sub-path climbs out of the target (a dot segment) is not sent: said on stderr, and the relay goes on', async () => {
    const bin = (await json<{ id: string; url: string }>(srv.base, 'POST', '/api/bins', {})).body;
    const binUrl = `${srv.base}/h/${bin.id}`;
    const before = await capture(binUrl, 1, 'before');
    // A raw request path: a URL object would resolve the dots before sending.
    const climbing = await new Promise<string>((resolve, reject) => {
      const u = new URL(srv.base);
      const req = http.request({ host: u.hostname, port: u.port, path: `/h/${bin.id}/../../admin`, method: 'POST', agent: false }, (res) => {
        res.resume();
        resolve(res.headers['x-hooklab-request-id'] as string);
      });
      req.on('error', reject);
      req.end('climb');
    });
    const after = await capture(binUrl, 1, 'after');
    got.length = 0;
    const r = relay([binUrl, '--to', `${targetBase}/x`, '--from-start', '--once', '--cursor', path.join(dir, 'c-dots.json')]);
    expect(await r.exited).toBe(0);
    // Before: the target got /admin (the dots resolved above /x).
    expect(got.map((g) => g.sha)).toEqual([before[0].sha, after[0].sha]);
    expect(r.err()).toContain(`${climbing} to ${targetBase}/x: not sent: the sub-path has a dot segment`);
    expect(r.out()).toMatch(/POST \/\.\.\/\.\.\/admin {2}→ blocked/);
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
    // An unknown bin is the user's to fix (exit 2), as other bad arguments; one deleted while
    // the relay runs ends it with exit 3.
    const unknown = relay([`${srv.base}/h/no-such-bin-1234`, '--to', targetBase, '--cursor', path.join(dir, 'c-unknown.json')]);
    expect(await unknown.exited).toBe(2);
    expect(unknown.err()).toBe(`hooklab: there is no bin no-such-bin-1234 on ${srv.base}: check the bin's id or receiver URL (\`hooklab bin new\` makes a bin)\n`);
    // --once with a target that refuses: retried, then it gives up (5 tries, about 7.5 s)
    // saying that nothing was forwarded (not the cursor's placeholder) and how to go on.
    const bin = (await json<{ id: string; url: string }>(srv.base, 'POST', '/api/bins', {})).body;
    const deadId = (await send(`${srv.base}/h/${bin.id}/orders?x=1`, { body: 'x' })).headers['x-hooklab-request-id'] as string;
    const c3 = path.join(dir, 'c3.json');
    const dead = relay([`${srv.base}/h/${bin.id}`, '--to', 'http://127.0.0.1:9/', '--from-start', '--once', '--cursor', c3]);
    expect(await dead.exited).toBe(1);
    // Each retry line names the capture; the first says why the others wait.
    expect(dead.err()).toContain(`(POST /orders?x=1, id ${deadId}); retrying in 0.5 s; the captures after it wait (in order, every target has each one first)\n`);
    expect(dead.err()).toContain(`(POST /orders?x=1, id ${deadId}); retrying in 1 s\n`);
    expect(dead.err()).toMatch(new RegExp(`\\(gave up after 5 tries with --once; nothing was forwarded; run again to go on from the cursor file ${esc(c3)}\\)\\n$`));
    expect(dead.err()).not.toMatch(/nothing after/);
    // A target that took the first capture and then went away: what did get through is named.
    const once = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => res.end('ok', () => (once.closeAllConnections(), once.close())));
    });
    await new Promise<void>((r) => once.listen(0, '127.0.0.1', r));
    const bin2 = (await json<{ id: string; url: string }>(srv.base, 'POST', '/api/bins', {})).body;
    const two = await capture(`${srv.base}/h/${bin2.id}`, 2, 'two');
    const c4 = path.join(dir, 'c4.json');
    const half = relay([`${srv.base}/h/${bin2.id}`, '--to', `http://127.0.0.1:${(once.address() as { port: number }).port}/`, '--from-start', '--once', '--cursor', c4]);
    expect(await half.exited).toBe(1);
    expect(half.err()).toMatch(new RegExp(`\\(gave up after 5 tries with --once; 1 capture forwarded before it; the last capture every target had: ${two[0].id}; run again to go on from the cursor file ${esc(c4)}\\)\\n$`));
  }, 120_000);

  it('started on an empty bin and stopped before any capture, then more than the cap arrive: the gap is counted exactly', async () => {
    const small = await spawnServer({ DATA_DIR: path.join(dir, 'small-empty'), MAX_REQUESTS_PER_BIN: '10' });
    try {
      const bin = (await json<{ id: string; url: string }>(small.base, 'POST', '/api/bins', {})).body;
      const binUrl = `${small.base}/h/${bin.id}`;
      // The bin has had captures (numbers 1-3) and was emptied by hand: empty, but its numbering
      // goes on from 3, so the relay's starting point must be 3, not 0.
      await capture(binUrl, 3, 'old');
      expect((await json(small.base, 'DELETE', `/api/bins/${bin.id}/requests`)).status).toBe(204);
      const cursor = path.join(dir, 'c-empty.json');
      const r1 = relay([binUrl, '--to', `${targetBase}/empty`, '--cursor', cursor]);
      await until(() => r1.err().includes('forwarding') && existsSync(cursor), 'the relay to start');
      r1.stop();
      expect(await r1.exited).toBe(0);
      // While it is away: 25, of which the bin keeps the last 10.
      const away = await capture(binUrl, 25, 'empty');
      got.length = 0;
      const r2 = relay([binUrl, '--to', `${targetBase}/empty`, '--cursor', cursor, '--once']);
      expect(await r2.exited).toBe(0);
      expect(r2.err()).toContain('missed 10 while away, replaying');
      expect(r2.err()).toContain('15 request(s) were gone from the bin (pushed out by its cap, or deleted) before they could be forwarded');
      expect(got.map((g) => g.sha)).toEqual(away.slice(15).map((s) => s.sha));
      expect(got.map((g) => g.url)).toEqual(away.slice(15).map((s, i) => `/empty${s.path}?i=${i + 15}&tag=empty`));

      // A cursor file as an older relay left it on an empty bin (no arrival number): the count
      // cannot be told, and that is said, not passed over.
      const legacy = (await json<{ id: string; url: string }>(small.base, 'POST', '/api/bins', {})).body;
      const legacyUrl = `${small.base}/h/${legacy.id}`;
      const legacyCursor = path.join(dir, 'c-legacy.json');
      await writeFile(legacyCursor, JSON.stringify({ lastId: '0', lastSeq: null }));
      const later = await capture(legacyUrl, 14, 'legacy');
      got.length = 0;
      const r3 = relay([legacyUrl, '--to', `${targetBase}/legacy`, '--cursor', legacyCursor, '--once']);
      expect(await r3.exited).toBe(0);
      expect(r3.err()).toContain('missed 10 while away, replaying');
      expect(r3.err()).toContain('some requests were gone from the bin (pushed out by its cap, or deleted) before they could be forwarded; how many is unknown');
      expect(got.map((g) => g.sha)).toEqual(later.slice(4).map((s) => s.sha));
    } finally {
      small.proc.kill('SIGTERM');
      await small.exited;
    }
  }, 90_000);

  it('the server is killed and restarted while the relay works and captures keep coming: each one acknowledged is forwarded once, in order', async () => {
    // MAX_UNWRITTEN_BYTES=0: a capture is acknowledged once it is on disk, so not even a hard
    // kill loses an acknowledged one.
    const env = { DATA_DIR: path.join(dir, 'drop'), MAX_UNWRITTEN_BYTES: '0' };
    let s = await spawnServer(env);
    const port = new URL(s.base).port;
    // A slow target, which can also hold its answers: the relay is kept busy with one while
    // the server goes, with more queued, so its next calls find the server gone.
    const seen: number[] = [];
    let hold = false;
    const held: (() => void)[] = [];
    const slow = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        seen.push(Number(req.url!.split('/').pop()));
        if (hold) held.push(() => res.end('ok'));
        else setTimeout(() => res.end('ok'), 10);
      });
    });
    await new Promise<void>((r) => slow.listen(0, '127.0.0.1', r));
    const slowBase = `http://127.0.0.1:${(slow.address() as { port: number }).port}`;
    // A sender that keeps going whatever happens: which captures the server acknowledged.
    const acked: number[] = [];
    const refused: number[] = [];
    let sending = true;
    let sender: Promise<void> = Promise.resolve();
    try {
      const bin = (await json<{ id: string; url: string }>(s.base, 'POST', '/api/bins', {})).body;
      const binUrl = `${s.base}/h/${bin.id}`;
      // --prefetch 1: every capture queued behind the one at hand is still to be fetched, so the
      // relay's next call finds the server gone. (With batches, a relay that had not yet heard of
      // the newest captures when the server went, its live events slow on a loaded machine, had
      // nothing to ask for and never said so; batches across an outage: forward-prefetch.test.ts.)
      const r = relay([binUrl, '--to', `${slowBase}/drop`, '--cursor', path.join(dir, 'c-drop.json'), '--timeout', '60s', '--prefetch', '1']);
      await until(() => r.err().includes('forwarding'), 'the relay to start');
      sender = (async () => {
        for (let n = 0; sending; n++) {
          try {
            const res = await send(`${binUrl}/${n}`, { body: `capture ${n} ${'x'.repeat(n % 50)}`, timeoutMs: 5000 });
            (res.status === 200 ? acked : refused).push(n);
          } catch {
            refused.push(n);
          }
          await sleep(5);
        }
      })();
      // Two outages: a hard kill, then a clean stop; each while the relay has work queued.
      const unreachable = () => r.err().match(/server unreachable: .*; retrying until it answers \(nothing is skipped\)\n/g)?.length ?? 0;
      for (const [k, signal, upTo] of [[1, 'SIGKILL', 60], [2, 'SIGTERM', 140]] as const) {
        await until(() => acked.length >= upTo, `${upTo} acknowledged captures`);
        hold = true;
        await until(() => held.length > 0, 'the relay busy with a forward');
        // A backlog queued behind the one at hand, each still to be fetched (--prefetch 1).
        const ackedWhenHeld = acked.length;
        await until(() => acked.length >= ackedWhenHeld + 5, 'a backlog queued behind it, not fetched yet');
        await sleep(200); // heard by the relay (live events)
        s.proc.kill(signal);
        await s.exited;
        hold = false;
        for (const answer of held.splice(0)) answer();
        await until(() => unreachable() === k || r.ended(), 'the relay to find the server gone');
        await sleep(1000); // down a while longer: its calls keep failing meanwhile
        expect(r.ended(), `the relay ended:\n${r.err()}`).toBe(false);
        s = await spawnServer({ ...env, PORT: port });
      }
      await until(() => acked.length >= 220, 'captures after the second restart');
      sending = false;
      await sender;
      await until(() => acked.every((n) => seen.includes(n)), 'every acknowledged capture forwarded', 60_000);
      await sleep(500); // nothing more comes (no duplicates)
      expect(await exitWithin(r, 10)).toBe('still running');
      expect(new Set(seen).size, `duplicates in ${seen.join(',')}`).toBe(seen.length);
      expect(seen).toEqual([...seen].sort((a, b) => a - b));
      // Any other was cut off by a kill (stored and sent live, then not acknowledged).
      expect(seen.filter((n) => !acked.includes(n)).every((n) => refused.includes(n))).toBe(true);
      // Said once per outage; the relay kept going.
      expect(unreachable()).toBe(2);
      expect(r.err().match(/answers again; going on from the cursor\n/g)).toHaveLength(2);
      r.stop();
      expect(await r.exited).toBe(0);
    } finally {
      sending = false;
      await sender;
      slow.close();
      s.proc.kill('SIGTERM');
      await s.exited;
    }
  }, 180_000);

  it('--once gives up on a server that stays unreachable (--give-up), exit 3, saying where it stopped; the cursor agrees', async () => {
    const gone = await spawnServer({ DATA_DIR: path.join(dir, 'give-up') });
    // A slow target: the server is killed while the relay is still at the first captures.
    const slow = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => setTimeout(() => res.end('ok'), 500));
    });
    await new Promise<void>((r) => slow.listen(0, '127.0.0.1', r));
    try {
      const bin = (await json<{ id: string; url: string }>(gone.base, 'POST', '/api/bins', {})).body;
      const binUrl = `${gone.base}/h/${bin.id}`;
      const held = await capture(binUrl, 6, 'gu');
      const cursor = path.join(dir, 'c-give-up.json');
      // --prefetch 1: the captures after the first are still to be fetched when the server goes.
      const r = relay([binUrl, '--to', `http://127.0.0.1:${(slow.address() as { port: number }).port}/in`, '--from-start', '--once', '--give-up', '2s', '--cursor', cursor, '--prefetch', '1']);
      await until(() => r.out().split('\n').length > 1, 'the first capture forwarded');
      gone.proc.kill('SIGKILL');
      await gone.exited;
      // Ended by itself (the bound is 2 s; this waits far longer, not to fail on a busy machine).
      expect(await exitWithin(r, 60_000)).toBe(3);
      const m = /hooklab at \S+ could not be reached \(or kept failing\) for 2 s: gave up \(--give-up\); the last capture every target had: (\S+); run again to go on from the cursor file (\S+)\n/.exec(r.err());
      expect(m, r.err()).not.toBeNull();
      expect(r.err()).toContain('retrying for up to 2 s (nothing is skipped)');
      const last = m![1];
      expect(m![2]).toBe(cursor);
      const forwarded = held.findIndex((h) => h.id === last) + 1;
      expect(forwarded).toBeGreaterThan(0);
      expect(forwarded).toBeLessThan(held.length);
      // What it says was forwarded is what the cursor holds and what was printed.
      expect(JSON.parse(await readFile(cursor, 'utf8')).lastId).toBe(last);
      expect(r.out().trim().split('\n')).toHaveLength(forwarded);
      // A bad duration is refused at start.
      const bad = relay([binUrl, '--to', targetBase, '--give-up', 'soon', '--cursor', path.join(dir, 'c-gu-bad.json')]);
      expect(await bad.exited).toBe(2);
      expect(bad.err()).toBe('hooklab: --give-up must be a duration such as 10s, 500ms or 5m, got "soon"\n');
      // Past what a timer holds (it would fire at once): refused too.
      const long = relay([binUrl, '--to', targetBase, '--give-up', '43200m', '--cursor', path.join(dir, 'c-gu-bad.json')]);
      expect(await long.exited).toBe(2);
      expect(long.err()).toBe('hooklab: --give-up must be at most 24 days (35791m), got "43200m"\n');
    } finally {
      if (gone.proc.exitCode === null && gone.proc.signalCode === null) gone.proc.kill('SIGKILL');
      slow.close();
    }
  }, 120_000);

  it('started while the server is not up yet: it waits, says so once, and forwards when the server comes; --once gives up at start with exit 3; Ctrl-C while waiting exits 0', async () => {
    const data = path.join(dir, 'not-yet');
    const port = await freePort();
    const first = await spawnServer({ DATA_DIR: data, PORT: String(port) });
    const bin = (await json<{ id: string; url: string }>(first.base, 'POST', '/api/bins', {})).body;
    const binUrl = `${first.base}/h/${bin.id}`;
    const held = await capture(binUrl, 3, 'ny');
    first.proc.kill('SIGTERM');
    await first.exited;
    const seen = got.length;
    const r = relay([binUrl, '--to', targetBase, '--from-start', '--once', '--give-up', '5m', '--cursor', path.join(dir, 'c-not-yet.json')]);
    let later: ServerProcess | undefined;
    try {
      await until(() => r.err().includes('server unreachable: '), 'the relay to find no server');
      // Still waiting, not ended (exit 3 at once, before).
      expect(await exitWithin(r, 1500)).toBe('still running');
      later = await spawnServer({ DATA_DIR: data, PORT: String(port) });
      expect(await exitWithin(r, 60_000), r.err()).toBe(0);
      expect(r.err().match(/server unreachable: cannot reach hooklab at \S+ \(connection refused, ECONNREFUSED\); retrying for up to 300 s\n/g), r.err()).toHaveLength(1);
      expect(r.err()).toContain(`hooklab at ${first.base} answers; starting\n`);
      // All three, once each, in order.
      expect(got.slice(seen).map((g) => g.url)).toEqual(held.map((_, i) => `/ny/${i}?i=${i}&tag=ny`));
    } finally {
      later?.proc.kill('SIGTERM');
      if (later) await later.exited;
    }
    // --once (a CI step) gives up at start too, saying nothing was forwarded.
    const gone = relay([binUrl, '--to', targetBase, '--once', '--give-up', '1s', '--cursor', path.join(dir, 'c-not-yet-2.json')]);
    expect(await exitWithin(gone, 60_000)).toBe(3);
    expect(gone.err()).toMatch(/^server unreachable: .*; retrying for up to 1 s\nhooklab: hooklab at \S+ could not be reached \(or kept failing\) for 1 s: gave up \(--give-up\) \(cannot reach hooklab at \S+ \(connection refused, ECONNREFUSED\)\); nothing was forwarded\n$/);
    // Ctrl-C while it waits: a clean stop (exit 0), the lock released.
    const cursor = path.join(dir, 'c-not-yet-3.json');
    const waiting = relay([binUrl, '--to', targetBase, '--cursor', cursor]);
    await until(() => waiting.err().includes('retrying until it answers'), 'the relay to wait');
    waiting.stop();
    expect(await exitWithin(waiting, 30_000)).toBe(0);
    expect(waiting.err()).toContain('SIGINT: stopping (the server never answered; nothing was forwarded)\n');
    expect(existsSync(`${cursor}.lock`)).toBe(false);
  }, 180_000);

  it('stopped (SIGINT) mid-forward: no new target request after the stop, not even to the next target of the capture in flight; the cursor names only what every target had', async () => {
    // Two targets: the first holds its answer to the second capture, so the stop comes while
    // that capture is between them (sent to A, not yet to B), with more queued behind it.
    const a = await holdingTarget();
    const b = await holdingTarget();
    try {
      const bin = (await json<{ id: string; url: string }>(srv.base, 'POST', '/api/bins', {})).body;
      const binUrl = `${srv.base}/h/${bin.id}`;
      const cursor = path.join(dir, 'c-stop.json');
      // --timeout 60s: the held answer must not time out (a retry is another path).
      const r = relay([binUrl, '--to', `${a.base}/a`, '--to', `${b.base}/b`, '--cursor', cursor, '--timeout', '60s']);
      await until(() => r.err().includes('forwarding') && existsSync(cursor), 'the relay to start');
      const first = await capture(binUrl, 1, 'first');
      await until(() => r.out().includes('\n'), 'the first capture forwarded to both');
      a.hold();
      const queued = await capture(binUrl, 3, 'queued');
      await until(() => a.held() === 1, 'the relay mid-forward');
      r.stop();
      // Waiting on A, it takes the signal at once and says so.
      await until(() => r.err().includes('SIGINT: stopping'), 'the relay to take the signal');
      // Still there: a request in flight is let finish, which is the case this is about.
      expect(r.ended(), r.err()).toBe(false);
      a.release();
      expect(await r.exited).toBe(0);
      expect(a.seen).toEqual([`/a${first[0].path}`, `/a${queued[0].path}`]);
      expect(b.seen).toEqual([`/b${first[0].path}`]);
      expect(r.out().trim().split('\n')).toHaveLength(1);
      // A rerun sends the capture B never had again (to A too: at least once, never lost).
      expect(JSON.parse(await readFile(cursor, 'utf8')).lastId).toBe(first[0].id);
    } finally {
      a.close();
      b.close();
    }
  });

  it('stopped (SIGTERM, as a service manager or CI stops it) while a target request is in flight that then fails: no retry, none announced, and it ends', async () => {
    const a = await holdingTarget();
    try {
      const bin = (await json<{ id: string; url: string }>(srv.base, 'POST', '/api/bins', {})).body;
      const binUrl = `${srv.base}/h/${bin.id}`;
      const cursor = path.join(dir, 'c-stop-fail.json');
      const r = relay([binUrl, '--to', `${a.base}/a`, '--cursor', cursor, '--timeout', '60s']);
      await until(() => r.err().includes('forwarding') && existsSync(cursor), 'the relay to start');
      a.hold();
      await capture(binUrl, 2, 'cut');
      await until(() => a.held() === 1, 'the relay mid-forward');
      r.signal('SIGTERM');
      await until(() => r.err().includes('SIGTERM: stopping'), 'the relay to take the signal');
      a.release('reset');
      expect(await r.exited).toBe(0);
      // Before: '…; retrying in 0.5 s' and a back-off wait (up to 30 s) after the stop.
      expect(r.err()).not.toContain('retrying');
      expect(a.seen).toHaveLength(1);
      expect(r.out()).toBe('');
      expect(JSON.parse(await readFile(cursor, 'utf8')).lastId).toBe('0');
    } finally {
      a.close();
    }
  });

  it('gives up (--give-up) mid-forward: exit 3, no target request after it, and the line names the last capture every target had and the cursor file', async () => {
    const gone = await spawnServer({ DATA_DIR: path.join(dir, 'give-up-mid') });
    const a = await holdingTarget();
    const b = await holdingTarget();
    try {
      const bin = (await json<{ id: string; url: string }>(gone.base, 'POST', '/api/bins', {})).body;
      const binUrl = `${gone.base}/h/${bin.id}`;
      const cursor = path.join(dir, 'c-give-up-mid.json');
      // Without --once: --give-up bounds a relay that runs for good too.
      const r = relay([binUrl, '--to', `${a.base}/a`, '--to', `${b.base}/b`, '--give-up', '2s', '--cursor', cursor, '--timeout', '60s']);
      await until(() => r.err().includes('forwarding') && existsSync(cursor), 'the relay to start');
      const first = await capture(binUrl, 1, 'first');
      await until(() => r.out().includes('\n'), 'the first capture forwarded to both');
      a.hold();
      const queued = await capture(binUrl, 3, 'queued');
      await until(() => a.held() === 1, 'the relay mid-forward');
      gone.proc.kill('SIGKILL');
      await gone.exited;
      // A answers only once the relay has given up (the bound is 2 s; this waits far longer): it
      // must not go on to B, nor to the captures queued.
      await until(() => r.ended() || /gave up/.test(r.err()), 'the relay to give up', 60_000);
      a.release();
      expect(await exitWithin(r, 60_000)).toBe(3);
      // The second capture reached A only: the last one every target had is the first.
      expect(r.err()).toMatch(giveUpLine(gone.base, first[0].id, cursor));
      await sleep(500); // nothing more comes
      expect(a.seen).toEqual([`/a${first[0].path}`, `/a${queued[0].path}`]);
      expect(b.seen).toEqual([`/b${first[0].path}`]);
      expect(r.out().trim().split('\n')).toHaveLength(1);
      expect(JSON.parse(await readFile(cursor, 'utf8')).lastId).toBe(first[0].id);
    } finally {
      if (gone.proc.exitCode === null && gone.proc.signalCode === null) gone.proc.kill('SIGKILL');
      a.close();
      b.close();
    }
  }, 120_000);

  it('gives up (--give-up) before any capture reached every target: the line says no capture yet', async () => {
    const gone = await spawnServer({ DATA_DIR: path.join(dir, 'give-up-none') });
    const a = await holdingTarget();
    const b = await holdingTarget();
    try {
      const bin = (await json<{ id: string; url: string }>(gone.base, 'POST', '/api/bins', {})).body;
      const binUrl = `${gone.base}/h/${bin.id}`;
      const held = await capture(binUrl, 2, 'held');
      const cursor = path.join(dir, 'c-give-up-none.json');
      // --from-start: the cursor starts before the bin's first capture, and A holds that one.
      a.hold();
      const r = relay([binUrl, '--to', `${a.base}/a`, '--to', `${b.base}/b`, '--from-start', '--once', '--give-up', '2s', '--cursor', cursor, '--timeout', '60s']);
      await until(() => a.held() === 1, 'the relay mid-forward');
      gone.proc.kill('SIGKILL');
      await gone.exited;
      await until(() => r.ended() || /gave up/.test(r.err()), 'the relay to give up', 60_000);
      a.release();
      expect(await exitWithin(r, 60_000)).toBe(3);
      expect(r.err()).toMatch(giveUpLine(gone.base, 'no capture yet', cursor));
      await sleep(500); // nothing more comes
      expect(a.seen).toEqual([`/a${held[0].path}`]);
      expect(b.seen).toEqual([]);
      expect(r.out()).toBe('');
      // The first --from-start run's cursor: before the first capture (none forwarded).
      expect(JSON.parse(await readFile(cursor, 'utf8')).lastId).toBe('0');
    } finally {
      if (gone.proc.exitCode === null && gone.proc.signalCode === null) gone.proc.kill('SIGKILL');
      a.close();
      b.close();
    }
  }, 120_000);

  it('refuses a --to that is a receiver URL of the same server (a loop), with one line and exit 2', async () => {
    const bin = (await json<{ id: string; url: string }>(srv.base, 'POST', '/api/bins', {})).body;
    const binUrl = `${srv.base}/h/${bin.id}`;
    const port = new URL(srv.base).port;
    const cases = [
      [binUrl, '--to', `${targetBase}/ok`, '--to', binUrl], // the bin itself
      [binUrl, '--to', `http://localhost:${port}/h/another-bin-1234/x?y=1`], // another bin there, by another name for the host
      [bin.id, '--server', srv.base, '--to', `${srv.base}/h/${bin.id}/sub`], // the server given apart
    ];
    for (const args of cases) {
      const r = relay([...args, '--cursor', path.join(dir, 'c-loop.json')]);
      const code = await exitWithin(r, 15_000);
      if (code === 'still running') r.signal('SIGKILL');
      expect(code, args.join(' ')).toBe(2);
      expect(r.err()).toMatch(/^hooklab: --to \S+ is a receiver URL of the hooklab server the relay reads \(http:\/\/[^)]+\): every forward would be captured and forwarded again, in a loop\. Point --to at your app\.\n$/);
    }
    expect(existsSync(path.join(dir, 'c-loop.json'))).toBe(false);
  });

  it('--from-start: a first run forwards what the bin holds and says so; with a cursor file it resumes from that and says how to start over', async () => {
    const bin = (await json<{ id: string; url: string }>(srv.base, 'POST', '/api/bins', {})).body;
    const binUrl = `${srv.base}/h/${bin.id}`;
    const cursor = path.join(dir, 'c-fs.json');
    const held = await capture(binUrl, 3, 'held');
    got.length = 0;
    const r1 = relay([binUrl, '--to', `${targetBase}/fs`, '--from-start', '--once', '--cursor', cursor]);
    expect(await r1.exited).toBe(0);
    expect(r1.err()).toContain('forwarding the 3 requests the bin holds\n');
    expect(r1.err()).not.toContain('missed');
    expect(got.map((g) => g.sha)).toEqual(held.map((s) => s.sha));
    // Again with the flag, the cursor file there: only what is new, and why.
    const more = await capture(binUrl, 2, 'more');
    got.length = 0;
    const r2 = relay([binUrl, '--to', `${targetBase}/fs`, '--from-start', '--once', '--cursor', cursor]);
    expect(await r2.exited).toBe(0);
    expect(r2.err()).toContain(`--from-start: resuming from the cursor file ${cursor} instead (last forwarded: ${held[2].id}); to start over, delete that file\n`);
    expect(r2.err()).toContain('missed 2 while away, replaying');
    expect(got.map((g) => g.sha)).toEqual(more.map((s) => s.sha));
    // Deleted, it starts over.
    await rm(cursor);
    got.length = 0;
    const r3 = relay([binUrl, '--to', `${targetBase}/fs`, '--from-start', '--once', '--cursor', cursor]);
    expect(await r3.exited).toBe(0);
    expect(r3.err()).toContain('forwarding the 5 requests the bin holds\n');
    expect(got.map((g) => g.sha)).toEqual([...held, ...more].map((s) => s.sha));

    // On an empty bin, a first --from-start run writes its cursor at once: a later run (even
    // without the flag) gets what came meanwhile.
    const empty = (await json<{ id: string; url: string }>(srv.base, 'POST', '/api/bins', {})).body;
    const emptyUrl = `${srv.base}/h/${empty.id}`;
    const c2 = path.join(dir, 'c-fs-empty.json');
    const e1 = relay([emptyUrl, '--to', `${targetBase}/fs`, '--from-start', '--once', '--cursor', c2]);
    expect(await e1.exited).toBe(0);
    expect(e1.err()).toContain('forwarding the 0 requests the bin holds\n');
    const meanwhile = await capture(emptyUrl, 4, 'meanwhile');
    got.length = 0;
    const e2 = relay([emptyUrl, '--to', `${targetBase}/fs`, '--once', '--cursor', c2]);
    expect(await e2.exited).toBe(0);
    expect(e2.err()).toContain('missed 4 while away, replaying');
    expect(e2.err()).not.toContain('gone from the bin');
    expect(got.map((g) => g.sha)).toEqual(meanwhile.map((s) => s.sha));

    // The help says so.
    const help = spawnSync(process.execPath, [CLI, 'forward', '--help'], { cwd: ROOT, encoding: 'utf8' });
    expect(help.stdout.replace(/\s+/g, ' ')).toContain(
      '--from-start on a first run (no cursor file yet), also forward what the bin holds already; with a cursor file it resumes from that file instead (delete the file to start over)',
    );
  }, 90_000);

  it('a wrong --token gets one line and exit 3 without showing it; the right one works for the API and the live link', async () => {
    const token = 'right-token-relay-42';
    const locked = await spawnServer({ DATA_DIR: path.join(dir, 'locked'), AUTH_TOKEN: token });
    try {
      const res = await fetch(`${locked.base}/api/bins`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: '{}' });
      const bin = (await res.json()) as { id: string };
      const binUrl = `${locked.base}/h/${bin.id}`;
      const cursor = path.join(dir, 'c-token.json');
      const wrong = relay([binUrl, '--to', `${targetBase}/t`, '--token', 'not-the-token-99', '--cursor', cursor]);
      expect(await wrong.exited).toBe(3);
      expect(wrong.err()).toMatch(/^hooklab: http:\/\/127\.0\.0\.1:\d+ refused the access token given \(--token or HOOKLAB_TOKEN\) \([^\n]*\)\n$/);
      expect(wrong.err() + wrong.out()).not.toContain('not-the-token-99');
      const none = relay([binUrl, '--to', `${targetBase}/t`, '--cursor', cursor]);
      expect(await none.exited).toBe(3);
      expect(none.err()).toMatch(/^hooklab: http:\/\/127\.0\.0\.1:\d+ wants an access token: pass --token or set HOOKLAB_TOKEN \([^\n]*\)\n$/);
      expect(existsSync(cursor)).toBe(false);
      // The right one: the live link (Socket.IO) subscribes and each capture is fetched (REST).
      const right = relay([binUrl, '--to', `${targetBase}/t`, '--token', token, '--cursor', cursor]);
      await until(() => right.err().includes('forwarding'), 'the relay to start');
      got.length = 0;
      const live = await capture(binUrl, 3, 'tok');
      await until(() => got.length >= 3, '3 forwards');
      expect(got.map((g) => g.sha)).toEqual(live.map((s) => s.sha));
      right.stop();
      expect(await right.exited).toBe(0);
      expect(right.err() + right.out()).not.toContain(token);
    } finally {
      locked.proc.kill('SIGTERM');
      await locked.exited;
    }
  });
});
