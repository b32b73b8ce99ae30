// Issue 2 (storage): start, capture, stop cleanly, start again on the same DATA_DIR, and
// read back the same records.
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { afterAll, describe, expect, it } from 'vitest';
import type { RequestDetail, RequestPage } from '../../shared/api.ts';
import { send, sha256 } from '../helpers/http.ts';
import { createBin, json, startServer, tempDir } from '../helpers/server.ts';

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

describe('persistence across a clean restart', () => {
  it('bins, requests (byte-exact), names and response settings come back', async () => {
    const dataDir = await tempDir();
    dirs.push(dataDir);
    // A long flush interval proves the clean stop flushes rather than the timer.
    const a = await startServer({ dataDir, config: { flushIntervalMs: 60_000 } });
    const bin = await createBin(a.base, 'survivor');
    const body = randomBytes(2048);
    const sent: string[] = [];
    for (let i = 0; i < 5; i++) sent.push((await send(`${bin.url}/p${i}?k=${i}`, { body })).headers['x-hooklab-request-id'] as string);
    await json(a.base, 'PUT', `/api/bins/${bin.id}/response`, { plan: [{ status: 500, times: 3 }] });
    await send(bin.url, { body: 'consumes one step' });
    const before = (await json<RequestPage>(a.base, 'GET', `/api/bins/${bin.id}/requests?limit=100`)).body;
    await a.stop();

    const b = await startServer({ dataDir });
    try {
      const bins = (await json<{ bins: { id: string; name: string; url: string }[] }>(b.base, 'GET', '/api/bins')).body.bins;
      expect(bins.map((x) => [x.id, x.name])).toEqual([[bin.id, 'survivor']]);
      const after = (await json<RequestPage>(b.base, 'GET', `/api/bins/${bin.id}/requests?limit=100`)).body;
      expect(after).toEqual(before);
      const d = (await json<RequestDetail>(b.base, 'GET', `/api/bins/${bin.id}/requests/${sent[3]}`)).body;
      expect(sha256(Buffer.from(d.body, 'base64'))).toBe(sha256(body));
      // The plan resumes where it was: one of three 500s used, two left.
      const view = (await json<{ position: { step: number; usedInStep: number } }>(b.base, 'GET', `/api/bins/${bin.id}/response`)).body;
      expect(view.position).toMatchObject({ step: 0, usedInStep: 1 });
      const statuses: number[] = [];
      for (let i = 0; i < 3; i++) statuses.push((await send(bins[0].url.replace(/^http:\/\/[^/]+/, b.base), { body: 'x' })).status);
      expect(statuses).toEqual([500, 500, 200]);
    } finally {
      await b.stop();
    }
  });
});

describe('a restart after the clock stepped back (NTP, a VM restored)', () => {
  it('new captures still sort after the stored ones: listed newest first, kept by the cap, backfilled after a cursor', async () => {
    const dataDir = await tempDir();
    dirs.push(dataDir);
    const a = await startServer({ dataDir, config: { maxRequestsPerBin: 3 } });
    const bin = await createBin(a.base);
    const before = (await send(bin.url, { body: 'before' })).headers['x-hooklab-request-id'] as string;
    // And a delivery (its id sorts by creation too).
    const wh = (await json<{ id: string }>(a.base, 'POST', '/api/webhooks', { url: 'http://127.0.0.1:9/never' })).body;
    const firstDelivery = (await json<{ delivery: { id: string } }>(a.base, 'POST', `/api/webhooks/${wh.id}/test`)).body.delivery.id;
    await a.stop();

    const b = await startServer({ dataDir, config: { maxRequestsPerBin: 3 }, now: () => Date.now() - 3_600_000 });
    try {
      const url = bin.url.replace(/^http:\/\/[^/]+/, b.base);
      const after: string[] = [];
      for (let i = 0; i < 3; i++) after.push((await send(url, { body: `after ${i}` })).headers['x-hooklab-request-id'] as string);
      for (const id of after) expect(id > before, `${id} after ${before}`).toBe(true);
      // At the cap of 3, the capture from before the restart is the one pushed out.
      const page = (await json<RequestPage>(b.base, 'GET', `/api/bins/${bin.id}/requests`)).body;
      expect(page.requests.map((r) => r.id)).toEqual([...after].reverse());
      // A cursor at the old capture (a relay's) reads the new ones after it.
      const since = (await json<RequestPage>(b.base, 'GET', `/api/bins/${bin.id}/requests?after=${before}`)).body;
      expect(since.requests.map((r) => r.id).sort()).toEqual([...after].sort());
      const laterDelivery = (await json<{ delivery: { id: string } }>(b.base, 'POST', `/api/webhooks/${wh.id}/test`)).body.delivery.id;
      expect(laterDelivery > firstDelivery, `${laterDelivery} after ${firstDelivery}`).toBe(true);
    } finally {
      await b.stop();
    }
  });
});

describe('a clean stop with a slow answer pending', () => {
  it('is no sender hanging up: the capture comes back without hungUpAfterMs', async () => {
    const dataDir = await tempDir();
    dirs.push(dataDir);
    const a = await startServer({ dataDir });
    const bin = await createBin(a.base, 'slow');
    await json(a.base, 'PUT', `/api/bins/${bin.id}/response`, { default: { status: 200, delayMs: 30_000 } });
    const pending = send(bin.url, { body: 'waiting' }).catch((e: Error) => e);
    for (let i = 0; i < 200 && (await json<RequestPage>(a.base, 'GET', `/api/bins/${bin.id}/requests`)).body.requests.length === 0; i++) await new Promise((r) => setTimeout(r, 25));
    await a.stop(); // closes the waiting connection itself
    expect(await pending).toBeInstanceOf(Error);
    const b = await startServer({ dataDir });
    try {
      const [r] = (await json<RequestPage>(b.base, 'GET', `/api/bins/${bin.id}/requests`)).body.requests;
      expect(r.answer).toMatchObject({ status: 200, delayMs: 30_000 });
      expect(r.answer.hungUpAfterMs).toBeUndefined();
    } finally {
      await b.stop();
    }
  });
});
