// The relay (hooklab forward) fetches captures in batches (--prefetch): one call to the server
// for the capture at hand and those queued after it, not one per capture. Real servers over
// loopback, a TCP proxy in front that sees the calls, the CLI as a process.
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { capture, inOrder, newBin, relayKit, until } from '../helpers/relay-kit.ts';

const { closers, file, relay, server, target } = relayKit();

/** A hooklab behind a recording proxy. */
async function proxied(env: Record<string, string> = {}) {
  const proxy = await recordingProxy();
  const s = await server({ ALLOWED_HOSTS: new URL(proxy.base).host, ...env });
  proxy.to(s.base);
  return { s, proxy };
}

/**
 * A TCP proxy in front of a hooklab, keeping every HTTP request line that goes through (the
 * live link's too). Made first: the hooklab behind it is told its address (ALLOWED_HOSTS).
 */
async function recordingProxy() {
  let u = new URL('http://127.0.0.1:9');
  const lines: string[] = [];
  const sockets = new Set<net.Socket>();
  const proxy = net.createServer((c) => {
    const up = net.connect(Number(u.port), u.hostname);
    sockets.add(c).add(up);
    c.on('data', (d: Buffer) => {
      for (const m of d.toString('latin1').matchAll(/^(?:GET|POST|PUT|DELETE) (\S+) HTTP\/1\.1\r$/gm)) lines.push(m[1]);
      up.write(d);
    });
    up.on('data', (d) => c.write(d));
    const done = () => (c.destroy(), up.destroy());
    c.on('error', done).on('close', done);
    up.on('error', done).on('close', done);
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  closers.push(() => {
    for (const s of sockets) s.destroy();
    proxy.close();
  });
  return {
    base: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`,
    to: (url: string) => void (u = new URL(url)),
    /** The ids asked for in each export call, in order. */
    exports: (binId: string) => lines.filter((l) => l.startsWith(`/api/bins/${binId}/export?ids=`)).map((l) => l.slice(l.indexOf('=') + 1).split(',')),
  };
}

describe('hooklab forward: captures fetched in batches (--prefetch)', () => {
  it('70 held: three calls to the server (32, 32 and 6 captures, in order), every capture forwarded once, in order, byte-exact; --prefetch 10 makes seven', async () => {
    const { s, proxy } = await proxied();
    const t = await target();
    const binId = await newBin(s.base);
    const ids = await capture(`${s.base}/h/${binId}`, 70, 'b');
    const r = relay([`${proxy.base}/h/${binId}`, '--to', `${t.base}/in`, '--from-start', '--once', '--cursor', file('c-batches.json')]);
    expect(await r.exited, r.err()).toBe(0);
    expect(t.paths()).toEqual(inOrder('b', 70));
    expect(t.got.map((g) => g.body.toString())).toEqual(Array.from({ length: 70 }, (_, i) => `b ${i}`));
    expect(r.out().trim().split('\n')).toHaveLength(70);
    // Before: 70 calls, one per capture.
    const calls = proxy.exports(binId);
    expect(calls.map((c) => c.length)).toEqual([32, 32, 6]);
    expect(calls.flat()).toEqual(ids);

    const t2 = await target();
    const r2 = relay([`${proxy.base}/h/${binId}`, '--to', `${t2.base}/in`, '--from-start', '--once', '--prefetch', '10', '--cursor', file('c-batches-10.json')]);
    expect(await r2.exited, r2.err()).toBe(0);
    expect(t2.paths()).toEqual(inOrder('b', 70));
    expect(proxy.exports(binId).slice(3).map((c) => c.length)).toEqual([10, 10, 10, 10, 10, 10, 10]);
  }, 120_000);

  it('a batch holds at most 8 MiB of bodies (the first capture whatever its size): 3 MiB bodies go two by two, and arrive byte-exact', async () => {
    const { s, proxy } = await proxied({ MAX_BODY_BYTES: String(4 * 1024 * 1024) });
    const t = await target();
    const binId = await newBin(s.base);
    const big = (i: number) => Buffer.alloc(3 * 1024 * 1024, 0x61 + i);
    await capture(`${s.base}/h/${binId}`, 5, 'm', big);
    const r = relay([`${proxy.base}/h/${binId}`, '--to', `${t.base}/in`, '--from-start', '--once', '--cursor', file('c-big.json')]);
    expect(await r.exited, r.err()).toBe(0);
    expect(t.paths()).toEqual(inOrder('m', 5));
    for (let i = 0; i < 5; i++) expect(t.got[i].body.equals(big(i)), `body ${i}`).toBe(true);
    expect(proxy.exports(binId).map((c) => c.length)).toEqual([2, 2, 1]);
  }, 120_000);

  it('the server goes while a fetched batch is being forwarded: the batch is still forwarded, in order; the next fetch then fails and --once gives up (exit 3) naming the batch\'s last, as the cursor does', async () => {
    const s = await server();
    const t = await target();
    const binId = await newBin(s.base);
    const ids = await capture(`${s.base}/h/${binId}`, 40, 'g');
    const cursor = file('c-gone.json');
    t.hold();
    const r = relay([`${s.base}/h/${binId}`, '--to', `${t.base}/in`, '--from-start', '--once', '--give-up', '2s', '--cursor', cursor]);
    await until(() => t.held() === 1, 'the first capture at the target');
    s.proc.kill('SIGKILL');
    await s.exited;
    t.release();
    expect(await r.exited).toBe(3);
    expect(t.paths()).toEqual(inOrder('g', 32));
    expect(r.out().trim().split('\n')).toHaveLength(32);
    expect(r.err()).toContain(`gave up (--give-up); the last capture every target had: ${ids[31]}; run again to go on from the cursor file ${cursor}`);
    expect(JSON.parse(await readFile(cursor, 'utf8')).lastId).toBe(ids[31]);
  }, 120_000);

  it('--prefetch must be a whole number from 1 to 1000: anything else is refused at start, one line, exit 2', async () => {
    for (const bad of ['0', '1001', '2.5', 'lots', '']) {
      const r = relay(['http://127.0.0.1:9/h/abcdefgh12345678', '--to', 'http://127.0.0.1:9/in', '--prefetch', bad, '--cursor', file('c-bad.json')]);
      expect(await r.exited, bad).toBe(2);
      expect(r.err()).toBe(`hooklab: --prefetch must be a whole number from 1 to 1000, got "${bad}"\n`);
    }
  });
});
