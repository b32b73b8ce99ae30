// A body search over compressed captures inflates each one (up to 1 MiB): a stranger can plant
// hundreds of small gzip bombs, and one search then held the event loop for seconds, everyone
// else waiting (a probe: 5-12 s; a health check 22.9 s behind four searches). The search now
// gives others a turn as it goes, and many searches take turns (server/capture/search-turns.ts).
import http from 'node:http';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { send } from '../helpers/http.ts';
import { createBin, startServer, type TestServer } from '../helpers/server.ts';

let srv: TestServer;
beforeAll(async () => {
  srv = await startServer({});
});
afterAll(() => srv.cleanup());

const get = (path: string, agent?: http.Agent): Promise<number> =>
  new Promise((resolve, reject) => {
    http.get(`${srv.base}${path}`, { agent }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode!));
    }).on('error', reject);
  });

describe('a body search over many compressed captures', () => {
  it('lets other requests through while it runs: a health check sent after it started is answered before it ends', async () => {
    const bin = await createBin(srv.base);
    const bomb = gzipSync(Buffer.alloc(1024 * 1024)); // ~1 KB that inflates to 1 MiB
    for (let i = 0; i < 80; i++) {
      expect((await send(bin.url, { headers: { 'content-encoding': 'gzip', 'content-type': 'text/plain' }, body: bomb })).status).toBe(200);
    }
    const order: string[] = [];
    const search = get(`/api/bins/${bin.id}/requests?q=needle`).then((s) => {
      order.push('search');
      return s;
    });
    await new Promise((r) => setTimeout(r, 30));
    const health = get('/api/health').then((s) => {
      order.push('health');
      return s;
    });
    expect(await Promise.all([search, health])).toEqual([200, 200]);
    // Before: the search held the event loop to its end, and the health check waited.
    expect(order).toEqual(['health', 'search']);
  }, 60_000);

  it('many at once take turns: a health check waits for a few slices, not for one of every search (50 searches held it seconds)', async () => {
    const bin = await createBin(srv.base);
    const bomb = gzipSync(Buffer.alloc(1024 * 1024));
    for (let i = 0; i < 40; i++) {
      expect((await send(bin.url, { headers: { 'content-encoding': 'gzip', 'content-type': 'text/plain' }, body: bomb })).status).toBe(200);
    }
    const N = 50;
    const agent = new http.Agent({ maxSockets: N + 5 });
    const searches = Array.from({ length: N }, () => get(`/api/bins/${bin.id}/requests?q=needle`, agent));
    // All of them under way: one holds the turn, the others wait for it.
    for (let i = 0; i < 2000 && srv.app.searchTurns.queued < N - 1; i++) await new Promise((r) => setTimeout(r, 10));
    expect(srv.app.searchTurns.queued).toBeGreaterThanOrEqual(N - 1);
    const waits: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t = performance.now();
      expect(await get('/api/health', agent)).toBe(200);
      waits.push(performance.now() - t);
    }
    waits.sort((a, b) => a - b);
    console.log(`health checks behind ${N} body searches: ${waits.map(Math.round).join(', ')} ms`);
    // A few 20 ms slices (~80 ms); before, every search ran a slice in each turn of the event
    // loop, 50 x 20 ms, and a health check needs a few turns. The bound is generous: a shared machine.
    expect(waits[2]).toBeLessThan(1000);
    expect(await Promise.all(searches)).toEqual(Array(N).fill(200));
    agent.destroy();
  }, 120_000);

  it('past MAX_BODY_SEARCHES a new one is 503 busy with Retry-After; searches whose clients left stop, and the next goes', async () => {
    const small = await startServer({ config: { maxBodySearches: 2 } });
    try {
      const bin = await createBin(small.base);
      const bomb = gzipSync(Buffer.alloc(1024 * 1024));
      for (let i = 0; i < 300; i++) {
        expect((await send(bin.url, { headers: { 'content-encoding': 'gzip', 'content-type': 'text/plain' }, body: bomb })).status).toBe(200);
      }
      const url = `${small.base}/api/bins/${bin.id}/requests?q=needle`;
      const held = [http.get(url), http.get(url)];
      for (const r of held) r.on('error', () => {});
      for (let i = 0; i < 1000 && small.app.searchTurns.size < 2; i++) await new Promise((r) => setTimeout(r, 10));
      expect(small.app.searchTurns.size).toBe(2);
      const refused = await fetch(url);
      expect(refused.status).toBe(503);
      expect(refused.headers.get('retry-after')).toBe('1');
      expect(((await refused.json()) as { error: { code: string; message: string } }).error).toMatchObject({ code: 'busy', message: expect.stringContaining('MAX_BODY_SEARCHES') });
      // Their clients go: the searches stop (300 bodies each would take seconds), and a new one runs.
      // Two searches over 300 inflating bodies take seconds to finish; gone, they stop within a slice or two.
      const left = performance.now();
      for (const r of held) r.destroy();
      for (let i = 0; i < 1000 && small.app.searchTurns.size > 0; i++) await new Promise((r) => setTimeout(r, 10));
      expect(small.app.searchTurns.size).toBe(0);
      const stoppedMs = performance.now() - left;
      console.log(`two searches stopped ${Math.round(stoppedMs)} ms after their clients left`);
      expect(stoppedMs).toBeLessThan(1000);
      const after = await fetch(`${small.base}/api/bins/${bin.id}/requests?q=needle&limit=1`);
      expect(after.status).toBe(200);
    } finally {
      await small.cleanup();
    }
  }, 120_000);
});
