// The Redis driver against a real redis-server (test/helpers/redis.ts): the shared contract,
// then what only a store shared by several instances must do.
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Delivery, Run } from '../../shared/api.ts';
import { sortableIdFactory } from '../../server/ids.ts';
import { MemoryStore } from '../../server/store/memory.ts';
import { RedisStore, type RedisStoreOptions, RedisUnavailableError } from '../../server/store/redis/redis-store.ts';
import { StoreUnavailableError } from '../../server/store/types.ts';
import { keysOf, type RedisServer, startRedis } from '../helpers/redis.ts';
import { FAKE_HEAD, fakeDelivery, fakeRequest, storeContract } from './contract.ts';

let server: RedisServer;
let raw: Redis;
const open: RedisStore[] = [];

beforeAll(async () => {
  server = await startRedis();
  raw = new Redis(server.url, { lazyConnect: true });
  await raw.connect();
}, 60_000);

afterAll(async () => {
  await Promise.all(open.map((s) => s.close()));
  raw?.disconnect();
  await server?.cleanup();
}, 60_000);

let n = 0;
/** A fresh prefix per store: stores of one test share it (two instances, one Redis). */
const freshPrefix = () => `t${++n}:`;

async function store(o: Partial<RedisStoreOptions> & { prefix: string }, url = server.url): Promise<RedisStore> {
  const s = await RedisStore.open({ url, ...o });
  open.push(s);
  return s;
}

storeContract('redis', (o) => store({ prefix: freshPrefix(), ...o }));

const nextId = sortableIdFactory();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, ok: () => boolean | Promise<boolean>, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await sleep(20);
  }
}

/** A capture's head as the byte budget counts it: the UTF-8 bytes of its method, path, query, header and trailer names and values. */
const headOf = (m: { method: string; path: string; queryString: string; headers: string[]; trailers?: string[] }) =>
  [m.method, m.path, m.queryString, ...m.headers, ...(m.trailers ?? [])].reduce((n, x) => n + Buffer.byteLength(x), 0);

/** Every key under a prefix (SCAN). */

/**
 * The store's captures are whole: every listed id has metadata, a list row and a body of the
 * size the metadata gives; no body or row without a listed id; the byte counts add up; each
 * non-empty bin has one member in the heads, no newer than its oldest, and its hash names it
 * (an emptied bin may keep one: none other is there); nothing staged is left over.
 */
async function expectConsistent(r: Redis, p: string) {
  const bins = await r.hkeys(`${p}bins`);
  let total = 0;
  const heads = new Set(await r.zrange(`${p}heads`, '0', '-1'));
  const noNewer = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b)) <= 0;
  const bodyKeys = new Set(await keysOf(r, `${p}body:*`));
  for (const b of bins) {
    const k = `${p}bin:${b}`;
    const ids = await r.zrange(`${k}:ids`, '0', '-1');
    const [metaKeys, itemKeys] = await Promise.all([r.hkeys(`${k}:meta`), r.hkeys(`${k}:items`)]);
    expect(new Set(metaKeys)).toEqual(new Set(ids));
    expect(new Set(itemKeys)).toEqual(new Set(ids));
    expect(await r.exists(`${k}:sizes`)).toBe(0); // a body's size is its length
    let binBytes = 0;
    // Heads count with bodies: each capture's head bytes kept beside it, none for one gone.
    const headSizes = await r.hgetall(`${k}:headbytes`);
    expect(Object.keys(headSizes).every((id) => ids.includes(id)), `head sizes of ${b} without a capture`).toBe(true);
    for (const id of ids) {
      const len = await r.strlen(`${p}body:${b}:${id}`);
      expect(bodyKeys.delete(`${p}body:${b}:${id}`), `body of ${b}/${id}`).toBe(true);
      const meta = JSON.parse((await r.hget(`${k}:meta`, id))!);
      expect(meta).toMatchObject({ id, binId: b, storedBytes: len });
      expect(Number(headSizes[id] ?? 0), `head size of ${b}/${id}`).toBe(headOf(meta));
      binBytes += len + headOf(meta);
    }
    expect(Number((await r.hget(k, 'bytes')) ?? 0)).toBe(binBytes);
    total += binBytes;
    const head = await r.hget(k, 'head');
    if (ids.length) expect(head !== null && noNewer(head, ids[0]), `head of ${b}: ${head}, oldest ${ids[0]}`).toBe(true);
    if (head !== null) expect(heads.delete(`${head} ${b}`), `head of ${b} in the heads`).toBe(true);
  }
  expect(heads.size).toBe(0);
  expect([...bodyKeys]).toEqual([]); // no orphan bodies
  expect(Number((await r.get(`${p}bytes`)) ?? 0)).toBe(total);
  expect(await keysOf(r, `${p}tmp:*`)).toEqual([]);
}

describe("a bin's response settings on Redis", () => {
  it('deleting them deletes where its plan stands too (left alone, a bin made again with the id refused every capture)', async () => {
    const prefix = freshPrefix();
    const s = await store({ prefix });
    await s.responses.put({ id: 'b1', config: { default: { status: 200 } }, state: {} } as never);
    await raw.hset(`${prefix}plan:b1`, 'v', 'abc', 'used', '1');
    expect(await s.responses.delete('b1')).toBe(true);
    expect(await raw.exists(`${prefix}plan:b1`)).toBe(0);
    expect(await s.responses.get('b1')).toBeUndefined();
  });
});

describe('redis: ids and order', () => {
  it('assigns sortable ids and numbers when the caller leaves the id empty; a given id sorts where it says', async () => {
    const p = freshPrefix();
    const s = await store({ prefix: p });
    await s.bins.put({ id: 'b', name: 'b', createdAt: 'x' });
    const a = fakeRequest('b', '');
    const b = fakeRequest('b', '');
    expect(await s.requests.append(a, 10)).toEqual([]);
    expect(await s.requests.append(b, 10)).toEqual([]);
    expect(a.id).toMatch(/^[0-9a-z]{19}$/);
    expect(a.id < b.id).toBe(true);
    expect([a.seq, b.seq]).toEqual([1, 2]);
    // Its time part is Redis's clock (ms, base36).
    const ms = parseInt(a.id.slice(0, 9), 36);
    expect(Math.abs(ms - Date.now())).toBeLessThan(60_000);
    // An imported capture keeps its (older) id and sorts before them.
    const old = fakeRequest('b', sortableIdFactory(() => 1_600_000_000_000)());
    await s.requests.append(old, 10);
    expect((await s.requests.items('b', { limit: 10 })).map((i) => [i.id, i.seq])).toEqual([
      [b.id, 2],
      [a.id, 1],
      [old.id, 3],
    ]);
    expect(await s.requests.get('b', a.id)).toMatchObject({ id: a.id, seq: 1, path: '/' });
    // A duplicate id is refused, and leaves nothing behind.
    await expect(s.requests.append(fakeRequest('b', a.id), 10)).rejects.toThrow(/already stored/);
    await expectConsistent(raw, p);
  });

  it('two instances appending to one bin at once keep one arrival order and exact caps', async () => {
    const p = freshPrefix();
    const [s1, s2] = await Promise.all([store({ prefix: p }), store({ prefix: p })]);
    await s1.bins.put({ id: 'b', name: 'b', createdAt: 'x' });
    const records = Array.from({ length: 400 }, (_, i) => fakeRequest('b', '', { path: `/${i}`, body: Buffer.from(`body ${i}`) }));
    const evicted: string[] = [];
    await Promise.all(
      records.map(async (r, i) => {
        const evs = await (i % 2 ? s2 : s1).requests.append(r, 100);
        for (const ev of evs ?? []) {
          expect(ev.binId).toBe('b');
          evicted.push(...ev.ids);
        }
      }),
    );
    // Numbers 1..400, once each; the id order is the numbering order (the arrival order in Redis).
    const bySeq = [...records].sort((x, y) => x.seq! - y.seq!);
    expect(bySeq.map((r) => r.seq)).toEqual(Array.from({ length: 400 }, (_, i) => i + 1));
    const byId = [...records].sort((x, y) => (x.id < y.id ? -1 : 1));
    expect(byId.map((r) => r.seq)).toEqual(bySeq.map((r) => r.seq));
    expect(new Set(records.map((r) => r.id)).size).toBe(400);
    // Exactly the 100 newest are kept; the 300 others were reported evicted, once each.
    const kept = await s2.requests.items('b', { limit: 1000, oldestFirst: true });
    expect(kept.map((i) => i.seq)).toEqual(Array.from({ length: 100 }, (_, i) => i + 301));
    expect(kept.map((i) => i.id)).toEqual(bySeq.slice(300).map((r) => r.id));
    expect(evicted).toHaveLength(300);
    expect(new Set(evicted)).toEqual(new Set(bySeq.slice(0, 300).map((r) => r.id)));
    expect(await s1.requests.lastSeq('b')).toBe(400);
    expect(await s1.requests.stats('b')).toMatchObject({ count: 100, oldestId: bySeq[300].id });
    // Bodies follow their captures.
    for (const r of bySeq.slice(-3)) expect((await s1.requests.body('b', r.id))?.toString()).toBe(r.body.toString());
    expect(await s1.requests.body('b', bySeq[0].id)).toBeUndefined();
    await expectConsistent(raw, p);
  });

  it('keeps the byte budget across bins with two instances: exactly the newest captures of the store stay', async () => {
    const p = freshPrefix();
    const [s1, s2] = await Promise.all([store({ prefix: p, maxStoreBytes: 10_000 }), store({ prefix: p, maxStoreBytes: 10_000 })]);
    for (const b of ['x', 'y', 'z']) await s1.bins.put({ id: b, name: b, createdAt: 'x' });
    // Each counts 1000 bytes: its body and its head.
    const records = Array.from({ length: 90 }, (_, i) => fakeRequest(['x', 'y', 'z'][i % 3], '', { body: Buffer.alloc(1000 - FAKE_HEAD, i) }));
    const evicted: string[] = [];
    await Promise.all(
      records.map(async (r, i) => {
        for (const ev of (await (i % 2 ? s2 : s1).requests.append(r, 1000)) ?? []) evicted.push(...ev.ids.map((id) => `${ev.binId}/${id}`));
      }),
    );
    const byId = [...records].sort((a, b) => (a.id < b.id ? -1 : 1));
    const left: string[] = [];
    for (const b of ['x', 'y', 'z']) left.push(...(await s1.requests.items(b, { limit: 100 })).map((i) => `${b}/${i.id}`));
    expect(new Set(left)).toEqual(new Set(byId.slice(80).map((r) => `${r.binId}/${r.id}`)));
    expect(new Set(evicted)).toEqual(new Set(byId.slice(0, 80).map((r) => `${r.binId}/${r.id}`)));
    expect(evicted).toHaveLength(80);
    expect(Number(await raw.get(`${p}bytes`))).toBe(10_000);
    // One big capture pushes out as many as it takes, from every bin, oldest first.
    const big = fakeRequest('x', '', { body: Buffer.alloc(5500 - FAKE_HEAD, 9) });
    const evs = await s2.requests.append(big, 1000);
    const out = evs!.flatMap((e) => e.ids.map((id) => `${e.binId}/${id}`));
    expect(new Set(out)).toEqual(new Set(byId.slice(80, 86).map((r) => `${r.binId}/${r.id}`)));
    expect(evs![0].binId).toBe('x'); // its own bin first
    await expectConsistent(raw, p);
  });
});

describe('redis: heads in the byte budget', () => {
  it('counts each head with its body; captures stored before heads counted (no head size kept) leave the counts exact', async () => {
    const p = freshPrefix();
    const s = await store({ prefix: p, maxStoreBytes: 1000 });
    await s.bins.put({ id: 'b', name: 'b', createdAt: 'x' });
    const k = `${p}bin:b`;
    // Two as a build that counted bodies only left them: no head size, 100 bytes each counted.
    const old = [fakeRequest('b', '', { body: Buffer.alloc(100) }), fakeRequest('b', '', { body: Buffer.alloc(100) })];
    for (const r of old) {
      await s.requests.append(r, 10);
      const h = Number(await raw.hget(`${k}:headbytes`, r.id));
      expect(h).toBe(FAKE_HEAD);
      await raw.hdel(`${k}:headbytes`, r.id);
      await raw.hincrby(k, 'bytes', -h);
      await raw.decrby(`${p}bytes`, h);
    }
    expect(Number(await raw.get(`${p}bytes`))).toBe(200);
    expect(await s.requests.delete('b', old[0].id)).toBe(true);
    expect(Number(await raw.get(`${p}bytes`))).toBe(100);
    // No body, 400 bytes of head (POST /p q=1 X-Pad <382> X-T t).
    const heavy = () => fakeRequest('b', '', { body: Buffer.alloc(0), path: '/p', queryString: 'q=1', headers: ['X-Pad', 'v'.repeat(382)], trailers: ['X-T', 't'] });
    const h = [heavy(), heavy(), heavy()];
    expect(await s.requests.append(h[0], 10)).toEqual([]);
    expect(await s.requests.append(h[1], 10)).toEqual([]);
    expect(Number(await raw.get(`${p}bytes`))).toBe(900);
    // 1300: the old one goes (its 100), then the oldest head (400).
    expect(await s.requests.append(h[2], 10)).toEqual([{ binId: 'b', ids: [old[1].id, h[0].id] }]);
    expect(Number(await raw.get(`${p}bytes`))).toBe(800);
    expect(Number(await raw.hget(k, 'bytes'))).toBe(800);
    await expectConsistent(raw, p);
    // The bin's cap evicts too: its bytes, head included, go with it.
    expect(await s.requests.append(heavy(), 2)).toEqual([{ binId: 'b', ids: [h[1].id] }]);
    expect(Number(await raw.get(`${p}bytes`))).toBe(800);
    await expectConsistent(raw, p);
    expect(await s.requests.clear('b')).toBe(2);
    expect(Number(await raw.get(`${p}bytes`))).toBe(0);
    expect(await raw.exists(`${k}:headbytes`)).toBe(0);
    await expectConsistent(raw, p);
  });
});

describe('redis: caps lowered since, applied at start-up', () => {
  it('a bin more over its cap than one run removes is trimmed to the cap in several runs (the last bin named too), and the budget after it', async () => {
    const p = freshPrefix();
    const s = await store({ prefix: p, maxStoreBytes: 1_000_000 });
    await s.bins.put({ id: 'a', name: 'a', createdAt: 'x' });
    await s.bins.put({ id: 'b', name: 'b', createdAt: 'x' });
    const a: string[] = [];
    const b: string[] = [];
    for (let i = 0; i < 12; i++) {
      const r = fakeRequest('a', '', { body: Buffer.alloc(10) });
      await s.requests.append(r, 100);
      a.push(r.id);
      const q = fakeRequest('b', '', { body: Buffer.alloc(10) });
      await s.requests.append(q, 100);
      b.push(q.id);
    }
    const told: string[] = [];
    // Runs of 4: each bin is 10 over a cap of 2, so both, and the last named, need three runs.
    const r = await s.requests.applyCaps(2, (evs) => told.push(...evs.flatMap((e) => e.ids.map((id) => `${e.binId}/${id}`))), 4);
    expect(r.capped).toBe(20);
    expect(told.sort()).toEqual([...a.slice(0, 10).map((id) => `a/${id}`), ...b.slice(0, 10).map((id) => `b/${id}`)].sort());
    expect((await s.requests.items('a', { limit: 50 })).map((x) => x.id).sort()).toEqual(a.slice(10).sort());
    expect((await s.requests.items('b', { limit: 50 })).map((x) => x.id).sort()).toEqual(b.slice(10).sort());
    await expectConsistent(raw, p);
  });
});

describe('redis: bodies', () => {
  it('keeps bodies byte-exact: every byte value, empty, 1 MiB; Node holds none of them', async () => {
    const p = freshPrefix();
    const s = await store({ prefix: p });
    await s.bins.put({ id: 'b', name: 'b', createdAt: 'x' });
    const every = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const mib = randomBytes(1024 * 1024);
    const empty = Buffer.alloc(0);
    const bad = Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0x00, 0xed, 0xa0, 0x80]); // not UTF-8
    const recs = [every, mib, empty, bad].map((body) => fakeRequest('b', '', { body, headers: ['X-Bin\u00e9', 'caf\u00e9', 'x-two', ''] }));
    for (const r of recs) await s.requests.append(r, 10);
    for (const r of recs) {
      const got = await s.requests.body('b', r.id);
      expect(got?.equals(r.body), `body of ${r.body.length} bytes`).toBe(true);
      expect(await s.requests.get('b', r.id)).toMatchObject({ storedBytes: r.body.length, headers: ['X-Bin\u00e9', 'caf\u00e9', 'x-two', ''] });
    }
    expect(s.requests.pendingBytes()).toBe(0);
    // The bodies and their heads (22 bytes each: POST / and the headers, é two bytes in UTF-8).
    expect(Number(await raw.get(`${p}bytes`))).toBe(256 + 1024 * 1024 + 8 + 4 * 22);
    await expectConsistent(raw, p);
  });

  it('an empty body can be the store\'s first capture under a byte budget (a GET to a fresh store)', async () => {
    const p = freshPrefix();
    const s = await store({ prefix: p, maxStoreBytes: 1000 });
    await s.bins.put({ id: 'b', name: 'b', createdAt: 'x' });
    expect(await s.requests.append(fakeRequest('b', '', { body: Buffer.alloc(0) }), 10)).toEqual([]);
    expect(await s.requests.append(fakeRequest('b', '', { body: Buffer.alloc(600) }), 10)).toEqual([]);
    const big = fakeRequest('b', '', { body: Buffer.alloc(600) });
    expect(await s.requests.append(big, 10)).toEqual([{ binId: 'b', ids: [expect.any(String), expect.any(String)] }]);
    expect((await s.requests.items('b', { limit: 10 })).map((i) => i.id)).toEqual([big.id]);
    await expectConsistent(raw, p);
  });

  it('clearing or deleting a bin frees its bodies (in chunks), keeps the numbering on clear, and a cleared body is never answered', async () => {
    const p = freshPrefix();
    const s = await store({ prefix: p });
    await s.bins.put({ id: 'b', name: 'b', createdAt: 'x' });
    await s.bins.put({ id: 'c', name: 'c', createdAt: 'x' });
    const recs = Array.from({ length: 700 }, (_, i) => fakeRequest(i % 2 ? 'b' : 'c', '', { body: Buffer.from(`#${i}`) }));
    for (let i = 0; i < recs.length; i += 50) await Promise.all(recs.slice(i, i + 50).map((r) => s.requests.append(r, 1000)));
    const oneOfB = recs[1];
    expect(await s.requests.clear('b')).toBe(350);
    expect(await s.requests.body('b', oneOfB.id)).toBeUndefined();
    expect(await s.requests.has('b', oneOfB.id)).toBe(false);
    expect(await keysOf(raw, `${p}body:b:*`)).toEqual([]);
    expect(await s.requests.lastSeq('b')).toBe(350);
    expect(await raw.smembers(`${p}purge`)).toEqual([]);
    await expectConsistent(raw, p);
    expect(await s.bins.delete('c')).toBe(true);
    expect(await keysOf(raw, `${p}body:c:*`)).toEqual([]);
    expect(await keysOf(raw, `${p}bin:c*`)).toEqual([]);
    expect(Number(await raw.get(`${p}bytes`))).toBe(0);
    await expectConsistent(raw, p);
  });

  it('finishes a purge another instance left half done', async () => {
    const p = freshPrefix();
    const s = await store({ prefix: p });
    await s.bins.put({ id: 'b', name: 'b', createdAt: 'x' });
    for (let i = 0; i < 20; i++) await s.requests.append(fakeRequest('b', ''), 100);
    // As if an instance died right after the clear step: the purge list is left.
    const [, count, purge] = (await s['db'].run((c) => c.hlEmptyBin(p, 'b', 'clear'))) as [number, number, string];
    expect(count).toBe(20);
    expect(await keysOf(raw, `${p}body:b:*`)).toHaveLength(20);
    expect(await raw.smembers(`${p}purge`)).toEqual([`${purge} b`]);
    const s2 = await store({ prefix: p });
    expect(s2).toBeDefined();
    expect(await keysOf(raw, `${p}body:b:*`)).toEqual([]);
    expect(await raw.smembers(`${p}purge`)).toEqual([]);
    await expectConsistent(raw, p);
  });
});

describe('redis: annotations', () => {
  it('two instances annotating one capture at once lose nothing', async () => {
    const p = freshPrefix();
    const [s1, s2] = await Promise.all([store({ prefix: p }), store({ prefix: p })]);
    await s1.bins.put({ id: 'b', name: 'b', createdAt: 'x' });
    const r = fakeRequest('b', '');
    await s1.requests.append(r, 10);
    const rec = (n: number) => ({ kind: 'forward' as const, at: 'x', target: 't', url: 'u', method: 'POST', status: n, headers: [], body: '', bodyEncoding: 'utf8' as const, bodyTruncated: false, durationMs: 1, error: null, errorDetail: null, edited: false });
    const results = await Promise.all(
      Array.from({ length: 120 }, (_, i) => (i % 2 ? s2 : s1).requests.annotate('b', r.id, (x) => ({ forwards: [...(x.forwards ?? []), rec(i)] }))),
    );
    expect(results.every((x) => x?.id === r.id)).toBe(true);
    const got = await s2.requests.get('b', r.id);
    expect(got?.forwards?.map((f) => f.status ?? -1).sort((a, b) => a - b)).toEqual(Array.from({ length: 120 }, (_, i) => i));
    // The list row follows (its status from the answer, say).
    const item = await s1.requests.annotate('b', r.id, () => ({ answer: { ...r.answer, status: 418 } }));
    expect(item).toMatchObject({ id: r.id, status: 418, seq: 1 });
    expect((await s2.requests.items('b', { limit: 1 }))[0]).toMatchObject({ status: 418 });
    expect(await s2.requests.annotate('b', 'gone', () => ({}))).toBeNull();
    await s1.requests.delete('b', r.id);
    expect(await s2.requests.annotate('b', r.id, () => ({}))).toBeNull();
  });
});

describe('redis: same results as the memory driver', () => {
  // A seeded random walk through the operations, run on both: the answers must match.
  function rng(seed: number) {
    let x = seed;
    return () => {
      x = (x * 1103515245 + 12345) & 0x7fffffff;
      return x / 0x7fffffff;
    };
  }

  it('deliveries and runs: put, delete, query by every filter and cursor, bounds', async () => {
    const mem = new MemoryStore({ maxFinishedDeliveries: 15, maxEndedRuns: 4 });
    const red = await store({ prefix: freshPrefix(), maxFinishedDeliveries: 15, maxEndedRuns: 4 });
    const rand = rng(7);
    const pick = <T>(xs: T[]) => xs[Math.floor(rand() * xs.length)];
    const states: Delivery['state'][] = ['pending', 'delivered', 'failed'];
    const ids = Array.from({ length: 40 }, (_, i) => `dl_${String(i).padStart(3, '0')}`);
    for (let step = 0; step < 400; step++) {
      const op = rand();
      if (op < 0.6) {
        const d = { ...fakeDelivery(pick(ids), pick(states), pick(['wh_a', 'wh_b', 'wh_c'])), runId: pick([null, 'run_1', 'run_2']) };
        await mem.deliveries.put(d);
        await red.deliveries.put(d);
      } else if (op < 0.7) {
        const id = pick(ids);
        expect(await red.deliveries.delete(id)).toBe(await mem.deliveries.delete(id));
      } else if (op < 0.8) {
        const r = { id: `run_${Math.floor(rand() * 12)}`, ended: rand() < 0.5 } as unknown as Run;
        await mem.runs.put(r);
        await red.runs.put(r);
      } else {
        const q = {
          ...(rand() < 0.4 ? { state: pick(states) } : {}),
          ...(rand() < 0.4 ? { webhookId: pick(['wh_a', 'wh_b', 'wh_c']) } : {}),
          ...(rand() < 0.3 ? { runId: pick(['run_1', 'run_2']) } : {}),
          ...(rand() < 0.4 ? { before: pick(ids) } : {}),
          ...(rand() < 0.5 ? { limit: Math.floor(rand() * 6) } : {}),
        };
        expect((await red.deliveries.query(q)).map((d) => d.id), JSON.stringify(q)).toEqual((await mem.deliveries.query(q)).map((d) => d.id));
      }
    }
    expect(await red.deliveries.list()).toEqual(await mem.deliveries.list());
    expect(await red.runs.list()).toEqual(await mem.runs.list());
    expect(await red.deliveries.get(ids[0])).toEqual(await mem.deliveries.get(ids[0]));
  });

  it('captures: appends (out of order too), caps, budget, deletes, clears, pages with every cursor', async () => {
    const mem = new MemoryStore({ maxStoreBytes: 3000 });
    const p = freshPrefix();
    const red = await store({ prefix: p, maxStoreBytes: 3000 });
    const rand = rng(11);
    const pick = <T>(xs: T[]) => xs[Math.floor(rand() * xs.length)];
    const bins = ['b1', 'b2', 'b3'];
    for (const b of bins) {
      await mem.bins.put({ id: b, name: b, createdAt: 'x' });
      await red.bins.put({ id: b, name: b, createdAt: 'x' });
    }
    let t = 1_700_000_000_000;
    const made = sortableIdFactory(() => (t += Math.floor(rand() * 3)));
    const ids: string[] = [];
    for (let step = 0; step < 600; step++) {
      const op = rand();
      const bin = pick(bins);
      if (op < 0.55) {
        // Mostly in order, sometimes an older id (an import).
        const id = rand() < 0.1 && ids.length ? `${pick(ids).slice(0, 13)}zzzzzz` : made();
        if (ids.includes(id)) continue;
        ids.push(id);
        const body = Buffer.alloc(Math.floor(rand() * 400), step & 0xff);
        const cap = 1 + Math.floor(rand() * 12);
        const [a, b] = [fakeRequest(bin, id, { body, path: `/${step}` }), fakeRequest(bin, id, { body, path: `/${step}` })];
        expect(await red.requests.append(b, cap)).toEqual(await mem.requests.append(a, cap));
        expect(b.seq).toBe(a.seq);
      } else if (op < 0.62 && ids.length) {
        const id = pick(ids);
        expect(await red.requests.delete(bin, id)).toBe(await mem.requests.delete(bin, id));
      } else if (op < 0.64) {
        expect(await red.requests.clear(bin)).toBe(await mem.requests.clear(bin));
      } else {
        const q = {
          limit: Math.floor(rand() * 8),
          ...(rand() < 0.4 && ids.length ? { before: pick(ids) } : {}),
          ...(rand() < 0.4 && ids.length ? { after: pick(ids) } : {}),
          ...(rand() < 0.5 ? { oldestFirst: true } : {}),
        };
        expect(await red.requests.items(bin, q), JSON.stringify(q)).toEqual(await mem.requests.items(bin, q));
        expect(await red.requests.page(bin, q)).toEqual(await mem.requests.page(bin, q));
        expect(await red.requests.stats(bin)).toEqual(await mem.requests.stats(bin));
        expect(await red.requests.lastSeq(bin)).toBe(await mem.requests.lastSeq(bin));
      }
    }
    for (const b of bins) {
      const all = await mem.requests.page(b, { limit: 1000 });
      expect(await red.requests.page(b, { limit: 1000 })).toEqual(all);
      for (const r of all) expect((await red.requests.body(b, r.id))?.equals((await mem.requests.body(b, r.id))!)).toBe(true);
    }
    await expectConsistent(raw, p);
  });
});

describe('redis: faults', () => {
  it('reports Redis refusing writes (out of memory) and clears once it accepts them again', async () => {
    const s = await store({ prefix: freshPrefix() });
    await s.bins.put({ id: 'b', name: 'b', createdAt: 'x' });
    await raw.config('SET', 'maxmemory', '1');
    try {
      await expect(s.requests.append(fakeRequest('b', ''), 10)).rejects.toBeInstanceOf(StoreUnavailableError);
      expect(s.health().fault).toMatchObject({ code: 'redis_unavailable', message: expect.stringMatching(/out of memory/) });
      await expect(s.durable()).rejects.toBeInstanceOf(StoreUnavailableError);
    } finally {
      await raw.config('SET', 'maxmemory', '0');
    }
    await until('the fault clears', () => s.health().fault === null);
    expect(await s.requests.append(fakeRequest('b', ''), 10)).toEqual([]);
  });

  it('warns when Redis may evict keys by itself', async () => {
    await raw.config('SET', 'maxmemory-policy', 'allkeys-lru');
    try {
      const s = await store({ prefix: freshPrefix() });
      expect(s.health().warnings.join()).toMatch(/maxmemory-policy allkeys-lru/);
      // This test server persists nothing (--save '' --appendonly no): said too.
      expect(s.health().warnings.join()).toMatch(/Redis persists nothing/);
    } finally {
      await raw.config('SET', 'maxmemory-policy', 'noeviction');
    }
  });

  it('the test helper says clearly when redis-server is not installed', async () => {
    const was = process.env.REDIS_SERVER;
    process.env.REDIS_SERVER = '/nonexistent/redis-server';
    try {
      await expect(startRedis()).rejects.toThrow(/redis-server is not installed.*apt-get install/);
    } finally {
      if (was === undefined) delete process.env.REDIS_SERVER;
      else process.env.REDIS_SERVER = was;
    }
  });

  it('refuses to open when Redis does not answer, with a clear error', async () => {
    const t0 = Date.now();
    await expect(RedisStore.open({ url: 'redis://127.0.0.1:1', waitMs: 1500, connectTimeoutMs: 500 })).rejects.toBeInstanceOf(RedisUnavailableError);
    expect(Date.now() - t0).toBeLessThan(10_000);
  });
});

describe('redis: a Redis that goes away', () => {
  let own: RedisServer;
  let ownRaw: Redis;
  beforeAll(async () => {
    own = await startRedis({ appendonly: true, appendfsync: 'always' });
    ownRaw = new Redis(own.url, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: (n) => Math.min(n * 50, 500) });
    ownRaw.on('error', () => {});
    await ownRaw.connect();
  }, 60_000);
  afterAll(async () => {
    ownRaw?.disconnect();
    await own?.cleanup();
  }, 60_000);

  it('reports the fault while redis-server is stopped, refuses appends whole, and clears after it restarts', async () => {
    const p = freshPrefix();
    const faults: (string | null)[] = [];
    const s = await store({ prefix: p, onFault: (f) => faults.push(f?.code ?? null) }, own.url);
    expect(s.health()).toEqual({ fault: null, warnings: [] }); // appendonly yes: nothing to warn of
    await s.bins.put({ id: 'b', name: 'b', createdAt: 'x' });
    const before = fakeRequest('b', '', { body: randomBytes(50_000) });
    await s.requests.append(before, 10);
    expect(s.health().fault).toBeNull();

    await own.stop();
    await until('the fault shows', () => s.health().fault !== null);
    expect(s.health().fault).toMatchObject({ code: 'redis_unavailable', message: expect.stringMatching(/unreachable/), since: expect.any(String) });
    const t0 = Date.now();
    await expect(s.requests.append(fakeRequest('b', '', { body: randomBytes(10_000) }), 10)).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(s.requests.items('b', { limit: 10 })).rejects.toBeInstanceOf(StoreUnavailableError);
    expect(Date.now() - t0).toBeLessThan(3000); // fails fast, queues nothing
    await expect(s.durable()).rejects.toBeInstanceOf(StoreUnavailableError);
    expect(s.requests.pendingBytes()).toBe(0);

    await own.start();
    await until('the fault clears', () => s.health().fault === null, 30_000);
    expect(faults).toEqual(['redis_unavailable', null]);
    await s.durable();
    // What was acknowledged before is there (appendonly), nothing of the refused append is.
    const items = await s.requests.items('b', { limit: 10 });
    expect(items.map((i) => i.id)).toEqual([before.id]);
    expect((await s.requests.body('b', before.id))?.equals(before.body)).toBe(true);
    const after = fakeRequest('b', '');
    await s.requests.append(after, 10);
    expect(after.seq).toBe(2);
    await until('the raw client is back', () => ownRaw.status === 'ready');
    await expectConsistent(ownRaw, p);
  }, 120_000);

  it('leaves no half-written capture when redis-server is killed mid-stream', async () => {
    const p = freshPrefix();
    const s = await store({ prefix: p }, own.url);
    await s.bins.put({ id: 'b', name: 'b', createdAt: 'x' });
    await s.bins.put({ id: 'c', name: 'c', createdAt: 'x' });
    const acked: string[] = [];
    let failed = 0;
    let stop = false;
    const writer = async (w: number) => {
      for (let i = 0; !stop; i++) {
        const r = fakeRequest(i % 2 ? 'b' : 'c', '', { body: randomBytes(1000 + ((w * 7919 + i * 104729) % 200_000)) });
        try {
          await s.requests.append(r, 40);
          acked.push(`${r.binId}/${r.id}`);
        } catch {
          failed++;
          await sleep(5);
        }
      }
    };
    const writers = Array.from({ length: 8 }, (_, w) => writer(w));
    await until('some appends land', () => acked.length >= 100, 60_000);
    await own.kill(); // SIGKILL: mid-append for some of the writers
    await until('appends fail', () => failed > 0);
    await own.start();
    await until('the fault clears', () => s.health().fault === null, 30_000);
    await until('more appends land', () => acked.length >= 250, 60_000);
    stop = true;
    await Promise.all(writers);
    await until('the raw client is back', () => ownRaw.status === 'ready');
    await expectConsistent(ownRaw, p);
    // No acknowledged append newer than what the cap dropped is missing (appendfsync always).
    for (const b of ['b', 'c']) {
      const stored = new Set((await s.requests.items(b, { limit: 100 })).map((i) => i.id));
      expect(stored.size).toBe(40);
      const oldest = (await s.requests.stats(b)).oldestId!;
      const ackedHere = acked.filter((x) => x.startsWith(`${b}/`)).map((x) => x.slice(2));
      for (const id of ackedHere.filter((id) => id >= oldest)) expect(stored.has(id), id).toBe(true);
    }
  }, 180_000);

  it('closes without hanging while Redis is away', async () => {
    const s = await store({ prefix: freshPrefix() }, own.url);
    await own.stop();
    try {
      await until('the fault shows', () => s.health().fault !== null);
      const t0 = Date.now();
      await s.close();
      expect(Date.now() - t0).toBeLessThan(5000);
    } finally {
      await own.start();
    }
  }, 60_000);
});
