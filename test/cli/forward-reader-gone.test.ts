// `hooklab forward … | head -2`: the reader going away stops the relay as a SIGTERM does (exit
// 0, its cursor written), but it said "SIGTERM: stopping …" though nobody sent one. It says
// what happened. Real server, the relay as a process whose stdout is closed after a line.
import { type ChildProcess, spawn } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { send } from '../helpers/http.ts';
import { type ServerProcess, spawnServer } from '../helpers/process.ts';
import { CLI, ROOT } from '../helpers/relay.ts';
import { json, tempDir } from '../helpers/server.ts';

let srv: ServerProcess;
let dir: string;
let target: http.Server;
let targetBase: string;
let relay: ChildProcess | undefined;

beforeAll(async () => {
  dir = await tempDir();
  srv = await spawnServer({ DATA_DIR: path.join(dir, 'data') });
  target = http.createServer((req, res) => req.resume().on('end', () => res.end('ok')));
  await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
  targetBase = `http://127.0.0.1:${(target.address() as AddressInfo).port}`;
});

afterAll(async () => {
  if (relay && relay.exitCode === null && relay.signalCode === null) relay.kill('SIGKILL');
  srv.proc.kill('SIGTERM');
  await srv.exited;
  target.close();
  await rm(dir, { recursive: true, force: true });
});

it('a closed stdout stops the relay saying so, not as a SIGTERM; exit 0 with the cursor written', async () => {
  const bin = (await json<{ id: string }>(srv.base, 'POST', '/api/bins', {})).body;
  const binUrl = `${srv.base}/h/${bin.id}`;
  const cursor = path.join(dir, 'cursor.json');
  const p = (relay = spawn(process.execPath, [CLI, 'forward', binUrl, '--to', `${targetBase}/app`, '--cursor', cursor], {
    cwd: ROOT,
    env: { ...process.env, HOOKLAB_SERVER: '', HOOKLAB_TOKEN: '' },
  }));
  let stderr = '';
  p.stderr!.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((r) => p.on('close', (code) => r(code)));
  let ended = false;
  void exited.then(() => (ended = true));
  // What `head -1` does: read the first line, then close the pipe.
  p.stdout!.once('data', () => p.stdout!.destroy());
  // Captures (the first ones may come before the relay follows the bin) until one has been
  // printed and a later write found the pipe closed.
  for (let i = 0; !ended && i < 600; i++) {
    await send(`${binUrl}/n${i}`, { body: String(i) });
    await new Promise((r) => setTimeout(r, 100));
  }
  expect({ code: await exited, stderr: stderr.replace(/^(?!.*stopping).*\n/gm, '') }).toEqual({
    code: 0,
    stderr: 'stdout closed: stopping (a request in flight is let finish; no new one starts)\n',
  });
  expect(stderr).not.toContain('SIGTERM');
  expect(JSON.parse(await readFile(cursor, 'utf8')).lastId).toMatch(/^\S+$/);
}, 120_000);
