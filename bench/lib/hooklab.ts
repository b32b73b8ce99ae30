// hooklab under test: a child process on a fresh temp DATA_DIR, plus the API calls and the
// live subscriber the benchmarks need.
import { existsSync, rmSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { io, type Socket } from 'socket.io-client';
import type { Bin, ClientToServerEvents, RequestItem, ServerToClientEvents, SubscribeAck } from '../../shared/api.ts';
import { SERVER_NODE_FLAGS } from '../../server/node-flags.ts';
import { api } from './http.ts';
import { ROOT, type ServerProcess, type SpawnOptions, spawnServer } from './proc.ts';
import { waitFor } from './time.ts';

export interface Hooklab {
  proc: ServerProcess;
  base: string;
  dataDir: string;
  /** ms from spawn to the first 200 of /api/health. */
  readyMs: number;
  /** SIGTERM (hooklab flushes its data), wait for exit. */
  stop(): Promise<number | null>;
  /** stop() and delete the data dir (unless it was given). */
  cleanup(): Promise<void>;
}

const tempDirs = new Set<string>();

export async function newDataDir(): Promise<string> {
  const d = await mkdtemp(path.join(os.tmpdir(), 'hooklab-bench-'));
  tempDirs.add(d);
  return d;
}

export async function removeDataDir(d: string) {
  await rm(d, { recursive: true, force: true });
  tempDirs.delete(d);
}

/** The same, synchronously: for signal and exit handlers. */
export function removeAllDataDirsSync() {
  for (const d of [...tempDirs]) {
    try {
      rmSync(d, { recursive: true, force: true, maxRetries: 3 });
    } catch {
      // best effort
    }
    tempDirs.delete(d);
  }
}

/** Delete whatever temp dirs are left (after a crash). */
export async function removeAllDataDirs() {
  for (const d of [...tempDirs]) await removeDataDir(d);
}

/**
 * The compiled server the benchmarks run. `npm run bench` builds dist/server, then run.ts
 * copies it aside (snapshotServerBuild) so that a rebuild by someone else during the run (the
 * working tree is shared; `npm test` rebuilds dist/) cannot swap the code under a benchmark.
 */
let serverScript = 'dist/server/server/main.js';
let snapshotDir: string | null = null;

export const hooklabScript = () => serverScript;

/** Copy dist/server to bench/.build/run-<pid>/ (inside the repo, so node_modules resolve) and run that. */
export async function snapshotServerBuild(): Promise<string> {
  const from = path.join(ROOT, 'dist/server');
  if (!existsSync(path.join(from, 'server/main.js'))) throw new Error('dist/server/server/main.js is missing: run `npm run build:server` (npm run bench does)');
  const dir = path.join(ROOT, 'bench/.build', `run-${process.pid}`);
  await rm(dir, { recursive: true, force: true });
  await mkdir(path.dirname(dir), { recursive: true });
  snapshotDir = dir;
  await cp(from, dir, { recursive: true });
  serverScript = path.relative(ROOT, path.join(dir, 'server/main.js'));
  return serverScript;
}

/** Delete the copy (also from exit and signal handlers). */
export function removeServerSnapshotSync() {
  if (!snapshotDir) return;
  try {
    rmSync(snapshotDir, { recursive: true, force: true, maxRetries: 3 });
  } catch {
    // best effort
  }
  snapshotDir = null;
}

export async function startHooklab(
  o: {
    env?: Record<string, string>;
    dataDir?: string;
    nodeArgs?: string[];
    label?: string;
    /** Default: the compiled server. 'server/main.ts' (with `cwd`) runs a source tree under tsx. */
    script?: string;
    /** Where to run it (default: the repo root), e.g. an older revision's tree. */
    cwd?: string;
    onOutput?: SpawnOptions['onOutput'];
  } = {},
): Promise<Hooklab> {
  const dataDir = o.dataDir ?? (await newDataDir());
  const t0 = performance.now();
  const proc = await spawnServer({
    // The compiled server, as `npm start` runs it (`npm run bench` builds it first), with its
    // flags; another tree (a baseline revision) as it was run then, with Node's defaults.
    script: o.script ?? serverScript,
    label: o.label ?? 'hooklab',
    env: { PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir, ...o.env },
    nodeArgs: [...(o.script ? [] : SERVER_NODE_FLAGS), ...(o.nodeArgs ?? [])],
    cwd: o.cwd,
    onOutput: o.onOutput,
    startTimeoutMs: 60_000,
  });
  const healthy = await waitFor(async () => {
    try {
      await api(proc.url, 'GET', '/api/health', undefined, 2000);
      return true;
    } catch {
      return false;
    }
  }, 30_000, 5);
  if (!healthy) {
    await proc.stop(1000);
    throw new Error(`hooklab: /api/health never answered 200\n${proc.stderrTail()}`);
  }
  const readyMs = performance.now() - t0;
  return {
    proc,
    base: proc.url,
    dataDir,
    readyMs,
    stop: () => proc.stop(),
    async cleanup() {
      await proc.stop();
      if (!o.dataDir) await removeDataDir(dataDir);
    },
  };
}

export async function createBin(base: string, name = 'bench'): Promise<Bin> {
  return api<Bin>(base, 'POST', '/api/bins', { name });
}

export async function getBin(base: string, id: string): Promise<Bin> {
  return api<Bin>(base, 'GET', `/api/bins/${id}`);
}

export function receiverUrl(base: string, binId: string) {
  return `${base}/h/${binId}`;
}

/** Total size of the files under a directory, in bytes. */
export async function dirSize(dir: string): Promise<number> {
  let total = 0;
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) total += await dirSize(p);
    else if (e.isFile()) total += (await stat(p)).size;
  }
  return total;
}

export type ClientSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

/** A live subscriber (socket.io-client, websocket transport), like the UI. */
export interface Subscriber {
  socket: ClientSocket;
  /** Events received per bin. */
  counts: Map<string, number>;
  subscribe(binId: string): Promise<void>;
  /** Called for every `request` event, with its arrival time (performance.now()). */
  onRequest: ((r: RequestItem, at: number) => void) | null;
  close(): void;
}

export async function connectSubscriber(base: string): Promise<Subscriber> {
  const socket: ClientSocket = io(base, { transports: ['websocket'], reconnection: false, forceNew: true });
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('socket.io: no connect within 10 s')), 10_000);
    socket.once('connect', () => {
      clearTimeout(t);
      resolve();
    });
    socket.once('connect_error', (e) => {
      clearTimeout(t);
      reject(e);
    });
  });
  const sub: Subscriber = {
    socket,
    counts: new Map(),
    onRequest: null,
    async subscribe(binId) {
      const ack = await new Promise<SubscribeAck>((resolve) => socket.emit('subscribe', { binId }, resolve));
      if (!ack.ok) throw new Error(`subscribe ${binId}: ${ack.error}`);
    },
    close: () => void socket.close(),
  };
  socket.on('request', (r) => {
    const at = performance.now();
    sub.counts.set(r.binId, (sub.counts.get(r.binId) ?? 0) + 1);
    sub.onRequest?.(r, at);
  });
  return sub;
}
