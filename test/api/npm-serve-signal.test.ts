// A SIGTERM to what the README says to run (`npm start`; `npm run serve` runs the same command
// without the build) stops hooklab cleanly. npm passes the signal to the script's shell, and
// a shell that runs node as its child (dash, Debian's sh) ended alone: the server went on,
// re-parented, holding the port and DATA_DIR's lock, and a container's stop ended in SIGKILL.
// The scripts `exec` node, so npm's signal reaches it.
import { spawn } from 'node:child_process';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/server.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const dirs: string[] = [];
afterAll(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

describe('npm run serve', () => {
  it('a SIGTERM to npm stops the server cleanly (the flags are test/unit/node-flags.test.ts\'s)', async () => {
    const dataDir = await tempDir();
    dirs.push(dataDir);
    // Its own process group: whatever is left of it can be ended below, whatever happened.
    const npm = spawn('npm', ['run', '--silent', 'serve'], {
      cwd: ROOT,
      env: { ...process.env, HOST: '127.0.0.1', PORT: '0', DATA_DIR: dataDir },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let out = '';
    const exited = new Promise<number | null>((r) => npm.on('exit', (code) => r(code)));
    try {
      const base = await new Promise<string>((resolve, reject) => {
        const onData = (d: Buffer) => {
          out += d.toString();
          const m = /hooklab ready on (http:\/\/[\d.]+:\d+)/.exec(out);
          if (m) resolve(m[1]);
        };
        npm.stdout!.on('data', onData);
        npm.stderr!.on('data', onData);
        void exited.then((code) => reject(new Error(`npm exited (${code}) before the server listened:\n${out}`)));
      });
      expect((await fetch(`${base}/api/health`)).status).toBe(200);
      npm.kill('SIGTERM');
      expect(await exited).toBe(0);
      // The server itself is gone (before: it went on serving, its parent gone)...
      await expect.poll(() => fetch(`${base}/api/health`).then(() => 'up', () => 'down'), { timeout: 15_000 }).toBe('down');
      // ...after a clean stop.
      expect(out).toContain('stopped; everything is saved');
    } finally {
      try {
        process.kill(-npm.pid!, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
  });
});
