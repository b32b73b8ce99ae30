// An import stopped by a store fault (the disk full) says how far it got, so the rest can be
// sent again without duplicating what went in. Before: a bare 503 "Kept in memory, not yet on
// disk: … the disk is full", no count; the bin held 10 of the 20, and sending all 20 again, as
// the answer invited, made 30. DATA_DIR on a small tmpfs, a real server process.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RequestPage } from '../../shared/api.ts';
import { spawnedServers } from '../helpers/spawned.ts';
import { createBin, json } from '../helpers/server.ts';
import { mountTmpfs, type Tmpfs } from './tmpfs.ts';

const { start } = spawnedServers();
let fs: Tmpfs;
beforeAll(async () => {
  fs = await mountTmpfs(6 * 1024);
});
afterAll(() => fs.dispose());

const line = (i: number) =>
  JSON.stringify({
    id: `r${i}`,
    method: 'POST',
    path: `/n${i}`,
    queryString: '',
    headers: [['Content-Type', 'application/octet-stream']],
    ip: '127.0.0.1',
    receivedAt: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(),
    size: 512 * 1024,
    truncated: false,
    contentType: 'application/octet-stream',
    answer: { status: 200, delayMs: 0, fault: null, source: 'default', index: null, roll: null },
    body: Buffer.alloc(512 * 1024, i).toString('base64'),
  });

describe('an import stopped by a full disk', () => {
  it('answers 503 with Retry-After saying how many went in and through which line; the bin holds exactly those', async () => {
    const p = await start({ DATA_DIR: fs.dir, MAX_BODY_BYTES: String(1024 * 1024), MAX_UNWRITTEN_BYTES: String(1024 * 1024) });
    const bin = await createBin(p.base);
    const ndjson = Array.from({ length: 20 }, (_, i) => line(i)).join('\n') + '\n';
    const r = await fetch(`${p.base}/api/bins/${bin.id}/import`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body: ndjson });
    expect(r.status).toBe(503);
    expect(r.headers.get('retry-after')).toMatch(/^\d+$/);
    const err = ((await r.json()) as { error: { code: string; message: string } }).error;
    expect(err.code).toBe('storage_unavailable');
    const m = /the import stopped: (\d+) capture\(s\) were imported, through line (\d+); once this is resolved, import the rest from there, not all again/.exec(err.message);
    expect(m, err.message).not.toBeNull();
    const [n, through] = [Number(m![1]), Number(m![2])];
    expect(n).toBeGreaterThan(0);
    expect(n).toBeLessThan(20);
    expect(through).toBe(n); // one capture per line, no blank lines
    const held = (await json<RequestPage>(p.base, 'GET', `/api/bins/${bin.id}/requests?limit=500`)).body.requests;
    expect(held.map((x) => x.path).sort()).toEqual(Array.from({ length: n }, (_, i) => `/n${i}`).sort());
  });
});
