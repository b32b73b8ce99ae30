// The forwarding thread (FORWARD_WORKER): exchanges made on another thread come back whole,
// the sockets they go out on are known to the receiver's loop check before their requests
// arrive, and a thread that dies fails what it had in hand, restarts and says so meanwhile.
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { BatchedWorker, Batcher } from '../../server/lib/batched-worker.ts';
import { type ForwardThread, startForwardThread } from '../../server/forward/forward-thread-client.ts';
import { SelfConnections } from '../../server/forward/self-connections.ts';

const closers: (() => void)[] = [];
afterEach(() => {
  for (const c of closers.splice(0)) c();
});

async function server(handler: http.RequestListener) {
  const srv = http.createServer(handler);
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  closers.push(() => srv.close());
  return `http://127.0.0.1:${(srv.address() as AddressInfo).port}`;
}

function thread(self?: SelfConnections): ForwardThread {
  const t = startForwardThread({ policy: null, publicUrl: () => 'http://127.0.0.1:1', timeoutMs: 5000, maxResponseBytes: 1024, connectionsPerOrigin: 8, self });
  closers.push(() => t.close());
  return t;
}

const dest = (base: string, path: string) => {
  const u = new URL(path, base);
  return { href: u.href, origin: u.origin, path: u.pathname + u.search, host: u.host };
};

describe('forwarding thread', () => {
  it('sends byte-exact from the thread and answers with the status, headers and body (a Buffer)', async () => {
    let got: { url?: string; headers: string[]; sha: string } | null = null;
    const base = await server((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (d: Buffer) => chunks.push(d));
      req.on('end', () => {
        got = { url: req.url, headers: req.rawHeaders, sha: createHash('sha256').update(Buffer.concat(chunks)).digest('hex') };
        res.writeHead(201, { 'X-Answer': 'yes' }).end(Buffer.from([0, 1, 2, 255]));
      });
    });
    const body = randomBytes(5000);
    const r = await thread().exchange({
      d: dest(base, '/hooks/a?x=1'),
      c: { method: 'POST', path: '/a', queryString: 'x=1', headers: ['X-Signature', 'v1=abc', 'x-repeat', '1', 'X-Repeat', '2'], body },
      connections: 'unchecked',
      track: false,
      soon: false,
    });
    expect(r).toMatchObject({ status: 201, error: null, bodyTruncated: false });
    expect(Buffer.isBuffer(r.body)).toBe(true);
    expect([...r.body]).toEqual([0, 1, 2, 255]);
    // The answer crossed as its own 4 bytes, not as a view of the thread's 8 KiB buffer pool
    // (a message carries a view's whole buffer: 8 KiB copied and kept per forward).
    expect(r.body.buffer.byteLength).toBe(4);
    expect(r.headers).toContainEqual(['X-Answer', 'yes']);
    expect(got!.url).toBe('/hooks/a?x=1');
    expect(got!.sha).toBe(createHash('sha256').update(body).digest('hex'));
    expect(got!.headers).toEqual(expect.arrayContaining(['X-Signature', 'v1=abc', 'x-repeat', '1', 'X-Repeat', '2']));
  });

  it("the receiver's loop check knows a tracked forward's socket when its request arrives, and only that request", async () => {
    const self = new SelfConnections();
    const seen: { url?: string; own: boolean }[] = [];
    const base = await server((req, res) => {
      // What the receiver asks, at the moment the request arrives.
      seen.push({ url: req.url, own: self.isOwn(req.socket, req.method, req.url) });
      req.resume().on('end', () => res.end('ok'));
    });
    const t = thread(self);
    const c = { method: 'POST', path: '/p', queryString: '', headers: [], body: Buffer.from('x') };
    for (let i = 0; i < 20; i++) {
      const tracked = await t.exchange({ d: dest(base, `/loop/${i}`), c, connections: 'unchecked', track: true, soon: false });
      const untracked = await t.exchange({ d: dest(base, `/replay/${i}`), c, connections: 'unchecked', track: false, soon: true });
      expect([tracked.status, untracked.status]).toEqual([200, 200]);
    }
    // A plain client on this machine is never taken for a forward.
    await fetch(`${base}/plain`, { method: 'POST', body: 'x' });
    expect(seen.filter((s) => s.own).map((s) => s.url)).toEqual(Array.from({ length: 20 }, (_, i) => `/loop/${i}`));
    expect(seen.find((s) => s.url === '/plain')?.own).toBe(false);
    // Released once answered: nothing stays noted.
    await new Promise((r) => setTimeout(r, 50));
    expect(self.isOwn({ remotePort: 1, remoteAddress: '127.0.0.1' } as never, 'POST', '/loop/0')).toBe(false);
    expect(self.size).toBe(0);
  });

  it('a thread that dies answers its calls as lost, reports a fault, and starts again', async () => {
    let spawned = 0;
    const crashes: string[] = [];
    const w = new BatchedWorker<null, number, string>({
      url: new URL('file:///unused.js'),
      name: 'the test thread',
      faultCode: 'test_stopped',
      init: () => ({ workerData: null }),
      lost: (n) => `lost ${n}`,
      restartMinMs: 50,
      restartMaxMs: 400,
      onCrash: (m) => crashes.push(m),
      // Takes the first batch, then dies with it in hand.
      spawn: () => {
        spawned++;
        return new Worker('require("worker_threads").parentPort.once("message", () => process.exit(3))', { eval: true });
      },
    });
    closers.push(() => w.close());
    expect(await Promise.all([w.call(1), w.call(2)])).toEqual(['lost 1', 'lost 2']);
    expect(w.fault()).toMatchObject({ code: 'test_stopped' });
    expect(crashes[0]).toMatch(/the test thread stopped \(exit code 3/);
    await new Promise((r) => setTimeout(r, 500));
    expect(spawned).toBeGreaterThanOrEqual(2);
  });

  it('batches: a call alone goes at the end of the turn; while others are in hand, calls wait to fill a batch; one waited for goes at the end of the turn; a full batch goes at once', async () => {
    const sent: number[][] = [];
    let busy = false;
    const b = new Batcher<number>((batch) => sent.push(batch), () => !busy, 4);
    const turn = () => new Promise((r) => setImmediate(r));
    b.add(1);
    await turn();
    expect(sent).toEqual([[1]]);
    busy = true;
    b.add(2);
    b.add(3);
    await turn();
    expect(sent).toHaveLength(1); // waiting for more
    await new Promise((r) => setTimeout(r, 200));
    expect(sent).toEqual([[1], [2, 3]]);
    // One that someone waits for takes the batch with it at the end of the turn.
    b.add(4);
    b.add(5, true);
    await turn();
    expect(sent[2]).toEqual([4, 5]);
    for (let i = 0; i < 64; i++) b.add(i);
    expect(sent[3]).toHaveLength(64); // no wait
    // Without a delay (the dispatcher's: each answer may hold up the next), busy or not, a turn.
    const prompt: number[][] = [];
    const p = new Batcher<number>((batch) => prompt.push(batch), () => false, 0);
    p.add(1);
    p.add(2);
    await turn();
    expect(prompt).toEqual([[1, 2]]);
  });

  it('the loop table: a request from a forward\'s port is ours only with that forward\'s request line, and only while it is in flight', () => {
    const self = new SelfConnections();
    const out = (port: number) => ({ localPort: port, once() {}, off() {} }) as never;
    const inbound = (port: number) => ({ remotePort: port }) as never;
    const release = self.track(out(5000), 'POST', '/h/abc/x?y=1');
    expect(self.isOwn(inbound(5000), 'POST', '/h/abc/x?y=1')).toBe(true);
    // Another client that the kernel gave the same port (to another destination): not ours.
    expect(self.isOwn(inbound(5000), 'POST', '/h/abc/other')).toBe(false);
    expect(self.isOwn(inbound(5001), 'POST', '/h/abc/x?y=1')).toBe(false);
    // The thread's view is the same memory.
    expect(new SelfConnections(self.shared).isOwn(inbound(5000), 'POST', '/h/abc/x?y=1')).toBe(true);
    release();
    expect(self.isOwn(inbound(5000), 'POST', '/h/abc/x?y=1')).toBe(false);
    expect(self.size).toBe(0);
  });
});
