// The lowdb driver: the shared contract, then what only a file-backed store must do.
import { mkdir, readFile, readdir, readlink, realpath, rm, stat, writeFile } from 'node:fs/promises';
import { syncBuiltinESMExports } from 'node:module';
import path from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { sortableIdFactory } from '../../server/ids.ts';
import { DataFileError, LowdbStore, type LowdbStoreOptions } from '../../server/store/lowdb.ts';
import { DiskRequestLog } from '../../server/store/disk/request-log.ts';
import { parseSegmentLog } from '../../server/store/disk/segment-log.ts';
import { UnsavedDataError } from '../../server/store/types.ts';
import { MAX_REPLAY_JOBS } from '../../shared/schema/forward.ts';
import { tempDir } from '../helpers/server.ts';
import { FAKE_HEAD, fakeDelivery, fakeRequest, storeContract } from './contract.ts';

const dirs: string[] = [];
async function dir() {
  const d = await tempDir('hooklab-lowdb-');
  dirs.push(d);
  return d;
}
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

storeContract('lowdb', async (o) => LowdbStore.open({ dataDir: await dir(), flushIntervalMs: 5, ...o }));

const nextId = sortableIdFactory();

async function open(d: string, extra: Partial<LowdbStoreOptions> = {}) {
  const s = await LowdbStore.open({ dataDir: d, flushIntervalMs: 1000, ...extra });
  return s;
}

/** Every file under bins/<binId>, name -> content. */
async function snapshot(d: string, binId: string) {
  const out = new Map<string, Buffer>();
  for (const f of await readdir(path.join(d, 'bins', binId))) out.set(f, await readFile(path.join(d, 'bins', binId, f)));
  return out;
}

describe('lowdb files', () => {
  it('survives close and reopen: bins, requests (byte-exact, 1 MB too), deliveries, clock', async () => {
    const d = await dir();
    const s1 = await open(d);
    await s1.bins.put({ id: 'b', name: 'bin', createdAt: 'x', labelFrom: ['json:type'] });
    const small = Buffer.from([0, 255, 1, 254, 10, 13]);
    const big = Buffer.alloc(1024 * 1024);
    for (let i = 0; i < big.length; i++) big[i] = (i * 7919) & 0xff;
    const ids = [nextId(), nextId()];
    await s1.requests.append(fakeRequest('b', ids[0], { body: small }), 10);
    await s1.requests.append(fakeRequest('b', ids[1], { body: big }), 10);
    await s1.deliveries.put(fakeDelivery('d1', 'pending'));
    await s1.setClock({ virtualMs: 1, realMs: 2, scale: 1440, paused: false });
    await s1.close(); // flushes, long before the 1 s timer

    const s2 = await open(d, { cacheBytes: 0 });
    expect(await s2.bins.list()).toEqual([{ id: 'b', name: 'bin', createdAt: 'x', labelFrom: ['json:type'] }]);
    expect((await s2.requests.page('b', { limit: 10 })).map((r) => r.id)).toEqual([...ids].reverse());
    expect((await s2.requests.body('b', ids[0]))?.equals(small)).toBe(true);
    expect((await s2.requests.body('b', ids[1]))?.equals(big)).toBe(true);
    expect((await s2.deliveries.query({ state: 'pending' })).map((x) => x.id)).toEqual(['d1']);
    expect((await s2.getClock())?.scale).toBe(1440);
    await s2.close();
  });

  it('keeps bodies on disk, not in memory: once written, only the index and a bounded cache hold them', async () => {
    const d = await dir();
    const s = await open(d, { cacheBytes: 3 * 1024 * 1024 });
    await s.bins.put({ id: 'b', name: 'b', createdAt: 'x' });
    const body = Buffer.alloc(1024 * 1024, 1);
    for (let i = 0; i < 10; i++) await s.requests.append(fakeRequest('b', nextId(), { body }), 100);
    expect(s.requests.pendingBytes()).toBe(10 * 1024 * 1024);
    await s.flush();
    expect(s.requests.pendingBytes()).toBe(0);
    // Every body is in the segment's .body file, once.
    const files = await snapshot(d, 'b');
    const bodyBytes = [...files].filter(([n]) => n.endsWith('.body')).reduce((a, [, b]) => a + b.length, 0);
    const metaBytes = [...files].filter(([n]) => n.endsWith('.log')).reduce((a, [, b]) => a + b.length, 0);
    expect(bodyBytes).toBe(10 * 1024 * 1024);
    expect(metaBytes).toBeLessThan(20_000);
    // Read back from disk (the cache holds at most 3 of them).
    for (const r of await s.requests.page('b', { limit: 10 })) expect((await s.requests.body('b', r.id))?.equals(body)).toBe(true);
    await s.close();
  });

  it('segments by count and by body bytes; a capture into a full bin writes only the newest segment', async () => {
    const d = await dir();
    const s = await open(d, { segmentSize: 10, segmentBytes: 1000 });
    await s.bins.put({ id: 'a', name: 'a', createdAt: 'x' });
    for (let i = 0; i < 200; i++) await s.requests.append(fakeRequest('a', nextId()), 50);
    await s.flush();
    const before = await snapshot(d, 'a');
    // 50 kept, 10 per segment, two files each: the emptied segments' files are gone.
    expect(before.size).toBe(10);
    await s.requests.append(fakeRequest('a', nextId()), 50);
    await s.flush();
    const after = await snapshot(d, 'a');
    const changed = [...new Set([...before.keys(), ...after.keys()])].filter((f) => !before.get(f)?.equals(after.get(f) ?? Buffer.alloc(0)));
    // One new segment (its .log and .body); the oldest segment, now holding one evicted
    // request, is left alone (evictions are lazy on disk).
    expect(changed.sort()).toEqual(['00000020.body', '00000020.log']);
    // Big bodies fill a segment by bytes: 600 + 600 > 1000, so the third goes to a new one.
    for (let i = 0; i < 3; i++) await s.requests.append(fakeRequest('a', nextId(), { body: Buffer.alloc(600, i) }), 50);
    await s.flush();
    const sizes = [...(await snapshot(d, 'a'))].filter(([n]) => n.endsWith('.body')).map(([, b]) => b.length);
    expect(sizes.slice(-2)).toEqual([2 + 600 + 600, 600]);
    await s.close();
    // Reading back cuts what was evicted but is still on disk: the newest 50, in order.
    const newest = (await s.requests.page('a', { limit: 500 })).map((r) => r.id);
    const again = await open(d, { segmentSize: 10, maxRequestsPerBin: 50 });
    expect((await again.requests.page('a', { limit: 500 })).map((r) => r.id)).toEqual(newest);
    await again.close();
  });

  it('deletes, clears and bin deletions are on disk when they resolve (no close needed)', async () => {
    const d = await dir();
    const s = await open(d, { segmentSize: 3, flushIntervalMs: 60_000 });
    await s.bins.put({ id: 'a', name: 'a', createdAt: 'x' });
    await s.bins.put({ id: 'gone', name: 'gone', createdAt: 'x' });
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) {
      ids.push(nextId());
      await s.requests.append(fakeRequest('a', ids[i]), 100);
    }
    await s.requests.append(fakeRequest('gone', nextId()), 100);
    await s.flush();
    await s.requests.delete('a', ids[4]);
    await s.bins.delete('gone');
    // A second reader of the same directory, as after a crash right now.
    const peek = await open(d, { segmentSize: 3 });
    expect((await peek.requests.page('a', { limit: 100 })).map((x) => x.id)).toEqual(ids.filter((_, i) => i !== 4).reverse());
    expect(await peek.bins.get('gone')).toBeUndefined();
    expect(await readdir(path.join(d, 'bins'))).toEqual(['a']);
    await s.requests.clear('a');
    const peek2 = await open(d);
    expect(await peek2.requests.page('a', { limit: 100 })).toEqual([]);
    expect(await readdir(path.join(d, 'bins', 'a'))).toEqual([]);
    await s.close();
  });

  it('close() waits for a flush already under way (its changes no longer count as dirty)', async () => {
    const d = await dir();
    const s = await open(d);
    await s.bins.put({ id: 'a', name: 'a', createdAt: 'x' });
    const id = nextId();
    await s.requests.append(fakeRequest('a', id, { body: Buffer.alloc(4 * 1024 * 1024, 1) }), 10);
    await s.deliveries.put(fakeDelivery('d1', 'pending'));
    void s.flush(); // under way, not awaited
    await new Promise((r) => setImmediate(r)); // it has taken the changes and is writing
    await s.close();
    expect(s.requests.pendingBytes()).toBe(0); // written when close() resolved
    const r = await open(d);
    expect(await r.requests.has('a', id)).toBe(true);
    expect(await r.deliveries.get('d1')).toBeDefined();
    await r.close();
  });

  it('coalesces: many changes within the interval become one write per file', async () => {
    const d = await dir();
    const s = await open(d, { flushIntervalMs: 50 });
    await s.bins.put({ id: 'a', name: 'a', createdAt: 'x' });
    for (let i = 0; i < 200; i++) await s.requests.append(fakeRequest('a', nextId()), 1000);
    // Nothing is on disk until the timer fires or a flush is asked for.
    expect(await readdir(path.join(d, 'bins'))).toEqual([]);
    await s.flush();
    let stored = 0;
    for (const f of await readdir(path.join(d, 'bins', 'a'))) {
      if (f.endsWith('.log')) stored += parseSegmentLog(await readFile(path.join(d, 'bins', 'a', f))).records.size;
    }
    expect(stored).toBe(200);
    await s.close();
  });

  it('refuses to start on a corrupt file, names it, and leaves it untouched', async () => {
    const d = await dir();
    const bad = '{"version":1,"bins":[{"id":"x"'; // torn write
    await writeFile(path.join(d, 'hooklab.json'), bad);
    const err = await LowdbStore.open({ dataDir: d, flushIntervalMs: 5 }).catch((e) => e);
    expect(err).toBeInstanceOf(DataFileError);
    expect(err.message).toContain(path.join(d, 'hooklab.json'));
    expect(err.message).toMatch(/not valid JSON/);
    expect(await readFile(path.join(d, 'hooklab.json'), 'utf8')).toBe(bad);
  });

  it('loads many bins of several segments side by side: every request back, in order, byte-exact', async () => {
    const d = await dir();
    const s = await open(d, { segmentSize: 2 });
    const want = new Map<string, { id: string; body: Buffer }[]>();
    for (let b = 0; b < 30; b++) {
      const binId = `bin${b}`;
      await s.bins.put({ id: binId, name: binId, createdAt: 'x' });
      want.set(binId, []);
    }
    // Interleaved across bins, so that each bin's segments were written in many flushes.
    for (let i = 0; i < 14; i++) {
      for (const [binId, list] of want) {
        const body = Buffer.from(`${binId}:${i}:`.padEnd(20 + i, '*'));
        const r = fakeRequest(binId, nextId(), { body });
        await s.requests.append(r, 100);
        list.push({ id: r.id, body });
      }
      if (i % 3 === 0) await s.flush();
    }
    await s.close();
    const again = await open(d, { segmentSize: 2 });
    for (const [binId, list] of want) {
      expect((await again.requests.page(binId, { limit: 100 })).map((r) => r.id).reverse()).toEqual(list.map((x) => x.id));
      for (const x of [list[0], list[7], list[13]]) expect(await again.requests.body(binId, x.id)).toEqual(x.body);
    }
    await again.close();
    // A missing body file in one bin's sixth segment (read once the first ones were looked at),
    // among all the others loading at once.
    const body = path.join(d, 'bins', 'bin17', '00000005.body');
    await rm(body);
    const err = await open(d, { segmentSize: 2 }).catch((e) => e);
    expect(err).toBeInstanceOf(DataFileError);
    expect(err.message).toContain(body);
  });

  it('refuses a bin file of the wrong shape, and a missing body file, naming the file and the journal to move aside', async () => {
    const d = await dir();
    const s = await open(d);
    await s.bins.put({ id: 'a', name: 'a', createdAt: 'x' });
    await s.requests.append(fakeRequest('a', nextId(), { body: Buffer.alloc(100, 1) }), 10);
    await s.close();
    const body = path.join(d, 'bins', 'a', '00000000.body');
    await rm(body);
    let err = await open(d).catch((e) => e);
    expect(err).toBeInstanceOf(DataFileError);
    expect(err.message).toContain(body);
    expect(err.message).toMatch(/it is missing, but 00000000.log beside it lists 1 capture\(s\).*to drop those 1 capture\(s\), move 00000000.log out of the bin's directory/);
    const log = path.join(d, 'bins', 'a', '00000000.log');
    await writeFile(log, '{"v":3,"binId":"a","segment":0}\n{"x":1}\n');
    err = await open(d).catch((e) => e);
    expect(err).toBeInstanceOf(DataFileError);
    expect(err.message).toContain(log);
    expect(err.message).toContain('line 2 is not a segment entry');
    // An earlier build's segment file, too.
    await rm(log);
    await writeFile(path.join(d, 'bins', 'a', '00000000.json'), '{"version":2,"requests":{}}');
    err = await open(d).catch((e) => e);
    expect(err).toBeInstanceOf(DataFileError);
    expect(err.message).toContain(path.join(d, 'bins', 'a', '00000000.json'));
    expect(err.message).toContain('"requests" is not a list');
  });

  it('refuses to start when bins.log is missing but bins/ holds data (it would not know them)', async () => {
    const d = await dir();
    const s = await open(d);
    await s.bins.put({ id: 'a', name: 'a', createdAt: 'x' });
    await s.requests.append(fakeRequest('a', nextId()), 10);
    await s.close();
    await rm(path.join(d, 'bins.log'));
    const err = await open(d).catch((e) => e);
    expect(err).toBeInstanceOf(DataFileError);
    expect(err.message).toMatch(/missing, but .* holds data of 1 bin/);
    expect(await readdir(path.join(d, 'bins'))).toEqual(['a']);
  });

  it('cleans up after a crash: temp files, orphan body files, a torn body tail and a torn journal line', async () => {
    const d = await dir();
    const s = await open(d);
    await s.bins.put({ id: 'a', name: 'a', createdAt: 'x' });
    const id = nextId();
    await s.requests.append(fakeRequest('a', id, { body: Buffer.from('hello') }), 10);
    await s.deliveries.put(fakeDelivery('d1', 'pending'));
    await s.close();
    const bin = path.join(d, 'bins', 'a');
    await writeFile(path.join(d, '.hooklab.json.tmp'), '{');
    await writeFile(path.join(bin, '.00000000.json.tmp'), '{');
    await writeFile(path.join(bin, '.00000000.log.tmp'), '{');
    const log = path.join(bin, '00000000.log');
    const logSize = (await stat(log)).size;
    await writeFile(log, '{"r":{"id":"', { flag: 'a' }); // a metadata line cut short
    await writeFile(path.join(bin, '00000007.body'), 'orphan: its metadata was never written');
    await writeFile(path.join(bin, '00000000.body'), 'hello + the start of a body whose metadata never made it', { flag: 'a' });
    await writeFile(path.join(d, 'deliveries.log'), '{"id":"d1","set":{"sta', { flag: 'a' });
    const r = await open(d);
    expect((await r.requests.body('a', id))?.toString()).toBe('hello');
    expect((await r.deliveries.get('d1'))?.state).toBe('pending');
    expect((await readdir(bin)).sort()).toEqual(['00000000.body', '00000000.log']);
    expect((await stat(path.join(bin, '00000000.body'))).size).toBe(5);
    expect((await stat(log)).size).toBe(logSize);
    expect(await readdir(d)).not.toContain('.hooklab.json.tmp');
    expect((await readFile(path.join(d, 'deliveries.log'), 'utf8')).endsWith('\n')).toBe(true);
    await r.close();
  });
});

describe('lowdb deliveries journal', () => {
  it('appends what changed (not whole records) and compacts when it grows past twice what it holds', async () => {
    const d = await dir();
    const s = await open(d, { maxFinishedDeliveries: 50 });
    const attempt = (n: number) => ({
      n,
      plannedAt: 'p',
      sentAt: 's',
      status: 500,
      error: null,
      errorDetail: null,
      ok: false,
      durationMs: 1,
      requestHeaders: [['x', 'y'] as [string, string]],
      responseHeaders: [],
      responseBody: 'x'.repeat(500),
      responseBodyTruncated: false,
      manual: false,
      capturedRequestId: null,
    });
    let cur = fakeDelivery('d1', 'pending');
    await s.deliveries.put(cur);
    await s.flush();
    const start = (await stat(path.join(d, 'deliveries.log'))).size;
    for (let n = 1; n <= 9; n++) {
      cur = { ...cur, attempts: [...cur.attempts, attempt(n)] };
      await s.deliveries.put(cur);
      await s.flush();
    }
    // Nine attempts of ~600 bytes each: about 9 x 600 appended, not 1 + 2 + ... + 9 of them.
    const grown = (await stat(path.join(d, 'deliveries.log'))).size - start;
    expect(grown).toBeGreaterThan(9 * 600);
    expect(grown).toBeLessThan(9 * 900);
    // Churn: 2,000 finished deliveries through a bound of 50 leaves a journal near 50's size.
    for (let i = 0; i < 2000; i++) await s.deliveries.put({ ...fakeDelivery(`x${String(i).padStart(5, '0')}`, 'failed'), attempts: [attempt(1)] });
    await s.flush();
    const size = (await stat(path.join(d, 'deliveries.log'))).size;
    expect(size).toBeLessThan(2 * 51 * 1500 + 1024 * 1024);
    await s.close();
    const r = await open(d, { maxFinishedDeliveries: 50 });
    expect((await r.deliveries.get('d1'))?.attempts.map((a) => a.n)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect((await r.deliveries.query({ state: 'failed' })).length).toBe(50);
    await r.close();
  });

  it('a journal removed while running is written anew from memory', async () => {
    const d = await dir();
    const s = await open(d, { flushIntervalMs: 60_000 });
    await s.deliveries.put(fakeDelivery('d1', 'pending'));
    await s.flush();
    await s.deliveries.put(fakeDelivery('d2', 'pending'));
    await s.flush(); // the file is kept open between appends
    await rm(path.join(d, 'deliveries.log'));
    await s.deliveries.put(fakeDelivery('d3', 'pending'));
    await s.flush();
    await s.close();
    const r = await open(d);
    expect((await r.deliveries.list()).map((x) => x.id)).toEqual(['d1', 'd2', 'd3']);
    await r.close();
  });

  it('carries deliveries.json of an earlier build into the journal', async () => {
    const d = await dir();
    await writeFile(path.join(d, 'deliveries.json'), JSON.stringify({ version: 1, deliveries: [fakeDelivery('old', 'pending')] }));
    const s = await open(d);
    expect((await s.deliveries.get('old'))?.state).toBe('pending');
    await s.close();
    expect(await readdir(d)).not.toContain('deliveries.json');
    const r = await open(d);
    expect((await r.deliveries.get('old'))?.state).toBe('pending');
    await r.close();
  });
});

describe('lowdb: bins, webhooks, runs and settings in journals', () => {
  const webhook = (id: string) => ({ id, name: id, url: 'http://127.0.0.1:9/x', secret: 'whsec_dGVzdA==', createdAt: 'x', failing: null }) as never;
  const run = (id: string, ended: boolean) => ({ id, webhookId: 'w', startedAt: 'x', endsAt: 'y', ended }) as never;

  it('a change appends a short line whatever is kept; the clock is its own small file', async () => {
    const d = await dir();
    const s = await open(d);
    for (let i = 0; i < 200; i++) await s.bins.put({ id: `b${i}`, name: `bin ${i} ${'x'.repeat(200)}`, createdAt: 'x' });
    await s.webhooks.put(webhook('w1'));
    await s.flush();
    const size = async (f: string) => (await stat(path.join(d, f))).size;
    const bins = await size('bins.log');
    const hooks = await size('webhooks.log');
    // Renaming one bin, flipping a webhook's flag, moving the clock: each a line, not the list.
    await s.bins.put({ id: 'b7', name: 'renamed', createdAt: 'x' });
    await s.webhooks.put({ ...(await s.webhooks.get('w1'))!, failing: { since: 'x', deliveries: 3 } });
    for (let i = 0; i < 20; i++) {
      await s.setClock({ virtualMs: i, realMs: i, scale: 86400, paused: false });
      await s.flush();
    }
    expect((await size('bins.log')) - bins).toBeLessThan(100);
    expect((await size('webhooks.log')) - hooks).toBeLessThan(100);
    expect(await size('clock.json')).toBeLessThan(300);
    await s.bins.delete('b8');
    await s.close();
    const r = await open(d);
    expect((await r.bins.list()).length).toBe(199);
    expect((await r.bins.get('b7'))?.name).toBe('renamed');
    expect((await r.webhooks.get('w1'))?.failing).toEqual({ since: 'x', deliveries: 3 });
    expect((await r.getClock())?.virtualMs).toBe(19);
    await r.close();
  });

  it('runs pruned past the cap of ended ones stay gone after a restart', async () => {
    const d = await dir();
    const s = await open(d, { maxEndedRuns: 2 });
    for (let i = 0; i < 5; i++) await s.runs.put(run(`r${i}`, true));
    await s.runs.put(run('live', false));
    await s.close();
    const r = await open(d, { maxEndedRuns: 2 });
    expect((await r.runs.list()).map((x) => x.id).sort()).toEqual(['live', 'r3', 'r4']);
    await r.close();
  });

  it('bulk replays are kept in replays.log: progress and ends survive a restart, pruned ended ones stay gone', async () => {
    const d = await dir();
    const s = await open(d);
    const job = (id: string, state: 'running' | 'finished', done: number) => ({
      id, binId: 'b', total: 5, done, failed: 0, state, error: null, startedAt: 'x', finishedAt: state === 'running' ? null : 'y', instance: 'i', updatedAt: 'z',
    });
    await s.replays.put(job('live', 'running', 1));
    await s.replays.put(job('live', 'running', 4));
    // One ended job more than are kept: the oldest ended goes.
    for (let i = 0; i <= MAX_REPLAY_JOBS; i++) await s.replays.put(job(`e${i}`, 'finished', 5));
    await s.close();
    const r = await open(d);
    expect(await r.replays.get('live')).toEqual(job('live', 'running', 4));
    expect(await r.replays.get('e0')).toBeUndefined();
    expect(await r.replays.get(`e${MAX_REPLAY_JOBS}`)).toEqual(job(`e${MAX_REPLAY_JOBS}`, 'finished', 5));
    expect((await r.replays.list()).length).toBe(MAX_REPLAY_JOBS + 1);
    await r.close();
  });

  it("an earlier build's hooklab.json is carried into the journals, then removed; one cut short before bins.log is carried again", async () => {
    const d = await dir();
    const legacy = JSON.stringify({
      version: 1,
      bins: [{ id: 'a', name: 'a', createdAt: 'x' }],
      webhooks: [webhook('w1')],
      runs: [run('r1', false)],
      clock: { virtualMs: 5, realMs: 6, scale: 1440, paused: true },
      forwards: [{ id: 'a', targets: [{ url: 'http://127.0.0.1:9/t' }], answerWith: 'bin' }],
      verifications: [{ id: 'a', schemes: [] }],
    });
    await writeFile(path.join(d, 'hooklab.json'), legacy);
    // A carry-over that a crash cut short: a journal written, bins.log not yet.
    await writeFile(path.join(d, 'webhooks.log'), '{"put":{"id":"stale"}}\n');
    const s = await open(d);
    const check = async (x: LowdbStore) => {
      expect((await x.bins.list()).map((b) => b.id)).toEqual(['a']);
      expect((await x.webhooks.list()).map((w) => w.id)).toEqual(['w1']);
      expect((await x.runs.list()).map((w) => w.id)).toEqual(['r1']);
      expect((await x.forwards.get('a'))?.targets).toHaveLength(1);
      expect(await x.verifications.get('a')).toBeDefined();
      expect((await x.getClock())?.paused).toBe(true);
    };
    await check(s);
    await s.close();
    await expect(stat(path.join(d, 'hooklab.json'))).rejects.toThrow();
    expect((await readdir(d)).filter((f) => f.endsWith('.log')).sort()).toEqual(['bins.log', 'forwards.log', 'runs.log', 'verifications.log', 'webhooks.log']);
    // Cut short after bins.log was written: the journals are the truth, the stale file goes.
    await writeFile(path.join(d, 'hooklab.json'), legacy.replace('"bins":[{"id":"a"', '"bins":[{"id":"stale"'));
    const r = await open(d);
    await check(r);
    await r.close();
    await expect(stat(path.join(d, 'hooklab.json'))).rejects.toThrow();
  });
});

describe('lowdb format carry-over', () => {
  it('a bin kept in one file by an earlier build (bins/<id>.json) loads, and moves into a segment', async () => {
    const d = await dir();
    const s = await open(d);
    await s.bins.put({ id: 'old', name: 'old', createdAt: 'x' });
    await s.close();
    const ids = [nextId(), nextId(), nextId()];
    const requests = ids.map((id) => {
      const { body: _b, storedBytes: _s, ...meta } = fakeRequest('old', id);
      return { ...meta, body: Buffer.from(`b-${id}`).toString('base64') };
    });
    await writeFile(path.join(d, 'bins', 'old.json'), JSON.stringify({ version: 1, binId: 'old', requests }));

    const r = await open(d);
    expect((await r.requests.page('old', { limit: 10 })).map((x) => x.id)).toEqual([...ids].reverse());
    expect((await r.requests.body('old', ids[1]))?.toString()).toBe(`b-${ids[1]}`);
    await r.close();
    expect((await readdir(path.join(d, 'bins'))).sort()).toEqual(['old']);
    const again = await open(d);
    expect(await again.requests.page('old', { limit: 10 })).toHaveLength(3);
    expect((await again.requests.body('old', ids[2]))?.toString()).toBe(`b-${ids[2]}`);
    await again.close();
  });

  it('segments of the previous build (version 1, bodies inline) are carried into body files', async () => {
    const d = await dir();
    const s = await open(d);
    await s.bins.put({ id: 'v1', name: 'v1', createdAt: 'x' });
    await s.close();
    const id = nextId();
    const { body: _b, storedBytes: _s, ...meta } = fakeRequest('v1', id);
    await mkdir(path.join(d, 'bins', 'v1'));
    const raw = Buffer.from([1, 2, 3, 0, 255]);
    await writeFile(path.join(d, 'bins', 'v1', '00000000.json'), JSON.stringify({ version: 1, binId: 'v1', segment: 0, requests: [{ ...meta, body: raw.toString('base64') }] }));
    const r = await open(d, { cacheBytes: 0 });
    expect((await r.requests.body('v1', id))?.equals(raw)).toBe(true);
    expect((await r.requests.get('v1', id))?.storedBytes).toBe(5);
    await r.close();
    expect(JSON.parse(await readFile(path.join(d, 'bins', 'v1', '00000000.json'), 'utf8')).version).toBe(2);
  });

  it("response settings live in their own journal; a plan moving appends a short line; earlier builds' files are carried over", async () => {
    const d = await dir();
    const control = { id: 'a', config: { default: { status: 201, headers: {}, body: 'x'.repeat(20_000), contentType: 'text/plain', delayMs: 0 }, rules: [], plan: [], afterPlan: 'default' as const, seed: 1, cors: true }, state: { step: 0, usedInStep: 0, consumed: 0, exhausted: false, rng: 1 } };
    await writeFile(path.join(d, 'hooklab.json'), JSON.stringify({ version: 1, bins: [{ id: 'a', name: 'a', createdAt: 'x' }], responses: [control], webhooks: [], runs: [], clock: null }));
    const s = await LowdbStore.open({ dataDir: d, flushIntervalMs: 5 });
    expect((await s.responses.get('a'))?.config.default.status).toBe(201);
    await s.close();
    const log = path.join(d, 'responses.log');
    // Its first line, and the one record.
    expect((await readFile(log, 'utf8')).trim().split('\n')).toHaveLength(2);
    // A plan moving rewrites neither the bin list nor the 20 KB settings: one short line each.
    await expect(stat(path.join(d, 'hooklab.json'))).rejects.toThrow(); // carried over, then removed
    const main = await readFile(path.join(d, 'bins.log'), 'utf8');
    const r = await LowdbStore.open({ dataDir: d, flushIntervalMs: 5 });
    const before = (await stat(log)).size;
    let cur = (await r.responses.get('a'))!;
    for (let i = 1; i <= 10; i++) {
      cur = { ...cur, state: { ...cur.state, consumed: i } };
      await r.responses.put(cur);
      await r.flush();
    }
    expect((await stat(log)).size - before).toBeLessThan(10 * 200);
    await r.close();
    expect(await readFile(path.join(d, 'bins.log'), 'utf8')).toBe(main);
    const again = await LowdbStore.open({ dataDir: d, flushIntervalMs: 5 });
    expect((await again.responses.get('a'))?.state.consumed).toBe(10);
    expect((await again.responses.get('a'))?.config.default.body).toHaveLength(20_000);
    await again.responses.delete('a');
    await again.close();
    expect(await (await LowdbStore.open({ dataDir: d, flushIntervalMs: 5 })).responses.list()).toEqual([]);
  });

  it('a responses.json of an earlier build starts the journal, then goes', async () => {
    const d = await dir();
    const control = { id: 'b', config: { default: { status: 202, headers: {}, body: '', contentType: 'text/plain', delayMs: 0 }, rules: [], plan: [], afterPlan: 'default' as const, seed: 1, cors: true }, state: { step: 0, usedInStep: 0, consumed: 3, exhausted: false, rng: 1 } };
    await writeFile(path.join(d, 'hooklab.json'), JSON.stringify({ version: 1, bins: [{ id: 'b', name: 'b', createdAt: 'x' }], webhooks: [], runs: [], clock: null }));
    await writeFile(path.join(d, 'responses.json'), JSON.stringify({ version: 1, responses: [control] }));
    const s = await LowdbStore.open({ dataDir: d, flushIntervalMs: 5 });
    expect((await s.responses.get('b'))?.state.consumed).toBe(3);
    await s.close();
    await expect(stat(path.join(d, 'responses.json'))).rejects.toThrow();
    const r = await LowdbStore.open({ dataDir: d, flushIntervalMs: 5 });
    expect((await r.responses.get('b'))?.config.default.status).toBe(202);
    await r.close();
  });
});

describe('lowdb: evictions and faults', () => {
  it('requests evicted by the cap or the byte budget stay gone after a restart', async () => {
    const d = await dir();
    const opts = { segmentSize: 2, maxRequestsPerBin: 4, maxStoreBytes: 1000 };
    const s = await open(d, opts);
    await s.bins.put({ id: 'a', name: 'a', createdAt: 'x' });
    await s.bins.put({ id: 'b', name: 'b', createdAt: 'x' });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      ids.push(nextId());
      await s.requests.append(fakeRequest('a', ids[i]), 4); // #0 is evicted by the cap
    }
    await s.requests.delete('a', ids[4]);
    // 970 bytes into b (its body and head; a's count 2 + 27 each): the budget (1000) pushes out
    // a's two oldest (ids 1 and 2), whose files stay.
    await s.requests.append(fakeRequest('b', nextId(), { body: Buffer.alloc(970 - FAKE_HEAD) }), 4);
    const before = (await s.requests.page('a', { limit: 10 })).map((r) => r.id);
    expect(before).toEqual([ids[3]]);
    await s.close();
    const r = await open(d, opts);
    expect((await r.requests.page('a', { limit: 10 })).map((x) => x.id)).toEqual(before);
    await r.close();
  });

  it('a MAX_STORE_BYTES lowered since the captures were stored is applied at start-up, oldest first across bins, and said', async () => {
    const d = await dir();
    const s = await open(d, { segmentSize: 2 });
    const bins = ['a', 'b', 'c'];
    for (const b of bins) await s.bins.put({ id: b, name: b, createdAt: 'x' });
    const order: { bin: string; id: string }[] = [];
    for (let i = 0; i < 2; i++) {
      for (const b of bins) {
        const id = nextId();
        order.push({ bin: b, id });
        await s.requests.append(fakeRequest(b, id, { body: Buffer.alloc(1000, i) }), 100);
      }
    }
    await s.close();
    const logged: string[] = [];
    const r = await open(d, { segmentSize: 2, maxStoreBytes: 2500, onWarning: (m) => void logged.push(m) });
    const left = async (x: LowdbStore) => {
      const out: string[] = [];
      for (const b of bins) for (const row of await x.requests.page(b, { limit: 10 })) out.push(row.id);
      return out.sort();
    };
    // Before any capture: the four oldest (a, b, c, then a again) are gone.
    const kept = order.slice(4).map((x) => x.id).sort();
    expect(await left(r)).toEqual(kept);
    // Each counts its body and its head.
    const each = 1000 + FAKE_HEAD;
    expect(r.requests.index.totalBytes).toBe(2 * each);
    expect(logged).toEqual([
      `MAX_STORE_BYTES (2500) is below the ${6 * each} bytes stored (bodies and heads): evicted the 4 oldest capture(s) (${4 * each} bytes) across bins at start-up, as new captures would have. Their files go as their segments empty.`,
    ]);
    expect(r.health().warnings).toEqual([]);
    await r.close();
    // Recorded: they stay gone without the budget, and nothing more is said.
    const again: string[] = [];
    const q = await open(d, { segmentSize: 2, onWarning: (m) => void again.push(m) });
    expect(await left(q)).toEqual(kept);
    expect(again).toEqual([]);
    await q.close();
  });

  it('heads count at start-up as they did when stored: the re-count from disk is the running count, and eviction goes on oldest first', async () => {
    const d = await dir();
    const opts = { segmentSize: 2, maxStoreBytes: 7500 };
    const s = await open(d, opts);
    for (const b of ['a', 'b']) await s.bins.put({ id: b, name: b, createdAt: 'x' });
    // Heads of 1000 bytes (Node gives a header's bytes past 0x7f as Latin-1: é is two bytes stored).
    const heavy = (bin: string, id: string, i: number) =>
      fakeRequest(bin, id, { body: Buffer.alloc(i), path: `/p${i}`, queryString: `n=${i}`, headers: ['X-Pad', `\u00e9${'v'.repeat(900)}`], trailers: ['X-Sum', 't'.repeat(50)] });
    const ids: string[] = [];
    for (let i = 0; i < 8; i++) {
      ids.push(nextId());
      await s.requests.append(heavy(i % 2 ? 'b' : 'a', ids[i], i), 100);
      if (i === 3) await s.flush(); // some written before the restart, some only by close()
      if (i === 5) expect(await s.requests.delete('b', ids[5])).toBe(true); // gives its bytes back
    }
    // A change that leaves the head alone: an annotation.
    await s.requests.annotate('a', ids[2], () => ({ bodySha256: 'x'.repeat(64) }));
    const running = s.requests.index.totalBytes;
    // Eight heads of 4 + 3 + 3 + 5 + 902 + 5 + 50 = 972, each with its body (0..7 bytes), less #5 (977).
    expect(running).toBe(8 * 972 + 28 - 977);
    // Within the budget (7500): all seven kept.
    expect((await s.requests.items('a', { limit: 10 })).length + (await s.requests.items('b', { limit: 10 })).length).toBe(7);
    await s.close();

    const r = await open(d, opts);
    expect(r.requests.index.totalBytes).toBe(running);
    // The next capture evicts the store's oldest (a's first), as it would have before the restart.
    const next = nextId();
    expect(await r.requests.append(heavy('b', next, 8), 100)).toEqual([{ binId: 'a', ids: [ids[0]] }]);
    expect(r.requests.index.totalBytes).toBe(running + 980 - 972);
    await r.close();
  });

  it('a failing write is loud (health reports it), retried, and loses nothing once it succeeds', async () => {
    const d = await dir();
    const faults: (string | null)[] = [];
    const s = await open(d, { onFault: (f) => void faults.push(f?.code ?? null) });
    await s.bins.put({ id: 'a', name: 'a', createdAt: 'x' });
    // A file where the bin's directory should go makes every write into it fail.
    await writeFile(path.join(d, 'bins', 'a'), 'in the way');
    const id = nextId();
    await s.requests.append(fakeRequest('a', id), 10);
    await s.flush();
    expect(s.health().fault).toMatchObject({ code: 'missing_directory' });
    expect(s.health().fault!.message).toMatch(/replaced by a file.*New captures and changes are refused/);
    expect(faults).toHaveLength(1);
    await rm(path.join(d, 'bins', 'a'));
    await s.flush();
    expect(s.health().fault).toBeNull();
    expect(faults).toEqual(['missing_directory', null]);
    await s.close();
    const r = await open(d);
    expect((await r.requests.page('a', { limit: 10 })).map((x) => x.id)).toEqual([id]);
    await r.close();
  });

  it('close() that cannot write says what was not saved', async () => {
    const d = await dir();
    const s = await open(d);
    await s.bins.put({ id: 'a', name: 'a', createdAt: 'x' });
    await writeFile(path.join(d, 'bins', 'a'), 'in the way');
    for (let i = 0; i < 3; i++) await s.requests.append(fakeRequest('a', nextId()), 10);
    const err = await s.close().catch((e) => e);
    expect(err).toBeInstanceOf(UnsavedDataError);
    expect(err.message).toMatch(/3 capture\(s\) \(6 body bytes\) in 1 bin/);
  });

  it("a bin's directory removed while running is reported, and capturing goes on", async () => {
    const d = await dir();
    const warnings: string[] = [];
    const s = await open(d, { onWarning: (m) => void warnings.push(m) });
    await s.bins.put({ id: 'a', name: 'a', createdAt: 'x' });
    for (let i = 0; i < 3; i++) await s.requests.append(fakeRequest('a', nextId()), 10);
    await s.flush();
    await rm(path.join(d, 'bins', 'a'), { recursive: true });
    const after = nextId();
    await s.requests.append(fakeRequest('a', after), 10);
    await s.flush();
    expect(s.health().fault).toBeNull();
    expect(warnings.join()).toMatch(/removed outside hooklab: 3 stored request\(s\) were lost/);
    expect(s.health().warnings.join()).toMatch(/3 stored request/);
    expect((await s.requests.page('a', { limit: 10 })).map((r) => r.id)).toEqual([after]);
    await s.close();
    const r = await open(d);
    expect((await r.requests.page('a', { limit: 10 })).map((x) => x.id)).toEqual([after]);
    await r.close();
  });

  it('refuses to open a DATA_DIR it cannot write, with a clear message', async () => {
    const d = await dir();
    await writeFile(path.join(d, 'file'), 'x');
    const err = await LowdbStore.open({ dataDir: path.join(d, 'file', 'sub'), flushIntervalMs: 5 }).catch((e) => e);
    expect(err.message).toBe(`DATA_DIR ${path.join(d, 'file', 'sub')} cannot be created: ${path.join(d, 'file')} is a file, not a directory (ENOTDIR). Point DATA_DIR at a writable directory (or fix its permissions or mount) and start again.`);
  });

  it('refuses a DATA_DIR under a directory that takes no new ones (/proc): at once, not hanging (Node\'s recursive mkdir never answers there)', async () => {
    const err = await LowdbStore.open({ dataDir: '/proc/hooklab-nope/data', flushIntervalMs: 5 }).catch((e) => e);
    expect(err.message).toMatch(/^DATA_DIR \/proc\/hooklab-nope\/data cannot be created: \/proc\/hooklab-nope cannot be made there \(ENOENT\)\./);
  });
});

describe('lowdb: races with a write under way', () => {
  it('requests evicted while their segment is being written do not fault the store', async () => {
    const d = await dir();
    const faults: unknown[] = [];
    const s = await open(d, { segmentSize: 50, onFault: (f, err) => void (f && faults.push(err)) });
    await s.bins.put({ id: 'a', name: 'a', createdAt: 'x' });
    await s.requests.append(fakeRequest('a', nextId()), 10);
    await s.flush(); // the directory exists; files are closed again
    for (let i = 0; i < 10; i++) await s.requests.append(fakeRequest('a', nextId(), { body: Buffer.alloc(1000, i) }), 10);
    const writing = s.flush(); // takes those, then waits for the body file to open
    await new Promise((r) => setImmediate(r));
    // Meanwhile the cap pushes every one of them out.
    const kept: string[] = [];
    for (let i = 0; i < 10; i++) {
      kept.push(nextId());
      await s.requests.append(fakeRequest('a', kept[i]), 10);
    }
    await writing;
    await s.flush();
    expect(faults).toEqual([]);
    expect((await s.requests.page('a', { limit: 50 })).map((r) => r.id)).toEqual([...kept].reverse());
    await s.close();
    const r = await open(d, { maxRequestsPerBin: 10 });
    expect((await r.requests.page('a', { limit: 50 })).map((x) => x.id)).toEqual([...kept].reverse());
    await r.close();
  });
});

describe('lowdb: a flood into a full bin', () => {
  it('removes only files that were written: segments pushed out before their first write cost no file operation', async () => {
    const d = await dir();
    const s = await open(d, { flushIntervalMs: 60_000, segmentSize: 10 });
    await s.bins.put({ id: 'a', name: 'a', createdAt: 'x' });
    await s.requests.append(fakeRequest('a', nextId()), 20);
    await s.flush();
    // Count unlinks (the store imports node:fs/promises; its live bindings follow the module).
    const fsp = (await import('node:fs/promises')).default as unknown as Record<string, (...a: unknown[]) => Promise<void>>;
    const orig = fsp.unlink;
    const unlinked: string[] = [];
    fsp.unlink = (...a: unknown[]) => (unlinked.push(String(a[0])), orig(...a));
    syncBuiltinESMExports();
    try {
      // 200 captures between two flushes into a bin that keeps 20 (10 per segment): segment 0
      // (written) empties, segments 1-17 fill and empty before any write, 18-20 are kept.
      for (let i = 0; i < 200; i++) await s.requests.append(fakeRequest('a', nextId()), 20);
      await s.flush();
    } finally {
      fsp.unlink = orig;
      syncBuiltinESMExports();
    }
    // (Segment 0's journal is renamed to 00000000.removing before its body goes, then removed.)
    expect(unlinked.map((p) => path.basename(p)).sort()).toEqual(['00000000.body', '00000000.removing']);
    expect([...(await snapshot(d, 'a')).keys()].sort()).toEqual(['00000018.body', '00000018.log', '00000019.body', '00000019.log', '00000020.body', '00000020.log']);
    await s.close();
  });
});

describe('lowdb: annotations', () => {
  it('annotations of written requests survive a restart, even with no cache', async () => {
    const d = await dir();
    const s = await open(d, { cacheBytes: 0 });
    await s.bins.put({ id: 'a', name: 'a', createdAt: 'x' });
    const id = nextId();
    await s.requests.append(fakeRequest('a', id), 10);
    await s.flush();
    const rec = { kind: 'replay' as const, at: 'x', target: 't', url: 'u', method: 'PUT', status: 204, headers: [['a', 'b']] as [string, string][], body: '', bodyEncoding: 'utf8' as const, bodyTruncated: false, durationMs: 3, error: null, errorDetail: null, edited: true };
    await s.requests.annotate('a', id, () => ({ forwards: [rec] }));
    await s.forwards.put({ id: 'a', targets: [{ url: 'http://x/' }], answerWith: 'target' });
    await s.close();
    const r = await open(d, { cacheBytes: 0 });
    expect((await r.requests.get('a', id))?.forwards).toEqual([rec]);
    expect((await r.forwards.get('a'))?.answerWith).toBe('target');
    await r.close();
  });

  it('a change to a written request appends only what changed; changes merge; a cleared field is written whole', async () => {
    const d = await dir();
    const s = await open(d, { flushIntervalMs: 60_000 });
    await s.bins.put({ id: 'a', name: 'a', createdAt: 'x' });
    const id = nextId();
    const other = nextId();
    const headers = ['X-Marker-Header', 'v'.repeat(500)];
    await s.requests.append(fakeRequest('a', id, { headers }), 10);
    await s.requests.append(fakeRequest('a', other, { headers }), 10);
    await s.flush();
    const log = path.join(d, 'bins', 'a', '00000000.log');
    const before = (await readFile(log)).length;
    const rec = (status: number) => ({ kind: 'forward' as const, at: 'x', target: 't', url: 'u', method: 'POST', status, headers: [] as [string, string][], body: '', bodyEncoding: 'utf8' as const, bodyTruncated: false, durationMs: 1, error: null, errorDetail: null, edited: false });
    await s.requests.annotate('a', id, (r) => ({ forwards: [...(r.forwards ?? []), rec(200)] }));
    await s.requests.annotate('a', id, (r) => ({ forwards: [...(r.forwards ?? []), rec(503)], bodySha256: 'abc' }));
    await s.requests.annotate('a', other, () => ({ bodySha256: 'def' }));
    await s.flush();
    const appended = (await readFile(log)).subarray(before).toString('utf8');
    // One line per request changed, with the merged change and not the capture again.
    expect(appended.trim().split('\n')).toHaveLength(2);
    expect(appended).not.toContain('X-Marker-Header');
    expect(JSON.parse(appended.split('\n')[0])).toEqual({ p: id, a: { forwards: [rec(200), rec(503)], bodySha256: 'abc' } });
    // Clearing a field (undefined has no JSON) writes the whole record instead.
    await s.requests.annotate('a', other, () => ({ bodySha256: undefined }));
    await s.flush();
    const last = (await readFile(log)).toString('utf8').trim().split('\n').pop()!;
    expect(JSON.parse(last).r.id).toBe(other);
    await s.close();
    const r = await open(d);
    const got = await r.requests.get('a', id);
    expect(got?.forwards?.map((f) => f.status)).toEqual([200, 503]);
    expect(got?.bodySha256).toBe('abc');
    expect(got?.headers).toEqual(headers);
    expect((await r.requests.get('a', other))?.bodySha256).toBeUndefined();
    await r.close();
  });

  it('reads a segment log of the previous version (3), whose changes were whole records', () => {
    const rec = { id: 'r1', binId: 'a', bodyOffset: 0 };
    const text = `{"v":3,"binId":"a","segment":0}\n{"r":${JSON.stringify(rec)}}\n{"r":${JSON.stringify({ ...rec, bodySha256: 'x' })}}\n{"p":"gone","a":{"bodySha256":"y"}}\n`;
    const st = parseSegmentLog(Buffer.from(text));
    expect(st.records.get('r1')).toMatchObject({ bodySha256: 'x' });
    expect(st.records.has('gone')).toBe(false);
  });
});

describe('lowdb: arrival numbers after a restart', () => {
  it('go on from the highest used, including captures evicted before the restart', async () => {
    const d = await dir();
    const s = await open(d, { flushIntervalMs: 5, maxRequestsPerBin: 2 });
    await s.bins.put({ id: 'a', name: 'a', createdAt: 'x' });
    for (let i = 0; i < 5; i++) await s.requests.append(fakeRequest('a', nextId()), 2);
    await s.close();
    const r = await open(d, { maxRequestsPerBin: 2 });
    expect((await r.requests.items('a', { limit: 10, oldestFirst: true })).map((i) => i.seq)).toEqual([4, 5]);
    await r.requests.delete('a', (await r.requests.items('a', { limit: 1 }))[0].id);
    await r.close();
    // 3 evicted before, the newest (5) deleted by hand: numbering goes on from the highest kept
    // or evicted (a number deleted by hand may be given again; it only ever hides a gap of one).
    const again = await open(d, { maxRequestsPerBin: 2 });
    await again.requests.append(fakeRequest('a', nextId()), 2);
    expect((await again.requests.items('a', { limit: 1 }))[0].seq).toBe(5);
    await again.close();
  });
});

describe('lowdb: annotations while metadata is being written', () => {
  it('each annotation reads back at once, is built on the one before, and the last survives a restart', async () => {
    const d = await dir();
    const s = await open(d, { flushIntervalMs: 1 });
    await s.bins.put({ id: 'a', name: 'a', createdAt: 'x' });
    const id = nextId();
    await s.requests.append(fakeRequest('a', id), 10);
    await s.flush();
    // Flushes every millisecond: many annotations land while the segment's metadata is being
    // rewritten. None may read back stale, and none may be built on a stale record.
    for (let i = 1; i <= 300; i++) {
      await s.requests.annotate('a', id, (r) => ({ bodySha256: String(Number(r.bodySha256 ?? 0) + 1) }));
      expect((await s.requests.get('a', id))?.bodySha256).toBe(String(i));
      if (i % 5 === 0) await new Promise((r) => setTimeout(r, 1));
    }
    await s.close();
    // 300 changes, but the log is rewritten whole once it holds more lines than twice its
    // requests (plus slack): it stays short.
    expect(parseSegmentLog(await readFile(path.join(d, 'bins', 'a', '00000000.log'))).lines).toBeLessThanOrEqual(20);
    const r = await open(d);
    expect((await r.requests.get('a', id))?.bodySha256).toBe('300');
    await r.close();
  });
});

describe('lowdb: a bin id used again', () => {
  it('a bin deleted and created again with the same id starts empty, also after a restart', async () => {
    const d = await dir();
    const s = await open(d, { flushIntervalMs: 60_000 });
    await s.bins.put({ id: 'orders-staging', name: 'a', createdAt: 'x' });
    await s.requests.append(fakeRequest('orders-staging', nextId()), 10);
    await s.flush();
    await s.bins.delete('orders-staging');
    await s.bins.put({ id: 'orders-staging', name: 'again', createdAt: 'y' });
    const fresh = nextId();
    await s.requests.append(fakeRequest('orders-staging', fresh), 10);
    expect((await s.requests.page('orders-staging', { limit: 10 })).map((x) => x.id)).toEqual([fresh]);
    await s.close();
    const r = await open(d);
    expect((await r.bins.get('orders-staging'))?.name).toBe('again');
    expect((await r.requests.page('orders-staging', { limit: 10 })).map((x) => x.id)).toEqual([fresh]);
    await r.close();
  });
});

describe('lowdb: segment metadata journal', () => {
  it('a flush appends what changed to the segment log (no rewrite); deletions and the eviction mark are lines too', async () => {
    const d = await dir();
    const s = await open(d, { flushIntervalMs: 60_000 });
    await s.bins.put({ id: 'a', name: 'a', createdAt: 'x' });
    const ids = Array.from({ length: 7 }, () => nextId());
    for (const id of ids.slice(0, 3)) await s.requests.append(fakeRequest('a', id), 5);
    await s.flush();
    const log = path.join(d, 'bins', 'a', '00000000.log');
    const first = await readFile(log);
    const ino = (await stat(log)).ino;
    await s.requests.append(fakeRequest('a', ids[3]), 5);
    await s.flush();
    const second = await readFile(log);
    // The same file, what was there untouched, one line more.
    expect((await stat(log)).ino).toBe(ino);
    expect(second.subarray(0, first.length).equals(first)).toBe(true);
    const added = second.subarray(first.length).toString().trim().split('\n');
    expect(added.map((l) => JSON.parse(l).r.id)).toEqual([ids[3]]);
    // A deletion is a line, on disk when it resolves.
    await s.requests.delete('a', ids[1]);
    const third = await readFile(log);
    expect(JSON.parse(third.subarray(second.length).toString())).toEqual({ d: ids[1] });
    // The cap (5) pushes out the oldest: the newest segment gets the bin's eviction mark.
    for (const id of ids.slice(4)) await s.requests.append(fakeRequest('a', id), 5);
    await s.flush();
    const lines = (await readFile(log, 'utf8')).trim().split('\n');
    expect(JSON.parse(lines[lines.length - 1])).toEqual({ m: [ids[0], 1] });
    // A second reader of the same directory, as after a crash right now: exactly what is kept.
    const peek = await open(d);
    expect((await peek.requests.page('a', { limit: 10, oldestFirst: true })).map((r) => r.id)).toEqual([ids[2], ids[3], ids[4], ids[5], ids[6]]);
    expect((await peek.requests.body('a', ids[6]))?.toString()).toBe('hi');
    await s.close();
  });

  it('a segment whose first metadata write a crash cut short loads empty, and its files go', async () => {
    const d = await dir();
    const s = await open(d);
    await s.bins.put({ id: 'a', name: 'a', createdAt: 'x' });
    await s.requests.append(fakeRequest('a', nextId()), 10);
    await s.close();
    const bin = path.join(d, 'bins', 'a');
    await writeFile(path.join(bin, '00000000.log'), '{"v":3,"binId":"a","seg'); // no whole line
    const r = await open(d);
    expect(await r.requests.page('a', { limit: 10 })).toEqual([]);
    await r.flush();
    expect(await readdir(bin)).toEqual([]);
    await r.requests.append(fakeRequest('a', nextId()), 10);
    await r.close();
    const again = await open(d);
    expect(await again.requests.page('a', { limit: 10 })).toHaveLength(1);
    await again.close();
  });

  it("an earlier build's segment (<n>.json, rewritten whole) loads and becomes a log at its next write", async () => {
    const d = await dir();
    const s = await open(d);
    await s.bins.put({ id: 'a', name: 'a', createdAt: 'x' });
    const ids = [nextId(), nextId(), nextId()];
    for (const id of ids) await s.requests.append(fakeRequest('a', id, { body: Buffer.from(`b-${id}`) }), 10);
    await s.close();
    // What the previous build wrote for the same requests.
    const bin = path.join(d, 'bins', 'a');
    const log = path.join(bin, '00000000.log');
    const records = [...parseSegmentLog(await readFile(log)).records.values()];
    const json = JSON.stringify({ version: 2, binId: 'a', segment: 0, evictedThrough: '', evictedSeq: 0, requests: records });
    await writeFile(path.join(bin, '00000000.json'), json);
    await rm(log);

    const r = await open(d, { cacheBytes: 0 });
    expect((await r.requests.page('a', { limit: 10 })).map((x) => x.id)).toEqual([...ids].reverse());
    expect((await r.requests.body('a', ids[1]))?.toString()).toBe(`b-${ids[1]}`);
    expect((await readdir(bin)).sort()).toEqual(['00000000.body', '00000000.json']);
    await r.requests.delete('a', ids[0]);
    expect((await readdir(bin)).sort()).toEqual(['00000000.body', '00000000.log']);
    await r.close();
    // A crash after the log was renamed into place, before the .json went: the log is the truth.
    await writeFile(path.join(bin, '00000000.json'), json);
    const again = await open(d);
    expect((await again.requests.page('a', { limit: 10 })).map((x) => x.id)).toEqual([ids[2], ids[1]]);
    expect((await again.requests.body('a', ids[2]))?.toString()).toBe(`b-${ids[2]}`);
    expect((await readdir(bin)).sort()).toEqual(['00000000.body', '00000000.log']);
    await again.close();
  });
});

describe('lowdb: open files', () => {
  /** Files under `dataDir` this process holds open (Linux: /proc/self/fd). */
  async function openUnder(dataDir: string): Promise<string[]> {
    const d = await realpath(dataDir);
    const out: string[] = [];
    for (const fd of await readdir('/proc/self/fd')) {
      const target = await readlink(path.join('/proc/self/fd', fd)).catch(() => '');
      if (target.startsWith(d + path.sep)) out.push(path.relative(d, target));
    }
    return out.sort();
  }

  it('a bin keeps only its newest segment open; a full one is opened once, written and closed; a deleted bin closes all', async () => {
    const d = await dir();
    // The request log alone: the store around it closes every file once idle (see flush).
    const bins = new Set(['a', 'b']);
    const log = new DiskRequestLog({ dataDir: d, segmentSize: 5, binExists: (id) => bins.has(id), durable: async () => {}, onDirty: () => {}, onWarning: () => {} });
    // Count opens (the log imports node:fs/promises; its live bindings follow the module).
    const fsp = (await import('node:fs/promises')).default as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>;
    const orig = fsp.open;
    const opened: string[] = [];
    fsp.open = (...a: unknown[]) => (opened.push(path.relative(d, String(a[0]))), orig(...a));
    syncBuiltinESMExports();
    try {
      for (let i = 0; i < 3; i++) await log.append(fakeRequest('a', nextId()), 100);
      await log.flush();
      expect(await openUnder(d)).toEqual(['bins/a/00000000.body', 'bins/a/00000000.log']);
      // a's segment 0 fills with two of it unwritten while segment 1 starts; b fills one and starts the next.
      for (let i = 0; i < 4; i++) await log.append(fakeRequest('a', nextId()), 100);
      for (let i = 0; i < 6; i++) await log.append(fakeRequest('b', nextId()), 100);
      await log.flush();
      expect(await openUnder(d)).toEqual(['bins/a/00000001.body', 'bins/a/00000001.log', 'bins/b/00000001.body', 'bins/b/00000001.log']);
      // Each segment file was opened once.
      expect(opened.length).toBe(new Set(opened).size);
      expect(opened.length).toBe(8);
      // Deleted with captures not yet written: nothing of it stays open.
      for (let i = 0; i < 2; i++) await log.append(fakeRequest('b', nextId()), 100);
      bins.delete('b');
      log.dropBin('b');
      await log.flush();
      await log.removeDeletedBins();
      expect(await openUnder(d)).toEqual(['bins/a/00000001.body', 'bins/a/00000001.log']);
      expect(await readdir(path.join(d, 'bins'))).toEqual(['a']);
    } finally {
      fsp.open = orig;
      syncBuiltinESMExports();
    }
    log.closeFiles(); // (closes are not awaited)
    await vi.waitFor(async () => expect(await openUnder(d)).toEqual([]), { timeout: 5000, interval: 20 });
  });
});

describe('lowdb: pooled bodies', () => {
  it('a small body that is a view of a larger buffer (Node pools small ones) is cached as its own bytes, not pinning the rest', async () => {
    const d = await dir();
    const s = await open(d, { flushIntervalMs: 60_000 });
    await s.bins.put({ id: 'a', name: 'a', createdAt: 'x' });
    const slab = Buffer.alloc(8192, 1);
    const view = slab.subarray(100, 700);
    const id = nextId();
    await s.requests.append(fakeRequest('a', id, { body: view }), 10);
    await s.flush();
    const cached = (await s.requests.body('a', id))!;
    expect(cached.equals(view)).toBe(true);
    expect(cached.buffer.byteLength).toBe(600);
    await s.close();
  });
});
