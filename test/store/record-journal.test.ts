// The journal of records (deliveries, bins, responses): what a write cut short leaves behind.
import { appendFile, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RecordJournal } from '../../server/store/disk/record-journal.ts';

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
    expect((await readFile(file, 'utf8')).split('\n')).toEqual([JSON.stringify({ put: a }), JSON.stringify({ del: 'a' }), '']);
  });
});
