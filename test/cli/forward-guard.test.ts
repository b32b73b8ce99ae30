// The relay (hooklab forward) where a probe found it going wrong: a token refused or rate-limited
// on the live link while it runs, two relays on one cursor file, a cursor file of another bin or
// of a bin deleted and made again, a connection that dies without a word while a capture is
// fetched, and the lines it says. Real servers over loopback, real Socket.IO, the CLI as a process.
import { type ChildProcess, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import net, { type AddressInfo, type Socket } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CliError, call } from '../../server/cli/client.ts';
import { send } from '../helpers/http.ts';
import { type ServerProcess, spawnServer } from '../helpers/process.ts';
import { json, tempDir } from '../helpers/server.ts';
import { CLI, ROOT, spawnRelay } from '../helpers/relay.ts';


let srv: ServerProcess;
let dir: string;
let target: http.Server;
let targetBase: string;
/** What the shared target got: the sub-paths, in order. */
const got: string[] = [];
const children: ChildProcess[] = [];
const servers: ServerProcess[] = [];
const closers: (() => unknown)[] = [];

beforeAll(async () => {
  dir = await tempDir();
  srv = await spawnServer({ DATA_DIR: path.join(dir, 'data') });
  target = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      got.push(new URL(req.url!, 'http://x').pathname);
      res.end('ok');
    });
  });
  await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
  targetBase = `http://127.0.0.1:${(target.address() as AddressInfo).port}`;
});

afterAll(async () => {
  for (const p of children) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  for (const close of closers) await close();
  for (const s of [srv, ...servers]) {
    if (s.proc.exitCode === null && s.proc.signalCode === null) s.proc.kill('SIGKILL');
    await s.exited;
  }
  target.close();
  await rm(dir, { recursive: true, force: true });
});

const relay = (args: string[]) => spawnRelay(args, children);

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const exitWithin = (r: ReturnType<typeof relay>, ms: number) => Promise.race([r.exited, sleep(ms).then(() => 'still running' as const)]);
async function until(check: () => boolean, what: string, ms = 30_000) {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(25)) if (check()) return;
  throw new Error(`timed out waiting for ${what}`);
}
const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

async function newBin(base: string, token?: string, id?: string): Promise<{ id: string; createdAt: string }> {
  const res = await fetch(`${base}/api/bins`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(id ? { id } : {}),
  });
  expect(res.status, await res.clone().text()).toBe(201);
  return (await res.json()) as { id: string; createdAt: string };
}

/** n captures; answers their ids. */
async function capture(binUrl: string, n: number, tag: string): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const r = await send(`${binUrl}/${tag}/${i}?i=${i}`, { body: `${tag} ${i}` });
    expect(r.status).toBe(200);
    ids.push(r.headers['x-hooklab-request-id'] as string);
  }
  return ids;
}
const paths = (tag: string, n: number, from = 0) => Array.from({ length: n }, (_, i) => `${tag}/${from + i}`);

/** A target that answers at once or, told to hold, keeps its answers until released. */
async function holdingTarget() {
  const seen: string[] = [];
  const held: (() => void)[] = [];
  let holding = false;
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      seen.push(new URL(req.url!, 'http://x').pathname);
      if (holding) held.push(() => res.end('ok'));
      else res.end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  closers.push(() => (server.closeAllConnections(), server.close()));
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    held: () => held.length,
    hold: () => void (holding = true),
    release: () => {
      holding = false;
      for (const end of held.splice(0)) end();
    },
  };
}

/**
 * A TCP proxy in front of a hooklab that sees the HTTP request lines going through. It can cut
 * every connection (a reset, as a restart), or make them dead: held open with nothing passing
 * either way, never told (a NAT that forgot them, a Wi-Fi roam).
 */
async function tcpProxy(upstream = 'http://127.0.0.1:9') {
  let u = new URL(upstream);
  interface Conn {
    c: Socket;
    up: Socket;
    dead: boolean;
    lines: string[];
  }
  const conns = new Set<Conn>();
  let newDead = false;
  /** Socket.IO handshakes (no session id yet), with when they came. */
  const handshakes: number[] = [];
  const server = net.createServer((c) => {
    const up = net.connect(Number(u.port), u.hostname);
    const conn: Conn = { c, up, dead: newDead, lines: [] };
    conns.add(conn);
    c.on('data', (d: Buffer) => {
      for (const m of d.toString('latin1').matchAll(/^(GET|POST|PUT|DELETE|PATCH|HEAD) (\S+) HTTP\/1\.1\r$/gm)) {
        conn.lines.push(m[2]);
        if (/^\/socket\.io\/\?/.test(m[2]) && !/[?&]sid=/.test(m[2])) handshakes.push(Date.now());
      }
      if (!conn.dead) up.write(d);
    });
    up.on('data', (d: Buffer) => {
      if (!conn.dead) c.write(d);
    });
    const done = () => {
      c.destroy();
      up.destroy();
      conns.delete(conn);
    };
    c.on('error', done).on('close', done);
    // Dead, the server's close (its keep-alive timeout, say) does not reach the client either.
    up.on('error', () => (conn.dead ? up.destroy() : done())).on('close', () => (conn.dead ? undefined : done()));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  closers.push(() => {
    for (const x of conns) (x.c.destroy(), x.up.destroy());
    server.close();
  });
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    /** Where it leads (for a hooklab started after it, to be told the proxy's address). */
    to: (url: string) => void (u = new URL(url)),
    handshakes,
    conns: () => [...conns],
    /** Reset every connection open now. */
    cut: () => {
      for (const x of conns) (x.c.destroy(), x.up.destroy());
    },
    /** Every connection open now, and each one made from now on, passes nothing, silently. */
    die: () => {
      newDead = true;
      for (const x of conns) x.dead = true;
    },
    /** New connections pass again (the dead ones stay dead). */
    revive: () => void (newDead = false),
  };
}

describe('hooklab forward: a token refused or rate-limited on the live link while it runs', () => {
  it('the token is changed while the relay runs: it ends with one line and exit 3, and the address is not locked out', async () => {
    const data = path.join(dir, 'revoked');
    let s = await spawnServer({ DATA_DIR: data, AUTH_TOKEN: 'first-token-1111' });
    servers.push(s);
    const port = new URL(s.base).port;
    const bin = await newBin(s.base, 'first-token-1111');
    const r = relay([`${s.base}/h/${bin.id}`, '--to', `${targetBase}/rv`, '--token', 'first-token-1111', '--cursor', path.join(dir, 'c-revoked.json')]);
    await until(() => r.err().includes('forwarding'), 'the relay to start');
    // Rotated: the server comes back with another token (and a low bar for wrong ones).
    s.proc.kill('SIGTERM');
    await s.exited;
    s = await spawnServer({ DATA_DIR: data, AUTH_TOKEN: 'second-token-2222', PORT: port, AUTH_FAILURES_PER_MINUTE: '4' });
    servers.push(s);
    // Before: it reconnected with the old token every few seconds, forever, saying nothing more.
    expect(await exitWithin(r, 45_000), r.err()).toBe(3);
    const lines = r.err().trim().split('\n');
    expect(lines.filter((l) => l.startsWith('hooklab: '))).toEqual([
      `hooklab: ${s.base} refused the access token given (--token or HOOKLAB_TOKEN) (401 on reconnecting: was it changed or revoked?)`,
    ]);
    expect(lines[lines.length - 1]).toMatch(/^hooklab: /);
    expect(r.err()).not.toContain('first-token-1111');
    // Its few tries did not get this address (every client on it) refused with the right token.
    const res = await fetch(`${s.base}/api/bins/${bin.id}`, { headers: { authorization: 'Bearer second-token-2222' } });
    expect(res.status).toBe(200);
  }, 120_000);

  it('a handshake refused with 429 (too many wrong tokens from this address) is said as such, and not tried again before its Retry-After', async () => {
    const s = await spawnServer({ DATA_DIR: path.join(dir, 'limited'), AUTH_TOKEN: 'the-token-3333', AUTH_FAILURES_PER_MINUTE: '2' });
    servers.push(s);
    const proxy = await tcpProxy(s.base);
    const bin = await newBin(s.base, 'the-token-3333');
    const r = relay([`${proxy.base}/h/${bin.id}`, '--to', `${targetBase}/rl`, '--token', 'the-token-3333', '--cursor', path.join(dir, 'c-limited.json')]);
    await until(() => r.err().includes('forwarding'), 'the relay to start');
    // Someone else on this address guesses wrong: every client on it gets 429 for a minute.
    for (let i = 0; i < 2; i++) {
      const res = await fetch(`${s.base}/api/bins`, { headers: { authorization: `Bearer wrong-${i}` } });
      expect(res.status).toBe(401);
    }
    proxy.cut(); // the relay's link drops and it reconnects
    await until(() => /rate-limiting/.test(r.err()) || r.ended(), 'the relay to meet the 429', 30_000);
    expect(r.err()).toMatch(
      new RegExp(`\\n${esc(proxy.base)} is rate-limiting this address \\(429 Too Many Requests: too many wrong access tokens from this address; try again in \\d+ s\\); trying again in (\\d+) s \\(its Retry-After\\)\\n`),
    );
    const wait = Number(/trying again in (\d+) s \(its Retry-After\)/.exec(r.err())![1]);
    expect(wait).toBeGreaterThan(30);
    // Not said as an unreachable server.
    expect(r.err()).not.toMatch(/cannot reach .*xhr poll error/);
    // And not tried again meanwhile (before: every 1-5 s).
    const tries = proxy.handshakes.length;
    await sleep(8000);
    expect(proxy.handshakes.length, r.err()).toBe(tries);
    expect(r.ended()).toBe(false);
    r.signal('SIGINT');
    expect(await r.exited).toBe(0);
  }, 90_000);
});

describe('hooklab forward: the cursor file', () => {
  it('a second relay on the same cursor file is refused with one line naming the one that holds it; a lock left by a killed relay is taken over', async () => {
    const bin = await newBin(srv.base);
    const binUrl = `${srv.base}/h/${bin.id}`;
    const sub = path.join(dir, 'same');
    await mkdir(sub);
    const cursor = path.join(sub, 'same.json');
    const a = relay([binUrl, '--to', `${targetBase}/same`, '--cursor', cursor]);
    await until(() => a.err().includes('forwarding') && existsSync(cursor), 'the first relay to start');
    const b = relay([binUrl, '--to', `${targetBase}/same`, '--cursor', cursor]);
    // Before: both ran, each capture went twice, and one died on the other's temporary file.
    expect(await exitWithin(b, 30_000)).toBe(2);
    expect(b.err()).toMatch(
      new RegExp(
        `^hooklab: the cursor file ${esc(cursor)} is in use by another hooklab forward \\(pid ${a.pid}, since \\S+\\): one relay per cursor file; ` +
          `stop that one, or give this one another --cursor \\(if no relay runs as pid ${a.pid}, delete ${esc(cursor)}\\.lock\\)\\n$`,
      ),
    );
    got.length = 0;
    await capture(binUrl, 5, 'same');
    await until(() => got.length >= 5, '5 forwards');
    await sleep(300);
    expect(got).toEqual(paths('/same/same', 5)); // once each
    // Killed: its lock stays, and the next relay takes it over, saying so.
    a.signal('SIGKILL');
    await a.exited;
    expect(existsSync(`${cursor}.lock`)).toBe(true);
    await capture(binUrl, 2, 'later');
    const c = relay([binUrl, '--to', `${targetBase}/same`, '--cursor', cursor, '--once']);
    expect(await c.exited, c.err()).toBe(0);
    expect(c.err()).toContain(`the cursor file's lock ${cursor}.lock was left by a relay that no longer runs (pid ${a.pid}): taken over\n`);
    expect(c.err()).toContain('missed 2 while away, replaying');
    expect(got.slice(5)).toEqual(paths('/same/later', 2));
    // Nothing left behind: no lock, no temporary file.
    expect((await readdir(sub)).sort()).toEqual(['same.json']);
  }, 90_000);

  it('records its bin: a cursor file of another bin is refused (exit 2) saying how to start over; one that is not a cursor says what to do', async () => {
    const x = await newBin(srv.base);
    const y = await newBin(srv.base);
    const cursor = path.join(dir, 'c-shared.json');
    // Y's captures come first: their ids sort below everything X's cursor will hold.
    await capture(`${srv.base}/h/${y.id}`, 2, 'y');
    await capture(`${srv.base}/h/${x.id}`, 3, 'x');
    const r1 = relay([`${srv.base}/h/${x.id}`, '--to', `${targetBase}/sh`, '--from-start', '--once', '--cursor', cursor]);
    expect(await r1.exited, r1.err()).toBe(0);
    const saved = JSON.parse(await readFile(cursor, 'utf8'));
    expect(saved).toMatchObject({ binId: x.id, server: srv.base, binCreatedAt: x.createdAt });
    got.length = 0;
    // Before: it went on from X's cursor and skipped Y's two older captures for good.
    const r2 = relay([`${srv.base}/h/${y.id}`, '--to', `${targetBase}/sh`, '--from-start', '--once', '--cursor', cursor]);
    expect(await r2.exited).toBe(2);
    expect(r2.err()).toBe(
      `hooklab: the cursor file ${cursor} is of bin ${x.id} on ${srv.base}, not of bin ${y.id}: give this bin a cursor file of its own (--cursor), or delete ${cursor} to start over\n`,
    );
    expect(got).toEqual([]);
    expect(JSON.parse(await readFile(cursor, 'utf8'))).toEqual(saved);
    // Its own cursor: all of Y.
    const r3 = relay([`${srv.base}/h/${y.id}`, '--to', `${targetBase}/sh`, '--from-start', '--once', '--cursor', path.join(dir, 'c-y.json')]);
    expect(await r3.exited).toBe(0);
    expect(got).toEqual(paths('/sh/y', 2));

    // Files that are not a cursor: refused, saying so and what to do.
    const bad = path.join(dir, 'c-bad.json');
    const cases: [string, RegExp][] = [
      ['{"lastId":12345}', /is not a hooklab forward cursor \("lastId" is 12345, not a request id\)/],
      ['[]', /is not a hooklab forward cursor \(it holds an array, not an object\)/],
      ['{"lastId":"0","lastSeq":-1}', /is not a hooklab forward cursor \("lastSeq" is -1, not an arrival number\)/],
      ['', /is empty/],
      ['{"lastId":"0', /is not valid JSON \(line 1, column 13: a string that is never closed\)/],
      // Not quoted (it may hold anything), and on one line, whatever the file holds.
      ['some notes\nwhsec_abc on line two', /is not valid JSON \(line 1, column 1: [^\n]*\)/],
    ];
    for (const [text, why] of cases) {
      await writeFile(bad, text);
      const r = relay([`${srv.base}/h/${y.id}`, '--to', `${targetBase}/sh`, '--once', '--cursor', bad]);
      expect(await r.exited, text).toBe(2);
      expect(r.err(), text).toMatch(new RegExp(`^hooklab: the cursor file ${esc(bad)} ${why.source}`));
      expect(r.err(), text).toMatch(/: fix it, or delete it to start over \(the relay then starts from where the bin stands now; with --from-start, from the first capture it holds\)\n$/);
      expect(r.err().split('\n')).toHaveLength(2);
      expect(r.err()).not.toContain('whsec_abc');
    }
  }, 90_000);

  it('a bin deleted and made again with the same id while the relay was stopped: said, with the old captures lost; it goes on with the new bin from its start', async () => {
    const id = `remade-${Date.now().toString(36)}`;
    await newBin(srv.base, undefined, id);
    const binUrl = `${srv.base}/h/${id}`;
    const cursor = path.join(dir, 'c-remade.json');
    await capture(binUrl, 5, 'old');
    const r1 = relay([binUrl, '--to', `${targetBase}/rm`, '--from-start', '--once', '--cursor', cursor]);
    expect(await r1.exited).toBe(0);
    // While it is stopped: two more, then the bin is deleted (with them) and made again.
    await capture(binUrl, 2, 'lost');
    expect((await json(srv.base, 'DELETE', `/api/bins/${id}`)).status).toBe(204);
    const again = await newBin(srv.base, undefined, id);
    await capture(binUrl, 3, 'new');
    got.length = 0;
    const r2 = relay([binUrl, '--to', `${targetBase}/rm`, '--once', '--cursor', cursor]);
    expect(await r2.exited, r2.err()).toBe(0);
    // Before: "missed 3 while away", and the two lost ones never mentioned.
    expect(r2.err()).toMatch(
      new RegExp(`^bin ${id} was deleted and made again since the cursor file ${esc(cursor)} was written \\(made \\S+, now ${esc(again.createdAt)}\\): the old bin's captures after the cursor \\(the last forwarded: [0-9a-z]+\\) went with it, how many is unknown; going on with the new bin from its first capture\\n`),
    );
    expect(r2.err()).toContain('forwarding the 3 requests the bin holds\n');
    expect(got).toEqual(paths('/rm/new', 3));
    expect(JSON.parse(await readFile(cursor, 'utf8')).binCreatedAt).toBe(again.createdAt);

    // A cursor file from before this hooklab (no bin in it) cannot tell the bin was made again:
    // its last capture is gone, so what came after it may be too, said without a count.
    const id2 = `remade-legacy-${Date.now().toString(36)}`;
    await newBin(srv.base, undefined, id2);
    const url2 = `${srv.base}/h/${id2}`;
    const legacy = path.join(dir, 'c-remade-legacy.json');
    await capture(url2, 5, 'old');
    const r3 = relay([url2, '--to', `${targetBase}/lg`, '--from-start', '--once', '--cursor', legacy]);
    expect(await r3.exited).toBe(0);
    const { lastId, lastSeq } = JSON.parse(await readFile(legacy, 'utf8')) as { lastId: string; lastSeq: number };
    expect(lastSeq).toBe(5);
    await writeFile(legacy, JSON.stringify({ lastId, lastSeq }));
    await capture(url2, 2, 'lost');
    expect((await json(srv.base, 'DELETE', `/api/bins/${id2}`)).status).toBe(204);
    await newBin(srv.base, undefined, id2);
    await capture(url2, 3, 'new'); // numbers 1-3
    got.length = 0;
    const r4 = relay([url2, '--to', `${targetBase}/lg`, '--once', '--cursor', legacy]);
    expect(await r4.exited, r4.err()).toBe(0);
    expect(r4.err()).toContain("the bin's arrival numbers went back below the last request forwarded (the bin deleted and made again, or the server stopped before writing its latest captures): any that came after it and are gone were not forwarded, how many is unknown\n");
    expect(r4.err()).toContain('missed 3 while away, replaying');
    expect(got).toEqual(paths('/lg/new', 3));
  }, 90_000);
});

describe('hooklab forward: a connection that dies without a word', () => {
  it('an API call the server never answers ends after its timeout, as unreachable (and so retried), not after undici\'s 300 s', async () => {
    const silent = net.createServer((c) => c.on('data', () => {}));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    closers.push(() => silent.close());
    const base = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
    const t0 = Date.now();
    const e = await call({ server: base, token: null }, 'GET', '/api/bins/abcd1234', { timeoutMs: 300 }).then(
      () => null,
      (x: unknown) => x,
    );
    expect(e).toBeInstanceOf(CliError);
    expect((e as CliError).message).toBe(`cannot reach hooklab at ${base} (nothing came for 0.3 s)`);
    expect((e as CliError).transient).toBe(true);
    expect(Date.now() - t0).toBeLessThan(10_000);
  });

  it('an answer that keeps arriving is not cut off, however long it takes in all: the timeout is for silence', async () => {
    const slow = http.createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      let n = 0;
      const t = setInterval(() => {
        res.write(' ');
        if (++n === 10) {
          clearInterval(t);
          res.end('{"whole":true}');
        }
      }, 100);
    });
    await new Promise<void>((r) => slow.listen(0, '127.0.0.1', r));
    closers.push(() => slow.close());
    const base = `http://127.0.0.1:${(slow.address() as AddressInfo).port}`;
    // 1 s in all, against a timeout of 0.3 s: a byte every 0.1 s.
    const res = await call({ server: base, token: null }, 'GET', '/api/bins/abcd1234', { timeoutMs: 300 });
    expect(await res.json()).toEqual({ whole: true });
  });

  it('a capture being fetched on a connection that went dead is asked again as soon as the live link is back, not minutes later', async () => {
    const proxy = await tcpProxy();
    const s = await spawnServer({ DATA_DIR: path.join(dir, 'dead'), ALLOWED_HOSTS: new URL(proxy.base).host });
    servers.push(s);
    proxy.to(s.base);
    const t = await holdingTarget();
    const bin = await newBin(s.base);
    // --prefetch 1: each capture fetched as its turn comes (this is about a fetch between two).
    const r = relay([`${proxy.base}/h/${bin.id}`, '--to', `${t.base}/dd`, '--cursor', path.join(dir, 'c-dead.json'), '--timeout', '60s', '--prefetch', '1']);
    await until(() => r.err().includes('forwarding'), 'the relay to start');
    t.hold();
    const ids = await capture(`${s.base}/h/${bin.id}`, 3, 'dd');
    await until(() => t.held() === 1, 'the relay mid-forward');
    // The network goes (no reset: nothing passes, nobody is told), with the relay about to
    // fetch the next capture.
    proxy.die();
    t.release();
    const fetching = () => proxy.conns().find((x) => x.dead && x.lines.includes(`/api/bins/${bin.id}/export?ids=${ids[1]}`));
    await until(() => !!fetching(), 'the fetch of the second capture, on a dead connection');
    // The network is back; the live link's connection is found dead (here: reset, as a ping
    // timeout would end it) and it reconnects. The fetch's connection stays dead.
    proxy.revive();
    const stuck = fetching()!;
    for (const x of proxy.conns()) if (x !== stuck) (x.c.destroy(), x.up.destroy());
    await until(() => r.err().includes('reconnected to'), 'the live link back');
    // Before: the fetch hung on its dead connection for undici's 300 s.
    await until(() => t.seen.length >= 3, 'the other two forwarded', 20_000);
    expect(t.seen).toEqual(paths('/dd/dd', 3));
    expect(r.err()).not.toContain("nothing came for");
    r.signal('SIGINT');
    expect(await r.exited).toBe(0);
  }, 90_000);
});

describe('hooklab forward: what it says', () => {
  it('an unknown bin and a cursor file that cannot be written: one clear line each, before "forwarding"', async () => {
    const unknown = relay([`${srv.base}/h/no-such-bin-1234`, '--to', targetBase, '--cursor', path.join(dir, 'c-unknown.json')]);
    expect(await unknown.exited).toBe(2);
    expect(unknown.err()).toBe(`hooklab: there is no bin no-such-bin-1234 on ${srv.base}: check the bin's id or receiver URL (\`hooklab bin new\` makes a bin)\n`);
    const bin = await newBin(srv.base);
    const nowhere = path.join(dir, 'no-such-dir', 'c.json');
    const r = relay([`${srv.base}/h/${bin.id}`, '--to', targetBase, '--cursor', nowhere]);
    expect(await exitWithin(r, 30_000)).toBe(2);
    // Before: "forwarding …" first, then this.
    expect(r.err()).toBe(`hooklab: cannot write the cursor file ${nowhere}: no such file or directory (ENOENT)\n`);
    const file = path.join(dir, 'a-file');
    await writeFile(file, 'x');
    const under = relay([`${srv.base}/h/${bin.id}`, '--to', targetBase, '--cursor', path.join(file, 'c.json')]);
    expect(await exitWithin(under, 30_000)).toBe(2);
    expect(under.err()).toBe(`hooklab: cannot write the cursor file ${path.join(file, 'c.json')}: a part of the path is not a directory (ENOTDIR)\n`);
  });

  it('captures gone from the bin before they could be forwarded are named (method, path, arrival) and counted', async () => {
    const t = await holdingTarget();
    const bin = await newBin(srv.base);
    const binUrl = `${srv.base}/h/${bin.id}`;
    const r = relay([binUrl, '--to', `${t.base}/g`, '--cursor', path.join(dir, 'c-gone.json'), '--timeout', '60s']);
    await until(() => r.err().includes('forwarding'), 'the relay to start');
    t.hold();
    const ids = await capture(binUrl, 3, 'gone');
    await until(() => t.held() === 1, 'the relay mid-forward');
    const items = (await json<{ requests: { id: string; receivedAt: string }[] }>(srv.base, 'GET', `/api/bins/${bin.id}/requests`)).body.requests;
    const at = (id: string) => items.find((x) => x.id === id)!.receivedAt;
    expect((await json(srv.base, 'DELETE', `/api/bins/${bin.id}/requests`)).status).toBe(204);
    t.release();
    await until(() => (r.err().match(/lost so far/g) ?? []).length >= 2, 'the two gone ones said');
    // Before: "<id>: gone from the bin before it could be forwarded (deleted or evicted)".
    expect(r.err()).toContain(
      `gone from the bin before it could be forwarded (deleted, or pushed out by its cap): POST /gone/1?i=1 received ${at(ids[1])} (id ${ids[1]}); 1 lost so far\n` +
        `gone from the bin before it could be forwarded (deleted, or pushed out by its cap): POST /gone/2?i=2 received ${at(ids[2])} (id ${ids[2]}); 2 lost so far\n`,
    );
    // A line on stdout too, as for a capture no target got for another reason (before: none).
    const out = r.out().trim().split('\n');
    expect(out.slice(-2)).toEqual([
      expect.stringMatching(new RegExp(`  POST /gone/1\\?i=1  → gone \\(0 ms\\) ${esc(t.base)}/g/gone/1\\?i=1$`)),
      expect.stringMatching(new RegExp(`  POST /gone/2\\?i=2  → gone \\(0 ms\\) ${esc(t.base)}/g/gone/2\\?i=2$`)),
    ]);
    r.signal('SIGINT');
    expect(await r.exited).toBe(0);
  });

  it('--once without --give-up gives up after its own 60 s, and says that bound was --once\'s, not a --give-up given', async () => {
    const s = await spawnServer({ DATA_DIR: path.join(dir, 'once-default') });
    servers.push(s);
    const t = await holdingTarget();
    const bin = await newBin(s.base);
    const ids = await capture(`${s.base}/h/${bin.id}`, 2, 'od');
    const cursor = path.join(dir, 'c-once-default.json');
    t.hold();
    // --prefetch 1: the second capture is still to be fetched when the server goes.
    const r = relay([`${s.base}/h/${bin.id}`, '--to', `${t.base}/od`, '--from-start', '--once', '--cursor', cursor, '--timeout', '60s', '--prefetch', '1']);
    await until(() => t.held() === 1, 'the relay mid-forward');
    s.proc.kill('SIGKILL');
    await s.exited;
    t.release();
    expect(await exitWithin(r, 100_000)).toBe(3);
    // Before: "gave up (--give-up)", a flag never given.
    expect(r.err()).toMatch(
      new RegExp(
        `\\nhooklab: hooklab at ${esc(s.base)} could not be reached \\(or kept failing\\) for 60 s: gave up \\(--once waits 60 s unless --give-up says otherwise\\); ` +
          `the last capture every target had: ${ids[0]}; run again to go on from the cursor file ${esc(cursor)}\\n$`,
      ),
    );
  }, 150_000);

  it('a target answering 5xx has had the capture (the relay forwards, it does not retry answers): --help says so, and --once exits 0', async () => {
    const failing = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(500).end('no'));
    });
    await new Promise<void>((r) => failing.listen(0, '127.0.0.1', r));
    closers.push(() => failing.close());
    const bin = await newBin(srv.base);
    await capture(`${srv.base}/h/${bin.id}`, 2, 'f');
    const r = relay([`${srv.base}/h/${bin.id}`, '--to', `http://127.0.0.1:${(failing.address() as AddressInfo).port}/`, '--from-start', '--once', '--cursor', path.join(dir, 'c-500.json')]);
    expect(await r.exited).toBe(0);
    expect(r.out().match(/→ 500 /g)).toHaveLength(2);
    const help = spawnSync(process.execPath, [CLI, 'forward', '--help'], { cwd: ROOT, encoding: 'utf8' });
    expect(help.stdout.replace(/\s+/g, ' ')).toContain(
      'A target that answers, with any status (a 4xx or 5xx too), has had the capture: the cursor moves on and it is not sent again (--once still exits 0); only one that does not answer (refused, timed out) is retried.',
    );
  });
});
