// Starts a real hooklab on 127.0.0.1:<random port> for a test, with its data in a temp dir.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { type AppDeps, type HooklabApp, createApp } from '../../server/app.ts';
import { type Config, testConfig } from '../../server/config.ts';
import { LowdbStore } from '../../server/store/lowdb.ts';
import { MemoryStore } from '../../server/store/memory.ts';
import type { Store } from '../../server/store/types.ts';

export interface TestServer {
  base: string;
  app: HooklabApp;
  store: Store;
  config: Config;
  dataDir: string;
  /** Stop the server (flushing storage); the data dir stays until cleanup(). */
  stop(): Promise<void>;
  cleanup(): Promise<void>;
}

export async function tempDir(prefix = 'hooklab-test-'): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), prefix));
}

export interface StartOptions extends Partial<Omit<AppDeps, 'config' | 'store'>> {
  config?: Partial<Config>;
  /** 'lowdb' (default) uses real files in dataDir; 'memory' keeps nothing. */
  storage?: 'lowdb' | 'memory';
  dataDir?: string;
}

export async function startServer(opts: StartOptions = {}): Promise<TestServer> {
  const dataDir = opts.dataDir ?? (await tempDir());
  // Receiver URLs point at 127.0.0.1:<bound port> unless a test sets PUBLIC_URL itself.
  const config = testConfig({ dataDir, flushIntervalMs: 20, ...opts.config });
  const store: Store =
    opts.storage === 'memory'
      ? new MemoryStore({ maxFinishedDeliveries: config.maxFinishedDeliveries, maxStoreBytes: config.maxStoreBytes })
      : await LowdbStore.open({
          dataDir,
          flushIntervalMs: config.flushIntervalMs,
          maxRequestsPerBin: config.maxRequestsPerBin,
          maxStoreBytes: config.maxStoreBytes,
          cacheBytes: config.cacheBytes,
          maxFinishedDeliveries: config.maxFinishedDeliveries,
        });
  const { config: _c, storage: _s, dataDir: _d, ...deps } = opts;
  const app = await createApp({ staticDir: null, ...deps, config, store });
  const base = await app.listen();
  if (!opts.config?.publicUrl) config.publicUrl = base;
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await app.close();
  };
  return {
    base,
    app,
    store,
    config,
    dataDir,
    stop,
    async cleanup() {
      await stop();
      if (!opts.dataDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** POST /api/bins and answer the bin. */
export async function createBin(base: string, name?: string): Promise<{ id: string; url: string }> {
  const r = await fetch(`${base}/api/bins`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(name ? { name } : {}),
  });
  if (r.status !== 201) throw new Error(`create bin: ${r.status} ${await r.text()}`);
  return (await r.json()) as { id: string; url: string };
}

export async function json<T = unknown>(base: string, method: string, p: string, body?: unknown): Promise<{ status: number; body: T }> {
  const r = await fetch(base + p, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  return { status: r.status, body: (text ? JSON.parse(text) : null) as T };
}
