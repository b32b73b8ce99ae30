// The capture feed as an instance that appends follows it (issue 11's throughput goal): its
// appends' answers carry every feed entry since its position, other instances' included, and
// its own rows are known to it, so it need not read its own captures back from the stream.
// Against a real redis-server, two stores on one prefix standing for two instances. Instance
// A's reader may not XREAD at all (an ACL user without it): whatever A's viewers get came
// through A's appends (or the gap fill on A's store connection). It must still be every
// entry, A's and B's, in stream order, each once.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CaptureFeed } from '../../server/cluster/capture-feed.ts';
import { RedisStore } from '../../server/store/redis/redis-store.ts';
import { fakeRequest } from '../store/contract.ts';
import { type RedisServer, startRedis } from '../helpers/redis.ts';

let server: RedisServer;
let raw: Redis;
const stores: RedisStore[] = [];
const feeds: CaptureFeed[] = [];
let n = 0;

beforeAll(async () => {
  server = await startRedis();
  raw = new Redis(server.url, { lazyConnect: true });
  await raw.connect();
  // A reader that can see the stream but never XREAD it.
  await raw.call('ACL', 'SETUSER', 'noxread', 'on', '>pw', '~*', '&*', '+@all', '-xread');
}, 60_000);

afterAll(async () => {
  await Promise.all(feeds.map((f) => f.stop()));
  await Promise.all(stores.map((s) => s.close()));
  raw?.disconnect();
  await server?.cleanup();
}, 60_000);

/** A store following its feed as app.ts wires it; `blind`: its reader cannot XREAD. */
async function instance(prefix: string, blind: boolean) {
  const store = await RedisStore.open({ url: server.url, prefix, feedMaxLen: 10_000 });
  stores.push(store);
  const got: { id: string; bin: string; origin: string }[] = [];
  const url = blind ? server.url.replace('redis://', 'redis://noxread:pw@') : server.url;
  const feed = new CaptureFeed({
    url,
    prefix,
    onCapture: (bin, row, _ev, origin) => got.push({ id: (JSON.parse(row) as { id: string }).id, bin, origin }),
    range: (key, after, count) => store.requests.feedAfter(key, after, count),
  });
  feeds.push(feed);
  await feed.start();
  store.requests.followFeed(feed);
  return { store, feed, got };
}

async function streamOrder(prefix: string) {
  const all = (await raw.xrange(`${prefix}feed`, '-', '+')) as [string, string[]][];
  return all.map(([, f]) => (JSON.parse(f[f.indexOf('i') + 1]) as { id: string }).id);
}

async function until(check: () => boolean, ms = 10_000) {
  const end = Date.now() + ms;
  while (!check() && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
}

describe('capture feed followed through appends', () => {
  it('an appending instance that cannot read the stream still hands on every capture, its own and another\'s, in stream order, once', async () => {
    const prefix = `cf${++n}:`;
    const a = await instance(prefix, true);
    const b = await instance(prefix, false);
    await a.store.bins.put({ id: 'x', name: 'x', createdAt: 'x' });
    await a.store.bins.put({ id: 'y', name: 'y', createdAt: 'x' });
    for (let round = 0; round < 10; round++) {
      await Promise.all([
        ...Array.from({ length: 15 }, (_, i) => a.store.requests.append(fakeRequest(i % 2 ? 'x' : 'y', ''), 50)),
        ...Array.from({ length: 15 }, (_, i) => b.store.requests.append(fakeRequest(i % 3 ? 'x' : 'y', ''), 50)),
      ]);
    }
    // A learns of B's last captures through its own next append.
    await a.store.requests.append(fakeRequest('x', ''), 50);
    const order = await streamOrder(prefix);
    expect(order).toHaveLength(301);
    await until(() => a.got.length >= 301 && b.got.length >= 301);
    for (const g of [a.got, b.got]) expect(g.map((e) => e.id)).toEqual(order);
    expect(new Set(a.got.map((e) => e.origin))).toEqual(new Set([a.store.origin, b.store.origin]));
  });

  it('a range that does not start at the position (an answer lost) is filled in from the stream first', async () => {
    const prefix = `cf${++n}:`;
    const a = await instance(prefix, true);
    await a.store.bins.put({ id: 'x', name: 'x', createdAt: 'x' });
    await a.store.requests.append(fakeRequest('x', ''), 50);
    // An append run by A whose answer never reaches A's feed (as if lost to an error): it
    // moves A's own last entry on, past what A has handed on.
    const p = prefix;
    await raw.set(`${p}tmp:lost`, 'lost');
    const at = a.feed.position();
    const lost = (await a.store.db.client.hlAppend(p, '-1', '10000', a.store.origin, at, `${p}tmp:lost`, 'x', '', 'lost01', '}', '}', '4', '50', '', '0')) as unknown[];
    expect((lost[0] as unknown[])[0]).toEqual(expect.any(String));
    await a.store.requests.append(fakeRequest('x', ''), 50);
    await until(() => a.got.length >= 3);
    const order = await streamOrder(prefix);
    expect(order).toHaveLength(3);
    expect(a.got.map((e) => e.id)).toEqual(order);
  });
});
