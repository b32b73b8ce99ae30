// DATA_DIR removed (or moved away) while hooklab runs, then made again empty. The new directory
// is not the data hooklab had (its journals are gone), so it stays a missing_directory fault:
// /api/health must say so when asked (an idle server too) and what to do (put the original
// back, or restart to start afresh), and each remedy must work. Real server processes, real files.
import { mkdir, readdir, rename, rm, rmdir } from 'node:fs/promises';
import { afterAll, describe, expect, it } from 'vitest';
import type { RequestPage } from '../../shared/api.ts';
import { send } from '../helpers/http.ts';
import { untilNoFilesOpenUnder } from '../helpers/open-files.ts';
import { createBin, json } from '../helpers/server.ts';
import { spawnedServers } from '../helpers/spawned.ts';

const servers = spawnedServers();
const { start } = servers;
const asides: string[] = [];
afterAll(async () => {
  for (const a of asides) await rm(a, { recursive: true, force: true });
});

type Health = { status: string; fault?: { code: string; message: string; since: string } | null };
async function health(base: string) {
  const r = await fetch(`${base}/api/health`);
  return { status: r.status, body: (await r.json()) as Health };
}
/** Health after its cached check of DATA_DIR (at most 1 s old) has surely been made again. */
async function healthAfterProbe(base: string) {
  await new Promise((r) => setTimeout(r, 1100));
  return health(base);
}

/** A server on a fresh DATA_DIR with one bin holding one capture, written and idle. */
async function idleServer() {
  const d = await servers.dataDir('hooklab-replaced-');
  const p = await start({ DATA_DIR: d, FLUSH_INTERVAL_MS: '50' });
  const bin = await createBin(p.base);
  const url = `${p.base}/h/${bin.id}`;
  expect((await send(`${url}/before`, { body: 'before' })).status).toBe(200);
  await untilNoFilesOpenUnder(p.proc.pid!, d, 'before');
  return { d, p, bin, url };
}

describe('DATA_DIR removed and made again while hooklab runs', () => {
  it('stays a fault that says what to do; a restart starts afresh on the new directory', async () => {
    const { d, p, bin, url } = await idleServer();

    await rm(d, { recursive: true });
    const gone = await health(p.base);
    expect(gone.status).toBe(503);
    expect(gone.body.fault).toMatchObject({ code: 'missing_directory' });
    expect(gone.body.fault!.message).toMatch(/DATA_DIR is gone .*Mount the volume again or move the directory back: writes resume by themselves\. A directory made anew there is not taken for it: restart hooklab/);

    // Made again, empty: still not the directory hooklab had, and health now says that.
    await mkdir(d, { mode: 0o700 });
    const made = await healthAfterProbe(p.base);
    expect(made.status).toBe(503);
    expect(made.body.fault).toMatchObject({ code: 'missing_directory', since: gone.body.fault!.since });
    expect(made.body.fault!.message).toMatch(
      /not the directory hooklab started on \(it was removed or moved away, and made again\).*Move the original directory back: writes resume by themselves\. Or restart hooklab to start afresh on the directory there now \(restore a backup into it first, if you have one\)/,
    );
    expect((await send(`${url}/refused`, { body: 'refused' })).status).toBe(503);
    await new Promise((r) => setTimeout(r, 1500));
    expect(await readdir(d)).toEqual([]); // nothing written into it

    // The remedy it names: a restart starts on the directory there now, with nothing in it.
    p.proc.kill('SIGTERM');
    await p.exited;
    const q = await start({ DATA_DIR: d });
    expect((await health(q.base)).status).toBe(200);
    expect((await json(q.base, 'GET', `/api/bins/${bin.id}`)).status).toBe(404);
  });

  it('moved away and back: the same directory, so writes resume by themselves', async () => {
    const { d, p, bin, url } = await idleServer();
    const aside = `${d}.aside`;
    asides.push(aside);
    await rename(d, aside);
    await mkdir(d, { mode: 0o700 });
    const h = await health(p.base);
    expect(h.status).toBe(503);
    expect(h.body.fault!.message).toMatch(/removed or moved away, and made again/);

    await rmdir(d);
    await rename(aside, d);
    await expect.poll(async () => (await health(p.base)).status, { timeout: 10_000, interval: 100 }).toBe(200);
    expect((await send(`${url}/after`, { body: 'after' })).status).toBe(200);
    const page = (await json<RequestPage>(p.base, 'GET', `/api/bins/${bin.id}/requests?limit=10`)).body;
    expect(page.requests.map((r) => r.path)).toEqual(['/after', '/before']);
  });
});
