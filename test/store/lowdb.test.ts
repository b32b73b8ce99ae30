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
    const body = Buffer.from([0, 255, 1, 254, 10, 13]).toString('base64');
    const ids = [nextId(), nextId()];
    for (const id of ids) await s1.requests.append(fakeRequest('b', id, { body }), 10);
    await s1.deliveries.put(fakeDelivery('d1', 'pending'));
    await s1.setClock({ virtualMs: 1, realMs: 2, scale: 1440, paused: false });
    await s1.close(); // flushes, long before the 1 s timer

    const s2 = await LowdbStore.open({ dataDir: d, flushIntervalMs: 1000 });
    expect((await s2.bins.list()).map((b) => b.name)).toEqual(['bin']);
    expect((await s2.requests.page('b', { limit: 10 })).map((r) => r.id)).toEqual([...ids].reverse());
    expect((await s2.requests.get('b', ids[0]))?.body).toBe(body);
    expect((await s2.deliveries.query({ state: 'pending' })).map((x) => x.id)).toEqual(['d1']);
    expect((await s2.getClock())?.scale).toBe(1440);
    await s2.close();
  });

  it('splits files: one per bin, so a capture rewrites only its own bin', async () => {
    const d = await dir();
    const s = await LowdbStore.open({ dataDir: d, flushIntervalMs: 5 });
    await s.bins.put({ id: 'a', name: 'a', createdAt: 'x' });
    await s.bins.put({ id: 'b', name: 'b', createdAt: 'x' });
    await s.requests.append(fakeRequest('a', nextId()), 10);
    await s.flush();
    const before = await readFile(path.join(d, 'hooklab.json'), 'utf8');
    expect((await readdir(path.join(d, 'bins'))).sort()).toEqual(['a.json']);
    await s.requests.append(fakeRequest('b', nextId()), 10);
    await s.flush();
    expect((await readdir(path.join(d, 'bins'))).sort()).toEqual(['a.json', 'b.json']);
    expect(await readFile(path.join(d, 'hooklab.json'), 'utf8')).toBe(before);
    await s.bins.delete('a');
    await s.flush();
    expect((await readdir(path.join(d, 'bins'))).sort()).toEqual(['b.json']);
    await s.close();
  });

  it('coalesces: many changes within the interval become one write per file', async () => {
    const d = await dir();
    const s = await LowdbStore.open({ dataDir: d, flushIntervalMs: 50 });
    await s.bins.put({ id: 'a', name: 'a', createdAt: 'x' });
    for (let i = 0; i < 200; i++) await s.requests.append(fakeRequest('a', nextId()), 1000);
    // Nothing is on disk until the timer fires or a flush is asked for.
    expect(await readdir(path.join(d, 'bins'))).toEqual([]);
    await s.flush();
    const file = JSON.parse(await readFile(path.join(d, 'bins', 'a.json'), 'utf8'));
    expect(file.requests).toHaveLength(200);
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
    await mkdir(path.join(d, 'bins'), { recursive: true });
    await writeFile(path.join(d, 'bins', 'a.json'), '{"version":1,"requests":{}}');
    const err = await LowdbStore.open({ dataDir: d, flushIntervalMs: 5 }).catch((e) => e);
    expect(err).toBeInstanceOf(DataFileError);
    expect(err.message).toContain(path.join(d, 'bins', 'a.json'));
    expect(err.message).toContain('"requests" is not a list');
  });
});

afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});
