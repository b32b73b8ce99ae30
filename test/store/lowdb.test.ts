// The lowdb driver: the shared contract, then what only a file-backed store must do.
import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DataFileError, LowdbStore } from '../../server/store/lowdb.ts';
import { sortableIdFactory } from '../../server/ids.ts';
import { tempDir } from '../helpers/server.ts';
import { fakeDelivery, fakeRequest, storeContract } from './contract.ts';

const dirs: string[] = [];
async function dir() {
  const d = await tempDir('hooklab-lowdb-');
  dirs.push(d);
  return d;
}

storeContract('lowdb', async (o) => LowdbStore.open({ dataDir: await dir(), flushIntervalMs: 5, ...o }));

describe('lowdb files', () => {
  const nextId = sortableIdFactory();

  it('survives close and reopen: bins, requests (byte-exact), deliveries, clock', async () => {
    const d = await dir();
    const s1 = await LowdbStore.open({ dataDir: d, flushIntervalMs: 1000 });
    await s1.bins.put({ id: 'b', name: 'bin', createdAt: 'x' });
    const body = Buffer.from([0, 255, 1, 254, 10, 13]);
    const ids = [nextId(), nextId()];
    for (const id of ids) await s1.requests.append(fakeRequest('b', id, { body }), 10);
    await s1.deliveries.put(fakeDelivery('d1', 'pending'));
    await s1.setClock({ virtualMs: 1, realMs: 2, scale: 1440, paused: false });
    await s1.close(); // flushes, long before the 1 s timer

    const s2 = await LowdbStore.open({ dataDir: d, flushIntervalMs: 1000 });
    expect((await s2.bins.list()).map((b) => b.name)).toEqual(['bin']);
    expect((await s2.requests.page('b', { limit: 10 })).map((r) => r.id)).toEqual([...ids].reverse());
    expect((await s2.requests.get('b', ids[0]))?.body.equals(body)).toBe(true);
    expect((await s2.deliveries.query({ state: 'pending' })).map((x) => x.id)).toEqual(['d1']);
    expect((await s2.getClock())?.scale).toBe(1440);
    await s2.close();
  });

  it('splits files: a capture writes only its own bin, in segment files', async () => {
    const d = await dir();
    const s = await LowdbStore.open({ dataDir: d, flushIntervalMs: 5, segmentSize: 10 });
    await s.bins.put({ id: 'a', name: 'a', createdAt: 'x' });
    await s.bins.put({ id: 'b', name: 'b', createdAt: 'x' });
    for (let i = 0; i < 25; i++) await s.requests.append(fakeRequest('a', nextId()), 100);
    await s.flush();
    const before = await readFile(path.join(d, 'hooklab.json'), 'utf8');
    expect((await readdir(path.join(d, 'bins'))).sort()).toEqual(['a']);
    expect((await readdir(path.join(d, 'bins', 'a'))).sort()).toEqual(['00000000.json', '00000001.json', '00000002.json']);
    await s.requests.append(fakeRequest('b', nextId()), 100);
    await s.flush();
    expect((await readdir(path.join(d, 'bins'))).sort()).toEqual(['a', 'b']);
    expect(await readFile(path.join(d, 'hooklab.json'), 'utf8')).toBe(before);
    await s.bins.delete('a');
    await s.flush();
    expect((await readdir(path.join(d, 'bins'))).sort()).toEqual(['b']);
    await s.close();
  });

  it('a capture into a full bin writes only its newest small segment; emptied segments are removed', async () => {
    const d = await dir();
    const s = await LowdbStore.open({ dataDir: d, flushIntervalMs: 1000, segmentSize: 10 });
    await s.bins.put({ id: 'a', name: 'a', createdAt: 'x' });
    for (let i = 0; i < 200; i++) await s.requests.append(fakeRequest('a', nextId()), 50);
    await s.flush();
    const snap = async () => {
      const out = new Map<string, string>();
      for (const f of await readdir(path.join(d, 'bins', 'a'))) out.set(f, await readFile(path.join(d, 'bins', 'a', f), 'utf8'));
      return out;
    };
    const before = await snap();
    // 50 kept, 10 per file: the evicted segments' files are gone.
    expect(before.size).toBe(5);
    await s.requests.append(fakeRequest('a', nextId()), 50);
    await s.flush();
    const after = await snap();
    const changed = [...new Set([...before.keys(), ...after.keys()])].filter((f) => before.get(f) !== after.get(f));
    // One new segment file for the new capture; the oldest file, now holding one evicted
    // request, is left alone (evictions are lazy on disk).
    expect(changed).toHaveLength(1);
    expect(before.has(changed[0])).toBe(false);
    expect(JSON.parse(after.get(changed[0])!).requests).toHaveLength(1);
    // Nine more: the oldest segment empties and its file goes.
    for (let i = 0; i < 9; i++) await s.requests.append(fakeRequest('a', nextId()), 50);
    await s.flush();
    expect((await snap()).size).toBe(5);
    for (let i = 0; i < 3; i++) await s.requests.append(fakeRequest('a', nextId()), 50);
    await s.close();
    // Reading back cuts what was evicted but is still on disk: the newest 50, in order.
    const newest = (await s.requests.page('a', { limit: 500 })).map((r) => r.id);
    const again = await LowdbStore.open({ dataDir: d, flushIntervalMs: 1000, segmentSize: 10, maxRequestsPerBin: 50 });
    expect((await again.requests.page('a', { limit: 500 })).map((r) => r.id)).toEqual(newest);
    await again.close();
  });

  it('deletes and clears reach the segment files', async () => {
    const d = await dir();
    const s = await LowdbStore.open({ dataDir: d, flushIntervalMs: 1000, segmentSize: 3 });
    await s.bins.put({ id: 'a', name: 'a', createdAt: 'x' });
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) {
      ids.push(nextId());
      await s.requests.append(fakeRequest('a', ids[i]), 100);
    }
    await s.requests.delete('a', ids[4]);
    await s.close();
    let r = await LowdbStore.open({ dataDir: d, flushIntervalMs: 1000, segmentSize: 3 });
    expect((await r.requests.page('a', { limit: 100 })).map((x) => x.id)).toEqual(ids.filter((_, i) => i !== 4).reverse());
    // New captures after a restart go to a new segment and keep order.
    const later = nextId();
    await r.requests.append(fakeRequest('a', later), 100);
    await r.requests.clear('a');
    await r.requests.append(fakeRequest('a', nextId()), 100);
    await r.close();
    expect(await readdir(path.join(d, 'bins', 'a'))).toHaveLength(1);
    r = await LowdbStore.open({ dataDir: d, flushIntervalMs: 1000, segmentSize: 3 });
    expect(await r.requests.page('a', { limit: 100 })).toHaveLength(1);
    await r.close();
  });

  it('coalesces: many changes within the interval become one write per file', async () => {
    const d = await dir();
    const s = await LowdbStore.open({ dataDir: d, flushIntervalMs: 50 });
    await s.bins.put({ id: 'a', name: 'a', createdAt: 'x' });
    for (let i = 0; i < 200; i++) await s.requests.append(fakeRequest('a', nextId()), 1000);
    // Nothing is on disk until the timer fires or a flush is asked for.
    expect(await readdir(path.join(d, 'bins'))).toEqual([]);
    await s.flush();
    let stored = 0;
    for (const f of await readdir(path.join(d, 'bins', 'a'))) stored += JSON.parse(await readFile(path.join(d, 'bins', 'a', f), 'utf8')).requests.length;
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

  it('refuses a bin file of the wrong shape, naming that file', async () => {
    const d = await dir();
    const s = await LowdbStore.open({ dataDir: d, flushIntervalMs: 5 });
    await s.bins.put({ id: 'a', name: 'a', createdAt: 'x' });
    await s.close();
    await mkdir(path.join(d, 'bins', 'a'), { recursive: true });
    await writeFile(path.join(d, 'bins', 'a', '00000000.json'), '{"version":1,"requests":{}}');
    const err = await LowdbStore.open({ dataDir: d, flushIntervalMs: 5 }).catch((e) => e);
    expect(err).toBeInstanceOf(DataFileError);
    expect(err.message).toContain(path.join(d, 'bins', 'a', '00000000.json'));
    expect(err.message).toContain('"requests" is not a list');
  });
});

afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

describe('lowdb format carry-over', () => {
  it('a bin kept in one file by an earlier build (bins/<id>.json) loads, and moves into segments', async () => {
    const d = await dir();
    const s = await LowdbStore.open({ dataDir: d, flushIntervalMs: 1000 });
    await s.bins.put({ id: 'old', name: 'old', createdAt: 'x' });
    await s.close();
    const nextId = sortableIdFactory();
    const ids = [nextId(), nextId(), nextId()];
    const requests = ids.map((id) => ({ ...fakeRequest('old', id), body: Buffer.from(`b-${id}`).toString('base64') }));
    await writeFile(path.join(d, 'bins', 'old.json'), JSON.stringify({ version: 1, binId: 'old', requests }));

    const r = await LowdbStore.open({ dataDir: d, flushIntervalMs: 1000 });
    expect((await r.requests.page('old', { limit: 10 })).map((x) => x.id)).toEqual([...ids].reverse());
    expect((await r.requests.get('old', ids[1]))?.body.toString()).toBe(`b-${ids[1]}`);
    await r.close();
    expect((await readdir(path.join(d, 'bins'))).sort()).toEqual(['old']);
    const again = await LowdbStore.open({ dataDir: d, flushIntervalMs: 1000 });
    expect(await again.requests.page('old', { limit: 10 })).toHaveLength(3);
    await again.close();
  });
});

describe('lowdb: review fixes', () => {
  const nextId = sortableIdFactory();

  it('requests evicted by the cap stay gone after a restart, even once some were deleted', async () => {
    const d = await dir();
    const opts = { dataDir: d, flushIntervalMs: 1000, segmentSize: 2, maxRequestsPerBin: 4 };
    const s = await LowdbStore.open(opts);
    await s.bins.put({ id: 'a', name: 'a', createdAt: 'x' });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      ids.push(nextId());
      await s.requests.append(fakeRequest('a', ids[i]), 4); // #0 is evicted
    }
    await s.requests.delete('a', ids[4]);
    const before = (await s.requests.page('a', { limit: 10 })).map((r) => r.id);
    expect(before).toEqual([ids[3], ids[2], ids[1]]);
    await s.close();
    const r = await LowdbStore.open(opts);
    expect((await r.requests.page('a', { limit: 10 })).map((x) => x.id)).toEqual(before);
    await r.close();
  });

  it('a failed write (the bin directory cannot be made) is retried and loses nothing', async () => {
    const d = await dir();
    const errors: string[] = [];
    const s = await LowdbStore.open({ dataDir: d, flushIntervalMs: 1000, onWriteError: (f) => void errors.push(f) });
    await s.bins.put({ id: 'a', name: 'a', createdAt: 'x' });
    // A file where the bin's directory should go makes mkdir fail.
    await writeFile(path.join(d, 'bins', 'a'), 'in the way');
    const id = nextId();
    await s.requests.append(fakeRequest('a', id), 10);
    await s.flush();
    expect(errors).toEqual([path.join(d, 'bins', 'a')]);
    await rm(path.join(d, 'bins', 'a'));
    await s.close();
    const r = await LowdbStore.open({ dataDir: d, flushIntervalMs: 1000 });
    expect((await r.requests.page('a', { limit: 10 })).map((x) => x.id)).toEqual([id]);
    await r.close();
  });

  it('response settings live in their own file; an earlier build\'s hooklab.json is carried over', async () => {
    const d = await dir();
    const control = { id: 'a', config: { default: { status: 201, headers: {}, body: '', contentType: 'text/plain', delayMs: 0 }, rules: [], plan: [], afterPlan: 'default' as const, seed: 1 }, state: { step: 0, usedInStep: 0, consumed: 0, exhausted: false, rng: 1 } };
    await writeFile(path.join(d, 'hooklab.json'), JSON.stringify({ version: 1, bins: [{ id: 'a', name: 'a', createdAt: 'x' }], responses: [control], webhooks: [], runs: [], clock: null }));
    const s = await LowdbStore.open({ dataDir: d, flushIntervalMs: 5 });
    expect((await s.responses.get('a'))?.config.default.status).toBe(201);
    await s.close();
    expect(JSON.parse(await readFile(path.join(d, 'responses.json'), 'utf8')).responses).toHaveLength(1);
    // A plan moving does not rewrite hooklab.json.
    const main = await readFile(path.join(d, 'hooklab.json'), 'utf8');
    const r = await LowdbStore.open({ dataDir: d, flushIntervalMs: 5 });
    await r.responses.put({ ...control, state: { ...control.state, consumed: 1 } });
    await r.close();
    expect(await readFile(path.join(d, 'hooklab.json'), 'utf8')).toBe(main);
    expect(JSON.parse(main).responses).toBeUndefined();
  });
});
