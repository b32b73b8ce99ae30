// Entry point: config from the environment, open storage, listen, shut down cleanly.
import { mkdir } from 'node:fs/promises';
import { isIP } from 'node:net';
import { type HooklabApp, createApp } from './app.ts';
import { ConfigError, loadConfig } from './config.ts';
import { consoleLogger } from './log.ts';
import { DataFileError, LowdbStore } from './store/lowdb.ts';

const log = consoleLogger();

function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1';
}

async function main() {
  const config = loadConfig();
  // Signal handlers first: until they exist, SIGTERM kills the process without a flush.
  let app: HooklabApp | null = null;
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info(`${signal}: flushing data and stopping`);
    const force = setTimeout(() => {
      log.error('shutdown took more than 10 s; exiting');
      process.exit(1);
    }, 10_000);
    force.unref();
    await app?.close();
    log.info('stopped');
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));

  if (!isLoopback(config.host) && !config.authToken) {
    log.warn(
      `HOST is ${config.host}, so anyone who can reach this machine can read every captured request and ` +
        'use the dispatcher. Set AUTH_TOKEN to require a token for the UI and API (receiver URLs stay open).',
    );
  }
  await mkdir(config.dataDir, { recursive: true });
  const store = await LowdbStore.open({
    dataDir: config.dataDir,
    flushIntervalMs: config.flushIntervalMs,
    maxRequestsPerBin: config.maxRequestsPerBin,
    maxFinishedDeliveries: config.maxFinishedDeliveries,
    onWriteError: (file, err) => log.error('could not write data file; will retry', { file, error: String(err) }),
  });
  app = await createApp({ config, store, log });
  const s = config.schedule;
  log.info('dispatcher retry policy', { firstDelayMs: s.firstDelayMs, factor: s.factor, jitter: s.jitter, deadlineMs: s.deadlineMs });
  const base = await app.listen();
  log.info(`hooklab listening on ${base}`, { dataDir: config.dataDir, publicUrl: config.publicUrl });
}

main().catch((err) => {
  if (err instanceof ConfigError || err instanceof DataFileError) {
    log.error(err.message);
  } else if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
    log.error(`port is already in use: ${(err as Error).message}. Set PORT to another port.`);
  } else {
    log.error('failed to start', { error: err instanceof Error ? err.stack : String(err) });
  }
  process.exit(1);
});
