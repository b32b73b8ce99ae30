// The Redis capture path with what each instance keeps to spare round trips (issue 11's
// throughput goal), against a real redis-server, two stores on one prefix standing for two
// instances and no notes between them: what must hold holds in Redis itself, the notes only
// make it prompt. A bin an instance remembers but another deleted is answered "gone" by the
// append and nothing is stored; a bin created elsewhere is found at once; response settings
// set elsewhere are obeyed by the next decision of an instance that knew of none, and by the
// next append of one that answered without a step in Redis (a bin without a plan); the capture
// feed says which instance appended each capture; the append survives Redis forgetting its
// scripts.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisResponseControl } from '../../server/control/redis-control.ts';
import { DEFAULT_LIMITS } from '../../server/control/validate.ts';
import { RecordingBus } from '../../server/live/bus.ts';
import { RedisStore } from '../../server/store/redis/redis-store.ts';
import { SettingsChangedError } from '../../server/store/types.ts';
import { keysOf, type RedisServer, startRedis } from '../helpers/redis.ts';
import { fakeRequest } from './contract.ts';

let server: RedisServer;
let raw: Redis;
const open: RedisStore[] = [];
let n = 0;

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

/** Two stores ("instances") on one fresh prefix. */
async function pair(o: { feedMaxLen?: number } = {}): Promise<[RedisStore, RedisStore, string]> {
  const prefix = `cp${++n}:`;
  const [a, b] = await Promise.all([RedisStore.open({ url: server.url, prefix, ...o }), RedisStore.open({ url: server.url, prefix, ...o })]);
  open.push(a, b);
  return [a, b, prefix];
}

const keys = (pattern: string) => keysOf(raw, pattern);

function control(s: RedisStore) {
  return new RedisResponseControl({
    store: s,
    live: new RecordingBus(),
    limits: DEFAULT_LIMITS,
    randomSeed: () => 1,
    client: s.db.client,
    run: (fn) => s.db.run(() => fn()),
    sharedRead: (key, fn) => s.db.sharedRead(key, () => fn()),
    prefix: s.prefix,
  });
}

describe('redis capture path: what an instance remembers', () => {
  it('a bin deleted on A while B remembers it: B still finds it, but its append is refused whole, stores nothing, and B forgets it', async () => {
    const [a, b, p] = await pair({ feedMaxLen: 100 });
    await a.bins.put({ id: 'gone', name: 'g', createdAt: 'x' });
    const receiving = b.forCaptures();
    expect(await receiving.bins.get('gone')).toMatchObject({ id: 'gone' });
    expect(await receiving.requests.append(fakeRequest('gone', ''), 10)).toEqual([]); // stored while it existed
    expect(await a.bins.delete('gone')).toBe(true);
    // No note reaches B here: it still believes in the bin…
    expect(await receiving.bins.get('gone')).toMatchObject({ id: 'gone' });
    const feedBefore = await raw.xlen(`${p}feed`);
    // …and its append is answered "no such bin" (the receiver's 404), nothing kept.
    const late = fakeRequest('gone', '', { body: Buffer.from('a ghost') });
    expect(await receiving.requests.append(late, 10)).toBeNull();
    expect(await keys(`${p}bin:gone*`)).toEqual([]);
    expect(await keys(`${p}body:gone:*`)).toEqual([]);
    expect(await keys(`${p}tmp:*`)).toEqual([]);
    expect(await raw.xlen(`${p}feed`)).toBe(feedBefore);
    expect(Number(await raw.get(`${p}bytes`))).toBe(0);
    // Found gone: B reads Redis again from now on.
    expect(await receiving.bins.get('gone')).toBeUndefined();
    expect(await b.bins.get('gone')).toBeUndefined();
  });

  it('a bin created on A is found by B at its first capture (nothing "not found" is remembered); re-created after a delete, it is capturable again', async () => {
    const [a, b] = await pair();
    const receiving = b.forCaptures();
    expect(await receiving.bins.get('new')).toBeUndefined();
    await a.bins.put({ id: 'new', name: 'n', createdAt: 'x' });
    expect(await receiving.bins.get('new')).toMatchObject({ id: 'new' });
    expect(await receiving.requests.append(fakeRequest('new', ''), 10)).toEqual([]);
    await a.bins.delete('new');
    await a.bins.put({ id: 'new', name: 'again', createdAt: 'y' });
    expect(await receiving.requests.append(fakeRequest('new', ''), 10)).toEqual([]);
    expect((await a.requests.items('new', { limit: 10 })).map((i) => i.seq)).toEqual([1]);
  });

  it('B\'s own changes to a bin are seen by its receiver at once; forget() drops what it remembers', async () => {
    const [, b] = await pair();
    const receiving = b.forCaptures();
    const changed: string[] = [];
    b.bins.onChange((id) => changed.push(id));
    await b.bins.put({ id: 'x', name: 'one', createdAt: 'x' });
    expect(await receiving.bins.get('x')).toMatchObject({ name: 'one' });
    await b.bins.put({ id: 'x', name: 'two', createdAt: 'x' });
    expect(await receiving.bins.get('x')).toMatchObject({ name: 'two' });
    await b.bins.delete('x');
    expect(await receiving.bins.get('x')).toBeUndefined();
    expect(changed).toEqual(['x', 'x', 'x']);
    b.bins.onChange(null);
  });

  it('response settings set on A are obeyed by B\'s next decision though B knew of none (no note between them)', async () => {
    const [a, b] = await pair();
    await a.bins.put({ id: 'r', name: 'r', createdAt: 'x' });
    const [ca, cb] = [control(a), control(b)];
    await Promise.all([ca.load(), cb.load()]);
    const facts = { method: 'POST', path: '/', headers: [] as string[] };
    expect((await cb.decide('r', facts)).outcome).toMatchObject({ status: 200, source: 'default' });
    await ca.set('r', { default: { status: 418 }, plan: [{ status: 500, times: 2 }] });
    // B was never told: the plan's version in Redis says so, and B reloads before deciding.
    const seen = [];
    for (let i = 0; i < 4; i++) seen.push((await (i % 2 ? ca : cb).decide('r', facts)).outcome.status);
    expect(seen).toEqual([500, 500, 418, 418]);
    // Removed on A: B, which now knows of settings, goes back to the default at once.
    await ca.remove('r');
    expect((await cb.decide('r', facts)).outcome).toMatchObject({ status: 200, source: 'default' });
    expect((await ca.decide('r', facts)).outcome).toMatchObject({ status: 200, source: 'default' });
  });

  it('a bin without a plan is answered with no step in Redis, guarded: once A sets settings B was not told of, B\'s guarded append stores nothing and B decides again, a plan\'s step used once', async () => {
    const [a, b, p] = await pair({ feedMaxLen: 100 });
    await a.bins.put({ id: 'q', name: 'q', createdAt: 'x' });
    const [ca, cb] = [control(a), control(b)];
    await Promise.all([ca.load(), cb.load()]);
    const post = { method: 'POST', path: '/', headers: [] as string[] };
    const get = { method: 'GET', path: '/', headers: [] as string[] };
    // No settings: the default answer, guarded by "still none".
    const none = cb.quickDecision('q', post)!;
    expect(none.decision.outcome).toMatchObject({ status: 200, source: 'default', planUses: 0 });
    expect(none.guard).toEqual({ settingsVersion: '' });
    expect(await b.requests.append(fakeRequest('q', ''), 10, none.guard)).toEqual([]);
    // Settings without a plan set on A, B not told: its guard fails, nothing is kept.
    await ca.set('q', { default: { status: 202 }, rules: [{ status: 204, match: { method: 'GET' } }] });
    const before = { feed: await raw.xlen(`${p}feed`), seq: await b.requests.lastSeq('q') };
    await expect(b.requests.append(fakeRequest('q', ''), 10, none.guard)).rejects.toBeInstanceOf(SettingsChangedError);
    expect(await raw.xlen(`${p}feed`)).toBe(before.feed);
    expect(await b.requests.lastSeq('q')).toBe(before.seq);
    expect((await b.requests.stats('q')).count).toBe(1);
    expect(await keys(`${p}tmp:*`)).toEqual([]);
    // Deciding again reloads them; from then on B answers them by itself (rules included),
    // exactly as the step in Redis would, guarded by their version.
    expect((await cb.decide('q', post)).outcome).toMatchObject({ status: 202, source: 'default', planUses: 0 });
    const known = cb.quickDecision('q', post)!;
    expect(known.decision.outcome).toEqual((await cb.decide('q', post)).outcome);
    expect(cb.quickDecision('q', get)!.decision.outcome).toEqual((await cb.decide('q', get)).outcome);
    expect(cb.quickDecision('q', get)!.decision.outcome).toMatchObject({ status: 204, source: 'rule', index: 0 });
    expect(known.guard.settingsVersion).not.toBe('');
    expect(await b.requests.append(fakeRequest('q', ''), 10, known.guard)).toEqual([]);
    // A plan set on A: B's guard fails again; its decision then takes the step (once).
    await ca.set('q', { plan: [{ status: 500, times: 2 }], default: { status: 200 } });
    await expect(b.requests.append(fakeRequest('q', ''), 10, known.guard)).rejects.toBeInstanceOf(SettingsChangedError);
    expect((await cb.decide('q', post)).outcome).toMatchObject({ status: 500, source: 'step', index: 0, planUses: 1 });
    // Knowing of a plan, B has no quick answer: every request takes its step in Redis.
    expect(cb.quickDecision('q', post)).toBeNull();
    expect((await ca.decide('q', post)).outcome).toMatchObject({ status: 500, planUses: 2 });
    expect((await cb.decide('q', post)).outcome).toMatchObject({ status: 200, source: 'default', planUses: 2 });
    // Removed on A: the plan hash goes, and B's guard for a plan-less version would fail too.
    await ca.remove('q');
    await expect(b.requests.append(fakeRequest('q', ''), 10, known.guard)).rejects.toBeInstanceOf(SettingsChangedError);
    expect(await b.requests.append(fakeRequest('q', ''), 10, none.guard)).toEqual([]);
    expect((await b.requests.stats('q')).count).toBe(3);
  });

  it('tags each capture in the feed with the instance that appended it', async () => {
    const [a, b, p] = await pair({ feedMaxLen: 100 });
    expect(a.origin).not.toBe(b.origin);
    await a.bins.put({ id: 'f', name: 'f', createdAt: 'x' });
    await a.requests.append(fakeRequest('f', ''), 10);
    await b.requests.append(fakeRequest('f', ''), 10);
    const entries = (await raw.xrange(`${p}feed`, '-', '+')).map(([, fields]) => Object.fromEntries(Array.from({ length: fields.length / 2 }, (_, i) => [fields[2 * i], fields[2 * i + 1]])));
    expect(entries.map((e) => [e.b, e.o])).toEqual([
      ['f', a.origin],
      ['f', b.origin],
    ]);
  });

  it('appends asked for in one turn go in one group, in the order asked, and each stays whole: one that fails fails alone', async () => {
    const [a, , p] = await pair({ feedMaxLen: 100 });
    await a.bins.put({ id: 'g', name: 'g', createdAt: 'x' });
    const first = fakeRequest('g', '');
    await a.requests.append(first, 100);
    // 70 in one synchronous run (more than one group), one of them a duplicate id.
    const recs = Array.from({ length: 70 }, (_, i) => fakeRequest('g', i === 33 ? first.id : '', { body: Buffer.from(`#${i}`) }));
    const results = await Promise.allSettled(recs.map((r) => a.requests.append(r, 100)));
    expect(results.filter((r) => r.status === 'rejected').map((r) => String((r as PromiseRejectedResult).reason))).toEqual([expect.stringMatching(/already stored/)]);
    expect(results[33].status).toBe('rejected');
    const landed = recs.filter((_, i) => i !== 33);
    expect(landed.map((r) => r.seq)).toEqual(Array.from({ length: 69 }, (_, i) => i + 2));
    expect([...landed.map((r) => r.id)].sort()).toEqual(landed.map((r) => r.id));
    expect((await a.requests.stats('g')).count).toBe(70);
    for (const r of landed.slice(-3)) expect((await a.requests.body('g', r.id))?.toString()).toBe(r.body.toString());
    expect(await keys(`${p}tmp:*`)).toEqual([]);
    expect(await raw.xlen(`${p}feed`)).toBe(70);
  });

  it('decisions for a bin without settings asked for in one turn share one read of its plan version', async () => {
    const [a, b] = await pair();
    await a.bins.put({ id: 'sr', name: 'sr', createdAt: 'x' });
    const cb = control(b);
    await cb.load();
    const facts = { method: 'POST', path: '/', headers: [] as string[] };
    await raw.config('RESETSTAT');
    const ds = await Promise.all(Array.from({ length: 10 }, () => cb.decide('sr', facts)));
    expect(ds.every((d) => d.outcome.status === 200)).toBe(true);
    const stats = await raw.info('commandstats');
    expect(/cmdstat_hget:calls=(\d+)/.exec(stats)?.[1]).toBe('1');
    // A later turn reads again: settings made meanwhile are obeyed.
    await control(a).set('sr', { default: { status: 202 } });
    expect((await cb.decide('sr', facts)).outcome.status).toBe(202);
  });

  it('a turn\'s appends run in batches (one MSET, one script run and one MULTI per 32), each append answered as if alone, in the order asked', async () => {
    const [a, , p] = await pair({ feedMaxLen: 100 });
    await a.bins.put({ id: 'x', name: 'x', createdAt: 'x' });
    await a.bins.put({ id: 'y', name: 'y', createdAt: 'x' });
    const first = fakeRequest('x', '');
    await a.requests.append(first, 100);
    await raw.config('RESETSTAT');
    const feedBefore = await raw.xlen(`${p}feed`);
    // 70 in one turn: to two bins, one to a bin that is not there, one with a stale guard,
    // one with an id already stored.
    const recs = Array.from({ length: 70 }, (_, i) => fakeRequest(i === 10 ? 'nope' : i % 2 ? 'x' : 'y', i === 41 ? first.id : '', { body: Buffer.from(`#${i}`) }));
    const results = await Promise.allSettled(recs.map((r, i) => a.requests.append(r, 100, i === 20 ? { settingsVersion: 'stale' } : undefined)));
    const outcome = results.map((r) => (r.status === 'fulfilled' ? (r.value === null ? 'gone' : 'ok') : r.reason instanceof SettingsChangedError ? 'guard' : String(r.reason)));
    expect(outcome.filter((o) => o !== 'ok')).toEqual(['gone', 'guard', expect.stringMatching(/already stored/)]);
    expect([outcome[10], outcome[20]]).toEqual(['gone', 'guard']);
    const landed = recs.filter((_, i) => outcome[i] === 'ok');
    expect(landed).toHaveLength(67);
    for (const b of ['x', 'y']) {
      const mine = landed.filter((r) => r.binId === b);
      expect(mine.map((r) => r.seq)).toEqual(mine.map((_, i) => i + 1 + (b === 'x' ? 1 : 0)));
    }
    expect([...landed.map((r) => r.id)].sort()).toEqual(landed.map((r) => r.id)); // ids in the order asked
    expect(await raw.xlen(`${p}feed`)).toBe(feedBefore + 67);
    expect(await keys(`${p}tmp:*`)).toEqual([]);
    const stats = await raw.info('commandstats');
    const calls = (cmd: string) => Number(new RegExp(`cmdstat_${cmd}:calls=(\\d+)`).exec(stats)?.[1] ?? 0);
    expect([calls('multi'), calls('evalsha'), calls('exec')]).toEqual([3, 3, 3]);
    expect(calls('mset')).toBe(3); // the bodies, one MSET per run
    expect(calls('set')).toBe(3); // the id clock, once per run
    expect(calls('persist')).toBe(0); // staged bodies have no expiry to lift
  });

  it('an append whose staged body is missing fails and changes nothing (no id, number or feed entry taken)', async () => {
    const [a, , p] = await pair({ feedMaxLen: 100 });
    await a.bins.put({ id: 'm', name: 'm', createdAt: 'x' });
    await a.requests.append(fakeRequest('m', ''), 10);
    const before = await Promise.all([raw.get(`${p}idclock`), raw.hgetall(`${p}bin:m`), raw.xlen(`${p}feed`), raw.zrange(`${p}bin:m:ids`, '0', '-1')]);
    // The script itself (ARGV: prefix, budget, feed length, origin, feed position, then a capture's fields).
    expect(await a.db.client.hlAppend(p, '1000', '100', a.origin, '', `${p}tmp:never-staged`, 'm', '', 'abcdef', '}', '}', '5', '10', '', '0')).toEqual([[null, expect.stringMatching(/staged body is missing/)]]);
    expect(await Promise.all([raw.get(`${p}idclock`), raw.hgetall(`${p}bin:m`), raw.xlen(`${p}feed`), raw.zrange(`${p}bin:m:ids`, '0', '-1')])).toEqual(before);
  });

  it('appends still land (once) after Redis forgot its scripts', async () => {
    const [a, , p] = await pair();
    await a.bins.put({ id: 's', name: 's', createdAt: 'x' });
    await a.requests.append(fakeRequest('s', ''), 10);
    await raw.script('FLUSH');
    const recs = Array.from({ length: 20 }, () => fakeRequest('s', ''));
    await Promise.all(recs.map((r) => a.requests.append(r, 100)));
    expect(recs.map((r) => r.seq).sort((x, y) => x! - y!)).toEqual(Array.from({ length: 20 }, (_, i) => i + 2));
    expect((await a.requests.stats('s')).count).toBe(21);
    expect(await keys(`${p}tmp:*`)).toEqual([]);
  });
});
