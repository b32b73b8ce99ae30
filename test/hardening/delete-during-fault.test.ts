// Deleting during a storage fault (DATA_DIR on a small tmpfs, mounted here: root only). On a
// full disk, deleting is how space comes back: the API lets a bin, its captures or one capture
// be deleted. Each deletion is recorded before it takes effect: 204 means it is on disk (a
// fresh process does not see it), 503 means it could not be recorded and nothing changed.
// Nothing acknowledged in another bin is lost. Real server processes.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RequestPage } from '../../shared/api.ts';
import { send } from '../helpers/http.ts';
import { type ServerProcess, spawnServer } from '../helpers/process.ts';
import { createBin, json } from '../helpers/server.ts';
import { mountTmpfs } from './tmpfs.ts';
import { untilNoFilesOpenUnder } from '../helpers/open-files.ts';

async function health(base: string) {
  const r = await fetch(`${base}/api/health`);
  return { status: r.status, body: (await r.json()) as { ok: boolean; fault?: { code: string } } };
}

async function until(check: () => Promise<boolean>, ms = 15_000) {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

async function ids(base: string, binId: string): Promise<string[]> {
  const r = await json<RequestPage>(base, 'GET', `/api/bins/${binId}/requests?limit=500`);
  return r.status === 200 ? r.body.requests.map((x) => x.id) : [];
}

async function del(base: string, p: string) {
  const r = await fetch(`${base}${p}`, { method: 'DELETE' });
  const text = await r.text();
  return { status: r.status, retryAfter: r.headers.get('retry-after'), message: text ? (JSON.parse(text) as { error: { message: string } }).error.message : '' };
}

const requestId = (r: { headers: Record<string, unknown> }) => r.headers['x-hooklab-request-id'] as string;

async function stop(p: ServerProcess) {
  p.proc.kill('SIGTERM');
  return (await p.exited).code;
}

describe('deleting during a storage fault', () => {
  it('disk full: clearing a bin frees the space; deleting a bin or a capture is let through and honest; nothing acknowledged elsewhere is lost', async () => {
    const fs = await mountTmpfs(3 * 1024);
    const procs: ServerProcess[] = [];
    try {
      const env = { DATA_DIR: path.join(fs.dir, 'data'), FLUSH_INTERVAL_MS: '50' };
      const p = await spawnServer(env);
      procs.push(p);
      const filler = await createBin(p.base, 'filler');
      const doomed = await createBin(p.base, 'doomed');
      const keep = await createBin(p.base, 'keep');
      const to = (b: { url: string }) => b.url.replace(/^http:\/\/[^/]+/, p.base);
      const doomedCapture = requestId(await send(to(doomed), { body: 'doomed' }));
      const keepAcked: string[] = [];
      let refused = 0;
      // More than fits (3 MiB): 128 KiB bodies, with small captures into `keep` in between
      // (some of them acknowledged but not yet written when the disk fills).
      for (let i = 0; i < 200 && refused < 5; i++) {
        if ((await send(to(filler), { body: Buffer.alloc(128 * 1024, i) })).status !== 200) refused++;
        if (i % 3 === 0) {
          const k = await send(to(keep), { body: `keep ${i}` });
          if (k.status === 200) keepAcked.push(requestId(k));
        }
      }
      expect(refused).toBe(5);
      expect(await until(async () => (await health(p.base)).body.fault?.code === 'disk_full')).toBe(true);
      // Other changes are still refused up front.
      expect((await json(p.base, 'POST', '/api/bins', {})).status).toBe(503);

      // Let through: each is recorded (204) or answers that nothing changed (503).
      const one = await del(p.base, `/api/bins/${doomed.id}/requests/${doomedCapture}`);
      if (one.status !== 204) expect(one).toMatchObject({ status: 503, retryAfter: expect.stringMatching(/^\d+$/), message: expect.stringMatching(/^The request was not deleted: .*disk is full.*Nothing changed/) });
      const bin = await del(p.base, `/api/bins/${doomed.id}`);
      if (bin.status !== 204) expect(bin).toMatchObject({ status: 503, retryAfter: expect.stringMatching(/^\d+$/), message: expect.stringMatching(/^The bin was not deleted: .*Nothing changed/) });
      // Clearing needs no free space (its directory is moved aside, then removed).
      expect(await del(p.base, `/api/bins/${filler.id}/requests`)).toMatchObject({ status: 204 });
      expect(await ids(p.base, filler.id)).toEqual([]);
      // The space is back: what was acknowledged gets written, captures are taken again.
      expect(await until(async () => (await health(p.base)).status === 200)).toBe(true);
      const after = await send(to(keep), { body: 'after' });
      expect(after.status).toBe(200);
      keepAcked.push(requestId(after));

      // What each answer said is what a fresh process finds.
      const doomedThere = bin.status !== 204;
      const captureThere = doomedThere && one.status !== 204;
      expect((await json(p.base, 'GET', `/api/bins/${doomed.id}`)).status).toBe(doomedThere ? 200 : 404);
      expect(await stop(p)).toBe(0);
      const q = await spawnServer(env);
      procs.push(q);
      expect((await json(q.base, 'GET', `/api/bins/${doomed.id}`)).status).toBe(doomedThere ? 200 : 404);
      if (doomedThere) expect(await ids(q.base, doomed.id)).toEqual(captureThere ? [doomedCapture] : []);
      expect(await ids(q.base, filler.id)).toEqual([]);
      const stored = new Set(await ids(q.base, keep.id));
      expect(keepAcked.filter((id) => !stored.has(id))).toEqual([]);
      expect(keepAcked.length).toBeGreaterThan(3);
      expect(await stop(q)).toBe(0);
    } finally {
      for (const x of procs) x.proc.kill('SIGKILL');
      await Promise.all(procs.map((x) => x.exited));
      await fs.dispose();
    }
  });

  it('read-only: a deletion that cannot be recorded answers 503 saying nothing changed, and nothing did', async () => {
    const fs = await mountTmpfs(4 * 1024);
    const procs: ServerProcess[] = [];
    try {
      const env = { DATA_DIR: path.join(fs.dir, 'data'), FLUSH_INTERVAL_MS: '50' };
      const p = await spawnServer(env);
      procs.push(p);
      const b = await createBin(p.base);
      const url = b.url.replace(/^http:\/\/[^/]+/, p.base);
      const first = [requestId(await send(url, { body: 'one' })), requestId(await send(url, { body: 'two' }))];
      expect(await until(async () => (await json(p.base, 'GET', `/api/bins/${b.id}/requests/${first[1]}`)).status === 200)).toBe(true);
      // Written: the segment's journal names both (until then they live in memory).
      const log = path.join(env.DATA_DIR, 'bins', b.id, '00000000.log');
      expect(await until(async () => (await readFile(log, 'utf8').catch(() => '')).includes(first[1]))).toBe(true);
      // And its files closed: a remount read-only fails ("busy") while one is open for writing.
      await untilNoFilesOpenUnder(p.proc.pid!, env.DATA_DIR);
      fs.remount('ro');
      // A capture taken before the fault is known (kept in memory) makes it known.
      const pending = await send(url, { body: 'three' });
      expect(await until(async () => (await health(p.base)).body.fault?.code === 'read_only')).toBe(true);

      const answers = [
        [await del(p.base, `/api/bins/${b.id}/requests/${first[0]}`), /^The request was not deleted: .*read-only.*Nothing changed/],
        [await del(p.base, `/api/bins/${b.id}/requests`), /^The requests were not deleted: .*read-only.*Nothing changed/],
        [await del(p.base, `/api/bins/${b.id}`), /^The bin was not deleted: .*read-only.*Nothing changed/],
      ] as const;
      for (const [a, message] of answers) expect(a).toMatchObject({ status: 503, retryAfter: expect.stringMatching(/^\d+$/), message: expect.stringMatching(message) });
      const all = pending.status === 200 ? [...first, requestId(pending)] : first;
      expect((await ids(p.base, b.id)).sort()).toEqual([...all].sort());
      expect((await json(p.base, 'GET', `/api/bins/${b.id}/requests/${first[0]}`)).status).toBe(200);

      fs.remount('rw');
      expect(await until(async () => (await health(p.base)).status === 200)).toBe(true);
      expect(await stop(p)).toBe(0);
      const q = await spawnServer(env);
      procs.push(q);
      expect((await ids(q.base, b.id)).sort()).toEqual([...all].sort());
      expect(await stop(q)).toBe(0);
    } finally {
      for (const x of procs) x.proc.kill('SIGKILL');
      await Promise.all(procs.map((x) => x.exited));
      await fs.dispose();
    }
  });
});
