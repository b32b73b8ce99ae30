// The README's "Automate it" example runs as written: examples/ci/run.sh starts hooklab from a
// config file, runs a stand-in system under test, and waits for its (retried) webhook.
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/free-port.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const work: string[] = [];
afterAll(async () => {
  await Promise.all(work.map((d) => rm(d, { recursive: true, force: true })));
});

describe('CI example', () => {
  it("README's CI job starts hooklab on a fresh DATA_DIR, as run.sh does: a stored capture of an earlier run cannot pass the wait", async () => {
    const readme = await readFile(path.join(ROOT, 'README.md'), 'utf8');
    const block = /\*\*A CI job\*\*[^\n]*\n\n```sh\n([\s\S]*?)\n```/.exec(readme)?.[1];
    expect(block).toBeDefined();
    const serve = block!.split('\n').find((l) => / serve /.test(l));
    expect(serve).toMatch(/^DATA_DIR=\$\(mktemp -d\) /);
    const runSh = await readFile(path.join(ROOT, 'examples/ci/run.sh'), 'utf8');
    expect(runSh).toMatch(/^DATA_DIR=\$\{DATA_DIR:-\$TEMP_DATA\} .* serve /m);
    expect(runSh).toMatch(/^if \[ -z "\$\{DATA_DIR:-\}" \]; then TEMP_DATA=\$\(mktemp -d\); fi$/m);
    // Both wait for the server with a bound, and stop waiting when it exited.
    for (const script of [block!, runSh]) {
      expect(script).toMatch(/kill -0 \$HOOKLAB_PID 2>\/dev\/null \|\| \{/);
      expect(script).toMatch(/\[ \$tries -lt 300 \]/);
    }
  });

  it('examples/ci/run.sh when hooklab cannot start (its port taken): fails with hooklab\'s own words, does not hang', async () => {
    const cwd = await mkdtemp(path.join(os.tmpdir(), 'hooklab-ci-'));
    work.push(cwd);
    // Something that is not hooklab holds the port and answers no HTTP.
    const squatter = net.createServer((s) => s.destroy());
    await new Promise<void>((r) => squatter.listen(0, '127.0.0.1', r));
    const port = (squatter.address() as net.AddressInfo).port;
    try {
      const run = spawn('sh', [path.join(ROOT, 'examples/ci/run.sh')], { cwd: ROOT, env: { ...process.env, PORT: String(port), DATA_DIR: path.join(cwd, 'data'), OUT: cwd } });
      let out = '';
      run.stdout.on('data', (d) => (out += d));
      run.stderr.on('data', (d) => (out += d));
      const code = await Promise.race([new Promise<number | null>((r) => run.on('close', r)), new Promise<'hung'>((r) => setTimeout(() => r('hung'), 60_000))]);
      if (code === 'hung') run.kill('SIGKILL');
      expect(code, out).toBe(1);
      expect(out).toMatch(/^hooklab did not start:\n/);
      expect(out).toMatch(/EADDRINUSE|in use/);
    } finally {
      squatter.close();
    }
  }, 90_000);

  it('examples/ci/run.sh without DATA_DIR removes the one it made', async () => {
    const cwd = await mkdtemp(path.join(os.tmpdir(), 'hooklab-ci-'));
    work.push(cwd);
    const tmp = path.join(cwd, 'tmp');
    await mkdir(tmp);
    const port = await freePort();
    const run = spawn('sh', [path.join(ROOT, 'examples/ci/run.sh')], { cwd: ROOT, env: { ...process.env, PORT: String(port), OUT: cwd, TMPDIR: tmp } });
    let out = '';
    run.stdout.on('data', (d) => (out += d));
    run.stderr.on('data', (d) => (out += d));
    expect(await new Promise<number | null>((r) => run.on('close', r)), out).toBe(0);
    // mktemp's directories are tmp.XXXXXXXXXX (tsx keeps its cache there too: not the script's).
    expect((await readdir(tmp)).filter((n) => n.startsWith('tmp.'))).toEqual([]);
  }, 90_000);

  it('examples/ci/run.sh passes: the webhook and its retry arrive', async () => {
    const cwd = await mkdtemp(path.join(os.tmpdir(), 'hooklab-ci-'));
    work.push(cwd);
    const port = await freePort();
    // Run from the repository root, as the README says; its files (OUT) land in a temp dir.
    const run = spawn('sh', [path.join(ROOT, 'examples/ci/run.sh')], { cwd: ROOT, env: { ...process.env, PORT: String(port), DATA_DIR: path.join(cwd, 'data'), OUT: cwd } });
    let out = '';
    run.stdout.on('data', (d) => (out += d));
    run.stderr.on('data', (d) => (out += d));
    const code = await new Promise<number | null>((r) => run.on('close', r));
    expect(code, out).toBe(0);
    expect(out).toMatch(/webhook received and retried/);
    const webhook = JSON.parse(await readFile(path.join(cwd, 'webhook.json'), 'utf8'));
    expect(webhook.headers).toContainEqual(['x-attempt', '2']);
    // Its exit trap stops the server too, not just npx: nothing keeps listening on the port.
    await expect.poll(() => fetch(`http://127.0.0.1:${port}/api/health`).then(() => 'up', () => 'down'), { timeout: 10_000 }).toBe('down');
  });
});
