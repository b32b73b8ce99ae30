// An API error that is nobody's fault but the server's is logged without what could name a
// bin: a body file's path holds its bin's id (the secret in its receiver URL), and the line
// was the error's whole text ("ENOENT … open '…/bins/<binId>/00000011.body'"), once per
// request. Now: its code, name and message without paths, at most one line per 10 s with how
// many since.
import { readFile, readdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { send } from '../helpers/http.ts';
import { type ServerProcess, spawnServer } from '../helpers/process.ts';
import { createBin, startServer, type TestServer, tempDir } from '../helpers/server.ts';

const dirs: string[] = [];
const procs: ServerProcess[] = [];
const servers: TestServer[] = [];
afterAll(async () => {
  for (const p of procs) p.proc.kill('SIGKILL');
  await Promise.all(servers.map((s) => s.cleanup()));
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

describe('unhandled API errors in the log', () => {
  it("the error a missing body file gives: 500, one line with its code and no bin id or path per burst, the rest counted", async () => {
    const lines: string[] = [];
    const log = {
      info() {},
      warn() {},
      error: (msg: string, fields?: Record<string, unknown>) => void (msg === 'unhandled API error' && lines.push(`${msg} ${JSON.stringify(fields ?? {})}`)),
    };
    const s = await startServer({ storage: 'memory', log });
    servers.push(s);
    const bin = await createBin(s.base);
    const r = await send(bin.url, { body: 'a body' });
    const rid = String(r.headers['x-hooklab-request-id']);
    // The very error Node gives for a body file that is gone (its path names the bin).
    const missing = path.join(s.dataDir, 'bins', bin.id, '00000011.body');
    const enoent = await readFile(missing).catch((e: unknown) => e);
    expect(String(enoent)).toContain(bin.id);
    s.store.requests.body = async () => {
      throw enoent;
    };
    for (let i = 0; i < 5; i++) {
      const res = await fetch(`${s.base}/api/bins/${bin.id}/requests/${rid}/raw`);
      expect(res.status).toBe(500);
      expect(await res.json()).toEqual({ error: { code: 'internal', message: 'internal error' } });
    }
    // One line for the burst, at once.
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^unhandled API error /);
    const fields = JSON.parse(lines[0].slice('unhandled API error '.length)) as Record<string, unknown>;
    expect(fields).toEqual({ count: 1, code: 'ENOENT', name: 'Error', message: "ENOENT: no such file or directory, open '<path>'" });
    // The other four are told, as a count, when the server stops (or 10 s on).
    await s.stop();
    expect(lines).toHaveLength(2);
    expect(JSON.parse(lines[1].slice('unhandled API error '.length))).toMatchObject({ count: 4, code: 'ENOENT' });
    for (const l of lines) {
      expect(l).not.toContain(bin.id);
      expect(l).not.toContain(s.dataDir);
    }
  });

  it("a capture's body file moved away under DATA_DIR: its raw body is an error, and nothing logged names the bin", async () => {
    const dataDir = await tempDir();
    dirs.push(dataDir);
    // No cache, and a restart: nothing is held in memory, everything is read from disk.
    const env = { DATA_DIR: dataDir, CACHE_BYTES: '0' };
    const first = await spawnServer(env);
    procs.push(first);
    const bin = await createBin(first.base);
    const r = await send(bin.url, { body: 'a body on disk' });
    const rid = String(r.headers['x-hooklab-request-id']);
    first.proc.kill('SIGTERM');
    expect((await first.exited).code).toBe(0);
    const p = await spawnServer(env);
    procs.push(p);
    // The body file only: the capture's metadata still reads.
    const binDir = path.join(dataDir, 'bins', bin.id);
    const bodies = (await readdir(binDir)).filter((f) => f.endsWith('.body'));
    expect(bodies.length).toBeGreaterThan(0);
    for (const f of bodies) await rename(path.join(binDir, f), path.join(dataDir, `${f}.moved`));
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`${p.base}/api/bins/${bin.id}/requests/${rid}/raw`);
      expect(res.status).toBeGreaterThanOrEqual(500);
      expect(await res.text()).not.toContain(bin.id);
    }
    for (const f of bodies) await rename(path.join(dataDir, `${f}.moved`), path.join(binDir, f));
    p.proc.kill('SIGTERM');
    await p.exited;
    // Told (one way or another: a storage warning, an API error), never with the bin's id.
    expect(p.output()).toMatch(/ENOENT/);
    expect(p.output()).not.toContain(bin.id);
  });
});
