// Issue 13, what the review found untested, against the compiled server (forwards and replays
// on its forwarding thread, as production runs them):
// - replayed binary and gzip bodies reach a real target with the sha256 they were captured
//   with (the gzip one not decoded on the way);
// - a bulk replay of a selection given in shuffled order goes out in arrival order, only the
//   selection, and its job ends finished with done = the selection's size;
// - hostile targets through background forwarding (not a replay): a redirect is not followed,
//   a reset and an endless answer are recorded without hurting the capture path, and a target
//   outside DISPATCH_ALLOW is refused when it is set.
import { createHash, randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { gunzipSync, gzipSync } from 'node:zlib';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ForwardRecord, ReplayJob, RequestDetail } from '../../shared/api.ts';
import { send } from '../helpers/http.ts';
import { type ServerProcess, spawnServer } from '../helpers/process.ts';
import { tempDir } from '../helpers/server.ts';

interface Got {
  method: string;
  url: string;
  headers: string[];
  body: Buffer;
}

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
const idOf = (r: { headers: Record<string, unknown> }) => r.headers['x-hooklab-request-id'] as string;
const header = (flat: string[], name: string) => {
  const i = flat.findIndex((h, j) => j % 2 === 0 && h.toLowerCase() === name);
  return i === -1 ? undefined : flat[i + 1];
};

/** A local HTTP server that records every request it gets (on its end) and answers via `answer`. */
async function recorder(host: string, answer: (req: http.IncomingMessage, res: http.ServerResponse) => void = (_q, res) => res.end('thanks')) {
  const got: Got[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      got.push({ method: req.method!, url: req.url!, headers: req.rawHeaders, body: Buffer.concat(chunks) });
      answer(req, res);
    });
  });
  await new Promise<void>((r) => server.listen(0, host, r));
  const base = `http://${host}:${(server.address() as AddressInfo).port}`;
  return {
    got,
    base,
    close() {
      server.closeAllConnections();
      server.close();
    },
  };
}

const procs: ServerProcess[] = [];
const dirs: string[] = [];
async function start(env: Record<string, string> = {}): Promise<ServerProcess> {
  const dataDir = await tempDir();
  dirs.push(dataDir);
  const p = await spawnServer({ DATA_DIR: dataDir, ...env });
  procs.push(p);
  return p;
}
afterAll(async () => {
  for (const p of procs) if (p.proc.exitCode === null && p.proc.signalCode === null) p.proc.kill('SIGKILL');
  await Promise.all(procs.map((p) => p.exited));
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

const newBin = async (base: string) => (await request(base).post('/api/bins').send({}).expect(201)).body as { id: string; url: string };
const detail = async (base: string, binId: string, id: string) => (await request(base).get(`/api/bins/${binId}/requests/${id}`).expect(200)).body as RequestDetail;
const raw = async (base: string, binId: string, id: string) =>
  Buffer.from(await (await fetch(`${base}/api/bins/${binId}/requests/${id}/raw`)).arrayBuffer());

describe('replay fidelity and bulk selections (the compiled server)', () => {
  let p: ServerProcess;
  let target: Awaited<ReturnType<typeof recorder>>;
  beforeAll(async () => {
    [p, target] = await Promise.all([start(), recorder('127.0.0.1')]);
  });
  afterAll(() => target?.close());

  it('a 64 KiB binary body with every byte value and a gzip body arrive at the target with the sha256 they were captured with', async () => {
    const bin = await newBin(p.base);
    // Every byte value, then random bytes: 64 KiB in all, certainly not UTF-8.
    const binary = Buffer.concat([Buffer.from(Array.from({ length: 256 }, (_, i) => 255 - i)), randomBytes(64 * 1024 - 256)]);
    const json = JSON.stringify({ event: 'order.paid', items: Array.from({ length: 200 }, (_, i) => ({ sku: `sku-${i}`, name: 'Zoë’s naïve café' })) });
    const gz = gzipSync(Buffer.from(json));
    const binId = idOf(await send(`${bin.url}/bin`, { headers: [['Content-Type', 'application/octet-stream']], body: binary }));
    const gzId = idOf(await send(`${bin.url}/gz`, { headers: [['Content-Type', 'application/json'], ['Content-Encoding', 'gzip']], body: gz }));

    for (const [id, sent, path] of [
      [binId, binary, '/bin'],
      [gzId, gz, '/gz'],
    ] as const) {
      // What hooklab kept is what was sent.
      const kept = await raw(p.base, bin.id, id);
      expect(sha(kept), `${path}: stored`).toBe(sha(sent));
      target.got.length = 0;
      const r = await request(p.base).post(`/api/bins/${bin.id}/requests/${id}/replay`).send({ url: `${target.base}/app` }).expect(200);
      expect((r.body.records as ForwardRecord[]).map((x) => [x.status, x.error, x.url])).toEqual([[200, null, `${target.base}/app${path}`]]);
      expect(target.got).toHaveLength(1);
      const g = target.got[0];
      expect(sha(g.body), `${path}: at the target`).toBe(sha(kept));
      expect(sha(g.body)).toBe(sha(sent));
      expect(Number(header(g.headers, 'content-length'))).toBe(sent.length);
    }

    // The gzip body went as it came: still compressed, still labelled so.
    target.got.length = 0;
    await request(p.base).post(`/api/bins/${bin.id}/requests/${gzId}/replay`).send({ url: target.base }).expect(200);
    const g = target.got[0];
    expect(header(g.headers, 'content-encoding')).toBe('gzip');
    expect(g.body.subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]));
    expect(gunzipSync(g.body).toString()).toBe(json);

    // An edited body given as base64 arrives as exactly those bytes (the UI's binary edit).
    const other = Buffer.from(binary).reverse();
    target.got.length = 0;
    const e = await request(p.base)
      .post(`/api/bins/${bin.id}/requests/${binId}/replay`)
      .send({ url: target.base, body: other.toString('base64'), bodyEncoding: 'base64' })
      .expect(200);
    expect(e.body.records[0]).toMatchObject({ status: 200, edited: true });
    expect(sha(target.got[0].body)).toBe(sha(other));
    // And the capture is untouched by it.
    expect(sha(await raw(p.base, bin.id, binId))).toBe(sha(binary));

    // Not base64 (Node's decoder would skip the "!" and send other bytes): refused, nothing sent.
    target.got.length = 0;
    const bad = await request(p.base)
      .post(`/api/bins/${bin.id}/requests/${binId}/replay`)
      .send({ url: target.base, body: 'AAEC!AwQ=', bodyEncoding: 'base64' })
      .expect(400);
    expect(bad.body.error).toMatchObject({ field: 'body' });
    expect(bad.body.error.message).toMatch(/base64/);
    expect(target.got).toHaveLength(0);
  });

  it('a bulk replay of a selection given in shuffled order sends only the selection, in arrival order', async () => {
    const bin = await newBin(p.base);
    const ids: string[] = [];
    for (let i = 0; i < 12; i++) ids.push(idOf(await send(`${bin.url}/n${i}`, { body: `n${i}` })));
    const picked = [1, 2, 4, 7, 8, 11];
    // A fixed shuffle, far from arrival order (reversed halves interleaved).
    const shuffled = [11, 2, 7, 1, 8, 4].map((i) => ids[i]);
    expect([...shuffled].sort()).toEqual(picked.map((i) => ids[i]));
    target.got.length = 0;
    const job = (await request(p.base).post(`/api/bins/${bin.id}/replay`).send({ url: `${target.base}/bulk`, ids: shuffled }).expect(202)).body as ReplayJob;
    expect(job).toMatchObject({ binId: bin.id, total: picked.length, done: 0, state: 'running' });
    await expect.poll(async () => ((await request(p.base).get(`/api/replays/${job.id}`).expect(200)).body as ReplayJob).state).toBe('finished');
    const end = (await request(p.base).get(`/api/replays/${job.id}`).expect(200)).body as ReplayJob;
    expect(end).toMatchObject({ total: picked.length, done: picked.length, failed: 0, error: null });
    expect(target.got.map((g) => g.url)).toEqual(picked.map((i) => `/bulk/n${i}`));
    expect(target.got.map((g) => g.body.toString())).toEqual(picked.map((i) => `n${i}`));
    // Each replayed capture has its record; the others none.
    for (const [i, id] of ids.entries()) {
      const kinds = (await detail(p.base, bin.id, id)).forwards.map((f) => f.kind);
      expect(kinds, `n${i}`).toEqual(picked.includes(i) ? ['replay'] : []);
    }
  });

  it('a bulk replay whose bin is deleted under it ends failed, saying so; a capture deleted under it counts as missing', async () => {
    // The target holds each answer until told: the job is mid-way when the bin goes.
    const held: http.ServerResponse[] = [];
    const slow = await recorder('127.0.0.1', (_q, res) => held.push(res));
    try {
      const bin = await newBin(p.base);
      const ids: string[] = [];
      for (let i = 0; i < 4; i++) ids.push(idOf(await send(bin.url, { body: `d${i}` })));
      const job = (await request(p.base).post(`/api/bins/${bin.id}/replay`).send({ url: slow.base }).expect(202)).body as ReplayJob;
      await expect.poll(() => held.length).toBe(1);
      // The second capture goes on its own: that one is counted missing (nothing sent), the job goes on.
      await request(p.base).delete(`/api/bins/${bin.id}/requests/${ids[1]}`).expect(204);
      held.shift()!.end('ok');
      await expect.poll(() => held.length).toBe(1); // the third
      await request(p.base).delete(`/api/bins/${bin.id}`).expect(204);
      held.shift()!.end('ok');
      await expect.poll(async () => ((await request(p.base).get(`/api/replays/${job.id}`).expect(200)).body as ReplayJob).state).toBe('failed');
      const end = (await request(p.base).get(`/api/replays/${job.id}`).expect(200)).body as ReplayJob;
      expect(end).toMatchObject({ total: 4, done: 3, failed: 0, missing: 1, error: 'the bin was deleted while it was being replayed' });
      expect(slow.got).toHaveLength(2);
    } finally {
      for (const r of held) r.end();
      slow.close();
    }
  });
});

describe('hostile targets of background forwarding (the compiled server)', () => {
  let p: ServerProcess;
  let target: Awaited<ReturnType<typeof recorder>>;
  let elsewhere: Awaited<ReturnType<typeof recorder>>;
  /** Endless answers whose connection hooklab has closed. */
  let endlessClosed = 0;
  beforeAll(async () => {
    elsewhere = await recorder('127.0.0.1', (_q, res) => res.end('followed!'));
    target = await recorder('127.0.0.1', (req, res) => {
      if (req.url!.startsWith('/redirect')) {
        res.writeHead(302, { location: `${elsewhere.base}/stolen` });
        res.end();
      } else if (req.url!.startsWith('/reset')) {
        req.socket.destroy();
      } else if (req.url!.startsWith('/endless')) {
        res.writeHead(200, { 'content-type': 'text/plain' });
        const chunk = Buffer.alloc(64 * 1024, 97);
        const more = () => {
          while (!res.destroyed && res.write(chunk));
          if (!res.destroyed) res.once('drain', more);
        };
        res.on('close', () => {
          res.removeAllListeners('drain');
          endlessClosed++;
        });
        more();
      } else res.end('thanks');
    });
    p = await start();
  });
  afterAll(() => {
    target?.close();
    elsewhere?.close();
  });

  /** Forward every capture of a new bin to `path` on the target; answers the bin. */
  const forwardingBin = async (path: string) => {
    const bin = await newBin(p.base);
    await request(p.base).put(`/api/bins/${bin.id}/forward`).send({ targets: [{ url: `${target.base}${path}` }] }).expect(200);
    return bin;
  };
  const forwardOf = async (binId: string, id: string) => {
    let rec: ForwardRecord | undefined;
    await expect
      .poll(async () => {
        rec = (await detail(p.base, binId, id)).forwards[0];
        return rec !== undefined;
      })
      .toBe(true);
    return rec!;
  };

  it('a redirect is recorded as the 302 it is, and not followed', async () => {
    const bin = await forwardingBin('/redirect');
    const r = await send(`${bin.url}/hook`, { body: 'x' });
    expect(r.status).toBe(200);
    const rec = await forwardOf(bin.id, idOf(r));
    expect(rec).toMatchObject({ kind: 'forward', status: 302, error: null, url: `${target.base}/redirect/hook` });
    expect(rec.headers.find(([n]) => n.toLowerCase() === 'location')?.[1]).toBe(`${elsewhere.base}/stolen`);
    // The record is written once the exchange is over: had it followed, that would be done by now.
    expect(elsewhere.got).toEqual([]);
    expect(target.got.filter((g) => g.url === '/redirect/hook')).toHaveLength(1);
  });

  it("the capture's sub-path and query string reach the target byte for byte, as they came in the request line", async () => {
    const bin = await forwardingBin('/raw');
    const binPath = new URL(bin.url).pathname;
    // What the URL parser would rewrite: a backslash, '#', quotes (Node refuses bytes past ASCII).
    const line = `${binPath}/x\\y/frag#ment/caf%C3%A9?q='1'#x&e=%ff`;
    const answer = await new Promise<string>((resolve, reject) => {
      const s = net.connect(Number(new URL(p.base).port), '127.0.0.1', () => s.end(Buffer.from(`POST ${line} HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nConnection: close\r\n\r\nx`, 'latin1')));
      let got = '';
      s.on('data', (d) => (got += d.toString('latin1')));
      s.on('end', () => resolve(got));
      s.on('error', reject);
    });
    expect(answer).toMatch(/^HTTP\/1\.1 200/);
    const id = /x-hooklab-request-id: (\S+)/i.exec(answer)![1];
    const rec = await forwardOf(bin.id, id);
    const sent = `/raw/x\\y/frag#ment/caf%C3%A9?q='1'#x&e=%ff`;
    expect(rec).toMatchObject({ status: 200, error: null, url: `${target.base}${sent}` });
    expect(target.got.filter((g) => g.url.startsWith('/raw')).map((g) => g.url)).toEqual([sent]);
  });

  it('a target that resets the connection is recorded as reset', async () => {
    const bin = await forwardingBin('/reset');
    const r = await send(bin.url, { body: 'x' });
    expect(r.status).toBe(200);
    expect(await forwardOf(bin.id, idOf(r))).toMatchObject({ kind: 'forward', status: null, error: 'reset' });
  });

  it('an endless answer is cut at FORWARD_MAX_RESPONSE_BYTES and its connection closed; captures go on as usual meanwhile', async () => {
    const bin = await forwardingBin('/endless');
    const before = endlessClosed;
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await send(`${bin.url}/e${i}`, { body: `e${i}`, timeoutMs: 10_000 });
      // The sender gets the bin's own answer, not held by the forward.
      expect(r.status).toBe(200);
      expect(r.body.toString()).not.toContain('aaaa');
      ids.push(idOf(r));
    }
    for (const id of ids) {
      const rec = await forwardOf(bin.id, id);
      expect(rec).toMatchObject({ kind: 'forward', status: 200, bodyTruncated: true, error: null });
      expect(rec.body.length).toBe(65_536);
    }
    // hooklab stopped reading: each endless answer's connection was closed.
    await expect.poll(() => endlessClosed - before).toBe(5);
    // Every capture is listed, byte-exact.
    const listed = (await request(p.base).get(`/api/bins/${bin.id}/requests`).expect(200)).body.requests.map((x: { id: string }) => x.id);
    expect([...listed].sort()).toEqual([...ids].sort());
    for (const [i, id] of ids.entries()) expect((await raw(p.base, bin.id, id)).toString()).toBe(`e${i}`);
    await request(p.base).get('/api/health').expect(200);
  });

  it('with DISPATCH_ALLOW set, a target outside it is refused (400, saying why) and nothing goes there; one inside it is forwarded to', async () => {
    // 127.0.0.2 is loopback too (all of 127/8 is), but only it is allowed.
    const allowedTarget = await recorder('127.0.0.2');
    try {
      const strict = await start({ DISPATCH_ALLOW: '127.0.0.2' });
      const api = request(strict.base);
      const bin = await newBin(strict.base);
      await api.put(`/api/bins/${bin.id}/forward`).send({ targets: [{ url: `${allowedTarget.base}/ok` }] }).expect(200);
      const refused = await api
        .put(`/api/bins/${bin.id}/forward`)
        .send({ targets: [{ url: `${allowedTarget.base}/ok` }, { url: `${target.base}/sneak` }] })
        .expect(400);
      expect(refused.body.error).toMatchObject({ code: 'invalid_field', field: 'targets[1].url' });
      expect(refused.body.error.fields).toEqual([{ field: 'targets[1].url', message: '127.0.0.1 is not in DISPATCH_ALLOW' }]);
      expect(refused.body.error.message).toContain('127.0.0.1 is not in DISPATCH_ALLOW');
      // Nothing changed: the allowed target alone still gets each capture.
      expect((await api.get(`/api/bins/${bin.id}/forward`).expect(200)).body.targets).toEqual([{ url: `${allowedTarget.base}/ok` }]);
      const r = await send(`${bin.url}/after`, { body: 'allowed only' });
      const id = idOf(r);
      await expect.poll(async () => (await api.get(`/api/bins/${bin.id}/requests/${id}`).expect(200)).body.forwards.length).toBe(1);
      expect((await api.get(`/api/bins/${bin.id}/requests/${id}`)).body.forwards[0]).toMatchObject({ status: 200, url: `${allowedTarget.base}/ok/after` });
      expect(allowedTarget.got.map((g) => [g.url, g.body.toString()])).toEqual([['/ok/after', 'allowed only']]);
      expect(target.got.filter((g) => g.url.startsWith('/sneak'))).toEqual([]);
      // A host name is checked where it leads, when connecting: recorded as blocked, never sent.
      await api.put(`/api/bins/${bin.id}/forward`).send({ targets: [{ url: `http://localhost:${new URL(target.base).port}/sneak` }] }).expect(200);
      const id2 = idOf(await send(`${bin.url}/named`, { body: 'x' }));
      await expect.poll(async () => (await api.get(`/api/bins/${bin.id}/requests/${id2}`).expect(200)).body.forwards[0]?.error).toBe('blocked');
      expect((await api.get(`/api/bins/${bin.id}/requests/${id2}`)).body.forwards[0]).toMatchObject({ status: null, errorDetail: expect.stringContaining('DISPATCH_ALLOW') });
      expect(target.got.filter((g) => g.url.startsWith('/sneak'))).toEqual([]);
    } finally {
      allowedTarget.close();
    }
  });
});
