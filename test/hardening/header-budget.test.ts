// MAX_STORE_BYTES counts each capture's head with its body. Before, a stranger sending
// bodiless requests with ~40 KB of headers each (or as much in chunked trailers) filled the
// store with what the budget never saw: MAX_REQUESTS_PER_BIN × MAX_HEADER_BYTES per bin.
// Real HTTP over loopback, the file store, and a restart that must count as the run did.
import { rm } from 'node:fs/promises';
import http from 'node:http';
import { afterAll, describe, expect, it } from 'vitest';
import type { LowdbStore } from '../../server/store/lowdb.ts';
import { send } from '../helpers/http.ts';
import { createBin, startServer, tempDir, type TestServer } from '../helpers/server.ts';

const servers: TestServer[] = [];
const dirs: string[] = [];
afterAll(async () => {
  for (const s of servers) await s.stop();
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

const PAD = 40_000;
const BUDGET = 200_000;

async function start(dataDir: string) {
  const s = await startServer({ dataDir, config: { maxStoreBytes: BUDGET } });
  servers.push(s);
  return s;
}

/** What the store counts against MAX_STORE_BYTES. */
const counts = (s: TestServer) => (s.store as LowdbStore).requests.index.totalBytes;

const ids = async (s: TestServer, binId: string) =>
  ((await (await fetch(`${s.base}/api/bins/${binId}/requests?limit=100`)).json()) as { requests: { id: string }[] }).requests.map((r) => r.id).reverse();

describe('header-heavy captures and MAX_STORE_BYTES', () => {
  it('bodiless captures with 40 KB heads (headers or trailers) are evicted oldest first by the budget, and a restart counts them alike', async () => {
    const dataDir = await tempDir('hooklab-heads-');
    dirs.push(dataDir);
    let s = await start(dataDir);
    const bin = await createBin(s.base);
    const sent: string[] = [];
    for (let i = 0; i < 10; i++) {
      // Every third carries its weight in chunked trailers, the rest in a header.
      const r =
        i % 3 === 2
          ? await sendWithTrailer(`${bin.url}/t${i}`, 'v'.repeat(PAD))
          : (await send(`${bin.url}/h${i}`, { method: 'GET', headers: { 'x-pad': 'v'.repeat(PAD) } })).headers['x-hooklab-request-id'];
      sent.push(String(r));
    }
    // 10 × 40 KB is twice the budget: only the newest four (160 KB) fit, the oldest went first.
    const kept = await ids(s, bin.id);
    expect(kept).toEqual(sent.slice(6));
    const counted = counts(s);
    expect(counted).toBeLessThanOrEqual(BUDGET);
    expect(counted).toBeGreaterThan(4 * PAD);
    await s.stop();

    // After a restart: the same count, and the next capture evicts the oldest left.
    s = await start(dataDir);
    expect(counts(s)).toBe(counted);
    expect(await ids(s, bin.id)).toEqual(sent.slice(6));
    const next = (await send(`${s.base}/h/${bin.id}/again`, { method: 'GET', headers: { 'x-pad': 'v'.repeat(PAD) } })).headers['x-hooklab-request-id'];
    expect(await ids(s, bin.id)).toEqual([...sent.slice(7), next]);
  });
});

/** A chunked POST whose weight is one trailer; answers its capture's id. */
function sendWithTrailer(url: string, value: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const req = http.request({ host: u.hostname, port: u.port, path: u.pathname, method: 'POST', headers: { trailer: 'X-Pad' }, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(String(res.headers['x-hooklab-request-id'])));
    });
    req.on('error', reject);
    req.addTrailers({ 'X-Pad': value });
    req.end();
  });
}
