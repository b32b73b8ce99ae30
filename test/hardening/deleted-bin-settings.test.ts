// A deleted bin's settings (its answers, forward targets, signing secrets) must not outlive it:
// a kill right after the 204 left them on disk, and a bin made later with the same id took
// them over, secret and all. Real server processes on one DATA_DIR.
import { rm } from 'node:fs/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { send } from '../helpers/http.ts';
import { type ServerProcess, spawnServer } from '../helpers/process.ts';
import { json, tempDir } from '../helpers/server.ts';

const procs: ServerProcess[] = [];
const dirs: string[] = [];
afterAll(async () => {
  for (const p of procs) p.proc.kill('SIGKILL');
  await Promise.all(procs.map((p) => p.exited));
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function start(dataDir: string) {
  const p = await spawnServer({ DATA_DIR: dataDir });
  procs.push(p);
  return p;
}

describe('a deleted bin', () => {
  it('takes its settings with it, even when the server is killed right after the 204', async () => {
    const dataDir = await tempDir();
    dirs.push(dataDir);
    const a = await start(dataDir);
    expect((await json(a.base, 'POST', '/api/bins', { id: 'gone-with-bin' })).status).toBe(201);
    expect((await json(a.base, 'PUT', '/api/bins/gone-with-bin/response', { default: { status: 418 } })).status).toBe(200);
    expect((await json(a.base, 'PUT', '/api/bins/gone-with-bin/forward', { targets: [{ url: 'http://127.0.0.1:9/x' }] })).status).toBe(200);
    expect((await json(a.base, 'PUT', '/api/bins/gone-with-bin/verify', { schemes: [{ type: 'stripe', secrets: ['whsec_old_secret_SECRET'] }] })).status).toBe(200);
    // Written, then deleted: the kill comes at once after the 204.
    await new Promise((r) => setTimeout(r, 600));
    expect((await json(a.base, 'DELETE', '/api/bins/gone-with-bin')).status).toBe(204);
    a.proc.kill('SIGKILL');
    await a.exited;

    const b = await start(dataDir);
    expect((await json(b.base, 'POST', '/api/bins', { id: 'gone-with-bin' })).status).toBe(201);
    expect((await send(`${b.base}/h/gone-with-bin`, { body: 'x' })).status).toBe(200);
    expect((await json<{ targets: unknown[] }>(b.base, 'GET', '/api/bins/gone-with-bin/forward')).body).toMatchObject({ targets: [] });
    const verify = await json<{ schemes: unknown[] }>(b.base, 'GET', '/api/bins/gone-with-bin/verify');
    expect(verify.body).toMatchObject({ schemes: [] });
  });
});
