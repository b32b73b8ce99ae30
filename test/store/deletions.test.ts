// The lowdb driver records a deletion before it takes effect: on disk when it resolves, or
// ChangeNotRecordedError with nothing changed (in memory or on disk). Write failures are made
// for real (a directory where a file is written, bins/ moved away): chmod does not stop root.
// Also: captures that cannot be read back (StoreReadError, counted in health, no bin id), and
// logs grown long with deletions rewritten whole, 0600.
import { mkdir, readFile, readdir, rename, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { sortableIdFactory } from '../../server/ids.ts';
import { LowdbStore, type LowdbStoreOptions } from '../../server/store/lowdb.ts';
import { ChangeNotRecordedError, StoreReadError } from '../../server/store/types.ts';
import { tempDir } from '../helpers/server.ts';
import { fakeRequest } from './contract.ts';

const dirs: string[] = [];
async function dir() {
  const d = await tempDir('hooklab-deletions-');
  dirs.push(d);
  return d;
}
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

const nextId = sortableIdFactory();
// Long, like real ids: a test that no text names it means something.
const BIN = 'ZcKgMmRrLDiuty5PLgbma';

const open = (d: string, extra: Partial<LowdbStoreOptions> = {}) => LowdbStore.open({ dataDir: d, flushIntervalMs: 60_000, ...extra });
const ids = async (s: LowdbStore, binId: string) => (await s.requests.page(binId, { limit: 1000, oldestFirst: true })).map((r) => r.id);
/** What a fresh process would find on disk right now (as after a crash). */
async function peek(d: string, fn: (s: LowdbStore) => Promise<void>) {
  const s = await open(d);
  try {
    await fn(s);
  } finally {
    await s.close();
  }
}

describe('lowdb: deletions are recorded before they take effect', () => {
  it("a bin's deletion that cannot be written changes nothing; once written it is on disk", async () => {
    const d = await dir();
    const s = await open(d);
    for (const id of ['first', BIN, 'last']) await s.bins.put({ id, name: id, createdAt: 'x' });
    const kept = [nextId(), nextId()];
    for (const id of kept) await s.requests.append(fakeRequest(BIN, id, { body: Buffer.from(`body ${id}`) }), 10);
    await s.flush();
    // bins.log cannot be written: a directory where it is.
    const log = path.join(d, 'bins.log');
    await rename(log, `${log}.keep`);
    await mkdir(log);
    const err = await s.bins.delete(BIN).catch((e) => e);
    expect(err).toBeInstanceOf(ChangeNotRecordedError);
    expect(err.message).toMatch(/^The bin was not deleted: .*Nothing changed/);
    // Where it was in the list, with its captures.
    expect((await s.bins.list()).map((b) => b.id)).toEqual(['first', BIN, 'last']);
    expect(await ids(s, BIN)).toEqual(kept);
    expect((await s.requests.body(BIN, kept[1]))?.toString()).toBe(`body ${kept[1]}`);
    expect(await readdir(path.join(d, 'bins'))).toContain(BIN);
    await rmdir(log);
    await rename(`${log}.keep`, log);
    await peek(d, async (p) => expect((await p.bins.list()).map((b) => b.id)).toEqual(['first', BIN, 'last']));
    // Writable again: deleted, on disk when it resolves, its files gone.
    expect(await s.bins.delete(BIN)).toBe(true);
    expect((await s.bins.list()).map((b) => b.id)).toEqual(['first', 'last']);
    expect(await readdir(path.join(d, 'bins'))).not.toContain(BIN);
    await peek(d, async (p) => expect((await p.bins.list()).map((b) => b.id)).toEqual(['first', 'last']));
    await s.close();
  });

  it("a capture's deletion that cannot be written changes nothing; once written it is on disk", async () => {
    const d = await dir();
    const s = await open(d);
    await s.bins.put({ id: BIN, name: 'b', createdAt: 'x' });
    const all = [nextId(), nextId(), nextId()];
    for (const id of all) await s.requests.append(fakeRequest(BIN, id), 10);
    await s.flush();
    const log = path.join(d, 'bins', BIN, '00000000.log');
    await rename(log, `${log}.keep`);
    await mkdir(log);
    const err = await s.requests.delete(BIN, all[1]).catch((e) => e);
    expect(err).toBeInstanceOf(ChangeNotRecordedError);
    expect(err.message).toMatch(/^The request was not deleted: .*Nothing changed/);
    expect(await ids(s, BIN)).toEqual(all);
    await rmdir(log);
    await rename(`${log}.keep`, log);
    expect((await s.requests.get(BIN, all[1]))?.id).toBe(all[1]);
    expect(await s.requests.delete(BIN, all[1])).toBe(true);
    expect(await ids(s, BIN)).toEqual([all[0], all[2]]);
    await peek(d, async (p) => expect(await ids(p, BIN)).toEqual([all[0], all[2]]));
    await s.close();
  });

  it("clearing a bin moves its directory aside (no space needed) and removes it; one that cannot be done changes nothing", async () => {
    const d = await dir();
    const s = await open(d, { segmentSize: 2 });
    await s.bins.put({ id: BIN, name: 'b', createdAt: 'x' });
    const all = Array.from({ length: 5 }, () => nextId());
    for (const id of all) await s.requests.append(fakeRequest(BIN, id), 10);
    await s.flush();
    // bins/ gone (an unmounted volume?): its files may come back, so this is not a clear.
    const bins = path.join(d, 'bins');
    await rename(bins, `${bins}.keep`);
    const err = await s.requests.clear(BIN).catch((e) => e);
    expect(err).toBeInstanceOf(ChangeNotRecordedError);
    expect(await ids(s, BIN)).toEqual(all);
    await rename(`${bins}.keep`, bins);
    expect((await s.requests.body(BIN, all[4]))?.toString()).toBe('hi');
    expect(await s.requests.clear(BIN)).toBe(5);
    expect(await ids(s, BIN)).toEqual([]);
    // An empty directory, as before; nothing left aside.
    expect(await readdir(bins)).toEqual([BIN]);
    expect(await readdir(path.join(bins, BIN))).toEqual([]);
    await peek(d, async (p) => expect(await ids(p, BIN)).toEqual([]));
    // Capturing goes on into fresh files.
    const after = nextId();
    await s.requests.append(fakeRequest(BIN, after, { body: Buffer.from('after') }), 10);
    await s.flush();
    await peek(d, async (p) => {
      expect(await ids(p, BIN)).toEqual([after]);
      expect((await p.requests.body(BIN, after))?.toString()).toBe('after');
    });
    await s.close();
  });

  it('a cleared directory left aside by a stop is removed at start-up', async () => {
    const d = await dir();
    const s = await open(d);
    await s.close();
    const aside = path.join(d, 'bins', '.cleared-0123456789ab');
    await mkdir(aside);
    await writeFile(path.join(aside, '00000000.body'), 'x');
    const r = await open(d);
    expect(await readdir(path.join(d, 'bins'))).toEqual([]);
    await r.close();
  });

  it('deletions that make a segment log long get it rewritten whole (0600) at the next flush', async () => {
    const d = await dir();
    const s = await open(d);
    await s.bins.put({ id: BIN, name: 'b', createdAt: 'x' });
    const all = Array.from({ length: 30 }, () => nextId());
    for (const id of all) await s.requests.append(fakeRequest(BIN, id), 100);
    await s.flush();
    for (const id of all.slice(0, 25)) await s.requests.delete(BIN, id);
    await s.flush();
    const log = path.join(d, 'bins', BIN, '00000000.log');
    const lines = (await readFile(log, 'utf8')).trim().split('\n');
    // Rewritten: a header, the 5 kept and the eviction mark; the deletion lines went with it.
    expect(lines.filter((l) => l.startsWith('{"d":')).length).toBeLessThan(25);
    expect((await stat(log)).mode & 0o777).toBe(0o600);
    await s.close();
    await peek(d, async (p) => expect(await ids(p, BIN)).toEqual(all.slice(25)));
  });
});

describe('lowdb: captures that cannot be read back', () => {
  it('answer StoreReadError, counted in health (no bin id, no path), logged with the bin id replaced; back in place, they read again', async () => {
    const d = await dir();
    const logged: { message: string; detail?: Record<string, unknown> }[] = [];
    const s = await open(d, { cacheBytes: 0, onWarning: (message, detail) => void logged.push({ message, detail }) });
    await s.bins.put({ id: BIN, name: 'b', createdAt: 'x' });
    const id = nextId();
    await s.requests.append(fakeRequest(BIN, id), 10);
    await s.flush();
    const binDir = path.join(d, 'bins', BIN);
    await rename(binDir, `${binDir}.moved`);
    await expect(s.requests.get(BIN, id)).rejects.toBeInstanceOf(StoreReadError);
    await expect(s.requests.body(BIN, id)).rejects.toBeInstanceOf(StoreReadError);
    // A warning, not a fault: writes work.
    const h = s.health();
    expect(h.fault).toBeNull();
    expect(h.warnings).toHaveLength(1);
    expect(h.warnings[0]).toMatch(/^\S+Z Reading stored captures failed 2 time\(s\) since \S+Z \(last: a file is missing \(ENOENT\)\)/);
    expect(JSON.stringify(h)).not.toContain(BIN);
    expect(JSON.stringify(h)).not.toContain(d);
    // Logged once (at most one a minute), the file named with the bin replaced.
    expect(logged).toHaveLength(1);
    expect(JSON.stringify(logged)).not.toContain(BIN);
    expect(String(logged[0].detail?.error)).toContain(path.join(d, 'bins', '<bin>', '0000000'));
    // Not forgotten: put back, it reads again.
    await rename(`${binDir}.moved`, binDir);
    expect((await s.requests.get(BIN, id))?.id).toBe(id);
    expect((await s.requests.body(BIN, id))?.toString()).toBe('hi');
    await s.close();
  });
});
