// Start-up of the lowdb store on a DATA_DIR someone or something damaged (found by a durability
// probe): it never removes a bin's data unless the bin was deleted on purpose, it says what it
// cut from the ends of files, it names a data file that is a directory, and it holds DATA_DIR
// against a second hooklab.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, open as openFile, readFile, readdir, rm, stat, truncate, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { sortableIdFactory } from '../../server/ids.ts';
import { DataDirLockedError, DataFileError, LowdbStore, type LowdbStoreOptions } from '../../server/store/lowdb.ts';
import { DELETED_MARK } from '../../server/store/disk/request-log.ts';
import { FOREIGN_STALE_MS, LOCK_FILE } from '../../server/store/disk/data-dir-lock.ts';
import { json, startServer, tempDir } from '../helpers/server.ts';
import { fakeRequest } from './contract.ts';

const dirs: string[] = [];
async function dir() {
  const d = await tempDir('hooklab-integrity-');
  dirs.push(d);
  return d;
}
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

const nextId = sortableIdFactory();
// Long, like real ids: a test that no message names them means something.
const binIds = Array.from({ length: 5 }, (_, i) => `Zq${i}KgMmRrLDiuty5PLgbma`);

async function open(d: string, extra: Partial<LowdbStoreOptions> = {}) {
  return LowdbStore.open({ dataDir: d, flushIntervalMs: 60_000, ...extra });
}

/** A DATA_DIR with 5 bins of 3 captures each, stopped cleanly. */
async function fiveBins(extra: Partial<LowdbStoreOptions> = {}) {
  const d = await dir();
  const s = await open(d, extra);
  for (const id of binIds) {
    await s.bins.put({ id, name: id.slice(0, 3), createdAt: 'x' });
    for (let i = 0; i < 3; i++) await s.requests.append(fakeRequest(id, nextId(), { body: Buffer.alloc(500, i) }), 100);
  }
  await s.close();
  return d;
}

/** Every file under DATA_DIR, path -> bytes. */
async function tree(d: string) {
  const out = new Map<string, string>();
  for (const f of await readdir(d, { recursive: true })) {
    const p = path.join(d, f);
    if ((await stat(p)).isFile()) out.set(f, (await readFile(p)).toString('base64'));
  }
  return out;
}

async function zeroTail(file: string, n: number) {
  const size = (await stat(file)).size;
  const fh = await openFile(file, 'r+');
  await fh.write(Buffer.alloc(Math.min(n, size)), 0, Math.min(n, size), Math.max(0, size - n));
  await fh.close();
}

describe('bins.log lost lines: start-up refuses rather than remove the bins it no longer lists', () => {
  it('an emptied bins.log: refused, naming bins.log and how many directories, no bin id; nothing touched', async () => {
    const d = await fiveBins();
    await truncate(path.join(d, 'bins.log'), 0);
    const before = await tree(d);
    const err = await open(d).catch((e) => e);
    expect(err).toBeInstanceOf(DataFileError);
    expect(err.message).toContain(path.join(d, 'bins.log'));
    expect(err.message).toMatch(/5 bin directories .* hold data that it does not list/);
    expect(err.message).toMatch(/Restore bins.log/);
    for (const id of binIds) expect(err.message).not.toContain(id);
    expect((await readdir(path.join(d, 'bins'))).sort()).toEqual([...binIds].sort());
    expect(await tree(d)).toEqual(before);
  });

  it('a directory bins.log does not list that holds no bytes (a bin made while writes failed, then a kill): removed, said, not refused', async () => {
    const d = await fiveBins();
    // Its segment files made, nothing written to them (a full disk).
    const made = path.join(d, 'bins', 'Xq9KgMmRrLDiuty5PLgbmaQ');
    await mkdir(made);
    await writeFile(path.join(made, '00000000.log'), '');
    await writeFile(path.join(made, '00000000.body'), '');
    const bare = path.join(d, 'bins', 'Yq9KgMmRrLDiuty5PLgbmaQ');
    await mkdir(bare);
    const logged: string[] = [];
    const s = await open(d, { onWarning: (m) => logged.push(m) });
    expect(existsSync(made)).toBe(false);
    expect(existsSync(bare)).toBe(false);
    expect(logged).toEqual(['Removed 2 empty bin directories that bins.log does not list (bins made while writes failed, then a stop before bins.log had them; they held no data).']);
    for (const id of binIds) expect((await s.requests.page(id, { limit: 10 })).length).toBe(3);
    await s.close();
    // One byte is data: refused as before.
    await mkdir(made);
    await writeFile(path.join(made, '00000000.body'), 'x');
    const err = await open(d).catch((e) => e);
    expect(err).toBeInstanceOf(DataFileError);
    expect(err.message).toMatch(/1 bin directory .* holds? data that it does not list/);
    expect(existsSync(made)).toBe(true);
  });

  it('zeroes over the last lines of bins.log: refused for the bins those lines held; the file is not cut', async () => {
    const d = await fiveBins();
    await zeroTail(path.join(d, 'bins.log'), 120);
    const before = await tree(d);
    const err = await open(d).catch((e) => e);
    expect(err).toBeInstanceOf(DataFileError);
    expect(err.message).toMatch(/\d bin director(y|ies) .* hold data that it does not list/);
    expect(await tree(d)).toEqual(before);
  });

  it('a deleted bin: marked before bins.log records it; its directory goes (moved aside first)', async () => {
    const d = await fiveBins();
    const s = await open(d);
    const journal = (s as unknown as { binsJournal: { removeNow: (id: string) => Promise<void> } }).binsJournal;
    const removeNow = journal.removeNow.bind(journal);
    let markedFirst: boolean | null = null;
    journal.removeNow = async (id) => {
      markedFirst = existsSync(path.join(d, 'bins', id, DELETED_MARK));
      return removeNow(id);
    };
    expect(await s.bins.delete(binIds[0])).toBe(true);
    expect(markedFirst).toBe(true);
    expect((await readdir(path.join(d, 'bins'))).sort()).toEqual(binIds.slice(1).sort());
    await s.close();
  });

  it("a deleted bin whose directory's removal a stop cut short: removed at start-up, with the warning", async () => {
    const d = await fiveBins();
    const s = await open(d);
    await s.bins.delete(binIds[0]);
    await s.close();
    // As if killed between bins.log's line and the removal: the marked directory is still there.
    await mkdir(path.join(d, 'bins', binIds[0]));
    await writeFile(path.join(d, 'bins', binIds[0], '00000000.body'), 'old');
    await writeFile(path.join(d, 'bins', binIds[0], DELETED_MARK), '');
    // And a removal cut short after the move aside.
    await mkdir(path.join(d, 'bins', '.cleared-0123456789ab'));
    const warnings: string[] = [];
    const r = await open(d, { onWarning: (m) => warnings.push(m) });
    expect((await readdir(path.join(d, 'bins'))).sort()).toEqual(binIds.slice(1).sort());
    expect(warnings).toEqual(['Removed the data of 1 bin(s) that were deleted just before the last stop.']);
    expect((await r.bins.list()).length).toBe(4);
    await r.close();
  });

  it('a mark in a bin bins.log still lists (killed before the deletion was recorded): the bin stays, with its captures; the mark goes', async () => {
    const d = await fiveBins();
    const mark = path.join(d, 'bins', binIds[2], DELETED_MARK);
    await writeFile(mark, '');
    const r = await open(d);
    expect(await r.bins.get(binIds[2])).toBeDefined();
    expect((await r.requests.page(binIds[2], { limit: 10 })).length).toBe(3);
    expect(existsSync(mark)).toBe(false);
    await r.close();
  });

  it("a bin's deletion that bins.log cannot record leaves no mark", async () => {
    const d = await fiveBins();
    const s = await open(d);
    const journal = (s as unknown as { binsJournal: { removeNow: (id: string) => Promise<void> } }).binsJournal;
    journal.removeNow = async () => {
      throw Object.assign(new Error('no space'), { code: 'ENOSPC' });
    };
    await expect(s.bins.delete(binIds[1])).rejects.toThrow(/not deleted/);
    expect(existsSync(path.join(d, 'bins', binIds[1], DELETED_MARK))).toBe(false);
    expect(await s.bins.get(binIds[1])).toBeDefined();
    await s.close();
  });
});

describe('torn or zeroed ends of data files: cut as before, and said (log and health)', () => {
  it('zeroes over the end of a segment log: the captures there are dropped, and each cut file is named (bin id replaced)', async () => {
    const d = await fiveBins({ segmentSize: 50 });
    const log = path.join(d, 'bins', binIds[3], '00000000.log');
    const size = (await stat(log)).size;
    await zeroTail(log, 1000);
    const logged: string[] = [];
    const s = await open(d, { onWarning: (m) => logged.push(m) });
    const kept = (await s.requests.page(binIds[3], { limit: 10 })).length;
    expect(kept).toBeLessThan(3);
    const health = s.health().warnings.join('\n');
    for (const text of [logged.join('\n'), health]) {
      expect(text).toMatch(/Start-up cut \d+ byte\(s\) from the end of DATA_DIR\/bins\/<bin>\/00000000\.log, what followed its last whole line \(ending in zero bytes[^)]*\): any captures or changes there are lost/);
      expect(text).toMatch(/Start-up cut 1500 byte\(s\) from the end of DATA_DIR\/bins\/<bin>\/00000000\.body, body bytes no capture points at/);
      for (const id of binIds) expect(text).not.toContain(id);
    }
    expect(logged.length).toBe(2);
    expect((await stat(log)).size).toBeLessThan(size);
    await s.close();
    // Said once: the next start finds nothing to cut.
    const again: string[] = [];
    await (await open(d, { onWarning: (m) => again.push(m) })).close();
    expect(again).toEqual([]);
  });

  it('a zeroed verifications.log and a torn webhooks.log line: cut, and said in /api/health', async () => {
    const d = await dir();
    const s = await open(d);
    await s.bins.put({ id: binIds[0], name: 'a', createdAt: 'x' });
    await s.verifications.put({ id: binIds[0], scheme: 'standard', secret: 'whsec_abc' } as never);
    await s.webhooks.put({ id: 'wh1', name: 'hook' } as never);
    await s.close();
    await zeroTail(path.join(d, 'verifications.log'), (await stat(path.join(d, 'verifications.log'))).size);
    await writeFile(path.join(d, 'webhooks.log'), '{"put":{"id":"wh2","na', { flag: 'a' });
    const srv = await startServer({ dataDir: d });
    try {
      const h = await json<{ warnings: string[] }>(srv.base, 'GET', '/api/health');
      const text = h.body.warnings.join('\n');
      expect(text).toMatch(/Start-up cut \d+ byte\(s\) from the end of DATA_DIR\/verifications\.log, what followed its last whole line \(ending in zero bytes[^)]*\): any records or changes there are lost/);
      expect(text).toMatch(/Start-up cut 22 byte\(s\) from the end of DATA_DIR\/webhooks\.log, what followed its last whole line \(a write a crash cut short/);
      expect(await srv.store.webhooks.get('wh1')).toBeDefined();
    } finally {
      await srv.stop();
    }
    expect((await readFile(path.join(d, 'webhooks.log'), 'utf8')).endsWith('}\n')).toBe(true);
  });

  it('an emptied webhooks.log (0 bytes): its webhooks are said lost, in the log and health, once; the rest is intact', async () => {
    const d = await dir();
    const s = await open(d);
    await s.bins.put({ id: binIds[0], name: 'a', createdAt: 'x' });
    await s.webhooks.put({ id: 'wh1', name: 'hook' } as never);
    await s.close();
    await truncate(path.join(d, 'webhooks.log'), 0);
    const logged: string[] = [];
    const s1 = await open(d, { onWarning: (m) => logged.push(m) });
    const said = /^Start-up found DATA_DIR\/webhooks\.log empty, which hooklab never leaves a journal \(it writes a first line\): any webhooks it held are lost/;
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatch(said);
    expect(s1.health().warnings.join('\n')).toMatch(/Z Start-up found DATA_DIR\/webhooks\.log empty/);
    expect(await s1.webhooks.get('wh1')).toBeUndefined();
    expect(await s1.bins.get(binIds[0])).toBeDefined();
    await s1.close();
    // Said once: the journal now has its first line, and the next start finds nothing to say.
    const again: string[] = [];
    const s2 = await open(d, { onWarning: (m) => again.push(m) });
    expect(again).toEqual([]);
    expect(s2.health().warnings).toEqual([]);
    await s2.close();
  });

  it('journals of nothing (all deleted) and a fresh DATA_DIR: restarts say nothing', async () => {
    const d = await dir();
    const s = await open(d);
    await s.bins.put({ id: binIds[0], name: 'a', createdAt: 'x' });
    await s.webhooks.put({ id: 'wh1', name: 'hook' } as never);
    await s.webhooks.delete('wh1');
    await s.close();
    for (let i = 0; i < 2; i++) {
      const logged: string[] = [];
      const s2 = await open(d, { onWarning: (m) => logged.push(m) });
      expect(logged).toEqual([]);
      await s2.close();
    }
  });

  it('many files cut: each logged, health lists a few and counts the rest', async () => {
    const d = await fiveBins();
    for (const id of binIds) await writeFile(path.join(d, 'bins', id, '00000000.log'), '{"r":{"id":"x', { flag: 'a' });
    const logged: string[] = [];
    const s = await open(d, { onWarning: (m) => logged.push(m) });
    expect(logged.length).toBe(5);
    const w = s.health().warnings;
    expect(w.length).toBe(4);
    expect(w[3]).toMatch(/Start-up cut the ends of 2 more data file\(s\) \(26 bytes\): each is in the log/);
    await s.close();
  });
});

/** A DATA_DIR with one bin of 4 segments (2 captures of 500 bytes each), stopped cleanly. */
async function fourSegments() {
  const d = await dir();
  const s = await open(d, { segmentSize: 2 });
  const id = binIds[0];
  await s.bins.put({ id, name: 'a', createdAt: 'x' });
  const ids: string[] = [];
  for (let i = 0; i < 8; i++) {
    ids.push(nextId());
    await s.requests.append(fakeRequest(id, ids[i], { body: Buffer.alloc(500, i) }), 100);
    if (i % 2 === 1) await s.flush(); // a segment per write
  }
  await s.close();
  return { d, ids, bin: path.join(d, 'bins', id), seg: (n: number, ext: string) => path.join(d, 'bins', id, `0000000${n}.${ext}`) };
}

const listed = async (s: LowdbStore) => (await s.requests.page(binIds[0], { limit: 100 })).map((r) => r.id).reverse();

describe('body files and their journals', () => {
  it("a body file whose journal was removed while later segments have theirs: refused, naming it and what to do; nothing touched", async () => {
    const { d, seg } = await fourSegments();
    await rm(seg(1, 'log'));
    const before = await tree(d);
    const err = await open(d, { segmentSize: 2 }).catch((e) => e);
    expect(err).toBeInstanceOf(DataFileError);
    expect(err.message).toContain(seg(1, 'body'));
    expect(err.message).toMatch(/no journal \(00000001\.log is missing\) while later segments of this bin have theirs/);
    expect(err.message).toMatch(/Restore 00000001\.log .*or, to drop those captures, move 00000001\.body out of the bin's directory/);
    expect(await tree(d)).toEqual(before);
  });

  it('every journal of a bin removed: refused, the newest body file not removed either', async () => {
    const { d, bin } = await fourSegments();
    for (const f of await readdir(bin)) if (f.endsWith('.log')) await rm(path.join(bin, f));
    const before = await tree(d);
    const err = await open(d, { segmentSize: 2 }).catch((e) => e);
    expect(err).toBeInstanceOf(DataFileError);
    expect(err.message).toMatch(/0000000[012]\.body: it has no journal/);
    expect(await tree(d)).toEqual(before);
  });

  it('an emptied journal (0 bytes) with later ones: refused as lost, not blamed on a crash', async () => {
    const { d, seg } = await fourSegments();
    await truncate(seg(2, 'log'), 0);
    const before = await tree(d);
    const err = await open(d, { segmentSize: 2 }).catch((e) => e);
    expect(err).toBeInstanceOf(DataFileError);
    expect(err.message).toMatch(/00000002\.log beside it holds no whole line while later segments/);
    expect(err.message).toMatch(/move 00000002\.body and 00000002\.log out of the bin's directory/);
    expect(await tree(d)).toEqual(before);
  });

  it("the newest segment's body with no journal yet (a crash before its first line): removed, and said with its bytes (log and health)", async () => {
    const { d, ids, seg } = await fourSegments();
    await writeFile(seg(4, 'body'), Buffer.alloc(1234, 9));
    const logged: string[] = [];
    const s = await open(d, { segmentSize: 2, onWarning: (m) => logged.push(m) });
    expect(await listed(s)).toEqual(ids);
    const said = /Start-up removed DATA_DIR\/bins\/<bin>\/00000004\.body \(1234 bytes\), the bin's newest body file, which had no journal yet/;
    expect(logged.join('\n')).toMatch(said);
    expect(s.health().warnings.join('\n')).toMatch(said);
    expect(existsSync(seg(4, 'body'))).toBe(false);
    await s.close();
  });

  it('a segment whose captures were all evicted goes without leaving a body start-up would refuse, even when the stop comes mid-removal', async () => {
    const { d, ids, seg } = await fourSegments();
    // Its journal renamed aside, its body not yet removed: how a stop mid-removal leaves it.
    const s = await open(d, { segmentSize: 2, maxRequestsPerBin: 4 });
    expect(await listed(s)).toEqual(ids.slice(4));
    await s.close();
    expect(existsSync(seg(0, 'log')) || existsSync(seg(0, 'body'))).toBe(false);
    await writeFile(seg(1, 'body'), 'left by a removal cut short');
    await writeFile(path.join(path.dirname(seg(1, 'body')), '00000001.removing'), '');
    const logged: string[] = [];
    const r = await open(d, { segmentSize: 2, onWarning: (m) => logged.push(m) });
    expect(await listed(r)).toEqual(ids.slice(4));
    expect(logged).toEqual([]);
    expect(existsSync(seg(1, 'body'))).toBe(false);
    await r.close();
  });

  it("a body file cut short (a power cut): the captures whose bytes are all there are kept, the rest dropped, said once", async () => {
    const { d, ids, seg } = await fourSegments();
    await truncate(seg(1, 'body'), 700); // the first of its two 500-byte bodies whole
    const logged: string[] = [];
    const s = await open(d, { segmentSize: 2, onWarning: (m) => logged.push(m) });
    const kept = [...ids.slice(0, 3), ...ids.slice(4)];
    expect(await listed(s)).toEqual(kept);
    expect((await s.requests.body(binIds[0], ids[2]))?.equals(Buffer.alloc(500, 2))).toBe(true);
    const said = /Start-up found DATA_DIR\/bins\/<bin>\/00000001\.body shorter than its journal says \(700 of 1000 bytes[^)]*\): kept the captures whose bodies are whole and dropped 1 whose bodies were past its end/;
    expect(logged.join('\n')).toMatch(said);
    expect(s.health().warnings.join('\n')).toMatch(said);
    expect((await stat(seg(1, 'body'))).size).toBe(500);
    await s.close();
    const again: string[] = [];
    const r = await open(d, { segmentSize: 2, onWarning: (m) => again.push(m) });
    expect(again).toEqual([]);
    expect(await listed(r)).toEqual(kept);
    await r.close();
  });
});

describe('a data file that is a directory', () => {
  for (const [name, where] of [
    ['bins.log', () => 'bins.log'],
    ['deliveries.log', () => 'deliveries.log'],
    ["a bin's segment log", () => path.join('bins', binIds[0], '00000000.log')],
    ["a bin's body file", () => path.join('bins', binIds[0], '00000000.body')],
  ] as const) {
    it(`${name}: refused, naming the file and saying so`, async () => {
      const d = await fiveBins();
      const file = path.join(d, where());
      await rm(file, { force: true });
      await mkdir(file);
      const err = await open(d).catch((e) => e);
      expect(err).toBeInstanceOf(DataFileError);
      expect(err.message).toBe(`Cannot read data file ${file}: is a directory, not a file. hooklab has not changed it. Move it aside (or fix it) and start again; see README "Storage".`);
    });
  }
});

describe("DATA_DIR's lock", () => {
  it('held by another live process: refused, naming DATA_DIR and its pid; the lock stays', async () => {
    const d = await dir();
    // A process that runs (and is not this one): this one's parent.
    const lock = JSON.stringify({ pid: process.ppid, host: os.hostname(), startedAt: '2026-01-01T00:00:00.000Z', token: 'other' });
    await writeFile(path.join(d, LOCK_FILE), lock);
    const err = await open(d).catch((e) => e);
    expect(err).toBeInstanceOf(DataDirLockedError);
    expect(err.message).toContain(`DATA_DIR ${d} is in use by another hooklab (pid ${process.ppid}`);
    expect(await readFile(path.join(d, LOCK_FILE), 'utf8')).toBe(lock);
    expect((await readdir(d)).sort()).toEqual(['bins', LOCK_FILE]);
  });

  it('left by a process that is gone: taken over, said, and removed on a clean stop', async () => {
    const d = await dir();
    const gone = spawn(process.execPath, ['-e', '0']);
    const pid = gone.pid!;
    await new Promise((r) => gone.on('exit', r));
    await writeFile(path.join(d, LOCK_FILE), JSON.stringify({ pid, host: os.hostname(), startedAt: '2026-01-01T00:00:00.000Z', token: 'old' }));
    const logged: string[] = [];
    const s = await open(d, { onWarning: (m) => logged.push(m) });
    expect(logged.join('\n')).toMatch(new RegExp(`Taking over DATA_DIR's lock .*, left by pid ${pid} .*: that process is not running`));
    expect(JSON.parse(await readFile(path.join(d, LOCK_FILE), 'utf8')).pid).toBe(process.pid);
    await s.close();
    expect(existsSync(path.join(d, LOCK_FILE))).toBe(false);
  });

  it('from another host: held while refreshed, stale once not for a while', async () => {
    const d = await dir();
    const file = path.join(d, LOCK_FILE);
    await writeFile(file, JSON.stringify({ pid: 1, host: 'elsewhere.example', startedAt: '2026-01-01T00:00:00.000Z', token: 'x' }));
    const err = await open(d).catch((e) => e);
    expect(err).toBeInstanceOf(DataDirLockedError);
    expect(err.message).toContain('pid 1 on host elsewhere.example');
    const old = new Date(Date.now() - FOREIGN_STALE_MS - 5000);
    await utimes(file, old, old);
    const s = await open(d);
    await s.close();
  });

  it('stores of one process on one DATA_DIR share it; the file goes when the last closes; a refused start lets go', async () => {
    const d = await dir();
    const a = await open(d);
    const b = await open(d);
    await a.close();
    expect(existsSync(path.join(d, LOCK_FILE))).toBe(true);
    await b.close();
    expect(existsSync(path.join(d, LOCK_FILE))).toBe(false);
    await writeFile(path.join(d, 'bins.log'), 'not json\n');
    await expect(open(d)).rejects.toBeInstanceOf(DataFileError);
    expect(existsSync(path.join(d, LOCK_FILE))).toBe(false);
  });
});
