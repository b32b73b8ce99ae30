// A background forward that waits for a slot (FORWARD_CONCURRENCY) reads its capture back from
// the store when its turn comes. One whose capture was pushed out meanwhile (MAX_REQUESTS_PER_BIN,
// MAX_STORE_BYTES) cannot be sent: it is counted, shown under `warnings` in /api/health (still
// 200) and logged, rate-limited. One whose capture was deleted on purpose is no loss: not counted.
import http from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ForwardRecord, RequestDetail } from '../../shared/api.ts';
import type { Logger } from '../../server/log.ts';
import { exportLine } from '../helpers/export-line.ts';
import { send } from '../helpers/http.ts';
import { createBin, json, startServer, type TestServer } from '../helpers/server.ts';

interface Health {
  ok: boolean;
  status: string;
  warnings: string[];
}

let target: http.Server;
let targetBase = '';
/** Bodies the target got, in order. */
let got: string[] = [];
/** While true, the target holds its answers (in `held`) until released. */
let holding = true;
let held: (() => void)[] = [];
let srv: TestServer | null = null;
let warned: { msg: string; fields?: Record<string, unknown> }[] = [];

const log: Logger = {
  info() {},
  warn: (msg, fields) => void warned.push({ msg, fields }),
  error() {},
};

beforeEach(async () => {
  got = [];
  held = [];
  holding = true;
  warned = [];
  target = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      got.push(Buffer.concat(chunks).toString());
      if (holding) held.push(() => res.end('late'));
      else res.end('thanks');
    });
  });
  await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
  targetBase = `http://127.0.0.1:${(target.address() as { port: number }).port}`;
  srv = await startServer({ log, config: { forwardConcurrency: 1, maxRequestsPerBin: 3 } });
});

afterEach(async () => {
  release();
  await srv?.cleanup();
  srv = null;
  target.closeAllConnections();
  await new Promise<void>((r) => target.close(() => r()));
});

function release() {
  holding = false;
  for (const r of held.splice(0)) r();
}

const health = async () => {
  const r = await json<Health>(srv!.base, 'GET', '/api/health');
  return { code: r.status, ...r.body };
};
const notSentWarnings = (h: Health) => h.warnings.filter((w) => w.includes('background forward'));
const idOf = (r: { headers: http.IncomingHttpHeaders }) => r.headers['x-hooklab-request-id'] as string;

async function forwardingBin(): Promise<{ id: string; url: string }> {
  const bin = await createBin(srv!.base);
  const put = await json(srv!.base, 'PUT', `/api/bins/${bin.id}/forward`, { targets: [{ url: targetBase }] });
  expect(put.status).toBe(200);
  return bin;
}

async function capture(url: string, body: string): Promise<string> {
  const r = await send(url, { body });
  expect(r.status).toBe(200);
  return idOf(r);
}

describe('background forwards whose capture is gone when their turn comes', () => {
  it('evicted by MAX_REQUESTS_PER_BIN: not sent, counted in /api/health (still 200) and logged at most once per 10 s', async () => {
    const bin = await forwardingBin();
    // "0" takes the one slot (FORWARD_CONCURRENCY=1) and is held at the target.
    await capture(bin.url, '0');
    await expect.poll(() => got.length).toBe(1);
    // 1..7 wait for the slot (7 <= 10 may wait); the cap (3) keeps 5, 6, 7: 1..4 are evicted.
    const ids: string[] = [];
    for (let i = 1; i <= 7; i++) ids.push(await capture(bin.url, String(i)));
    const stored = await json<{ requests: { id: string }[] }>(srv!.base, 'GET', `/api/bins/${bin.id}/requests`);
    expect(stored.body.requests.map((r) => r.id).sort()).toEqual(ids.slice(4).sort());
    // Nothing counted before their turn comes.
    expect(notSentWarnings(await health())).toEqual([]);

    release();
    await expect.poll(() => got.length).toBe(4);
    await expect.poll(async () => notSentWarnings(await health()).length).toBe(1);
    // Exactly the captures still stored were sent, in order, each recorded with its capture.
    expect(got).toEqual(['0', '5', '6', '7']);
    for (const id of ids.slice(4)) {
      await expect
        .poll(async () => (await json<RequestDetail>(srv!.base, 'GET', `/api/bins/${bin.id}/requests/${id}`)).body.forwards.map((f: ForwardRecord) => f.status))
        .toEqual([200]);
    }
    const h = await health();
    expect(h.code).toBe(200);
    expect(h).toMatchObject({ ok: true, status: 'ok' });
    const [w] = notSentWarnings(h);
    expect(w).toMatch(/^\d{4}-\d\d-\d\dT\S+Z 4 background forwards were not sent: the capture was no longer stored when a sending slot came free \(raise FORWARD_CONCURRENCY, MAX_REQUESTS_PER_BIN or MAX_STORE_BYTES\)$/);
    expect(w).not.toContain(bin.id);

    // The log: the first one at once, the rest batched (here told at shutdown), never one per capture.
    await expect.poll(() => warned.length).toBeGreaterThanOrEqual(1);
    await srv!.stop();
    const lines = warned.filter((l) => l.msg.startsWith('background forwards not sent'));
    expect(lines.length).toBeGreaterThanOrEqual(1);
    expect(lines.length).toBeLessThanOrEqual(2);
    expect(lines.reduce((n, l) => n + (l.fields?.count as number), 0)).toBe(4);
    expect(lines.at(-1)!.fields?.total).toBe(4);
    expect(JSON.stringify(lines)).not.toContain(bin.id);
  });

  it('deleted on purpose (bin cleared, bin deleted, a capture deleted, the bin\'s oldest too) is no loss: not counted, not logged', async () => {
    const a = await forwardingBin();
    const b = await forwardingBin();
    const c = await forwardingBin();
    await capture(a.url, 'a0');
    await expect.poll(() => got.length).toBe(1);
    // All waiting for the one slot held by "a0".
    await capture(a.url, 'a1');
    await capture(a.url, 'a2');
    await capture(b.url, 'b1');
    await capture(b.url, 'b2');
    await capture(c.url, 'c1');
    const c2 = await capture(c.url, 'c2');
    // The bin's oldest deleted by hand: nothing older is left, yet it was no eviction.
    const e = await forwardingBin();
    const e1 = await capture(e.url, 'e1');
    await capture(e.url, 'e2');
    // Last in line: once its forward is recorded, every forward before it has had its turn.
    const d = await forwardingBin();
    const d1 = await capture(d.url, 'd1');
    expect((await json(srv!.base, 'DELETE', `/api/bins/${a.id}/requests`)).status).toBe(204);
    expect((await json(srv!.base, 'DELETE', `/api/bins/${b.id}`)).status).toBe(204);
    expect((await json(srv!.base, 'DELETE', `/api/bins/${c.id}/requests/${c2}`)).status).toBe(204);
    expect((await json(srv!.base, 'DELETE', `/api/bins/${e.id}/requests/${e1}`)).status).toBe(204);

    release();
    await expect.poll(async () => (await json<RequestDetail>(srv!.base, 'GET', `/api/bins/${d.id}/requests/${d1}`)).body.forwards.length).toBe(1);
    expect(got).toEqual(['a0', 'c1', 'e2', 'd1']);
    const h = await health();
    expect(h.code).toBe(200);
    expect(notSentWarnings(h)).toEqual([]);
    await srv!.stop();
    expect(warned.filter((l) => l.msg.startsWith('background forwards not sent'))).toEqual([]);
  });
});

describe('an import that pushes captures out', () => {
  it('counts the forwards it kept from being sent (an import is no clear of the bin)', async () => {
    const bin = await forwardingBin();
    await capture(bin.url, '0');
    await expect.poll(() => got.length).toBe(1);
    await capture(bin.url, '1');
    await capture(bin.url, '2');
    // Three imported captures fill the bin (cap 3): "1" and "2", waiting for the slot, are evicted.
    const line = (path: string) => exportLine({ path, receivedAt: '2001-01-01T00:00:00.000Z' });
    const r = await fetch(`${srv!.base}/api/bins/${bin.id}/import`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body: ['/i1', '/i2', '/i3'].map(line).join('\n') });
    expect(await r.json()).toMatchObject({ imported: 3, evicted: 3 });
    release();
    // Before: the import marked the bin as cleared (its activeAt), so these two counted as deleted on purpose.
    await expect.poll(async () => notSentWarnings(await health())).toEqual([expect.stringMatching(/ 2 background forwards were not sent: /)]);
  });
});

describe('background forwards when the store fails', () => {
  it('a result that cannot be recorded, or a waiting capture that cannot be read, is logged; the server keeps running', async () => {
    const bin = await forwardingBin();
    // The store fails every write of a forward's result, and every read of a capture back.
    const requests = srv!.store.requests;
    const annotate = requests.annotate.bind(requests);
    const get = requests.get.bind(requests);
    requests.annotate = async () => {
      throw new Error('store away (test)');
    };
    requests.get = async () => {
      throw new Error('store away (test)');
    };
    try {
      // "a" is sent (its result cannot be recorded); "b" waits for the slot, then cannot be read.
      await capture(bin.url, 'a');
      await expect.poll(() => got.length).toBe(1);
      await capture(bin.url, 'b');
      release();
      await expect.poll(() => warned.filter((l) => l.msg.startsWith('background forwards could not be read or recorded')).length).toBe(1);
      const line = warned.find((l) => l.msg.startsWith('background forwards could not be read or recorded'))!;
      expect(line.fields?.error).toContain('store away (test)');
    } finally {
      requests.annotate = annotate;
      requests.get = get;
    }
    // Still up, still capturing.
    expect((await health()).code).toBe(200);
    await capture(bin.url, 'c');
  });
});
