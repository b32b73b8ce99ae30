// All configuration in one place: read from the environment, validated, with defaults.
// The README's configuration table mirrors CONFIG_DOCS below.
import path from 'node:path';
import type { ScheduleSettings } from '../shared/api.ts';
import { DEFAULT_RESPONSE_LIMITS, type ResponseLimits } from '../shared/schema/response.ts';
import { REPLAY_STALE_MS_DEFAULT } from './forward/replay-jobs.ts';
import { LIVE_MAX_SOCKETS_PER_SESSION_DEFAULT } from './live/sessions.ts';
import { allowListProblem } from './net/allow-list.ts';
import { MAX_ATTEMPTS } from './dispatch/schedule.ts';
import { tooManyAttempts } from './dispatch/schedule-limit.ts';

export interface Config {
  port: number;
  host: string;
  /** lowdb: files in DATA_DIR (one instance); redis: one Redis shared by several instances. */
  store: 'lowdb' | 'redis';
  redisUrl: string;
  redisPrefix: string;
  /** REDIS_START_WAIT_MS: see CONFIG_DOCS. */
  redisStartWaitMs: number;
  liveStreamMaxLen: number;
  /** How the other instances reach this one (the dispatcher's holder is called there). */
  instanceUrl: string;
  /** INSTANCE_URL was not set: it follows the address actually bound (PORT=0). */
  instanceUrlDefaulted: boolean;
  dispatcherLeaseMs: number;
  dataDir: string;
  publicUrl: string;
  /** PUBLIC_URL was not set: it follows the port actually bound (PORT=0). */
  publicUrlDefaulted: boolean;
  maxBodyBytes: number;
  maxRequestsPerBin: number;
  maxBins: number;
  /** Webhooks (the dispatcher's) that can exist at once (MAX_WEBHOOKS). */
  maxWebhooks: number;
  /** Bins neither created nor sent to for this long are deleted (BIN_IDLE_DAYS); 0: never. */
  binIdleMs: number;
  maxStoreBytes: number;
  maxBufferedBytes: number;
  maxUnwrittenBytes: number;
  maxConnections: number;
  /** Per client (clientKey); not applied with trustProxy. */
  maxConnectionsPerIp: number;
  /** Requests in flight on one connection (HTTP pipelining; see http/pipelining.ts). */
  maxPipelined: number;
  /** HAR imports at once (each is read whole). */
  maxHarImports: number;
  /** See MAX_WAITING_WRITES. */
  maxWaitingWrites: number;
  /** See SETTINGS_LOCK_WAIT_MS. */
  settingsLockWaitMs: number;
  /** See MAX_BODY_SEARCHES. */
  maxBodySearches: number;
  /** Bytes of API answers held for clients that have not read them (see http/response-budget.ts). */
  maxResponseBufferBytes: number;
  /** A connection whose client reads none of its waiting answer for this long is ended (http/stall.ts). */
  responseStallMs: number;
  cacheBytes: number;
  liveMaxBufferBytes: number;
  /** Live (Engine.IO) sessions at once, per instance and per client IP (see live/sessions.ts). */
  liveMaxSessions: number;
  liveMaxSessionsPerIp: number;
  /** Socket.IO sockets one live session may hold (see live/sessions.ts capSocketsPerSession). */
  liveMaxSocketsPerSession: number;
  /** Request headers at most (431 past it; see http/server.ts). */
  maxHeaderCount: number;
  /** Wait-API waiters at once, per instance and per client IP (see api/wait-budget.ts). */
  waitMaxWaiters: number;
  waitMaxWaitersPerIp: number;
  flushIntervalMs: number;
  /** Log a write to DATA_DIR that took at least this long (0: every write). */
  logFlushMs: number;
  maxDelayMs: number;
  hangTimeoutMs: number;
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  keepAliveTimeoutMs: number;
  maxHeaderBytes: number;
  maxDecodedBytes: number;
  dispatchTimeoutMs: number;
  dispatchMaxResponseBytes: number;
  dispatchConcurrency: number;
  /** Make attempts' HTTP calls on a worker thread (false: on the main thread). */
  dispatchWorker: boolean;
  /** Send attempts to our own server's loopback/listening origins in-process, not over TCP. */
  dispatchInProcess: boolean;
  forwardTimeoutMs: number;
  forwardMaxResponseBytes: number;
  forwardConcurrency: number;
  /** Make forwards' and replays' HTTP calls on a worker thread (false: on the main thread). */
  forwardWorker: boolean;
  /** REPLAY_STALE_MS: see CONFIG_DOCS (server/forward/replay-jobs.ts). */
  replayStaleMs: number;
  maxFinishedDeliveries: number;
  /** Pending deliveries at once (MAX_PENDING_DELIVERIES): a run or test that would pass it is refused (503). */
  maxPendingDeliveries: number;
  /** MAX_SCHEDULE_ATTEMPTS: the most attempts one delivery may plan (dispatch/schedule-limit.ts). */
  maxScheduleAttempts: number;
  schedule: ScheduleSettings;
  authToken: string | null;
  dispatchAllow: string[] | null;
  trustProxy: boolean;
  rateLimitPerBin: number;
  /** Extra host names the UI/API answer to without AUTH_TOKEN (see http/host-guard.ts). */
  allowedHosts: string[];
  /** Wrong access tokens one client IP may send per minute before it gets 429 (http/auth-limit.ts). */
  authFailuresPerMinute: number;
}

export class ConfigError extends Error {}

type Env = Record<string, string | undefined>;

export const CONFIG_DOCS: { name: string; default: string; meaning: string }[] = [
  { name: 'PORT', default: '8080', meaning: 'Port for the UI, API, Socket.IO and receiver URLs (0 = any free port).' },
  { name: 'HOST', default: '127.0.0.1', meaning: 'Interface to listen on. Use 0.0.0.0 to expose it (set AUTH_TOKEN then).' },
  { name: 'DATA_DIR', default: './data', meaning: 'Where the lowdb JSON files live.' },
  { name: 'STORE', default: 'lowdb', meaning: 'lowdb: files in DATA_DIR, one instance. redis: everything in one Redis, so several instances can serve behind a load balancer (see "Scale out").' },
  { name: 'REDIS_URL', default: 'redis://127.0.0.1:6379', meaning: 'With STORE=redis: redis://[user:password@]host:port[/db], or rediss:// (TLS).' },
  { name: 'REDIS_PREFIX', default: 'hooklab:', meaning: 'With STORE=redis: prefix of every key, so several hooklabs can share one Redis apart.' },
  { name: 'REDIS_START_WAIT_MS', default: '10000', meaning: 'With STORE=redis: how long an instance that cannot reach Redis as it starts (down, still loading a large AOF, refusing its credentials) waits for it, saying so in the log and in /api/health (503 "starting"), before it exits with status 1 (for a supervisor to start it again). Once started, an instance rides out any Redis outage by itself.' },
  { name: 'INSTANCE_URL', default: 'http://127.0.0.1:$PORT', meaning: 'With STORE=redis: how the other instances reach this one (they pass dispatcher calls to the instance that runs it). Set it when instances run on different machines.' },
  { name: 'DISPATCHER_LEASE_MS', default: '10000', meaning: 'With STORE=redis: the dispatcher runs on one instance at a time, holding a lease this long (renewed every third of it); if that instance dies, another takes over within about this long.' },
  { name: 'LIVE_STREAM_MAX_LEN', default: '100000', meaning: 'With STORE=redis: live events kept in the Redis stream between instances; a viewer further behind catches up from the store.' },
  { name: 'HOOKLAB_CONFIG', default: '(none)', meaning: 'A config file (JSON or YAML) of bins and webhooks to create at start-up (also `--config FILE`); see "Automate it".' },
  { name: 'PUBLIC_URL', default: 'http://localhost:$PORT', meaning: 'Base of the receiver URLs shown to users.' },
  { name: 'MAX_BODY_BYTES', default: '1048576', meaning: 'Body bytes kept per captured request; the rest is counted, not stored.' },
  { name: 'MAX_REQUESTS_PER_BIN', default: '500', meaning: 'Requests kept per bin; the oldest go first (also at start-up, when it was lowered since).' },
  { name: 'MAX_BINS', default: '1000', meaning: 'Bins that can exist at once.' },
  { name: 'MAX_WEBHOOKS', default: '1000', meaning: 'Webhooks (the dispatcher\'s) that can exist at once.' },
  { name: 'BIN_IDLE_DAYS', default: '0', meaning: 'Delete a bin nobody has sent to for this many days (counted from its newest capture still stored, its creation, or when its requests were last cleared or imported into; decimals allowed). Opening it does not count. 0 = keep bins until deleted.' },
  { name: 'MAX_STORE_BYTES', default: '2147483648', meaning: 'Bytes stored across all bins (2 GiB): each capture\'s body and its head (method, path, query, header and trailer names and values, as UTF-8), so header-heavy captures count too (on Redis, captures stored by earlier builds count their bodies only). Past it the oldest captures go first, whatever their bin (also at start-up, when it was lowered since: said in the log).' },
  { name: 'MAX_BUFFERED_BYTES', default: '67108864', meaning: 'Body bytes held in memory at once: requests being received, captures not yet written, and proxied captures waiting for their target\'s answer (64 MiB). Bytes count as they arrive (a body announced but not sent holds nothing); a request announcing more than is left, or whose bytes go past it, is answered 503 with Retry-After.' },
  { name: 'MAX_UNWRITTEN_BYTES', default: '8388608', meaning: 'Body bytes acknowledged but not yet on disk (8 MiB). Past it, a capture is answered once written, so senders slow to the disk\'s pace and a hard kill still loses at most 2 x FLUSH_INTERVAL_MS of captures, plus the write under way.' },
  { name: 'MAX_CONNECTIONS', default: '1000', meaning: 'Open connections (senders, UI, API, Socket.IO). Past it, new ones get a 503 and are closed.' },
  { name: 'MAX_CONNECTIONS_PER_IP', default: '250', meaning: 'Open connections one client may hold (an IPv4 address, or an IPv6 /64), so that one client cannot take all of MAX_CONNECTIONS. Past it, its new ones get a 503 with Retry-After and are closed. Connections from this machine (from the address they reach: a proxy beside hooklab, its own dispatcher) count in MAX_CONNECTIONS only, and with TRUST_PROXY none is counted per client (every one is the proxy\'s: limit per client there).' },
  { name: 'MAX_PIPELINED', default: '256', meaning: 'Requests one connection may have waiting for their answers at once (HTTP pipelining: sent before the answers to earlier ones came). Past it the connection is closed; what it was not answered for was not acknowledged, so it can be sent again. Browsers and most clients send one request at a time.' },
  { name: 'MAX_WAITING_WRITES', default: '16', meaning: 'Changes to one resource\'s settings (a bin\'s response, forward or signature settings, a webhook) under way or waiting their turn at once: they apply one at a time, each checking If-Match against the one before. Past it, a 503 busy with Retry-After.' },
  { name: 'SETTINGS_LOCK_WAIT_MS', default: '5000', meaning: 'With STORE=redis: how long a change to one resource\'s settings waits while another instance changes the same resource (each holds a lock in Redis while it reads the resource, checks If-Match and applies; a lock whose instance died frees after 10 s). Past it, a 503 busy with Retry-After.' },
  { name: 'MAX_BODY_SEARCHES', default: '64', meaning: 'Body searches (q=, in the request list and the wait API) under way at once. They take turns on the main thread, one 20 ms slice per turn of the event loop, so more of them make each slower, not the server; past it, a 503 busy with Retry-After.' },
  { name: 'MAX_HAR_IMPORTS', default: '2', meaning: 'HAR imports under way at once (each is read whole, up to 64 MiB, and takes about 4 times its size in memory meanwhile); past it, a 503 busy with Retry-After. NDJSON imports are streamed and not counted.' },
  { name: 'MAX_RESPONSE_BUFFER_BYTES', default: '67108864', meaning: 'Bytes of API answers (a capture\'s detail or raw body, a request list page) held in memory until their clients read them (64 MiB); a detail can be 12.5 MB. An answer that would pass it gets 503 response_buffers_full with Retry-After (one larger than the whole budget still goes when no other is held).' },
  { name: 'RESPONSE_STALL_MS', default: '30000', meaning: 'A connection with answer bytes waiting that its client does not read (the kernel takes none of them) for this long is reset, freeing them. Any progress counts: the kernel takes more about every 1.4 MB a client reads, so only a client slower than ~50 KB/s on a large answer could be taken for stalled at 30 s.' },
  { name: 'CACHE_BYTES', default: '33554432', meaning: 'Memory for bodies and metadata (headers and all) read back from disk or just written (32 MiB), charged by what each holds.' },
  { name: 'LIVE_MAX_BUFFER_BYTES', default: '2097152', meaning: 'Unread live events a Socket.IO connection may hold (2 MiB); a viewer past it is dropped, reconnects and catches up.' },
  { name: 'LIVE_MAX_SESSIONS', default: '2000', meaning: 'Live (Socket.IO) sessions this instance holds at once (~6.5 KB each; a long-polling one holds no connection, so MAX_CONNECTIONS does not bound them). Past it, a new handshake gets 503 with Retry-After; clients retry on their own.' },
  { name: 'LIVE_MAX_SESSIONS_PER_IP', default: '100', meaning: 'Live sessions one client (an IPv4 address, or an IPv6 /64) may hold at once (X-Forwarded-For with TRUST_PROXY; behind a proxy without it, every viewer counts as the proxy). Past it, 503 with Retry-After.' },
  { name: 'LIVE_MAX_SOCKETS_PER_SESSION', default: '4', meaning: 'Socket.IO sockets (namespace connects) one live session may hold at once; hooklab\'s clients use one. A session that opens more is closed at once (a client that does that is broken or hostile).' },
  { name: 'WAIT_MAX_WAITERS', default: '500', meaning: 'Wait-API requests (`…/requests/wait`, `…/deliveries/:id/wait`) this instance holds open at once. Each is matched against every new capture of its bin on the main thread, so this bounds that work as well as memory. Past it, 503 with Retry-After.' },
  { name: 'WAIT_MAX_WAITERS_PER_IP', default: '50', meaning: 'Wait-API requests one client (an IPv4 address, or an IPv6 /64) may hold open at once (X-Forwarded-For with TRUST_PROXY). Past it, 503 with Retry-After.' },
  { name: 'FLUSH_INTERVAL_MS', default: '200', meaning: 'Writes are coalesced for this long. A hard kill loses at most what was acknowledged in the last twice this (at least 50 ms), plus the write under way: when a write falls behind by as much again, captures are answered once written.' },
  { name: 'LOG_FLUSH_MS', default: '1000', meaning: 'A write to DATA_DIR (a flush) that takes at least this long is logged (WARN, with how long and whether it worked): a slow or contended disk holds captures back (once writes fall 2 x FLUSH_INTERVAL_MS behind, captures are answered once written), and a hard kill loses what was acknowledged since the last completed flush began. 0 logs every flush (INFO).' },
  { name: 'MAX_DELAY_MS', default: '120000', meaning: 'Largest response delay a bin may be told to use.' },
  { name: 'HANG_TIMEOUT_MS', default: '300000', meaning: 'A "timeout" fault holds the request this long, then drops the socket.' },
  { name: 'HEADERS_TIMEOUT_MS', default: '30000', meaning: 'A client must finish sending headers within this.' },
  { name: 'REQUEST_TIMEOUT_MS', default: '120000', meaning: 'A client must finish sending its whole request within this.' },
  { name: 'KEEP_ALIVE_TIMEOUT_MS', default: '5000', meaning: 'An idle keep-alive connection is closed after this (Node\'s default). Behind a reverse proxy or load balancer that keeps connections to hooklab open longer (nginx\'s upstream keepalive, an AWS ALB: 60 s), set it above theirs (e.g. 65000): else one may send a request on a connection hooklab is closing, and answer its client 502. Idle connections count in MAX_CONNECTIONS while open.' },
  { name: 'MAX_HEADER_BYTES', default: '65536', meaning: 'Largest request head, as Node counts it: the URL and every header name and value (not ": " or line ends); bigger gets 431. A chunked body\'s trailers are bounded by it too, on their own (Node\'s count). Every header within it (and within MAX_HEADER_COUNT) is kept, none dropped silently.' },
  { name: 'MAX_HEADER_COUNT', default: '2000', meaning: 'Most headers a request may have (names counted with repeats), a chunked body\'s trailers counted with them; more gets 431. Every header and trailer is stored with its capture and listed with it, and searches read them all, so MAX_HEADER_BYTES alone (~28,000 tiny headers) is too loose.' },
  { name: 'MAX_DECODED_BYTES', default: '8388608', meaning: 'Cap on decoding gzip/deflate/br bodies for display and body search (bomb guard).' },
  { name: 'DISPATCH_TIMEOUT_MS', default: '10000', meaning: 'Default timeout of one dispatcher attempt.' },
  { name: 'DISPATCH_MAX_RESPONSE_BYTES', default: '4096', meaning: 'Response body bytes kept per attempt.' },
  { name: 'DISPATCH_CONCURRENCY', default: '64', meaning: 'Attempts in flight at once.' },
  { name: 'FORWARD_TIMEOUT_MS', default: '10000', meaning: 'Timeout of one forward or replay (and of the proxy-mode answer: past it the sender gets 504).' },
  { name: 'FORWARD_MAX_RESPONSE_BYTES', default: '65536', meaning: 'Bytes of a forward target\'s answer kept (and, in proxy mode, passed on to the sender).' },
  { name: 'FORWARD_CONCURRENCY', default: '32', meaning: 'Forwards and replays in flight at once; up to 10x that may wait, past that new forwards fail as overloaded. A waiting forward whose capture is evicted before its turn is not sent (counted under `warnings` in /api/health).' },
  {
    name: 'REPLAY_STALE_MS',
    default: '30000',
    meaning:
      "A bulk replay still running whose instance has not written its progress for this long (1000 to 3600000) reads as failed, its instance gone; a running instance writes at least every 2 s. Raise it when instances' clocks differ by more than a few seconds.",
  },
  { name: 'FORWARD_WORKER', default: 'true', meaning: 'Make forwards\' and replays\' HTTP calls on a worker thread, so a bin forwarding a flood leaves the main thread to the receiver (false: on the main thread).' },
  { name: 'DISPATCH_WORKER', default: 'true', meaning: 'Make the dispatcher\'s HTTP calls for bursts of attempts to other servers on a worker thread, so a fast-forward does not slow captures and the API; attempts to hooklab\'s own receivers, and those going one at a time, are sent from the main thread (false: all on the main thread).' },
  { name: 'DISPATCH_IN_PROCESS', default: 'true', meaning: 'Send attempts to hooklab\'s own receivers at its listening address (`http://localhost:PORT`, `127.0.0.1`, `[::1]`) in-process: the same HTTP bytes through the same parsers, without a socket (a URL under a `PUBLIC_URL` elsewhere still goes over the network). false: over loopback TCP.' },
  { name: 'MAX_FINISHED_DELIVERIES', default: '5000', meaning: 'Finished deliveries kept; pending ones are never dropped.' },
  { name: 'MAX_PENDING_DELIVERIES', default: '10000', meaning: 'Deliveries still owed attempts, at once, counting the sync_end ones of runs not ended yet. Each stays in memory and in deliveries.log until it ends: with a 100-wait plan, 10,000 measured +200 MB RSS and a 50 MB log. A run or Test send that would pass it is refused whole: 503 too_many_pending_deliveries with Retry-After (409 for a run larger than the whole budget); pending deliveries end as the clock reaches their attempts.' },
  { name: 'MAX_SCHEDULE_ATTEMPTS', default: '200', meaning: 'Most attempts one delivery may plan (2 to 10000), the first and the one on the deadline included. A schedule that plans more (every jittered wait counted at its shortest) is refused where it is given: a webhook\'s schedule and the schedule preview answer 400 naming the field, a config file or the RETRY_* variables stop start-up. A webhook saved before (or under a higher limit) is cut at it, and says so (scheduleNote, the preview\'s notes). Each planned attempt of a pending delivery costs about 200 bytes, in memory and in deliveries.log.' },
  { name: 'RETRY_FIRST_DELAY_MS', default: '5000', meaning: 'Delay before the first retry.' },
  { name: 'RETRY_FACTOR', default: '4', meaning: 'Each retry delay is this many times the previous one.' },
  { name: 'RETRY_JITTER', default: '0.2', meaning: 'Random spread on each delay (0.2 = ±20%).' },
  { name: 'RETRY_DEADLINE_MS', default: '86400000', meaning: 'No attempt after this; the last one lands on it (24 h).' },
  { name: 'AUTH_TOKEN', default: '(none)', meaning: 'When set, the UI, API and Socket.IO require it. Receiver URLs stay open.' },
  { name: 'AUTH_FAILURES_PER_MINUTE', default: '10', meaning: 'Wrong access tokens (login form, API, Socket.IO) one client (an IPv4 address, or an IPv6 /64) may send per minute; then 429 with Retry-After until the minute is over.' },
  { name: 'DISPATCH_ALLOW', default: '(none)', meaning: 'Comma-separated hosts (example.com, *.example.com) or IPs/CIDRs the dispatcher may call, private ones too; no scheme, port or path (any port of a listed host), else start-up stops naming the entry. Unset: anything when HOST is loopback; otherwise public addresses only (no loopback, private, link-local/metadata, CGNAT, multicast or reserved ones, checked on the resolved address), except receiver URLs under PUBLIC_URL.' },
  { name: 'TRUST_PROXY', default: 'false', meaning: 'Take the client IP from X-Forwarded-For (behind a reverse proxy).' },
  { name: 'ALLOWED_HOSTS', default: '(none)', meaning: 'Extra host names (name or name:port) the UI and API answer to when no AUTH_TOKEN is set; without a port, the listening port and PUBLIC_URL\'s. localhost, 127.0.0.1, ::1 and HOST on the listening port, and PUBLIC_URL\'s host and port, always are.' },
  { name: 'RATE_LIMIT_PER_BIN', default: '0', meaning: 'Requests per second a bin accepts before answering 429 (0 = off).' },
];

// Decimal digits only: Number() also takes ' ' (0: PORT=' ' listened on a random port), hex
// (0x4657), exponents (1e3) and surrounding blanks. No variable takes a negative value.
const DIGITS = /^\d+$/;
/** Plain decimals, for the few variables that are fractional on purpose (BIN_IDLE_DAYS, RETRY_FACTOR, RETRY_JITTER). */
const DECIMAL = /^(\d+(\.\d*)?|\.\d+)$/;

function int(env: Env, name: string, def: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return def;
  const n = DIGITS.test(raw) ? Number(raw) : NaN;
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new ConfigError(`${name} must be an integer from ${min} to ${max}, got "${raw}"`);
  }
  return n;
}

function num(env: Env, name: string, def: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return def;
  const n = DECIMAL.test(raw) ? Number(raw) : NaN;
  if (!Number.isFinite(n) || n < min || n > max) {
    throw new ConfigError(`${name} must be a number from ${min} to ${max}, got "${raw}"`);
  }
  return n;
}

function bool(env: Env, name: string): boolean {
  const raw = (env[name] ?? '').toLowerCase();
  if (raw === '' || raw === '0' || raw === 'false' || raw === 'no') return false;
  if (raw === '1' || raw === 'true' || raw === 'yes') return true;
  throw new ConfigError(`${name} must be true or false, got "${env[name]}"`);
}

function oneOf<T extends string>(env: Env, name: string, values: readonly T[], dflt: T): T {
  const v = env[name];
  if (v === undefined || v === '') return dflt;
  if ((values as readonly string[]).includes(v)) return v as T;
  throw new ConfigError(`${name} must be one of ${values.join(', ')}, got "${v}"`);
}

export function loadConfig(env: Env = process.env, cwd = process.cwd()): Config {
  const port = int(env, 'PORT', 8080, 0, 65535);
  const publicUrl = (env.PUBLIC_URL || `http://localhost:${port}`).replace(/\/+$/, '');
  try {
    const u = new URL(publicUrl);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('protocol');
  } catch {
    throw new ConfigError(`PUBLIC_URL must be an absolute http(s) URL, got "${env.PUBLIC_URL}"`);
  }
  const maxBodyBytes = int(env, 'MAX_BODY_BYTES', 1024 * 1024, 0, 256 * 1024 * 1024);
  // Both must hold at least one body of the largest size, or such a body could never be kept.
  const maxStoreBytes = int(env, 'MAX_STORE_BYTES', 2 * 1024 ** 3, Math.max(1, maxBodyBytes));
  const maxBufferedBytes = int(env, 'MAX_BUFFERED_BYTES', 64 * 1024 * 1024, Math.max(1, maxBodyBytes));
  const maxScheduleAttempts = int(env, 'MAX_SCHEDULE_ATTEMPTS', MAX_ATTEMPTS, 2, 10_000);
  const schedule: ScheduleSettings = {
    firstDelayMs: int(env, 'RETRY_FIRST_DELAY_MS', 5000, 1),
    factor: num(env, 'RETRY_FACTOR', 4, 1, 100),
    jitter: num(env, 'RETRY_JITTER', 0.2, 0, 0.99),
    deadlineMs: int(env, 'RETRY_DEADLINE_MS', 86_400_000, 1),
  };
  // Every webhook without its own schedule uses this one: past the limit, each delivery was cut.
  const tooMany = tooManyAttempts(schedule, maxScheduleAttempts, { firstDelayMs: 'RETRY_FIRST_DELAY_MS', factor: 'RETRY_FACTOR', deadlineMs: 'RETRY_DEADLINE_MS' });
  if (tooMany) throw new ConfigError(`The retry schedule (RETRY_FIRST_DELAY_MS, RETRY_FACTOR, RETRY_JITTER, RETRY_DEADLINE_MS) ${tooMany} (or raise MAX_SCHEDULE_ATTEMPTS)`);
  const allow = (env.DISPATCH_ALLOW ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  const allowProblem = allowListProblem(allow);
  if (allowProblem) throw new ConfigError(allowProblem);
  return {
    port,
    host: env.HOST || '127.0.0.1',
    store: oneOf(env, 'STORE', ['lowdb', 'redis'], 'lowdb'),
    redisUrl: env.REDIS_URL || 'redis://127.0.0.1:6379',
    redisPrefix: env.REDIS_PREFIX || 'hooklab:',
    redisStartWaitMs: int(env, 'REDIS_START_WAIT_MS', 10_000, 1000, 3_600_000),
    liveStreamMaxLen: int(env, 'LIVE_STREAM_MAX_LEN', 100_000, 1000, 100_000_000),
    instanceUrl: (env.INSTANCE_URL || `http://127.0.0.1:${port}`).replace(/\/+$/, ''),
    instanceUrlDefaulted: !env.INSTANCE_URL,
    dispatcherLeaseMs: int(env, 'DISPATCHER_LEASE_MS', 10_000, 500, 600_000),
    dataDir: path.resolve(cwd, env.DATA_DIR || './data'),
    publicUrl,
    publicUrlDefaulted: !env.PUBLIC_URL,
    maxBodyBytes,
    maxRequestsPerBin: int(env, 'MAX_REQUESTS_PER_BIN', 500, 1, 1_000_000),
    maxBins: int(env, 'MAX_BINS', 1000, 1),
    maxWebhooks: int(env, 'MAX_WEBHOOKS', 1000, 1),
    binIdleMs: Math.round(num(env, 'BIN_IDLE_DAYS', 0, 0, 36_500) * 86_400_000),
    maxStoreBytes,
    maxBufferedBytes,
    maxUnwrittenBytes: int(env, 'MAX_UNWRITTEN_BYTES', 8 * 1024 * 1024, 0),
    maxConnections: int(env, 'MAX_CONNECTIONS', 1000, 16, 1_000_000),
    maxConnectionsPerIp: int(env, 'MAX_CONNECTIONS_PER_IP', 250, 1, 1_000_000),
    maxPipelined: int(env, 'MAX_PIPELINED', 256, 1, 100_000),
    maxHarImports: int(env, 'MAX_HAR_IMPORTS', 2, 1, 1000),
    maxWaitingWrites: int(env, 'MAX_WAITING_WRITES', 16, 1, 10_000),
    settingsLockWaitMs: int(env, 'SETTINGS_LOCK_WAIT_MS', 5000, 100, 600_000),
    maxBodySearches: int(env, 'MAX_BODY_SEARCHES', 64, 1, 100_000),
    maxResponseBufferBytes: int(env, 'MAX_RESPONSE_BUFFER_BYTES', 64 * 1024 * 1024, 1024 * 1024, 64 * 1024 ** 3),
    responseStallMs: int(env, 'RESPONSE_STALL_MS', 30_000, 100, 3_600_000),
    cacheBytes: int(env, 'CACHE_BYTES', 32 * 1024 * 1024, 0, 64 * 1024 ** 3),
    liveMaxBufferBytes: int(env, 'LIVE_MAX_BUFFER_BYTES', 2 * 1024 * 1024, 64 * 1024, 1024 ** 3),
    liveMaxSessions: int(env, 'LIVE_MAX_SESSIONS', 2000, 1, 1_000_000),
    liveMaxSessionsPerIp: int(env, 'LIVE_MAX_SESSIONS_PER_IP', 100, 1, 1_000_000),
    liveMaxSocketsPerSession: int(env, 'LIVE_MAX_SOCKETS_PER_SESSION', LIVE_MAX_SOCKETS_PER_SESSION_DEFAULT, 1, 1000),
    maxHeaderCount: int(env, 'MAX_HEADER_COUNT', 2000, 16, 100_000),
    waitMaxWaiters: int(env, 'WAIT_MAX_WAITERS', 500, 1, 1_000_000),
    waitMaxWaitersPerIp: int(env, 'WAIT_MAX_WAITERS_PER_IP', 50, 1, 1_000_000),
    flushIntervalMs: int(env, 'FLUSH_INTERVAL_MS', 200, 0, 60_000),
    logFlushMs: int(env, 'LOG_FLUSH_MS', 1000, 0, 3_600_000),
    maxDelayMs: int(env, 'MAX_DELAY_MS', 120_000, 0, 3_600_000),
    hangTimeoutMs: int(env, 'HANG_TIMEOUT_MS', 300_000, 1, 3_600_000),
    headersTimeoutMs: int(env, 'HEADERS_TIMEOUT_MS', 30_000, 100, 600_000),
    requestTimeoutMs: int(env, 'REQUEST_TIMEOUT_MS', 120_000, 100, 3_600_000),
    keepAliveTimeoutMs: int(env, 'KEEP_ALIVE_TIMEOUT_MS', 5_000, 100, 600_000),
    maxHeaderBytes: int(env, 'MAX_HEADER_BYTES', 65_536, 1024, 1024 * 1024),
    maxDecodedBytes: int(env, 'MAX_DECODED_BYTES', 8 * 1024 * 1024, 0, 256 * 1024 * 1024),
    dispatchTimeoutMs: int(env, 'DISPATCH_TIMEOUT_MS', 10_000, 1, 600_000),
    dispatchMaxResponseBytes: int(env, 'DISPATCH_MAX_RESPONSE_BYTES', 4096, 0, 1024 * 1024),
    dispatchConcurrency: int(env, 'DISPATCH_CONCURRENCY', 64, 1, 10_000),
    forwardTimeoutMs: int(env, 'FORWARD_TIMEOUT_MS', 10_000, 1, 600_000),
    forwardMaxResponseBytes: int(env, 'FORWARD_MAX_RESPONSE_BYTES', 65_536, 0, 16 * 1024 * 1024),
    forwardConcurrency: int(env, 'FORWARD_CONCURRENCY', 32, 1, 10_000),
    dispatchWorker: env.DISPATCH_WORKER === undefined || env.DISPATCH_WORKER === '' ? true : bool(env, 'DISPATCH_WORKER'),
    dispatchInProcess: env.DISPATCH_IN_PROCESS === undefined || env.DISPATCH_IN_PROCESS === '' ? true : bool(env, 'DISPATCH_IN_PROCESS'),
    forwardWorker: env.FORWARD_WORKER === undefined || env.FORWARD_WORKER === '' ? true : bool(env, 'FORWARD_WORKER'),
    replayStaleMs: int(env, 'REPLAY_STALE_MS', REPLAY_STALE_MS_DEFAULT, 1000, 3_600_000),
    maxFinishedDeliveries: int(env, 'MAX_FINISHED_DELIVERIES', 5000, 1),
    maxPendingDeliveries: int(env, 'MAX_PENDING_DELIVERIES', 10_000, 1, 10_000_000),
    maxScheduleAttempts,
    schedule,
    authToken: env.AUTH_TOKEN ? env.AUTH_TOKEN : null,
    dispatchAllow: allow.length ? allow : null,
    trustProxy: bool(env, 'TRUST_PROXY'),
    rateLimitPerBin: int(env, 'RATE_LIMIT_PER_BIN', 0, 0),
    allowedHosts: (env.ALLOWED_HOSTS ?? '').split(',').map((s) => s.trim()).filter(Boolean),
    authFailuresPerMinute: int(env, 'AUTH_FAILURES_PER_MINUTE', 10, 1, 1_000_000),
  };
}

/** What a bin's response settings may hold (MAX_DELAY_MS; the rest are fixed). */
export const responseLimitsOf = (c: Config): ResponseLimits => ({ ...DEFAULT_RESPONSE_LIMITS, maxDelayMs: c.maxDelayMs });

/** Config for tests: defaults plus overrides, data in the given dir. */
export function testConfig(overrides: Partial<Config> = {}): Config {
  // In-process tests run TypeScript without a loader a worker thread could use: attempts
  // stay on the main thread there (the process tests run the compiled server, worker on).
  return { ...loadConfig({ PORT: '0' }), dispatchWorker: false, forwardWorker: false, ...overrides, publicUrlDefaulted: overrides.publicUrl === undefined };
}
