// The lowdb driver's cache of captures' metadata read back or just written (CACHE_BYTES) is
// charged by what the metadata holds, headers included. Before, a segment's metadata was
// charged 1 KB per capture whatever its headers: captures with 60 KB of headers each (a
// stranger can send them) stayed in memory far past the budget, ~60x.
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import v8 from 'node:v8';
import vm from 'node:vm';
import { afterAll, describe, expect, it } from 'vitest';
import { sortableIdFactory } from '../../server/ids.ts';
import { LowdbStore } from '../../server/store/lowdb.ts';
import { tempDir } from '../helpers/server.ts';
import { fakeRequest } from './contract.ts';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

const MB = 1024 * 1024;
const nextId = sortableIdFactory();

/** Heap in use once garbage is collected. */
async function heapMb(): Promise<number> {
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((r) => setImmediate(r));
  }
  return process.memoryUsage().heapUsed / MB;
}

/** 30 headers of 2 KB each, none like another's (interning shares nothing). */
const bigHeaders = () => Array.from({ length: 30 }, (_, i) => [`X-Big-${i}`, randomBytes(1024).toString('hex')]).flat();

describe('lowdb: the metadata cache keeps to CACHE_BYTES', () => {
  it('600 captures with 60 KB of headers each (36 MB): written, then all read back, the heap grows by far less than that with a 4 MB cache', async () => {
    const d = await tempDir('hooklab-meta-cache-');
    dirs.push(d);
    const s = await LowdbStore.open({ dataDir: d, flushIntervalMs: 60_000, cacheBytes: 4 * MB });
    const bins = ['meta-cache-bin-aaaaaaaaaa', 'meta-cache-bin-bbbbbbbbbb'];
    for (const id of bins) await s.bins.put({ id, name: id, createdAt: 'x' });
    const before = await heapMb();
    const ids: [string, string][] = [];
    for (let i = 0; i < 600; i++) {
      const binId = bins[i % 2];
      const id = nextId();
      ids.push([binId, id]);
      await s.requests.append(fakeRequest(binId, id, { headers: bigHeaders() }), 500);
      if (i % 50 === 49) await s.flush();
    }
    await s.flush();
    const written = (await heapMb()) - before;
    // Read back (as a viewer opening each does): each segment's metadata goes through the cache.
    // (Bin by bin: each segment read once, not again for every capture as a 4 MB cache would.)
    for (const [binId, id] of [...ids].sort((a, b) => a[0].localeCompare(b[0]))) expect((await s.requests.get(binId, id))?.headers).toHaveLength(60);
    const read = (await heapMb()) - before;
    console.log(`36 MB of headers, CACHE_BYTES 4 MB: heap +${written.toFixed(1)} MB written, +${read.toFixed(1)} MB read back`);
    // The cache (4 MB, charged a little under the heap it takes), 600 list rows, slack.
    expect(written).toBeLessThan(16);
    expect(read).toBeLessThan(16);
    await s.close();
  }, 120_000);
});
