// The relay's batches (--prefetch) at their edges: a capture deleted on the server after its
// batch was fetched, and a batch whose URL a server or proxy refuses as too long (414, 431).
// Real servers over loopback, an HTTP proxy in front that sees (or refuses) the calls, the CLI
// as a process.
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { capture, inOrder, newBin, relayKit, sleep, until } from '../helpers/relay-kit.ts';

const { closers, file, relay, server, target } = relayKit();

/** A hooklab behind an HTTP proxy (see proxy). */
async function proxied(o: { refuseOver?: number; status?: number } = {}) {
  const p = await proxy(o);
  const s = await server({ ALLOWED_HOSTS: new URL(p.base).host });
  p.to(s.base);
  return { s, p };
}

/**
 * An HTTP proxy in front of a hooklab (the live link's WebSocket too), keeping the ids of each
 * export call it passed on, and what the server said to the relay over the live link. With
 * refuseOver, an export call whose URL is longer gets `status` (414) instead, as nginx's
 * large_client_header_buffers does. Made first: the hooklab behind it is told its address.
 */
async function proxy(o: { refuseOver?: number; status?: number }) {
  let u = new URL('http://127.0.0.1:9');
  const passed: string[][] = [];
  const refused: string[][] = [];
  let live = '';
  const sockets = new Set<net.Socket>();
  const idsOf = (url: string) => url.slice(url.indexOf('?ids=') + 5).split(',');
  const s = http.createServer((req, res) => {
    const url = req.url!;
    if (url.includes('/export?ids=')) {
      if (o.refuseOver !== undefined && url.length > o.refuseOver) {
        refused.push(idsOf(url));
        res.writeHead(o.status ?? 414, { 'content-type': 'text/html', connection: 'close' });
        res.end('<html><body>URI too long</body></html>');
        return;
      }
      passed.push(idsOf(url));
    }
    const up = http.request({ host: u.hostname, port: u.port, method: req.method, path: url, headers: req.headers }, (ur) => {
      res.writeHead(ur.statusCode!, ur.headers);
      if (url.startsWith('/socket.io/')) ur.on('data', (d: Buffer) => (live += d.toString('latin1')));
      ur.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  s.on('upgrade', (req: http.IncomingMessage, c: net.Socket, head: Buffer) => {
    const up = net.connect(Number(u.port), u.hostname, () => {
      const lines = [`${req.method} ${req.url} HTTP/1.1`];
      for (let i = 0; i < req.rawHeaders.length; i += 2) lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
      up.write(`${lines.join('\r\n')}\r\n\r\n`);
      up.write(head);
      c.pipe(up);
    });
    up.on('data', (d: Buffer) => {
      live += d.toString('latin1');
      c.write(d);
    });
    sockets.add(c).add(up);
    const done = () => (c.destroy(), up.destroy());
    c.on('error', done).on('close', done);
    up.on('error', done).on('close', done);
  });
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  closers.push(() => {
    for (const x of sockets) x.destroy();
    s.closeAllConnections();
    s.close();
  });
  return {
    base: `http://127.0.0.1:${(s.address() as AddressInfo).port}`,
    to: (url: string) => void (u = new URL(url)),
    /** The ids of each export call passed on to the server, in order. */
    passed,
    /** The ids of each export call refused, in order. */
    refused,
    /** What the server sent the relay over the live link so far (frames' text). */
    live: () => live,
  };
}

const goneLine = (method: string, p: string, id: string) => new RegExp(`gone from the bin before it could be forwarded \\(deleted, or pushed out by its cap\\): ${method} ${p} received \\S+ \\(id ${id}\\)`);

describe('hooklab forward: a capture deleted after its batch was fetched', () => {
  it('is not forwarded: the relay says it is gone, as one deleted before its fetch, and goes on with the next', async () => {
    const { s, p } = await proxied();
    const t = await target();
    const binId = await newBin(s.base);
    const ids = await capture(`${s.base}/h/${binId}`, 4, 'd');
    const cursor = file('c-deleted.json');
    t.hold();
    const r = relay([`${p.base}/h/${binId}`, '--to', `${t.base}/in`, '--from-start', '--once', '--cursor', cursor, '--json']);
    await until(() => t.held() === 1, 'the first capture at the target');
    // The four came in one call: the second is in the relay's hands already.
    expect(p.passed).toEqual([ids]);
    const del = await fetch(`${s.base}/api/bins/${binId}/requests/${ids[1]}`, { method: 'DELETE' });
    expect(del.status).toBe(204);
    // The event has gone by to the relay (which is idle, waiting for the target): a moment
    // more for it to be read there.
    await until(() => p.live().includes('requests:deleted'), 'the requests:deleted event on the live link');
    await sleep(300);
    t.release();
    expect(await r.exited, r.err()).toBe(0);
    expect(t.paths()).toEqual(['/in/d/0', '/in/d/2', '/in/d/3']);
    // --json: a line for each, the gone one too (before: none), every target's error `gone`.
    const lines = r.out().trim().split('\n').map((l) => JSON.parse(l) as { id: string; targets: { url: string; status: number | null; error?: string; errorDetail?: string }[] });
    expect(lines.map((l) => l.id)).toEqual(ids);
    expect(lines[1].targets).toEqual([
      { url: `${t.base}/in/d/1`, status: null, durationMs: 0, error: 'gone', errorDetail: 'gone from the bin before it could be forwarded (deleted, or pushed out by its cap)' },
    ]);
    for (const i of [0, 2, 3]) expect(lines[i].targets).toEqual([expect.objectContaining({ url: `${t.base}/in/d/${i}`, status: 200 })]);
    expect(r.err()).toMatch(goneLine('POST', '/d/1', ids[1]));
    expect(r.err()).toContain(`(id ${ids[1]}); 1 lost so far`);
    expect(p.passed).toEqual([ids]); // nothing asked again
    expect(JSON.parse(await readFile(cursor, 'utf8')).lastId).toBe(ids[3]);
  }, 120_000);

  it('a bin cleared meanwhile: none of the batch after the one at hand is forwarded, each said gone', async () => {
    const { s, p } = await proxied();
    const t = await target();
    const binId = await newBin(s.base);
    const ids = await capture(`${s.base}/h/${binId}`, 3, 'c');
    t.hold();
    const r = relay([`${p.base}/h/${binId}`, '--to', `${t.base}/in`, '--from-start', '--once', '--cursor', file('c-cleared.json')]);
    await until(() => t.held() === 1, 'the first capture at the target');
    expect(p.passed).toEqual([ids]);
    const del = await fetch(`${s.base}/api/bins/${binId}/requests`, { method: 'DELETE' });
    expect(del.status).toBe(204);
    await until(() => p.live().includes('requests:deleted'), 'the requests:deleted event on the live link');
    await sleep(300);
    t.release();
    expect(await r.exited, r.err()).toBe(0);
    // The one at hand was on its way to the target already.
    expect(t.paths()).toEqual(['/in/c/0']);
    expect(r.err()).toMatch(goneLine('POST', '/c/1', ids[1]));
    expect(r.err()).toMatch(goneLine('POST', '/c/2', ids[2]));
    expect(r.err()).toContain('2 lost so far');
  }, 120_000);
});

describe('hooklab forward: a batch whose URL is refused as too long (414, 431)', () => {
  it('a proxy answering 414 to a long URL: the batch is halved until it passes, and stays so; every capture forwarded once, in order', async () => {
    // 32 ids (~640 characters) and 16 are refused, 8 pass.
    const { s, p } = await proxied({ refuseOver: 300 });
    const t = await target();
    const binId = await newBin(s.base);
    const ids = await capture(`${s.base}/h/${binId}`, 70, 'l');
    const cursor = file('c-414.json');
    const r = relay([`${p.base}/h/${binId}`, '--to', `${t.base}/in`, '--from-start', '--once', '--cursor', cursor]);
    expect(await r.exited, r.err()).toBe(0);
    expect(t.paths()).toEqual(inOrder('l', 70));
    expect(r.out().trim().split('\n')).toHaveLength(70);
    expect(p.refused.map((x) => x.length)).toEqual([32, 16]);
    expect(p.passed.map((x) => x.length)).toEqual([8, 8, 8, 8, 8, 8, 8, 8, 6]);
    expect(p.passed.flat()).toEqual(ids);
    expect(r.err()).toContain('answered 414 to a call for 32 captures, its URL too long: asking for 16 at a time from now on');
    expect(r.err()).toContain('answered 414 to a call for 16 captures, its URL too long: asking for 8 at a time from now on');
    expect(JSON.parse(await readFile(cursor, 'utf8')).lastId).toBe(ids[69]);
  }, 120_000);

  it('the hooklab server itself (MAX_HEADER_BYTES 1024) answering 431: the same', async () => {
    const s = await server({ MAX_HEADER_BYTES: '1024' });
    const t = await target();
    const binId = await newBin(s.base);
    await capture(`${s.base}/h/${binId}`, 70, 'h');
    const r = relay([`${s.base}/h/${binId}`, '--to', `${t.base}/in`, '--from-start', '--once', '--prefetch', '100', '--cursor', file('c-431.json')]);
    expect(await r.exited, r.err()).toBe(0);
    expect(t.paths()).toEqual(inOrder('h', 70));
    expect(r.err()).toContain('answered 431 to a call for 70 captures, its URL too long: asking for 35 at a time from now on');
  }, 120_000);

  it('refused with one id in it: an error as before (nothing forwarded)', async () => {
    const { s, p } = await proxied({ refuseOver: 10 });
    const t = await target();
    const binId = await newBin(s.base);
    await capture(`${s.base}/h/${binId}`, 3, 'o');
    const r = relay([`${p.base}/h/${binId}`, '--to', `${t.base}/in`, '--from-start', '--once', '--cursor', file('c-414-one.json')]);
    expect(await r.exited).not.toBe(0);
    expect(t.paths()).toEqual([]);
    expect(p.refused.map((x) => x.length)).toEqual([3, 1]);
    expect(r.err()).toContain('414');
  }, 120_000);

  it('--prefetch 1000: a call holds as many ids as fit in 4 KB (204 of 19 characters), as the help says (about 200)', async () => {
    const { s, p } = await proxied();
    const t = await target();
    const binId = await newBin(s.base);
    const ids = await capture(`${s.base}/h/${binId}`, 250, 'm');
    const r = relay([`${p.base}/h/${binId}`, '--to', `${t.base}/in`, '--from-start', '--once', '--prefetch', '1000', '--cursor', file('c-1000.json')]);
    expect(await r.exited, r.err()).toBe(0);
    expect(t.paths()).toEqual(inOrder('m', 250));
    expect(ids.every((id) => id.length === 19)).toBe(true);
    expect(p.passed.map((x) => x.length)).toEqual([204, 46]);
  }, 120_000);
});
