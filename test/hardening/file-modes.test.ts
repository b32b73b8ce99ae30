// Everything hooklab writes under DATA_DIR is its user's only: files 0600, directories 0700
// (captures hold other people's headers and bodies, journals hold secrets, and the names of
// bins/' directories are bin ids, each a receiver URL's secret). Checked after captures, a
// segment log rewritten whole (deletions past twice what it holds), the clock's file and a
// restart; and a DATA_DIR left loose by an earlier build is tightened at start-up. Real
// server processes, real files.
import { chmod, readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { spawnedServers } from '../helpers/spawned.ts';
import { send } from '../helpers/http.ts';
import type { ServerProcess } from '../helpers/process.ts';
import { createBin, json } from '../helpers/server.ts';

const { start, dataDir } = spawnedServers();

/** Every file and directory under `root` (itself included) whose mode is not the expected one. */
async function loose(root: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (p: string) => {
    const st = await stat(p);
    const mode = st.mode & 0o777;
    if (st.isDirectory()) {
      if (mode !== 0o700) out.push(`${mode.toString(8)} ${path.relative(root, p) || '.'}/`);
      for (const name of await readdir(p)) await walk(path.join(p, name));
    } else if (mode !== 0o600) out.push(`${mode.toString(8)} ${path.relative(root, p)}`);
  };
  await walk(root);
  return out;
}


async function stop(p: ServerProcess) {
  p.proc.kill('SIGTERM');
  expect((await p.exited).code).toBe(0);
}

describe('file modes under DATA_DIR', () => {
  it('files 0600 and directories 0700: after captures, a rewritten segment log, the clock and a restart; loose ones of an earlier build are tightened', async () => {
    const parent = await dataDir('hooklab-modes-');
    const d = path.join(parent, 'data'); // made by hooklab
    const env = { DATA_DIR: d, FLUSH_INTERVAL_MS: '50' };
    const p = await start(env);
    const bin = await createBin(p.base);
    const url = bin.url.replace(/^http:\/\/[^/]+/, p.base);
    const ids: string[] = [];
    for (let i = 0; i < 30; i++) ids.push((await send(url, { body: `body ${i}` })).headers['x-hooklab-request-id'] as string);
    // The clock's own file (clock.json).
    expect((await json(p.base, 'PUT', '/api/clock', { paused: true })).status).toBe(200);
    // Deleted one by one, the segment's log grows past twice what it holds (+16 lines): it
    // is rewritten whole (a temp file, then a rename).
    for (const id of ids.slice(0, 25)) expect((await json(p.base, 'DELETE', `/api/bins/${bin.id}/requests/${id}`)).status).toBe(204);
    const log = path.join(d, 'bins', bin.id, '00000000.log');
    await expect.poll(async () => (await readFile(log, 'utf8')).split('\n').filter((l) => l.startsWith('{"d":')).length).toBeLessThan(25);
    await stop(p);
    expect(await readdir(d)).toContain('clock.json');
    expect(await loose(d)).toEqual([]);

    const q = await start(env);
    expect((await send(url.replace(/^http:\/\/[^/]+/, q.base), { body: 'after restart' })).status).toBe(200);
    await stop(q);
    expect(await loose(d)).toEqual([]);

    // As an earlier build left them (its bins/ and bin directories 0755, files rewritten whole 0644).
    await chmod(path.join(d, 'bins'), 0o755);
    await chmod(path.join(d, 'bins', bin.id), 0o755);
    await chmod(log, 0o644);
    await chmod(path.join(d, 'clock.json'), 0o644);
    const r = await start(env);
    expect(await loose(path.join(d, 'bins'))).toEqual([]);
    expect((await stat(path.join(d, 'clock.json'))).mode & 0o777).toBe(0o600);
    expect((await json<{ requests: unknown[] }>(r.base, 'GET', `/api/bins/${bin.id}/requests`)).body.requests).toHaveLength(6);
    await stop(r);
    expect(await loose(d)).toEqual([]);
  });
});
