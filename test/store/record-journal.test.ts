// The journal of records (deliveries, bins, responses): what a write cut short leaves behind.
import { appendFile, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RecordJournal } from '../../server/store/disk/record-journal.ts';

/** What every journal begins with. */
const FIRST = JSON.stringify({ journal: 'hooklab', v: 1 });

let dir = '';
afterEach(() => rm(dir, { recursive: true, force: true }));

describe('a journal after a write cut short (a full disk)', () => {
  it('cuts the torn tail and appends after it: no rewrite, which needs the space a full disk lacks', async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'hooklab-journal-'));
    const file = path.join(dir, 'bins.log');
    const records = new Map<string, { id: string; name: string }>();
    const j = new RecordJournal<{ id: string; name: string }>({ file, current: () => records.values(), onDirty: () => {} });
    const a = { id: 'a', name: 'first' };
    records.set('a', a);
    j.put(undefined, a);
    await j.flush();
    const before = await stat(file);
    // Half a line, as a write the disk had no room for leaves it.
    await appendFile(file, '{"put":{"id":"b","na');
    records.delete('a');
    await j.removeNow('a');
    const after = await stat(file);
    // Same file (a rewrite is a new file renamed over it), and exactly the two whole lines.
    expect(after.ino).toBe(before.ino);
    expect((await readFile(file, 'utf8')).split('\n')).toEqual([FIRST, JSON.stringify({ put: a }), JSON.stringify({ del: 'a' }), '']);
  });
});

describe("a journal's first line: an empty file is never one hooklab wrote", () => {
  type Rec = { id: string; name: string };
  const journalOf = (file: string, records: Map<string, Rec>) => new RecordJournal<Rec>({ file, current: () => records.values(), onDirty: () => {} });

  it('a journal of nothing is its first line, whether compacted or written: loaded, it is not found empty', async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'hooklab-journal-'));
    const file = path.join(dir, 'webhooks.log');
    const records = new Map<string, Rec>();
    const j = journalOf(file, records);
    const a = { id: 'a', name: 'only' };
    records.set('a', a);
    j.put(undefined, a);
    await j.flush();
    records.delete('a');
    await j.removeNow('a');
    await j.compact();
    expect(await readFile(file, 'utf8')).toBe(`${FIRST}\n`);
    const again = journalOf(file, new Map());
    expect(await again.load()).toEqual([]);
    expect(await again.takeFoundEmpty()).toBe(false);
  });

  it('an empty file is found empty, once: it is then given its first line', async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'hooklab-journal-'));
    const file = path.join(dir, 'webhooks.log');
    await writeFile(file, '');
    const j = journalOf(file, new Map());
    expect(await j.load()).toEqual([]);
    expect(await j.takeFoundEmpty()).toBe(true);
    expect(await j.takeFoundEmpty()).toBe(false);
    expect(await readFile(file, 'utf8')).toBe(`${FIRST}\n`);
    const next = journalOf(file, new Map());
    await next.load();
    expect(await next.takeFoundEmpty()).toBe(false);
  });

  it("an earlier build's journal (no first line) still loads; its next write does not add one in the middle", async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'hooklab-journal-'));
    const file = path.join(dir, 'webhooks.log');
    const a = { id: 'a', name: 'old' };
    await writeFile(file, `${JSON.stringify({ put: a })}\n`);
    const records = new Map<string, Rec>();
    const j = journalOf(file, records);
    expect(await j.load()).toEqual([a]);
    expect(await j.takeFoundEmpty()).toBe(false);
    const b = { id: 'b', name: 'new' };
    records.set('a', a).set('b', b);
    j.put(undefined, b);
    await j.flush();
    expect(await readFile(file, 'utf8')).toBe(`${JSON.stringify({ put: a })}\n${JSON.stringify({ put: b })}\n`);
    expect(await journalOf(file, new Map()).load()).toEqual([a, b]);
  });
});

describe('a journal of records only ever updated', () => {
  type Rec = { id: string; consumed: number; note: string };
  it('compacts: a record changed 60,000 times (a plan moving on with every request) does not keep every change', async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'hooklab-journal-'));
    const file = path.join(dir, 'responses.log');
    const records = new Map<string, Rec>();
    const j = new RecordJournal<Rec>({ file, current: () => records.values(), onDirty: () => {} });
    let cur: Rec = { id: 'bin', consumed: 0, note: 'x'.repeat(200) };
    records.set('bin', cur);
    j.put(undefined, cur);
    await j.flush();
    let largest = 0;
    for (let i = 1; i <= 60_000; i++) {
      const next = { ...cur, consumed: i };
      records.set('bin', next);
      j.put(cur, next);
      cur = next;
      if (i % 100 === 0) {
        await j.flush();
        largest = Math.max(largest, (await stat(file)).size);
      }
    }
    // ~40 bytes a change: 2.4 MB kept whole. Compacted at twice the record plus 1 MiB of slack.
    expect(largest).toBeLessThan(1024 * 1024 + 4096);
    // A put of the same record again replaces it, as an update does.
    for (let i = 0; i < 10_000; i++) j.put(undefined, cur);
    await j.flush();
    expect((await stat(file)).size).toBeLessThan(1024 * 1024 + 4096);
    // What is loaded is the last state.
    const again = new RecordJournal<Rec>({ file, current: () => records.values(), onDirty: () => {} });
    expect(await again.load()).toEqual([cur]);
  });
});
