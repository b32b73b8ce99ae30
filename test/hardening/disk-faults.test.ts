// Issue 15: faults are loud. DATA_DIR on a small tmpfs (mounted here, as root: chmod does
// not stop root) that fills up during a burst, or turns read-only; and start-up on a DATA_DIR
// that cannot be written. Real server processes.
import { execFileSync } from 'node:child_process';
import { appendFile, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { RequestPage } from '../../shared/api.ts';
import { send } from '../helpers/http.ts';
import { type ServerProcess, spawnServer, startExpectingFailure } from '../helpers/process.ts';
import { createBin, json } from '../helpers/server.ts';
import { untilNoFilesOpenUnder } from '../helpers/open-files.ts';

const mounts: string[] = [];
const procs: ServerProcess[] = [];

async function tmpfs(sizeMb: number): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'hooklab-tmpfs-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeMb}m`, 'tmpfs', dir]);
  mounts.push(dir);
  return dir;
}
const remount = (dir: string, opts: string) => execFileSync('mount', ['-o', `remount,${opts}`, dir]);

afterAll(async () => {
  for (const p of procs) p.proc.kill('SIGKILL');
  await Promise.all(procs.map((p) => p.exited));
  for (const m of mounts) {
    try {
      execFileSync('umount', [m]);
    } catch {
      // already gone
    }
    await rm(m, { recursive: true, force: true });
  }
});

async function start(env: Record<string, string>) {
  const p = await spawnServer(env);
  procs.push(p);
  return p;
}

async function health(base: string) {
  const r = await fetch(`${base}/api/health`);
  return { status: r.status, retryAfter: r.headers.get('retry-after'), body: (await r.json()) as { ok: boolean; status: string; fault?: { code: string; message: string } } };
}

async function allIds(base: string, binId: string): Promise<Set<string>> {
  const page = (await json<RequestPage>(base, 'GET', `/api/bins/${binId}/requests?limit=500`)).body;
  return new Set(page.requests.map((r) => r.id));
}

async function until(check: () => Promise<boolean>, ms = 10_000) {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

describe('disk faults', () => {
  it('disk full during a burst: 503s with Retry-After, health 503, then recovery with nothing acknowledged lost', async () => {
    const dataDir = await tmpfs(12);
    const env = { DATA_DIR: dataDir, FLUSH_INTERVAL_MS: '50' };
    const p = await start(env);
    const bin = await createBin(p.base);
    const body = Buffer.alloc(256 * 1024, 5);
    const acked: string[] = [];
    const refused: { path: string; status: number; retryAfter: string | undefined; code: string }[] = [];
    // More than fits: 12 MiB of tmpfs, 100 x 256 KiB bodies.
    for (let i = 0; i < 100; i++) {
      const r = await send(`${bin.url.replace(/^http:\/\/[^/]+/, p.base)}/s${i}`, { body });
      if (r.status === 200) acked.push(r.headers['x-hooklab-request-id'] as string);
      else refused.push({ path: `/s${i}`, status: r.status, retryAfter: r.headers['retry-after'] as string | undefined, code: JSON.parse(r.body.toString()).error.code });
    }
    expect(acked.length).toBeGreaterThan(10);
    expect(refused.length).toBeGreaterThan(10);
    for (const r of refused) expect(r).toMatchObject({ status: 503, retryAfter: expect.stringMatching(/^\d+$/), code: 'storage_unavailable' });
    const h = await health(p.base);
    expect(h.status).toBe(503);
    expect(h.retryAfter).toMatch(/^\d+$/);
    expect(h.body).toMatchObject({ ok: false, status: 'storage_fault', fault: { code: 'disk_full' } });
    expect(h.body.fault!.message).toMatch(/disk is full/);
    // Changes through the API are refused too, rather than kept only in memory.
    expect((await json(p.base, 'POST', '/api/bins', {})).status).toBe(503);

    // Space comes back: writes resume by themselves, health is ok, captures are taken again.
    remount(dataDir, 'size=64m');
    expect(await until(async () => (await health(p.base)).status === 200)).toBe(true);
    expect((await send(bin.url.replace(/^http:\/\/[^/]+/, p.base), { body: 'again' })).status).toBe(200);
    // Nothing acknowledged was lost: all of it is on disk (read back by a fresh process).
    p.proc.kill('SIGTERM');
    expect((await p.exited).code).toBe(0);
    const q = await start(env);
    const stored = await allIds(q.base, bin.id);
    expect(acked.filter((id) => !stored.has(id))).toEqual([]);
    // Whatever was kept of what was refused says so (see the next test).
    const rows = (await json<RequestPage>(q.base, 'GET', `/api/bins/${bin.id}/requests?limit=500`)).body.requests;
    const refusedPaths = new Set(refused.map((r) => r.path));
    for (const r of rows) expect(r.answer.status).toBe(refusedPaths.has(r.path) ? 503 : 200);
    q.proc.kill('SIGTERM');
    await q.exited;
  });

  it('a capture whose write fails after it was kept (the sender got 503) is recorded as answered 503 by hooklab, not as the 200 it was planned with', async () => {
    const dataDir = await tmpfs(4);
    // Every capture answered once written: the one the disk refuses is kept in memory, refused.
    const env = { DATA_DIR: dataDir, FLUSH_INTERVAL_MS: '50', MAX_UNWRITTEN_BYTES: '0' };
    const p = await start(env);
    const bin = await createBin(p.base);
    const body = Buffer.alloc(256 * 1024, 7);
    const refused: string[] = [];
    for (let i = 0; i < 30 && refused.length < 3; i++) {
      const r = await send(`${p.base}/h/${bin.id}/s${i}`, { body });
      if (r.status !== 200) refused.push(`/s${i}`);
    }
    expect(refused.length).toBeGreaterThan(0);
    remount(dataDir, 'size=64m');
    expect(await until(async () => (await health(p.base)).status === 200)).toBe(true);
    p.proc.kill('SIGTERM');
    expect((await p.exited).code).toBe(0);
    const q = await start(env);
    const rows = (await json<RequestPage>(q.base, 'GET', `/api/bins/${bin.id}/requests?limit=500`)).body.requests;
    const kept = rows.filter((r) => refused.includes(r.path));
    expect(kept.length).toBeGreaterThan(0);
    for (const r of rows) {
      if (refused.includes(r.path)) expect({ path: r.path, answer: r.answer }).toMatchObject({ answer: { status: 503, source: 'store' } });
      else expect(r.answer.status).toBe(200);
    }
    q.proc.kill('SIGTERM');
    await q.exited;
  });

  it('DATA_DIR turns read-only: health says so, captures are refused, and a stop that cannot save exits non-zero saying what was lost', async () => {
    const dataDir = await tmpfs(16);
    const p = await start({ DATA_DIR: dataDir, FLUSH_INTERVAL_MS: '50' });
    const bin = await createBin(p.base);
    const url = bin.url.replace(/^http:\/\/[^/]+/, p.base);
    expect((await send(url, { body: 'before' })).status).toBe(200);
    // Written, and its files closed (a remount read-only fails while one is open for writing).
    await untilNoFilesOpenUnder(p.proc.pid!, dataDir, 'before');
    remount(dataDir, 'ro');
    // The first capture after may still be taken (it is in memory, and retried), then the
    // fault is known and captures are refused.
    await send(url, { body: 'in memory' });
    expect(await until(async () => (await health(p.base)).status === 503)).toBe(true);
    expect((await health(p.base)).body.fault).toMatchObject({ code: 'read_only' });
    const r = await send(url, { body: 'refused' });
    expect(r.status).toBe(503);
    expect(r.headers['retry-after']).toMatch(/^\d+$/);
    p.proc.kill('SIGTERM');
    const { code } = await p.exited;
    expect(code).toBe(1);
    expect(p.output()).toMatch(/Not saved, the file system is read-only \(EROFS\): 1 capture\(s\) \(9 body bytes\) in 1 bin/);
    expect(p.output()).not.toMatch(/stopped; everything is saved/);
  });

  it('start-up on a DATA_DIR it cannot write fails at once with a clear message', async () => {
    const dataDir = await tmpfs(4);
    remount(dataDir, 'ro');
    const { code, output } = await startExpectingFailure({ DATA_DIR: dataDir });
    expect(code).toBe(1);
    expect(output).toContain(`DATA_DIR ${dataDir} is not writable: the file system is read-only (EROFS). Point DATA_DIR at a writable directory`);
  });

  it('start-up on a full disk says to free space', async () => {
    const dataDir = await tmpfs(1);
    await appendFile(path.join(dataDir, 'filler'), Buffer.alloc(1024 * 1024, 1)).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'ENOSPC') throw e;
    });
    const { code, output } = await startExpectingFailure({ DATA_DIR: dataDir });
    expect(code).toBe(1);
    expect(output).toContain(`DATA_DIR ${dataDir} is not writable: the disk is full (ENOSPC). Free space on its disk (or raise its quota) and start again.`);
  });
});
