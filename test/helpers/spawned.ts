// Compiled servers a test file starts (see process.ts), and the temp dirs they use: each killed
// and removed once the file's tests are done, so no file keeps its own list of them.
import { rm } from 'node:fs/promises';
import { afterAll } from 'vitest';
import { type ServerProcess, spawnServer } from './process.ts';
import { tempDir } from './server.ts';

export function spawnedServers() {
  const dirs: string[] = [];
  const procs: ServerProcess[] = [];
  afterAll(async () => {
    for (const p of procs) p.proc.kill('SIGKILL');
    await Promise.all(procs.map((p) => p.exited));
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  });
  const dataDir = async (prefix?: string) => {
    const d = await tempDir(prefix);
    dirs.push(d);
    return d;
  };
  /** A server with `env`; on a temp DATA_DIR of its own unless `env` names one. */
  const start = async (env: Record<string, string> = {}) => {
    const p = await spawnServer({ DATA_DIR: env.DATA_DIR ?? (await dataDir()), ...env });
    procs.push(p);
    return p;
  };
  return { start, dataDir };
}
