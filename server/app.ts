// createApp(deps) builds the whole server without listening and without globals, so tests
// build as many as they like. Receiver URLs are answered by node:http directly (the hot
// path); everything else goes through Express; Socket.IO shares the same port.
import { existsSync } from 'node:fs';
import type http from 'node:http';
import path from 'node:path';
import express, { type NextFunction, type Request, type Response } from 'express';
import { Server } from 'socket.io';
import type { ClientToServerEvents, RequestItem, ServerToClientEvents } from '../shared/api.ts';
import { RECEIVER_PREFIX } from '../shared/api.ts';
import { normalizeAbsoluteForm } from './http/absolute-form.ts';
import type { ApiContext } from './api/context.ts';
import { apiRouters } from './api/index.ts';
import { removeBin } from './api/bins.ts';
import { docsPage } from './api/docs-page.ts';
import { openApiDocument } from './api/openapi.ts';
import { BodyBudget } from './capture/body-budget.ts';
import { RateLimiter } from './capture/rate-limit.ts';
import { RequestWaiters } from './capture/waiters.ts';
import { KeyedSlots } from './lib/keyed-slots.ts';
import { clientKey } from './net/client-key.ts';
import { readCaptured } from './store/captured.ts';
import { dropOrphanSettings } from './bins/orphan-settings.ts';
import { DeliveryWaiters } from './dispatch/delivery-waiters.ts';
import { tapDeliveries, tapSettings } from './live/tap.ts';
import { clientIp, createReceiver, unwrittenLimitMs } from './capture/receiver.ts';
import { type Config, responseLimitsOf } from './config.ts';
import { API_JSON_LIMIT, isSingleReplay, limitWords, replayJsonLimit } from './http/json-limits.ts';
import type { Control } from './control/control.ts';
import { ResponseControl } from './control/controller.ts';
import { RedisResponseControl } from './control/redis-control.ts';
import { ClusterDispatcher, HOP_HEADER, passedOn, REMOTE_CALL_TIMEOUT_MS } from './cluster/cluster-dispatcher.ts';
import { DispatcherLease } from './cluster/dispatcher-lease.ts';
import type { DispatcherApi } from './dispatch/dispatcher-api.ts';
import type { RedisCluster } from './cluster/redis-cluster.ts';
import { reloadCopies } from './cluster/resync.ts';
import { SETTINGS_LOCK_TTL_MS, SettingsLock, SettingsLockBusyError } from './cluster/settings-lock.ts';
import type { RedisStore } from './store/redis/redis-store.ts';
import { isRedisStore } from './store/redis/is-redis-store.ts';
import { VirtualClock } from './dispatch/clock.ts';
import { Dispatcher, pendingRetryAfter } from './dispatch/dispatcher.ts';
import { type Send, createSender } from './dispatch/send.ts';
import { hybridSend } from './dispatch/hybrid-sender.ts';
import { createWorkerSender } from './dispatch/worker-sender.ts';
import { authRoutes, requireToken, tokenFrom, tokenGate } from './http/auth.ts';
import { createHostGuard } from './http/host-guard.ts';
import { connectionRefusal, createHttp, type HooklabHttp } from './http/server.ts';
import { overHeaderCount, tooManyHeadersMessage } from './http/too-many-headers.ts';
import { isJsonType } from './http/json-type.ts';
import { CONNECTIONS_PER_ORIGIN, Forwarder } from './forward/forwarder.ts';
import { ReplayJobs } from './forward/replay-jobs.ts';
import { BinAttempts } from './verify/bin-attempts.ts';
import { Verifier } from './verify/service.ts';
import { ownOriginCheck } from './forward/own-origins.ts';
import { startForwardThread } from './forward/forward-thread-client.ts';
import { LOOP_HEADER, SelfConnections } from './forward/self-connections.ts';
import { clientDir } from './paths.ts';
import { startIdleSweeper } from './bins/sweeper.ts';
import type { BinActivity } from './bins/idle.ts';
import { VERSION } from './version.ts';
import { HttpError } from './http/errors.ts';
import { newId, sortableIdFactory } from './ids.ts';
import { createOutboundPolicy } from './net/outbound-policy.ts';
import { type LiveBus, SocketBus } from './live/bus.ts';
import { jsonOnlyParser } from './live/parser.ts';
import { SendCap } from './live/send-cap.ts';
import { tellJoined } from './live/joined.ts';
import { attachLiveHandlers } from './live/socket.ts';
import { SessionBudget, capSocketsPerSession, refuseHandshake } from './live/sessions.ts';
import { type Logger, silentLogger } from './log.ts';
import { ThrottledCount } from './lib/throttled-count.ts';
import { jsonProblem } from './lib/json-problem.ts';
import { type Store, type StoredBin, StoreReadError, StoreUnavailableError } from './store/types.ts';
import { KeyedQueue } from './lib/keyed-queue.ts';
import { uiFiles } from './http/ui-files.ts';
import { SearchTurns } from './capture/search-turns.ts';
import { SettingsWrites, settingsKey } from './api/settings-writes.ts';

export { VERSION };
export const USER_AGENT = `hooklab-dispatcher/${VERSION} (+self-hosted webhook test harness)`;

export interface AppDeps {
  config: Config;
  store: Store;
  log?: Logger;
  /** Wall clock (ms). The dispatcher's virtual clock is built on it. */
  now?: () => number;
  /** Uniform [0, 1): seeds and payload ids. */
  random?: () => number;
  /** Replace the HTTP sender (only where the real one cannot run). */
  send?: Send;
  /** Built UI to serve; null for none. Default: dist/client when it exists. */
  staticDir?: string | null;
  /** A server already listening (answering 503 while the store loaded); default: a new one. */
  http?: HooklabHttp;
  /** Several instances on one Redis (STORE=redis): the store must be the RedisStore. */
  cluster?: RedisCluster;
}

export interface HooklabApp {
  server: http.Server;
  io: Server<ClientToServerEvents, ServerToClientEvents>;
  dispatcher: DispatcherApi;
  control: Control;
  live: LiveBus;
  /** The wait API's waiting requests (tests check that gone clients free theirs). */
  waiters: RequestWaiters;
  /** The wait API's slots (WAIT_MAX_WAITERS): tests check each comes back. */
  waitBudget: KeyedSlots;
  /** Settings writes in line per resource (see api/settings-writes.ts). */
  settingsWrites: SettingsWrites;
  /** Body searches' turns (see capture/search-turns.ts). */
  searchTurns: SearchTurns;
  /** Signature checks (the config file's new settings re-check what bins hold). */
  verifier: Verifier;
  /** One pass of idle-bin expiry now (BIN_IDLE_DAYS; it also runs by itself): the ids deleted. */
  sweepIdleBins(): Promise<string[]>;
  /** Listen on config.host:config.port (0 = any); answers the base URL. */
  listen(): Promise<string>;
  /** Stop accepting, drop connections, flush storage. */
  close(): Promise<void>;
}

const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self' ws: wss:",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
  "form-action 'self'",
].join('; ');

/** Retry-After of a handshake over a session cap: sessions of gone clients end within 45 s. */
const SESSIONS_RETRY_AFTER_S = 5;

function securityHeaders(_req: Request, res: Response, next: NextFunction) {
  res.setHeader('content-security-policy', CSP);
  res.setHeader('x-content-type-options', 'nosniff');
  res.setHeader('referrer-policy', 'no-referrer');
  res.setHeader('x-frame-options', 'DENY');
  next();
}

/**
 * Why the JSON parser refused a body: where it is not JSON, or (the parser takes objects and
 * arrays only) that it is JSON of another kind: `null`, `123` or `"s"` are not "invalid JSON".
 */
function parseFailure(body: string): string {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return `body is not valid JSON (${jsonProblem(body)})`;
  }
  return `body must be a JSON object, not ${value === null ? 'null' : `a ${typeof value}`}`;
}

/** The newest capture id the store holds, in any bin (null: none). */
async function newestRequestId(store: Store): Promise<string | null> {
  let newest: string | null = null;
  for (const bin of await store.bins.list()) {
    const [item] = await store.requests.items(bin.id, { limit: 1 });
    if (item && (newest === null || item.id > newest)) newest = item.id;
  }
  return newest;
}

/** The Retry-After of a 503 that names none of its own. */
const DEFAULT_RETRY_AFTER_S = 5;

export async function createApp(deps: AppDeps): Promise<HooklabApp> {
  const { config, store } = deps;
  const log = deps.log ?? silentLogger;
  const now = deps.now ?? Date.now;
  const random = deps.random ?? Math.random;

  // The server answers 503 "starting" until the handler is installed at the end. It must
  // exist before Socket.IO attaches: Socket.IO wraps its listeners and routes /socket.io/.
  const web = deps.http ?? createHttp(config);
  const httpServer = web.server;
  // Without a token, only our own host names (see host-guard.ts); with one, any Host, but a
  // browser's Origin still only ours (the sign-in cookie goes with a same-site page's requests).
  // Ports count too; both are read per request, as they are only known after listen().
  const boundPort = () => (httpServer.address() as { port?: number } | null)?.port ?? config.port;
  const hostGuard = createHostGuard({ publicUrl: () => config.publicUrl, host: config.host, extra: config.allowedHosts, port: boundPort });
  const guardAllows = (req: http.IncomingMessage) => (config.authToken ? hostGuard.originAllowed(req) : hostGuard.allows(req));
  const guardReason = (req: http.IncomingMessage) => (config.authToken ? hostGuard.originReason(req) : hostGuard.reason);
  const cluster = deps.cluster ?? null;
  if (cluster && !isRedisStore(store)) throw new Error('a cluster needs the Redis store');
  // One count of wrong tokens per client IP, shared by the login form, the API and Socket.IO.
  // Made here: Socket.IO answers handshakes as soon as it is attached (before the app is).
  const gate = config.authToken
    ? tokenGate(config.authToken, { failuresPerMinute: config.authFailuresPerMinute, trustProxy: config.trustProxy, now })
    : null;
  const sessions = new SessionBudget(config.liveMaxSessions, config.liveMaxSessionsPerIp);
  const io = new Server<ClientToServerEvents, ServerToClientEvents>(httpServer, {
    serveClient: false,
    // Other upgrades are answered as plain HTTP (http/plain-upgrades.ts), not closed.
    destroyUpgrade: false,
    // Rooms across instances: a capture received by A reaches a viewer connected to B.
    ...(cluster ? { adapter: cluster.adapter() } : {}),
    parser: jsonOnlyParser,
    // Called for handshakes only (a request without a session id): everything that makes a
    // session is decided here, before it is made.
    allowRequest: (req, cb) => {
      // Socket.IO takes its requests before the HTTP server's handler, which counts headers.
      if (overHeaderCount(req, config.maxHeaderCount)) {
        refuseHandshake(req, 431, 'too_many_headers', tooManyHeadersMessage(config.maxHeaderCount), null);
        return cb('too many headers', false);
      }
      const overCap = web.overCap(req.socket);
      if (overCap) {
        // As the HTTP server answers any request on such a connection (see http/server.ts).
        refuseHandshake(req, 503, 'too_many_connections', connectionRefusal(overCap, config), 2);
        return cb('too many connections', false);
      }
      if (!guardAllows(req)) {
        refuseHandshake(req, 403, config.authToken ? 'forbidden_origin' : 'forbidden_host', guardReason(req), null);
        return cb('forbidden host or origin', false);
      }
      if (gate) {
        // The token comes with the handshake (Authorization: Bearer, or the UI's cookie): the
        // Socket.IO auth payload arrives only once a session exists.
        const c = gate.check(req, tokenFrom(req));
        if (!c.ok) {
          if (c.retryAfter !== null) refuseHandshake(req, 429, 'rate_limited', `too many wrong access tokens from this address; try again in ${c.retryAfter} s`, c.retryAfter);
          else refuseHandshake(req, 401, 'unauthorized', 'missing or wrong access token (AUTH_TOKEN): send it as Authorization: Bearer <token>', null);
          return cb('unauthorized', false);
        }
      }
      const over = sessions.admit(req, clientKey(clientIp(req, config.trustProxy)));
      if (over) {
        const which = over === 'key' ? 'from this address (LIVE_MAX_SESSIONS_PER_IP)' : '(LIVE_MAX_SESSIONS)';
        refuseHandshake(req, 503, 'too_many_sessions', `hooklab holds as many live sessions ${which} as it may; retry shortly.`, SESSIONS_RETRY_AFTER_S);
        return cb('too many live sessions', false);
      }
      cb(null, true);
    },
  });
  io.engine.on('connection', (s: Parameters<SessionBudget['made']>[0]) => sessions.made(s));
  // At most LIVE_MAX_SOCKETS_PER_SESSION sockets per session: one session trying more is closed.
  const overSockets = new ThrottledCount<string>({
    intervalMs: 10_000,
    write: (count) => log.warn('closed live sessions that opened more Socket.IO sockets than LIVE_MAX_SOCKETS_PER_SESSION', { count }),
  });
  capSocketsPerSession(io, config.liveMaxSocketsPerSession, (sid) => overSockets.add(sid));
  const sendCap = new SendCap(io, config.liveMaxBufferBytes, (_s, bytes) =>
    log.warn('dropped a live viewer that stopped reading; it will reconnect and catch up', { bufferedBytes: bytes }),
  );
  sendCap.start();
  const socketBus = new SocketBus(io, { sendCap, shared: cluster !== null });
  // Settings replaced here: the other instances reload their copies.
  const live = cluster ? tapSettings(socketBus, (binId, kind) => cluster.note(kind, binId)) : socketBus;

  // Public HOST without DISPATCH_ALLOW: public addresses only (see net/outbound-policy.ts).
  const policyOptions = { host: config.host, allow: config.dispatchAllow };
  // Whether a URL is at one of hooklab's own origins: the dispatcher sends there inline, a
  // forward there would loop.
  const isOwnOrigin = ownOriginCheck(() => config.publicUrl, httpServer);
  const outbound = createOutboundPolicy({ ...policyOptions, publicUrl: () => config.publicUrl });
  const inlineSender = () =>
    createSender({
      maxResponseBytes: config.dispatchMaxResponseBytes,
      policy: outbound,
      link: config.dispatchInProcess ? httpServer : undefined,
    });
  const sender = deps.send
    ? { send: deps.send, fault: () => null, close() {} }
    : config.dispatchWorker
      ? (() => {
          // Attempts to our own receivers and those one at a time here, bursts elsewhere on the
          // sender thread (see hybrid-sender.ts).
          const thread = createWorkerSender({ maxResponseBytes: config.dispatchMaxResponseBytes, policy: policyOptions }, () => config.publicUrl, {
            onCrash: (message) => log.error(message),
          });
          const inline = inlineSender();
          return {
            send: hybridSend(inline.send, thread.send, { isOwn: isOwnOrigin }),
            fault: () => thread.fault(),
            close() {
              thread.close();
              inline.close();
            },
          };
        })()
      : { ...inlineSender(), fault: () => null };
  // The wait API: captures matching a filter, deliveries reaching a state.
  const waiters = new RequestWaiters(config.maxDecodedBytes);
  // Waiters told of a capture read back from the store: one made on another instance, or a
  // proxied one whose answer was recorded. A read that fails tells no one (the store's fault shows in health).
  const tellWaiters = (binId: string, id: string, what: 'captured' | 'answered') => {
    readCaptured(store, binId, id)
      .then((c) => c && waiters[what](c))
      .catch(() => {});
  };
  const deliveryWaiters = new DeliveryWaiters();
  const dispatcherLive = tapDeliveries(live, (d) => {
    deliveryWaiters.changed(d);
    // Waiters on the other instances fetch it from the store.
    cluster?.note('delivery', d.id);
  });
  // Settings writes in line per resource (see api/settings-writes.ts); the dispatcher's changes
  // to a webhook take their turn in its line too.
  // On Redis each holds the resource's lock there too (cluster/settings-lock.ts).
  const settingsWrites = new SettingsWrites(
    new KeyedQueue(config.maxWaitingWrites),
    isRedisStore(store)
      ? new SettingsLock({ client: store.db.client, prefix: store.prefix, run: (fn) => store.db.run(() => fn()), ttlMs: SETTINGS_LOCK_TTL_MS, waitMs: config.settingsLockWaitMs })
      : null,
  );
  const searchTurns = new SearchTurns({ max: config.maxBodySearches });
  // Delivery ids sort by creation (lists page by them): after the newest stored one, read as
  // the dispatcher starts here (on Redis, another instance's may be newer), whatever the clock says.
  const newestDelivery = async (st: Store) => (await st.deliveries.query({ limit: 1 }))[0]?.id ?? null;
  // A store away fails every pending delivery's writes, each retried: counted, not a line each.
  const dispatcherErrors = new ThrottledCount<unknown>({
    intervalMs: API_ERROR_LOG_MS,
    write: (count, err) => log.error('dispatcher error', { count, ...errorSummary(err) }),
  });
  const makeDispatcher = (st: Store, clock: VirtualClock, lastDeliveryId: string | null, beforeSend?: () => Promise<void>) =>
    new Dispatcher({
    beforeSend,
    store: st,
    clock,
    realNow: now,
    send: sender.send,
    live: dispatcherLive,
    schedule: config.schedule,
    maxAttempts: config.maxScheduleAttempts,
    timeoutMs: config.dispatchTimeoutMs,
    concurrency: config.dispatchConcurrency,
    maxPending: config.maxPendingDeliveries,
    userAgent: USER_AGENT,
    newDeliveryId: sortableIdFactory(now, 'dl_', lastDeliveryId),
    newMessageId: () => newId('msg'),
    newRunId: () => newId('run'),
    random,
    onError: (err) => dispatcherErrors.add(err),
    webhookTurn: (id, change) => settingsWrites.run(settingsKey.webhook(id), change, true),
  });
  // One process: its own dispatcher. On Redis: the one instance holding the lease runs it;
  // the others pass the API's calls to it (cluster/cluster-dispatcher.ts).
  let dispatcher: DispatcherApi;
  let single: Dispatcher | null = null;
  let clusterDispatcher: ClusterDispatcher | null = null;
  let lease: DispatcherLease | null = null;
  if (cluster && isRedisStore(store)) {
    const cd = (clusterDispatcher = new ClusterDispatcher({
      holder: () => lease!.holder(),
      selfUrl: config.instanceUrl,
      token: config.authToken,
      noteWebhook: (id) => cluster.note('webhook', id),
      timeoutMs: REMOTE_CALL_TIMEOUT_MS,
      watchMs: Math.max(250, Math.floor(config.dispatcherLeaseMs / 3)),
    }));
    dispatcher = cd;
    lease = new DispatcherLease({
      db: store.db,
      prefix: store.prefix,
      selfUrl: config.instanceUrl,
      ttlMs: config.dispatcherLeaseMs,
      onAcquire: async (epoch) => {
        // Its writes carry the epoch: refused once another instance holds the lease.
        const fenced = store.fenced(lease!.key, epoch);
        // Nothing is sent while the lease is in doubt (see dispatcher-lease.ts).
        const d = makeDispatcher(fenced, new VirtualClock(now, await fenced.getClock()), await newestDelivery(fenced), () => lease!.whenSure());
        await d.start();
        cd.local = d;
        log.info('this instance runs the dispatcher now', { epoch });
      },
      onLose: async () => {
        const d = cd.local;
        cd.local = null;
        await d?.stop();
        if (d) log.warn('this instance no longer runs the dispatcher (its lease passed to another)');
      },
      onSuspend: () => {
        // Neutral: Redis away or slow, or this process paused (a stop, a long GC) look alike here.
        if (cd.local) log.warn('the dispatcher waits: its lease could not be renewed in time; nothing is sent until it is, and what was answered meanwhile is recorded then');
      },
      onResume: () => {
        if (!cd.local) return;
        log.info('the dispatcher goes on: its lease is renewed');
        cd.local.retryStoreNow();
      },
      onError: (err) => log.warn('dispatcher lease: Redis does not answer its reads and beats (said once, until it does)', { error: String(err) }),
      onRecover: () => log.info('dispatcher lease: Redis answers its reads and beats again'),
      onStepError: (err) => log.error('dispatcher lease: taking up or putting down the dispatcher failed', { error: String(err) }),
    });
  } else {
    dispatcher = single = makeDispatcher(store, new VirtualClock(now, await store.getClock()), await newestDelivery(store));
  }
  const control: Control =
    cluster && isRedisStore(store)
      ? new RedisResponseControl({
          store,
          live,
          limits: responseLimitsOf(config),
          randomSeed: () => Math.floor(random() * 2 ** 32),
          client: store.db.client,
          run: (fn) => store.db.run(() => fn()),
          sharedRead: (key, fn) => store.db.sharedRead(key, () => fn()),
          prefix: store.prefix,
        })
      : new ResponseControl(store, live, responseLimitsOf(config), () => Math.floor(random() * 2 ** 32));
  const orphans = await dropOrphanSettings(store);
  if (orphans) log.warn('dropped the settings of bins deleted just before the last stop', { count: orphans });
  await control.load();
  // Caps lowered since the captures were stored apply now, as lowdb's do as it loads; viewers
  // on the instances already running are told.
  if (isRedisStore(store)) {
    await store
      .applyCaps(config.maxRequestsPerBin, (evs) => {
        for (const ev of evs) live.requestsEvicted(ev.binId, ev.ids, true);
      })
      .catch((err: unknown) => log.warn('could not apply MAX_REQUESTS_PER_BIN and MAX_STORE_BYTES to what is stored at start-up; the next captures will', { error: String(err) }));
  }

  const rateLimiter = config.rateLimitPerBin > 0 ? new RateLimiter(config.rateLimitPerBin) : null;
  // Forward targets, proxy mode and replays: outbound calls under the dispatcher's policy.
  const selfConnections = new SelfConnections();
  const forwardThread = config.forwardWorker
    ? startForwardThread({
        policy: policyOptions,
        publicUrl: () => config.publicUrl,
        timeoutMs: config.forwardTimeoutMs,
        maxResponseBytes: config.forwardMaxResponseBytes,
        connectionsPerOrigin: CONNECTIONS_PER_ORIGIN,
        self: selfConnections,
        onCrash: (message) => log.error(message),
      })
    : undefined;
  const forwarder = new Forwarder({
    store,
    self: selfConnections,
    thread: forwardThread,
    policy: outbound,
    isOwnOrigin,
    timeoutMs: config.forwardTimeoutMs,
    maxResponseBytes: config.forwardMaxResponseBytes,
    concurrency: config.forwardConcurrency,
    maxQueued: 10 * config.forwardConcurrency,
    now,
    log,
    // A forward's result shows in the detail, not the row: its id alone tells watchers.
    onRecorded: (item, rec, rowChanged) => {
      if (rowChanged) live.requestUpdated(item);
      else live.requestDetailChanged(item.binId, item.id);
      // A proxied capture reaches waiters once the sender's answer is known (see waiters.ts), here and elsewhere.
      if (rec.kind === 'proxy') {
        if (waiters.wants(item.binId)) tellWaiters(item.binId, item.id, 'answered');
        cluster?.note('answered', item.binId, item.id);
      }
    },
  });
  await forwarder.load();
  // Bulk replays, kept in the store: those this instance left running (lowdb: any, one
  // instance) or whose instance is gone are failed now.
  const replays = new ReplayJobs({
    store,
    instance: config.instanceUrl,
    staleMs: config.replayStaleMs,
    now,
    onWriteError: (err, id) => log.warn('bulk replay: writing its progress failed; retrying', { replay: id, error: String(err) }),
  });
  const stopped = await replays.recover(!isRedisStore(store)).catch((err: unknown) => {
    log.warn('bulk replays left running could not be marked failed', { error: String(err) });
    return 0;
  });
  if (stopped) log.info('bulk replays left running by a stopped instance are marked failed', { count: stopped });
  const verifier = new Verifier({
    store,
    onChecked: (item) => live.requestUpdated(item),
    // Not the bin's id: it is the receiver URL's secret part.
    onRecheckFailed: (_binId, err, retryInMs) => log.warn("a bin's signature settings changed, but its stored captures could not be checked again; retrying", { retryInMs, error: String(err) }),
  });
  await verifier.load();
  const binAttempts = new BinAttempts(store);
  // On Redis the store numbers captures itself, in the order they reach it (any instance).
  // One source for live captures and imports, so both sort in the order they arrived.
  // After the newest stored one, whatever the clock says now (see sortableIdFactory).
  const newRequestId = isRedisStore(store) ? () => '' : sortableIdFactory(now, '', await newestRequestId(store));
  const receive = createReceiver(
    {
      // Redis: the receiver does not read a bin it found lately again (RedisBins.forCapture).
      store: cluster && isRedisStore(store) ? store.forCaptures() : store,
      control,
      live,
      newRequestId,
      now,
      maxBodyBytes: config.maxBodyBytes,
      maxHeaderCount: config.maxHeaderCount,
      maxRequestsPerBin: config.maxRequestsPerBin,
      hangTimeoutMs: config.hangTimeoutMs,
      trustProxy: config.trustProxy,
      rateLimiter,
      budget: new BodyBudget(config.maxBufferedBytes, () => store.requests.pendingBytes()),
      maxUnwrittenBytes: config.maxUnwrittenBytes,
      maxUnwrittenMs: unwrittenLimitMs(config.flushIntervalMs),
      waiters,
      // A delayed answer went: waiters with a `status` filter count it now, here and elsewhere.
      onAnswered: (binId, id) => {
        if (waiters.wants(binId)) tellWaiters(binId, id, 'answered');
        cluster?.note('answered', binId, id);
      },
      forwarder,
      selfConnections,
      verifier,
      authToken: config.authToken,
    },
    RECEIVER_PREFIX,
  );
  if (cluster) {
    // Settings changed, or a bin created, changed or deleted, on another instance.
    // A reload that fails is not dropped: everything is reloaded, retried until it works (see redis-cluster.ts).
    const reloadFailed = (e: unknown) => cluster.resync("reading a bin's settings after a note failed", e);
    cluster.on('forward', (binId) => void forwarder.reload(binId).catch(reloadFailed));
    cluster.on('verify', (binId) => void verifier.reload(binId).catch(reloadFailed));
    cluster.on('response', (binId) => void (control as RedisResponseControl).refresh(binId).catch(reloadFailed));
    cluster.on('answered', (binId, id) => waiters.wants(binId) && tellWaiters(binId, id, 'answered'));
    if (isRedisStore(store)) {
      store.bins.onChange((binId) => cluster.note('bin', binId));
      // Notes may have been lost (a pub/sub drop): reload every copy they keep fresh.
      cluster.onResync(() => reloadCopies(store, { forwarder, verifier, control: control as RedisResponseControl }));
      cluster.on('bin', (binId) => {
        store.bins.forget(binId);
        // Deleted there (and maybe made again already: a reused slug), its forward targets and
        // signature settings went from the store without a note of their own: read them again,
        // or this instance would forward and check the new bin's captures with the old ones.
        void Promise.all([forwarder.reload(binId), verifier.reload(binId), store.bins.get(binId)])
          .then(([, , b]) => {
            if (b) return;
            rateLimiter?.forget(binId);
            waiters.binGone(binId);
          })
          .catch(reloadFailed);
      });
    }
    await cluster.start(log);
  }

  const waitBudget = new KeyedSlots(config.waitMaxWaiters, config.waitMaxWaitersPerIp);
  const ctx: ApiContext = { config, store, control, dispatcher, live, rateLimiter, waiters, deliveryWaiters, waitBudget, settingsWrites, searchTurns, forwarder, replays, verifier, binAttempts, outbound, now, newRequestId, log };
  const activity = async (b: StoredBin): Promise<BinActivity> => ({ id: b.id, createdAt: b.createdAt, lastRequestAt: (await store.requests.stats(b.id)).lastAt, activeAt: b.activeAt });
  const idleSweeper = config.binIdleMs
    ? startIdleSweeper({
        idleMs: config.binIdleMs,
        now,
        list: async () => Promise.all((await store.bins.list()).map(activity)),
        get: async (id) => {
          const b = await store.bins.get(id);
          return b ? activity(b) : null;
        },
        remove: async (id) => {
          if (!(await store.bins.get(id))) return false;
          await removeBin(ctx, id);
          return true;
        },
        // On Redis, the instance running the dispatcher (one at a time) sweeps.
        active: () => !lease || lease.held !== null,
        // A count only: a bin's id is its receiver URL's secret.
        onSwept: (ids) => log.info('deleted idle bins (BIN_IDLE_DAYS)', { count: ids.length }),
        onError: (err) => log.warn('idle bin sweep', { error: String(err) }),
      })
    : null;
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', config.trustProxy);
  app.use(securityHeaders);
  app.get('/api/health', async (_req, res) => {
    // Ask the store now, not what the last write found: Redis answers within HEALTH_PROBE_MS
    // (1 s); on disk, DATA_DIR is still the directory hooklab started on (an idle server's
    // volume unmounted said "ok" until the next capture).
    await store.check?.();
    const s = store.health();
    // Forwards not sent (their capture evicted while they waited) are a warning, not a fault;
    // so are captures the store could not read back (writes work: see LowdbStore.readFailed).
    const fw = forwarder.warnings();
    const h = fw.length ? { ...s, warnings: [...s.warnings, ...fw] } : s;
    if (h.fault) {
      res.setHeader('retry-after', '5');
      res.status(503).json({ ok: false, status: 'storage_fault', version: VERSION, fault: h.fault, warnings: h.warnings });
      return;
    }
    // Captures still work without the sender thread, but deliveries stall: say so loudly.
    const senderFault = sender.fault();
    if (senderFault) {
      res.setHeader('retry-after', '5');
      res.status(503).json({ ok: false, status: 'dispatcher_fault', version: VERSION, fault: senderFault, warnings: h.warnings });
      return;
    }
    // Captures still work, but every forward fails until the thread runs again.
    const forwarderFault = forwardThread?.fault();
    if (forwarderFault) {
      res.setHeader('retry-after', '5');
      res.status(503).json({ ok: false, status: 'forwarder_fault', version: VERSION, fault: forwarderFault, warnings: h.warnings });
      return;
    }
    // On Redis: whether this instance runs the dispatcher (one does at a time).
    const where = clusterDispatcher ? { dispatcher: { runsHere: clusterDispatcher.local !== null } } : {};
    res.json({ ok: true, status: 'ok', version: VERSION, warnings: h.warnings, ...where });
  });
  // Requests hooklab sends never drive its own API: the dispatcher's (they carry
  // x-hooklab-delivery, whatever name reached this server) and forwards made by this process. A
  // webhook pointed at its own Test endpoint fired a Test per attempt, ~200 deliveries a second,
  // started again by every restart.
  app.use('/api', (req, res, next) => {
    if (req.headers['x-hooklab-delivery'] === undefined && !selfConnections.isOwn(req.socket, req.method, req.originalUrl)) return next();
    res.setHeader(LOOP_HEADER, 'refused');
    res.status(508).json({ error: { code: 'loop_refused', message: "This request was sent by hooklab (its dispatcher, or a forward) to its own API: refused, so that it cannot act on itself. Point webhooks and forward targets at a receiver URL (/h/…) or at your app." } });
  });
  // Signing in and out come before the origin check: the sign-in form's POST carries
  // `Origin: null` (the pages' Referrer-Policy is no-referrer), and signing in does not need it
  // (it takes the token itself). Signing out checks it, taking "null" only from a page the
  // browser says was ours (Sec-Fetch-Site).
  const ownPage = (req: http.IncomingMessage) =>
    req.headers.origin === 'null' ? ['same-origin', 'none'].includes(String(req.headers['sec-fetch-site'])) : guardAllows(req);
  if (gate) app.use(authRoutes(gate, config, ownPage));
  app.use((req, res, next) => {
    if (guardAllows(req)) return next();
    res.status(403).json({ error: { code: config.authToken ? 'forbidden_origin' : 'forbidden_host', message: guardReason(req) } });
  });
  if (gate) app.use(requireToken(gate));
  /** DELETE /api/bins/:id, /api/bins/:id/requests and /api/bins/:id/requests/:rid (paths under /api). */
  const DELETABLE = /^\/bins\/[^/]+(?:\/requests(?:\/[^/]+)?)?\/?$/;
  app.use('/api', (req, res, next) => {
    // While writes fail, refuse changes up front rather than keep them only in memory.
    const fault = req.method === 'GET' || req.method === 'HEAD' ? null : store.health().fault;
    if (!fault) return next();
    // Deleting a bin, its captures or one capture goes on: on a full disk (or a Redis at
    // maxmemory) that is how space comes back. The disk store records a deletion before it
    // takes effect and answers 503 having changed nothing when it cannot; on Redis a deletion
    // is one atomic script that Redis runs even when out of memory (and a Redis that is away
    // fails it at once: 503).
    if (req.method === 'DELETE' && DELETABLE.test(req.path)) return next();
    res.setHeader('retry-after', '5');
    res.status(503).json({ error: { code: 'storage_unavailable', message: fault.message } });
  });
  // Generated once, when first asked for (PUBLIC_URL may follow the port bound by listen()).
  let openapi: object | null = null;
  const apiDoc = () =>
    (openapi ??= openApiDocument({ version: VERSION, publicUrl: config.publicUrl, limits: responseLimitsOf(config) }));
  app.get('/api/openapi.json', (_req, res) => void res.json(apiDoc()));
  app.get('/api/docs', (_req, res) => void res.type('html').send(docsPage(apiDoc() as Parameters<typeof docsPage>[0])));
  // JSON bodies up to 1 MB, a single replay's up to MAX_BODY_BYTES in base64 and 1 MB more (its
  // whole body is what a capture cut at MAX_BODY_BYTES is replayed with: json-limits.ts); an
  // import (NDJSON or HAR) reads its own body, streamed or bounded.
  // An empty body is no body, as without a Content-Type: the parser's {} would pass as "every
  // field at its default" (a PUT of a bin's answers from a failed `jq … | curl --data @-`
  // wiped its plan).
  const emptyBodies = new WeakSet<object>();
  const jsonBody = (limit: number, which: (url: string | undefined) => boolean) =>
    express.json({
      limit,
      type: (req) => isJsonType(req.headers['content-type']) && !/\/import(\?|$)/.test(req.url ?? '') && which(req.url),
      verify: (req, _res, buf) => void (buf.length === 0 && emptyBodies.add(req)),
    });
  app.use(
    '/api',
    jsonBody(replayJsonLimit(config.maxBodyBytes), isSingleReplay),
    jsonBody(API_JSON_LIMIT, (url) => !isSingleReplay(url)),
    (req, _res, next) => {
      if (emptyBodies.has(req)) req.body = undefined;
      next();
    },
  );
  // A body sent as anything but JSON would be taken for none (curl -d sends a form type): a
  // bin asked for with {"id": …} made a random id. Said, not ignored.
  app.use('/api', (req, _res, next) => {
    if (hasBody(req) && !isJsonType(req.headers['content-type']) && !/\/import(\?|$)/.test(req.url ?? '')) {
      throw new HttpError(415, 'unsupported_media_type', `send the body as JSON, with Content-Type: application/json (it came as ${req.headers['content-type'] ? `"${String(req.headers['content-type']).slice(0, 100)}"` : 'no Content-Type'})`);
    }
    next();
  });
  // A dispatcher call passed on by another instance is served here, never passed on again.
  if (cluster) app.use('/api', (req, _res, next) => (req.headers[HOP_HEADER] ? passedOn.run(true, next) : next()));
  app.use('/api', ...apiRouters(ctx));
  app.use('/api', () => {
    throw new HttpError(404, 'not_found', 'no such API route');
  });

  const staticDir = deps.staticDir === undefined ? clientDir() : deps.staticDir;
  if (staticDir && existsSync(path.join(staticDir, 'index.html'))) {
    // The build's gzip and Brotli copies to browsers that take them (the first load: ~240 KB
    // as built, ~66 KB in Brotli). Hashed files never change: cached for good.
    app.use(uiFiles(staticDir));
  } else {
    app.get('/', (_req, res) => {
      res.type('text').send('hooklab API is running. The UI is not built: run `npm run build` (npm start does it).\n');
    });
  }

  // A bug or a fault (a body file gone, say), not the caller's: told without paths (a body
  // file's names its bin, whose id is its receiver URL's secret), and at most one line per
  // API_ERROR_LOG_MS with how many since, not one per request.
  const apiErrors = new ThrottledCount<unknown>({
    intervalMs: API_ERROR_LOG_MS,
    write: (count, err) => log.error('unhandled API error', { count, ...errorSummary(err) }),
  });
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    if (err instanceof HttpError) {
      // Every 503 is retryable: one that set no Retry-After of its own (the dispatcher moving to
      // another instance, say) gets one.
      const retryAfter = pendingRetryAfter(err) ?? (err.status === 503 && !res.hasHeader('retry-after') ? DEFAULT_RETRY_AFTER_S : null);
      if (retryAfter !== null) res.setHeader('retry-after', String(retryAfter));
      res.status(err.status).json(err.toBody());
      return;
    }
    if (err instanceof SettingsLockBusyError) {
      // A change that waited its longest for another instance's (see settings-lock.ts): an API write, a removal's settings.
      res.setHeader('retry-after', '1');
      res.status(503).json({ error: { code: 'busy', message: `${err.message}: retry shortly` } });
      return;
    }
    if (err instanceof StoreUnavailableError) {
      res.setHeader('retry-after', '5');
      // A read that failed changed nothing; a write that failed is kept in memory until it
      // succeeds (lowdb). Redis keeps nothing in memory here: its fault's words say what is true.
      const message = err instanceof StoreReadError || isRedisStore(store) ? err.message : `Kept in memory, not yet on disk: ${err.message}`;
      res.status(503).json({ error: { code: 'storage_unavailable', message } });
      return;
    }
    const e = err as { type?: string; status?: number; message?: string };
    if (e.type === 'entity.parse.failed') {
      // The parser's message quotes the body, which may hold a secret: say where, not what.
      const body = (err as { body?: unknown }).body;
      res.status(400).json({ error: { code: 'invalid_json', message: typeof body === 'string' ? parseFailure(body) : 'body is not valid JSON' } });
    } else if (e.type === 'charset.unsupported' || e.type === 'encoding.unsupported') {
      // A JSON body in another charset (latin1) or content coding (gzip): a 415, as documented.
      res.status(415).json({ error: { code: 'unsupported_media_type', message: `send the body as JSON in UTF-8, not compressed (${e.message ?? 'unsupported'})` } });
    } else if (e.type === 'entity.too.large') {
      const limit = (err as { limit?: number }).limit ?? API_JSON_LIMIT;
      res.status(413).json({ error: { code: 'too_large', message: `request body is larger than ${limitWords(limit)}` } });
    } else if (e.status && e.status >= 400 && e.status < 500) {
      res.status(e.status).json({ error: { code: 'bad_request', message: e.message ?? 'bad request' } });
    } else {
      apiErrors.add(err);
      res.status(500).json({ error: { code: 'internal', message: 'internal error' } });
    }
  });

  if (gate) {
    io.use((socket, next) => {
      const given = (socket.handshake.auth as { token?: string } | undefined)?.token ?? tokenFrom(socket.request);
      const c = gate.check(socket.request, given);
      if (c.ok) next();
      else if (c.retryAfter !== null) next(Object.assign(new Error('rate_limited'), { data: { retryAfter: c.retryAfter } }));
      else next(new Error('unauthorized'));
    });
  }
  attachLiveHandlers(io, {
    store,
    gate: cluster ? socketBus : undefined,
    maxBufferBytes: config.liveMaxBufferBytes,
    joined: tellJoined(ctx),
  });
  // Shared rooms: captures reach this instance's viewers from the store's capture feed; the
  // wait API's waiters hear of captures made on other instances from it too (this instance's
  // own were told by the receiver).
  const feed =
    cluster && isRedisStore(store)
      ? new (await import('./cluster/capture-feed.ts')).CaptureFeed({
          url: cluster.url,
          prefix: store.prefix,
          onCapture: (binId, row, ev, origin) => {
            socketBus.feedCaptured(binId, row, ev);
            if (origin !== store.origin && waiters.wants(binId)) tellWaiters(binId, (JSON.parse(row) as RequestItem).id, 'captured');
          },
          onError: () => {},
          range: (key, after, count) => store.requests.feedAfter(key, after, count),
        })
      : null;
  await feed?.start();
  // Captures made here reach the feed's reader through their appends' answers (see capture-feed.ts).
  if (feed && isRedisStore(store)) store.requests.followFeed(feed);

  web.setHandler((req, res) => {
    normalizeAbsoluteForm(req);
    if (req.url?.startsWith(RECEIVER_PREFIX)) {
      receive(req, res).catch((err) => {
        // A bug, not a sender's fault: say so once, and never leave the sender hanging.
        log.error('receiver error', { error: String(err) });
        if (res.headersSent) req.socket.destroy();
        else res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":{"code":"internal","message":"Internal error."}}');
      });
    }
    else app(req, res);
  });

  if (lease && clusterDispatcher) {
    const cd = clusterDispatcher;
    // A webhook disabled or deleted on another instance: the dispatcher ends what it owed.
    cluster!.on('webhook', (id) => {
      const d = cd.local;
      if (!d) return;
      void (async () => {
        const w = await store.webhooks.get(id);
        if (!w) await d.cancelFor(id, 'webhook_deleted');
        else if (!w.enabled) await d.cancelFor(id, 'webhook_disabled');
      })().catch((err) => log.warn('cancelling deliveries', { error: String(err) }));
    });
    cluster!.on('delivery', (id) => {
      if (!deliveryWaiters.wants(id)) return;
      void store.deliveries.get(id).then((d) => d && deliveryWaiters.changed(d), () => {});
    });
    await lease.start();
  } else await single!.start();

  let closed: Promise<void> | null = null;
  return {
    server: httpServer,
    io,
    dispatcher,
    control,
    live,
    waiters,
    waitBudget,
    settingsWrites,
    searchTurns,
    verifier,
    sweepIdleBins: () => idleSweeper?.sweep() ?? Promise.resolve([]),
    listen: () => web.listen(),
    close() {
      closed ??= (async () => {
        await idleSweeper?.stop();
        await (lease ? lease.stop() : single!.stop());
        sendCap.stop();
        live.close();
        await new Promise<void>((resolve) => {
          io.close(() => resolve()); // also closes the HTTP server
          httpServer.closeAllConnections();
        });
        sender.close();
        // Before the forwarder: the jobs still running are written failed, not their captures.
        await replays.close();
        forwarder.close();
        verifier.close();
        apiErrors.flush(); // errors not told yet are told now
        dispatcherErrors.flush();
        await control.close();
        await feed?.stop();
        await cluster?.close();
        await store.close();
      })();
      return closed;
    },
  };
}

/** At most one 'unhandled API error' (or 'dispatcher error') line this often (see apiErrors). */
const API_ERROR_LOG_MS = 10_000;

/**
 * What the log may say of an error: its code and name, and its message without paths or URLs
 * (replaced by <path>: a body file's path, or a receiver URL, holds a bin's id), cut short.
 */
function errorSummary(err: unknown): { code?: string; name: string; message: string } {
  const e = (typeof err === 'object' && err !== null ? err : {}) as { code?: unknown; name?: unknown; message?: unknown };
  const name = noPaths(typeof e.name === 'string' ? e.name : typeof err);
  const message = noPaths(typeof e.message === 'string' ? e.message : typeof err === 'string' ? err : '');
  return typeof e.code === 'string' ? { code: noPaths(e.code), name, message } : { name, message };
}

/** A path runs from a slash (or backslash, or a drive letter) to the next quote, space or comma. */
const noPaths = (s: string) => s.replace(/(?:[A-Za-z]:)?[\\/][^\s'"`,;()]*/g, '<path>').slice(0, 300);

/** Whether a request carries a body (a length above 0, or chunked). */
function hasBody(req: Request): boolean {
  const len = req.headers['content-length'];
  return len !== undefined ? Number(len) > 0 : req.headers['transfer-encoding'] !== undefined;
}

