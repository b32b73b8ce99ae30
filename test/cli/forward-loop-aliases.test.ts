// `hooklab forward` refuses a --to that is its bin's server under another name for this
// machine. Only localhost, 127.x.x.x and [::1] were known: 0.0.0.0, [::], [::ffff:127.0.0.1]
// (= [::ffff:7f00:1]), *.localhost and a trailing dot were taken, and the relay looped (each
// forward a new capture, forwarded again) until the bin was at its cap. Real server and relay.
import { type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isThisMachine } from '../../server/cli/this-machine.ts';
import { send } from '../helpers/http.ts';
import { type ServerProcess, spawnServer } from '../helpers/process.ts';
import { spawnRelay } from '../helpers/relay.ts';
import { runCli } from '../helpers/cli.ts';
import { json, tempDir } from '../helpers/server.ts';

let srv: ServerProcess;
let dir: string;
let target: http.Server;
let targetPort: number;
const got: string[] = [];
const children: ChildProcess[] = [];

beforeAll(async () => {
  dir = await tempDir();
  srv = await spawnServer({ DATA_DIR: path.join(dir, 'data') });
  target = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      got.push(req.url!);
      res.end('ok');
    });
  });
  await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
  targetPort = (target.address() as AddressInfo).port;
});

afterAll(async () => {
  for (const p of children) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  srv.proc.kill('SIGTERM');
  await srv.exited;
  target.close();
  await rm(dir, { recursive: true, force: true });
});

const LOOP_LINE = /^hooklab: --to \S+ is a receiver URL of the hooklab server the relay reads \(http:\/\/[^)]+\): every forward would be captured and forwarded again, in a loop\. Point --to at your app\.\n$/;

describe('forward: a --to that is the same server under another name for this machine', () => {
  it('each alias of loopback or the any-address is refused at start, exit 2, and the bin gets nothing', async () => {
    const bin = (await json<{ id: string }>(srv.base, 'POST', '/api/bins', {})).body;
    const port = new URL(srv.base).port;
    const binUrl = `http://127.0.0.1:${port}/h/${bin.id}`;
    const aliases = [
      `http://0.0.0.0:${port}/h/${bin.id}`,
      `http://0:${port}/h/${bin.id}`,
      `http://[::]:${port}/h/${bin.id}`,
      `http://[::ffff:127.0.0.1]:${port}/h/${bin.id}`,
      `http://[::ffff:7f00:1]:${port}/h/${bin.id}/sub`,
      `http://[::FFFF:7F00:2]:${port}/h/other-bin-1234`,
      `http://[::ffff:0.0.0.0]:${port}/h/${bin.id}`,
      `http://127.0.0.2:${port}/h/${bin.id}`,
      `http://LOCALHOST.:${port}/h/${bin.id}`,
      `http://app.localhost:${port}/h/${bin.id}`,
      `http://127.0.0.1.:${port}/h/${bin.id}`,
    ];
    const cursor = path.join(dir, 'c-alias.json');
    for (const to of aliases) {
      const r = spawnRelay([binUrl, '--to', to, '--once', '--cursor', cursor], children);
      expect({ to, code: await r.exited }).toEqual({ to, code: 2 });
      expect(r.err()).toMatch(LOOP_LINE);
      expect(r.err()).toContain(`--to ${to} `);
    }
    // And the other way round: the bin at the any-address, --to at localhost.
    const r = spawnRelay([`http://0.0.0.0:${port}/h/${bin.id}`, '--to', `http://localhost:${port}/h/${bin.id}`, '--once', '--cursor', cursor], children);
    expect(await r.exited).toBe(2);
    expect(r.err()).toMatch(LOOP_LINE);
    expect(existsSync(cursor)).toBe(false);
    const page = (await json<{ requests: unknown[] }>(srv.base, 'GET', `/api/bins/${bin.id}/requests`)).body;
    expect(page.requests).toEqual([]);
  }, 120_000);

  it('a target that is not the server (another port, or another path there) is still taken and forwarded to', async () => {
    const bin = (await json<{ id: string }>(srv.base, 'POST', '/api/bins', {})).body;
    const port = new URL(srv.base).port;
    const binUrl = `http://127.0.0.1:${port}/h/${bin.id}`;
    expect((await send(`${binUrl}/one`, { body: 'x' })).status).toBe(200);
    got.length = 0;
    // This machine's any-address, on the target's port: the target, not hooklab.
    const cursor = path.join(dir, 'c-other.json');
    const r = spawnRelay([binUrl, '--to', `http://0.0.0.0:${targetPort}/h/app`, '--from-start', '--once', '--cursor', cursor], children);
    expect(await r.exited).toBe(0);
    expect(got).toEqual(['/h/app/one']);
    expect(JSON.parse(await readFile(cursor, 'utf8')).lastId).toMatch(/\S/);
    // hooklab's own port, but not a receiver URL: not refused (it is not a loop).
    const r2 = spawnRelay([binUrl, '--to', `http://[::]:${port}/not-a-receiver`, '--once', '--timeout', '2s', '--cursor', path.join(dir, 'c-other2.json')], children);
    expect(await r2.exited).toBe(0);
    expect(r2.err()).not.toContain('is a receiver URL');
  }, 60_000);
});

describe('isThisMachine', () => {
  it('knows every spelling of loopback and the any-address, and nothing else', () => {
    const host = (u: string) => new URL(u).hostname;
    for (const u of ['http://localhost', 'http://LocalHost.', 'http://a.b.localhost', 'http://127.0.0.1', 'http://127.255.0.9', 'http://127.1', 'http://0x7f000001', 'http://0.0.0.0', 'http://0', 'http://[::]', 'http://[::1]', 'http://[0:0:0:0:0:0:0:1]', 'http://[::ffff:127.0.0.1]', 'http://[::ffff:7f00:1]', 'http://[::ffff:0:0]']) {
      expect({ u, mine: isThisMachine(host(u)) }).toEqual({ u, mine: true });
    }
    for (const u of ['http://example.com', 'http://localhost.example.com', 'http://mylocalhost', 'http://128.0.0.1', 'http://203.0.113.7', 'http://[::2]', 'http://[::ffff:203.0.113.7]', 'http://[2001:db8::1]']) {
      expect({ u, mine: isThisMachine(host(u)) }).toEqual({ u, mine: false });
    }
  });

  it('a target given twice under two names (a trailing "/") or with a #fragment is refused at start, exit 2', async () => {
    const bin = (await json<{ id: string }>(srv.base, 'POST', '/api/bins', {})).body;
    const app = `http://127.0.0.1:${targetPort}/hooks`;
    const before = got.length;
    const twice = await runCli(srv.base, ['forward', bin.id, '--to', app, '--to', `${app}/`, '--once'], { HOOKLAB_TOKEN: '' });
    expect({ code: twice.code, stderr: twice.stderr }).toEqual({ code: 2, stderr: `hooklab: --to ${app}/ is the same target as --to ${app}: it would get every capture twice\n` });
    const fragment = await runCli(srv.base, ['forward', bin.id, '--to', `${app}#x`, '--once'], { HOOKLAB_TOKEN: '' });
    expect({ code: fragment.code, stderr: fragment.stderr }).toEqual({ code: 2, stderr: `hooklab: --to ${app}#x must not have a #fragment: it is never sent to the target (remove it)\n` });
    expect(got.length).toBe(before);
  });
});
