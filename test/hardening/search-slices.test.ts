// A body search over compressed captures inflates each one (up to 1 MiB): a stranger can plant
// hundreds of small gzip bombs, and one search then held the event loop for seconds, everyone
// else waiting (a probe: 5-12 s; a health check 22.9 s behind four searches). The search now
// gives others a turn as it goes (SEARCH_SLICE_MS). Ordering, not timing, is asserted.
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

const get = (path: string): Promise<number> =>
  new Promise((resolve, reject) => {
    http.get(`${srv.base}${path}`, (res) => {
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
});
