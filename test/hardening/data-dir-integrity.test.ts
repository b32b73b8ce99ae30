// A durability probe's findings, against the compiled server: a damaged bins.log made start-up
// delete every bin's captures, and two hooklabs could run on one DATA_DIR (overwriting each
// other's journals, after which a restart deleted data).
import { existsSync } from 'node:fs';
import { readFile, readdir, truncate } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { send } from '../helpers/http.ts';
import { startExpectingFailure } from '../helpers/process.ts';
import { createBin } from '../helpers/server.ts';
import { spawnedServers } from '../helpers/spawned.ts';

const servers = spawnedServers();

async function stopped(p: Awaited<ReturnType<typeof servers.start>>, signal: NodeJS.Signals) {
  p.proc.kill(signal);
  return p.exited;
}

describe('DATA_DIR integrity at start-up (compiled server)', () => {
  it('an emptied bins.log: start-up refuses, names bins.log and the count, no bin id, and removes no bin directory', async () => {
    const dataDir = await servers.dataDir();
    const p = await servers.start({ DATA_DIR: dataDir });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const bin = await createBin(p.base);
      ids.push(bin.id);
      expect((await send(`${p.base}/h/${bin.id}`, { body: `capture ${i}` })).status).toBe(200);
    }
    expect((await stopped(p, 'SIGTERM')).code).toBe(0);
    await truncate(path.join(dataDir, 'bins.log'), 0);
    const { code, output } = await startExpectingFailure({ DATA_DIR: dataDir });
    expect(code).toBe(1);
    expect(output).toContain(`Cannot read data file ${path.join(dataDir, 'bins.log')}: 5 bin directories`);
    expect(output).not.toMatch(/Removed the data/);
    for (const id of ids) expect(output).not.toContain(id);
    expect((await readdir(path.join(dataDir, 'bins'))).sort()).toEqual([...ids].sort());
    for (const id of ids) expect((await readdir(path.join(dataDir, 'bins', id))).length).toBeGreaterThan(0);
  });

  it('a second hooklab on the same DATA_DIR is refused while the first runs; after the first is killed, the next takes the lock over', async () => {
    const dataDir = await servers.dataDir();
    const first = await servers.start({ DATA_DIR: dataDir });
    const bin = await createBin(first.base);
    const { code, output } = await startExpectingFailure({ DATA_DIR: dataDir });
    expect(code).toBe(1);
    expect(output).toContain(`DATA_DIR ${dataDir} is in use by another hooklab (pid ${first.proc.pid}`);
    // The first goes on as before.
    expect((await send(`${first.base}/h/${bin.id}`, { body: 'still mine' })).status).toBe(200);
    expect((await stopped(first, 'SIGKILL')).signal).toBe('SIGKILL');
    expect(JSON.parse(await readFile(path.join(dataDir, 'hooklab.lock'), 'utf8')).pid).toBe(first.proc.pid);

    const next = await servers.start({ DATA_DIR: dataDir });
    expect(next.output()).toMatch(new RegExp(`Taking over DATA_DIR's lock .*, left by pid ${first.proc.pid} `));
    expect(JSON.parse(await readFile(path.join(dataDir, 'hooklab.lock'), 'utf8')).pid).toBe(next.proc.pid);
    expect((await send(`${next.base}/h/${bin.id}`, { body: 'after' })).status).toBe(200);
    expect((await stopped(next, 'SIGTERM')).code).toBe(0);
    expect(existsSync(path.join(dataDir, 'hooklab.lock'))).toBe(false);
  });
});
