// Entry point: config from the environment, listen at once (503 "starting" while the data
// loads), open storage, install the app, shut down cleanly.
import path from 'node:path';
import { parseArgs } from 'node:util';
import { type HooklabApp, createApp } from './app.ts';
import { type ApplyResult, applyConfig, ConfigRefusedError } from './apply-config.ts';
import { targetRefusal } from './forward/forwarder.ts';
import { ownOriginCheck } from './forward/own-origins.ts';
import { ConfigError, loadConfig, responseLimitsOf } from './config.ts';
import { ConfigFileError, loadConfigFile } from './config-file.ts';
import { createHttp } from './http/server.ts';
import { consoleLogger } from './log.ts';
import { createOutboundPolicy, isLoopbackHost } from './net/outbound-policy.ts';
import { DataDirError, DataDirLockedError, DataFileError, LowdbStore } from './store/lowdb.ts';
import { errorText, redactDataPaths } from './store/redact.ts';
// The Redis store and cluster are loaded only when STORE=redis (the client takes ~70-120 ms to load here).
import { safeUrl } from './store/redis/safe-url.ts';
import { RedisUnavailableError } from './store/redis/unavailable.ts';
import { type StoreFault, UnsavedDataError } from './store/types.ts';

const log = consoleLogger();
/** Known once the config is: errors that name a data file are logged with its bin id replaced (see redact.ts). */
let dataDir: string | null = null;
const redact = (text: string) => (dataDir ? redactDataPaths(text, dataDir) : text);

/** `--config FILE` (or HOOKLAB_CONFIG). */
function configFileArg(): string | null {
  const { values } = parseArgs({ options: { config: { type: 'string' } }, strict: false });
  const v = values.config ?? process.env.HOOKLAB_CONFIG;
  return typeof v === 'string' && v ? path.resolve(v) : null;
}

async function main() {
  const config = loadConfig();
  dataDir = config.dataDir;
  const configPath = configFileArg();
  // A bad config file stops start-up before anything is touched.
  const file = configPath ? await loadConfigFile(configPath, responseLimitsOf(config)) : null;
  // Signal handlers first: until they exist, SIGTERM kills the process without a flush.
  let app: HooklabApp | null = null;
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info(`${signal}: flushing data and stopping`);
    const force = setTimeout(() => {
      log.error('shutdown took more than 10 s; exiting without saving the rest');
      process.exit(1);
    }, 10_000);
    force.unref();
    try {
      await app?.close();
    } catch (err) {
      // Loud: say what is lost, and exit non-zero so a supervisor notices.
      log.error(err instanceof UnsavedDataError ? err.message : `stopping failed: ${errorText(err, config.dataDir)}`);
      process.exit(1);
    }
    log.info('stopped; everything is saved');
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));

  // Listen first: while the data loads, senders get 503 + Retry-After, not "connection refused".
  const web = createHttp(config);
  let base: string;
  try {
    base = await web.listen();
  } catch (err) {
    throw hostError(err, config.host) ?? err;
  }
  // Once listening: a HOST that could not be bound exposes nothing, and gets no such warning.
  if (!isLoopbackHost(config.host) && !config.authToken) {
    log.warn(
      `HOST is ${config.host}, so anyone who can reach this machine can read every captured request and ` +
        'use the dispatcher. Set AUTH_TOKEN to require a token for the UI and API (receiver URLs stay open).',
    );
  }
  if (config.instanceUrlDefaulted) config.instanceUrl = base;
  const where = config.store === 'redis' ? safeUrl(config.redisUrl) : config.dataDir;
  log.info(`hooklab listening on ${base} (loading data from ${where})`);
  const t0 = performance.now();
  const onFault = (fault: StoreFault | null, err?: unknown) =>
    fault
      ? log.error(`storage fault: ${fault.message}`, { code: fault.code, error: errorText(err, config.dataDir) })
      : log.info('storage recovered: writes succeed again');
  const onWarning = (m: string, detail?: Record<string, unknown>) => log.warn(m, detail);
  // Health while it waits names what for (not where: health is public).
  const giveUp = `this instance gives up after ${Math.round(config.redisStartWaitMs / 1000)} s (REDIS_START_WAIT_MS) and exits`;
  if (config.store === 'redis') web.setStarting(`hooklab is starting: connecting to Redis; ${giveUp}.`);
  const onStartWait = (m: string) => {
    log.warn(m);
    const why = /credentials/.test(m) ? "Redis refuses hooklab's credentials" : /not ready/.test(m) ? 'Redis is not ready: still loading its data?' : 'Redis does not answer';
    web.setStarting(`hooklab is starting: waiting for Redis (${why}); ${giveUp}.`);
  };
  const store =
    config.store === 'redis'
      ? await (await import('./store/redis/redis-store.ts')).RedisStore.open({
          url: config.redisUrl,
          prefix: config.redisPrefix,
          maxStoreBytes: config.maxStoreBytes,
          maxFinishedDeliveries: config.maxFinishedDeliveries,
          feedMaxLen: config.liveStreamMaxLen,
          waitMs: config.redisStartWaitMs,
          onStartWait,
          onFault,
          onWarning,
        })
      : await LowdbStore.open({
          dataDir: config.dataDir,
          flushIntervalMs: config.flushIntervalMs,
          maxRequestsPerBin: config.maxRequestsPerBin,
          maxStoreBytes: config.maxStoreBytes,
          cacheBytes: config.cacheBytes,
          maxFinishedDeliveries: config.maxFinishedDeliveries,
          onFault,
          onWarning,
          onFlushed: ({ startedAt, ms, ok }) => {
            if (ms < config.logFlushMs) return;
            const fields = { startedAt: new Date(startedAt).toISOString(), ms: Math.round(ms * 10) / 10, ok };
            if (config.logFlushMs === 0) log.info('flushed to DATA_DIR', fields);
            else log.warn('slow write to DATA_DIR: what is acknowledged waits that long to be on disk', fields);
          },
        });
  // On Redis, instances share rooms and notes besides the store.
  const cluster =
    config.store === 'redis'
      ? new (await import('./cluster/redis-cluster.ts')).RedisCluster({ url: config.redisUrl, prefix: config.redisPrefix, streamMaxLen: config.liveStreamMaxLen, onError: () => {} })
      : undefined;
  if (stopping) return;
  let recheck: string[] = [];
  let hooksChanged: string[] = [];
  let settingsChanged: ApplyResult['changed'] = [];
  if (file) {
    // Forward targets are refused as the API refuses them: a loop into this hooklab, or one the outbound policy does not allow.
    const isOwnOrigin = ownOriginCheck(() => config.publicUrl, web.server);
    const policy = createOutboundPolicy({ host: config.host, allow: config.dispatchAllow, publicUrl: () => config.publicUrl });
    const refuseWebhookUrl = (url: string) => {
      const v = policy.checkUrl(new URL(url));
      return v.ok ? null : v.reason;
    };
    let r: Awaited<ReturnType<typeof applyConfig>>;
    try {
      r = await applyConfig(store, file, { now: new Date().toISOString(), limits: responseLimitsOf(config), refuseTarget: (url) => targetRefusal(url, { policy, isOwnOrigin }), refuseWebhookUrl, maxBins: config.maxBins, maxWebhooks: config.maxWebhooks, scheduleLimits: { schedule: config.schedule, maxAttempts: config.maxScheduleAttempts } });
    } catch (err) {
      if (err instanceof ConfigRefusedError) throw new ConfigFileError(`Invalid config file ${path.basename(configPath!)} (${configPath}), nothing was applied:\n  ${err.message}`);
      throw err;
    }
    log.info(`config ${configPath} applied`, { created: r.created.length, updated: r.updated.length, removed: r.removed.length });
    for (const w of r.warnings) log.warn(w);
    recheck = r.recheck;
    settingsChanged = r.changed;
    hooksChanged = [...r.created, ...r.updated, ...r.removed].filter((x) => x.startsWith('webhook ')).map((x) => x.slice('webhook '.length));
  }
  app = await createApp({ config, store, log, http: web, cluster });
  // On Redis the dispatcher may run on another instance: it hears of the file's webhook changes
  // (a prune or a disable cancels what the webhook still owed) as of the API's.
  for (const id of hooksChanged) cluster?.note('webhook', id);
  // The other instances hold bins and settings in memory: the file's changes reach them as the API's do.
  for (const c of settingsChanged) cluster?.note(c.kind, c.binId);
  for (const id of recheck) await app.verifier.recheckAfterChange(id);
  const s = config.schedule;
  log.info('dispatcher retry policy', { firstDelayMs: s.firstDelayMs, factor: s.factor, jitter: s.jitter, deadlineMs: s.deadlineMs });
  // Whoever opens the UI learns here whether it will ask for a token (never the token itself).
  const access = config.authToken ? 'the UI, API and CLI ask for the token in AUTH_TOKEN; receiver URLs are open' : 'open: no token asked (AUTH_TOKEN not set)';
  log.info(`hooklab ready on ${base}`, { store: config.store, data: where, publicUrl: config.publicUrl, access, loadMs: Math.round(performance.now() - t0) });
}

/** A HOST that cannot be listened on (no such name, not an address of this machine), said in one line; null for other errors. */
function hostError(err: unknown, host: string): ConfigError | null {
  const code = (err as NodeJS.ErrnoException).code;
  const why =
    code === 'ENOTFOUND' || code === 'EAI_NONAME' || code === 'EAI_FAIL'
      ? 'no such host name'
      : code === 'EAI_AGAIN'
        ? 'its name could not be looked up now'
        : code === 'EADDRNOTAVAIL'
          ? 'not an address of this machine'
          : null;
  if (!why) return null;
  return new ConfigError(`cannot listen on HOST ${host}: ${why} (${code}). Set HOST to an address of this machine: 127.0.0.1 (this machine only) or 0.0.0.0 (every interface).`);
}

main().catch((err) => {
  if (err instanceof ConfigError || err instanceof ConfigFileError || err instanceof DataFileError || err instanceof DataDirError || err instanceof DataDirLockedError || err instanceof RedisUnavailableError) {
    log.error(redact(err.message));
  } else if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
    log.error(`port is already in use: ${(err as Error).message}. Set PORT to another port.`);
  } else {
    log.error('failed to start', { error: redact(err instanceof Error ? (err.stack ?? String(err)) : String(err)) });
  }
  process.exit(1);
});
