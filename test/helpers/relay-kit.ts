// What the relay's batch tests share: a temp dir, hooklab processes and relays stopped after
// the file (whatever a failing test left running), a holding target, captures made in order.
import type { ChildProcess } from 'node:child_process';
import { rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, expect } from 'vitest';
import { send } from './http.ts';
import { type ServerProcess, spawnServer } from './process.ts';
import { spawnRelay } from './relay.ts';
import { tempDir } from './server.ts';

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export async function until(check: () => boolean, what: string, ms = 30_000) {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(25)) if (check()) return;
  throw new Error(`timed out waiting for ${what}`);
}

export async function newBin(base: string): Promise<string> {
  const res = await fetch(`${base}/api/bins`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
  expect(res.status).toBe(201);
  return ((await res.json()) as { id: string }).id;
}

/** n captures at `<binUrl>/<tag>/<i>` (body `body(i)`, default "<tag> i"); answers their ids. */
export async function capture(binUrl: string, n: number, tag: string, body: (i: number) => string | Buffer = (i) => `${tag} ${i}`): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const r = await send(`${binUrl}/${tag}/${i}`, { body: body(i) });
    expect(r.status).toBe(200);
    ids.push(r.headers['x-hooklab-request-id'] as string);
  }
  return ids;
}

/** The paths a relay to `<target>/in` gives for tag's first n captures, in order. */
export const inOrder = (tag: string, n: number) => Array.from({ length: n }, (_, i) => `/in/${tag}/${i}`);

/** Registers the file's beforeAll/afterAll; what it starts is stopped after the file. */
export function relayKit() {
  let dir = '';
  const children: ChildProcess[] = [];
  const servers: ServerProcess[] = [];
  /** Called after the file (proxies, targets). */
  const closers: (() => unknown)[] = [];
  beforeAll(async () => {
    dir = await tempDir();
  });
  afterAll(async () => {
    for (const p of children) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
    for (const close of closers) await close();
    for (const s of servers) {
      if (s.proc.exitCode === null && s.proc.signalCode === null) s.proc.kill('SIGKILL');
      await s.exited;
    }
    await rm(dir, { recursive: true, force: true });
  });
  return {
    closers,
    /** A path in the file's temp dir. */
    file: (name: string) => path.join(dir, name),
    relay: (args: string[]) => spawnRelay(args, children),
    /** A hooklab with a data dir of its own. */
    async server(env: Record<string, string> = {}): Promise<ServerProcess> {
      const s = await spawnServer({ DATA_DIR: path.join(dir, `data-${servers.length}`), ...env });
      servers.push(s);
      return s;
    },
    /** A target that keeps what it got (path and body) and answers at once, or holds its answers until released. */
    async target() {
      const got: { path: string; body: Buffer }[] = [];
      const held: (() => void)[] = [];
      let holding = false;
      const s = http.createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          got.push({ path: req.url!, body: Buffer.concat(chunks) });
          if (holding) held.push(() => res.end('ok'));
          else res.end('ok');
        });
      });
      await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
      closers.push(() => (s.closeAllConnections(), s.close()));
      return {
        base: `http://127.0.0.1:${(s.address() as AddressInfo).port}`,
        got,
        /** The paths it got, in order. */
        paths: () => got.map((g) => g.path),
        held: () => held.length,
        hold: () => void (holding = true),
        release: () => {
          holding = false;
          for (const end of held.splice(0)) end();
        },
      };
    },
  };
}
