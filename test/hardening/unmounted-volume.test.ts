// DATA_DIR's volume unmounted while hooklab runs: its mount point stays, an empty directory of
// the disk below. hooklab must write nothing there (it recreated bins/ and the journals, and a
// restart then showed every bin empty), report a missing_directory fault, refuse captures and
// changes with 503 + Retry-After, and resume with nothing lost once the volume is back.
// Real server processes; the volume is a tmpfs bind-mounted at DATA_DIR (root only), so that
// it can be unmounted and mounted again with its files.
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { RequestPage } from '../../shared/api.ts';
import { send } from '../helpers/http.ts';
import { type ServerProcess, spawnServer } from '../helpers/process.ts';
import { createBin, json } from '../helpers/server.ts';
import { untilNoFilesOpenUnder } from '../helpers/open-files.ts';
import { until } from '../helpers/until.ts';
import { mountTmpfs, type Tmpfs } from './tmpfs.ts';

const procs: ServerProcess[] = [];
const cleanups: (() => Promise<void>)[] = [];

afterAll(async () => {
  for (const p of procs) p.proc.kill('SIGKILL');
  await Promise.all(procs.map((p) => p.exited));
  for (const c of cleanups.reverse()) await c();
});

/** A volume (tmpfs) whose directory `vol` is bind-mounted at `dataDir`. */
async function volume(): Promise<{ dataDir: string; unmount(): void; mount(): void }> {
  const t: Tmpfs = await mountTmpfs(16 * 1024);
  const vol = path.join(t.dir, 'vol');
  await mkdir(vol, { mode: 0o700 });
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'hooklab-mountpoint-'));
  const mount = () => void execFileSync('mount', ['--bind', vol, dataDir]);
  const unmount = () => void execFileSync('umount', ['-l', dataDir]);
  mount();
  cleanups.push(async () => {
    try {
      unmount();
    } catch {
      // not mounted
    }
    await rm(dataDir, { recursive: true, force: true });
    await t.dispose();
  });
  return { dataDir, unmount, mount };
}

async function start(env: Record<string, string>) {
  const p = await spawnServer(env);
  procs.push(p);
  return p;
}

async function health(base: string) {
  const r = await fetch(`${base}/api/health`);
  return { status: r.status, body: (await r.json()) as { status: string; fault?: { code: string; message: string } | null; warnings?: string[] } };
}

describe('DATA_DIR on a volume that is unmounted while hooklab runs', () => {
  it('is a missing_directory fault: nothing is written onto the mount point, captures and changes get 503, and all comes back with the volume', async () => {
    const v = await volume();
    const env = { DATA_DIR: v.dataDir, FLUSH_INTERVAL_MS: '50' };
    const p = await start(env);
    const bin = await createBin(p.base);
    const url = `${p.base}/h/${bin.id}`;
    for (let i = 0; i < 5; i++) expect((await send(`${url}/before${i}`, { body: `before ${i}` })).status).toBe(200);
    await untilNoFilesOpenUnder(p.proc.pid!, v.dataDir, 'before 4');

    v.unmount();
    expect(await readdir(v.dataDir)).toEqual([]); // the mount point, on the disk below

    // A capture may still be taken (kept in memory, written once the volume is back); its
    // write finds DATA_DIR is not the directory hooklab started on.
    const first = await send(`${url}/after`, { body: 'after' });
    const acked = first.status === 200 ? 1 : 0;
    await until(async () => (await health(p.base)).status === 503, 'health to say 503', 10_000, 50);
    const h = await health(p.base);
    expect(h.body.status).toBe('storage_fault');
    expect(h.body.fault).toMatchObject({ code: 'missing_directory' });
    expect(h.body.fault!.message).toMatch(/not the directory hooklab started on \(another file system is there: its volume unmounted\?\).*Mount the volume again: writes resume by themselves/);
    expect(JSON.stringify(h.body.warnings ?? [])).not.toMatch(/were lost/);
    const refused = await send(`${url}/refused`, { body: 'refused' });
    expect(refused.status).toBe(503);
    expect(refused.headers['retry-after']).toMatch(/^\d+$/);
    const made = await json(p.base, 'POST', '/api/bins', {});
    expect(made.status).toBe(503);
    // Retried every second: still nothing written onto the disk below.
    await new Promise((r) => setTimeout(r, 1500));
    expect(await readdir(v.dataDir)).toEqual([]);

    // The volume comes back: writes resume by themselves, nothing acknowledged was lost.
    v.mount();
    await until(async () => (await health(p.base)).status === 200, 'health to say 200 again', 10_000, 50);
    expect((await send(`${url}/back`, { body: 'back' })).status).toBe(200);
    p.proc.kill('SIGTERM');
    expect((await p.exited).code).toBe(0);

    const q = await start(env);
    const page = (await json<RequestPage>(q.base, 'GET', `/api/bins/${bin.id}/requests?limit=50`)).body;
    expect(page.requests.length).toBe(5 + acked + 1);
    expect((await health(q.base)).body.status).toBe('ok');
    q.proc.kill('SIGTERM');
    await q.exited;
  });

  it('an idle server says so at the first health check (no write needed), and recovers when the volume is back', async () => {
    const v = await volume();
    const env = { DATA_DIR: v.dataDir, FLUSH_INTERVAL_MS: '50' };
    const p = await start(env);
    const bin = await createBin(p.base);
    const url = `${p.base}/h/${bin.id}`;
    expect((await send(`${url}/before`, { body: 'before' })).status).toBe(200);
    await untilNoFilesOpenUnder(p.proc.pid!, v.dataDir, 'before');

    // Nothing is sent or changed: only health is asked. (It was 200 "ok" until the next capture.)
    v.unmount();
    const h = await health(p.base);
    expect(h.status).toBe(503);
    expect(h.body.status).toBe('storage_fault');
    expect(h.body.fault).toMatchObject({ code: 'missing_directory' });
    expect(h.body.fault!.message).toMatch(/another file system is there: its volume unmounted\?\).*Mount the volume again/);
    // Receivers know it too: refused, not taken into memory.
    expect((await send(`${url}/refused`, { body: 'refused' })).status).toBe(503);
    await new Promise((r) => setTimeout(r, 1500));
    expect(await readdir(v.dataDir)).toEqual([]);

    v.mount();
    await until(async () => (await health(p.base)).status === 200, 'health to say 200 again', 10_000, 50);
    expect((await send(`${url}/back`, { body: 'back' })).status).toBe(200);
    p.proc.kill('SIGTERM');
    expect((await p.exited).code).toBe(0);
    const q = await start(env);
    const page = (await json<RequestPage>(q.base, 'GET', `/api/bins/${bin.id}/requests?limit=50`)).body;
    expect(page.requests.map((r) => r.path)).toEqual(['/back', '/before']);
    q.proc.kill('SIGTERM');
    await q.exited;
  });
});
