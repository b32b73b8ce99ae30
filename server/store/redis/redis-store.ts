// The Redis driver: everything in one Redis, so several stateless hooklab instances can share
// it. Nothing is kept in Node between calls (no caches: another instance may have changed
// it), bodies included, with one exception that cannot answer wrong: the receiver's view
// (forCaptures) remembers bins it found, as the append checks the bin still exists in its
// atomic step. Needs Redis 6.2 or later, standalone or a primary (not Cluster: the
// scripts name keys across bins). Run Redis with `appendonly yes` to keep data over a
// restart, and `maxmemory-policy noeviction` (Redis must never drop hooklab's keys itself;
// hooklab bounds what it stores with MAX_REQUESTS_PER_BIN and MAX_STORE_BYTES).
//
// Key layout, under a prefix (default "hooklab:", written <p> below):
//   <p>bins  <p>webhooks  <p>responses  <p>forwards  <p>verifications  <p>runs  <p>deliveries
//   <p>replays                  hash id -> JSON record; each with
//     <base>:order              zset id, scored by first insertion (list() order)
//     <base>:next               counter for those scores
//     <p>runs:ended             zset of ended runs (pruned oldest first beyond maxEndedRuns)
//     <p>replays:ended          zset of ended bulk replays (pruned beyond MAX_REPLAY_JOBS)
//     <p>deliveries:finished    zset of finished deliveries (pruned beyond maxFinishedDeliveries)
//     <p>deliveries:state:<s>, :webhook:<id>, :run:<id>   zsets: the indexes query() walks
//     <p>deliveries:tags        hash id -> "state\nwebhookId\nrunId" (which indexes hold it)
//   <p>clock                    string: the virtual clock's JSON
//   Captures, per bin <b>:
//     <p>bin:<b>                hash: seq (last arrival number), bytes (bytes stored: bodies
//                               and heads), head (its member in <p>heads)
//     <p>bin:<b>:ids            zset of ids, all score 0: ordered by id (= arrival), BYLEX pages
//     <p>bin:<b>:meta           hash id -> metadata JSON (StoredRequest, no body)
//     <p>bin:<b>:items          hash id -> list row JSON (RequestItem, toItem of the metadata)
//     <p>body:<b>:<id>          string: the body bytes, exactly (its length is what the byte
//                               budget counts of it; builds before kept it in <p>bin:<b>:sizes)
//     <p>bin:<b>:headbytes      hash id -> its head's bytes (store/head-bytes.ts), counted with
//                               its body (none for captures of builds that counted bodies only)
//   Store-wide:
//     <p>bytes                  bytes stored across bins, bodies and heads (MAX_STORE_BYTES is
//                               checked on it)
//     <p>heads                  zset "id binId" per non-empty bin, score 0, the id no newer
//                               than the bin's oldest (kept up to date lazily: see PRELUDE in
//                               request-scripts.ts): the byte budget's victims are found from
//                               its first members
//     <p>idclock                "ms:counter" of the last id Redis assigned
//     <p>tmp:<random>           a body staged for its append (taken or deleted in the same MULTI)
//     <p>plan:<b>               hash: where the bin's response plan stands, and `v` the version
//                               of the settings it is for (control/redis-control.ts); an append
//                               with a guard checks `v` (AppendGuard)
//     <p>purge, <p>purge:<n>, <p>purge:next   ids of cleared bins whose bodies are being deleted
//     <p>lock:<resource>        a settings change under way on some instance (a random token,
//                               expiring): changes to one resource go one at a time across
//                               instances (cluster/settings-lock.ts)
//     <p>probe                  written while a fault is probed
//     <p>marker                 a random token, written when missing: a Redis whose token
//                               changed or vanished lost hooklab's data (see readMarker)
//     <p>notes:rev              counts the notes between instances (cluster/redis-cluster.ts)
//     <p>feed                   stream: one entry per capture (bin, list row, evictions), for
//                               live viewers on every instance (only with feedMaxLen)
//     <p>feedpos:<tag>          the feed entry an instance's appends last wrote (expires in a
//                               day): where its next append's answer of the feed starts (see
//                               "Following the feed" in request-scripts.ts)
//
// Ids and order: a bin's order is its id order, as in every driver. Given an id (the importer,
// tests), the capture sorts where its id says. Given '' (see CapturedRequest in types.ts),
// the append script assigns one from Redis's clock and a store-wide counter, so ids grow in
// the order appends run in Redis, whichever instance sent them; `seq` comes from the same
// script (HINCRBY). The caps are applied in that script too, so they are exact under any
// number of instances; evictions are answered to the instance whose append caused them.
//
// Faults (connection.ts): while Redis is unreachable, refuses writes or does not answer in
// time, health() reports `redis_unavailable` and commands fail at once (StoreUnavailableError:
// the receiver answers 503); it clears by itself when Redis is back. /api/health asks Redis
// first (check(): answered within HEALTH_PROBE_MS). An append lands whole or not at all (MULTI);
// one sent but never answered (a stall past the command timeout) may land later: it is looked
// up once Redis answers, and recorded as answered 503 if it did (in-doubt.ts).
//
// Lost data: a Redis restarted without persistence (or flushed) comes back empty, and answers
// as if all were well. The marker key tells: each instance remembers the token it found, and
// reads it again on every reconnect and health check; a token gone or changed (another
// instance wrote a new one after finding none) is a warning in /api/health and one log line.
//
// Round trips (connection.ts): the commands of one turn of the event loop leave in one write,
// and the appends of one turn in one MULTI … EXEC (each still whole).
import { randomBytes } from 'node:crypto';
import { MAX_REPLAY_JOBS } from '../../../shared/schema/forward.ts';
import { CapturingBins, type Fence, NO_FENCE, RedisCollection, RedisBins, RedisDeliveries, RedisReplays, RedisResponses, RedisRuns } from './collections.ts';
import { type Client, RedisConnection, type RedisConnectionOptions, safeUrl } from './connection.ts';
import { RedisRequestLog } from './request-log.ts';
import type {
  ClockPersisted,
  Eviction,
  Store,
  StoreFault,
  StoreHealth,
  StoredForward,
  StoredResponseControl,
  StoredVerify,
  StoredWebhook,
} from '../types.ts';
import { StoreUnavailableError } from '../types.ts';

export { RedisUnavailableError } from './connection.ts';

export const DEFAULT_REDIS_PREFIX = 'hooklab:';
/** How long /api/health waits for Redis to answer its probe before it answers 503 (see check()). */
export const HEALTH_PROBE_MS = 1000;
const LOST_DATA =
  'Redis came back empty (restarted without persistence, or flushed): every bin, capture, webhook and delivery stored before is gone, and senders to those bins get 404. Run Redis with appendonly yes (see "Scale out" in the README).';
const MAX_WARNINGS = 10;

export interface RedisStoreOptions {
  /** redis://[user:password@]host:port[/db], or rediss:// (TLS). */
  url: string;
  /** Key prefix (default "hooklab:"): several hooklabs (or tests) can share one Redis apart. */
  prefix?: string;
  /** MAX_STORE_BYTES: bytes kept across bins, bodies and heads (head-bytes.ts); the oldest captures go first. */
  maxStoreBytes?: number;
  maxFinishedDeliveries?: number;
  maxEndedRuns?: number;
  /** Keep a capture feed of this many entries for live viewers on every instance (0: none). */
  feedMaxLen?: number;
  /** How long open() waits for Redis to answer (default 10 s: REDIS_START_WAIT_MS). */
  waitMs?: number;
  /** open() waits for Redis: why (see RedisConnection.open). */
  onStartWait?: (message: string) => void;
  connectTimeoutMs?: number;
  commandTimeoutMs?: number;
  onFault?: (fault: StoreFault | null, err?: unknown) => void;
  onWarning?: (message: string, detail?: Record<string, unknown>) => void;
  now?: () => number;
}

export class RedisStore implements Store {
  /** Tells this store from the others without loading this module (see is-redis-store.ts). */
  readonly driver = 'redis' as const;
  readonly bins: RedisBins;
  readonly requests: RedisRequestLog;
  readonly responses: RedisCollection<StoredResponseControl>;
  readonly webhooks: RedisCollection<StoredWebhook>;
  readonly deliveries: RedisDeliveries;
  readonly runs: RedisRuns;
  readonly forwards: RedisCollection<StoredForward>;
  readonly verifications: RedisCollection<StoredVerify>;
  readonly replays: RedisReplays;
  readonly prefix: string;
  /** The store's connection: the Redis-backed response control runs its scripts on it. */
  readonly db: RedisConnection;
  /** This instance's tag on the captures it appends to the capture feed. */
  readonly origin = randomBytes(6).toString('hex');
  private readonly warnings: string[] = [];
  /** Warnings about Redis's settings, by kind, while they hold (see checkSettings). */
  private readonly settingWarnings = new Map<string, { message: string; at: string }>();
  private readonly now: () => number;
  private closed = false;
  /** The marker's token as this instance last found it (see readMarker). */
  private marker: string | null = null;

  private constructor(private readonly o: RedisStoreOptions) {
    const p = (this.prefix = o.prefix ?? DEFAULT_REDIS_PREFIX);
    this.now = o.now ?? Date.now;
    this.db = new RedisConnection(o satisfies RedisConnectionOptions, `${p}probe`);
    this.requests = new RedisRequestLog(this.db, {
      prefix: p,
      maxStoreBytes: o.maxStoreBytes ?? Infinity,
      feedMaxLen: o.feedMaxLen ?? 0,
      origin: this.origin,
      onBinMissing: (id) => this.bins.forget(id),
      onWarning: o.onWarning,
    });
    this.bins = new RedisBins(this.db, `${p}bins`, this.requests, this.now);
    this.responses = new RedisResponses(this.db, `${p}responses`, `${p}plan:`);
    this.webhooks = new RedisCollection(this.db, `${p}webhooks`);
    this.deliveries = new RedisDeliveries(this.db, `${p}deliveries`, o.maxFinishedDeliveries ?? 5000);
    this.runs = new RedisRuns(this.db, `${p}runs`, o.maxEndedRuns ?? 500);
    this.forwards = new RedisCollection(this.db, `${p}forwards`);
    this.verifications = new RedisCollection(this.db, `${p}verifications`);
    this.replays = new RedisReplays(this.db, `${p}replays`, MAX_REPLAY_JOBS);
  }

  /** Connect (waiting for Redis up to waitMs), check it will do, finish purges left over. */
  static async open(o: RedisStoreOptions): Promise<RedisStore> {
    const s = new RedisStore(o);
    await s.db.open(o.waitMs ?? 10_000);
    try {
      await s.checkServer();
      await s.db.run((c) => s.readMarker(c));
      await s.requests.resumePurges();
    } catch (e) {
      await s.db.close();
      throw e;
    }
    // After every reconnect: did Redis come back with our data, and with which settings (a
    // restart may have turned persistence on, or off)?
    s.db.client.on('ready', () => {
      void s.db.run((c) => s.readMarker(c)).catch(() => {});
      void s.checkSettings();
    });
    return s;
  }

  /** Refuse a Redis older than 6.2; warn when it may evict keys or persists nothing (see checkSettings). */
  private async checkServer() {
    const info = await this.db.run((c) => c.info('server'));
    const m = /redis_version:(\d+)\.(\d+)/.exec(info);
    if (m && (Number(m[1]) < 6 || (Number(m[1]) === 6 && Number(m[2]) < 2))) {
      throw new Error(`Redis at ${safeUrl(this.o.url)} is version ${m[1]}.${m[2]}; hooklab needs 6.2 or later.`);
    }
    await this.checkSettings();
  }

  /**
   * Warnings about Redis's settings, true as of the last check (at start-up and every
   * reconnect): each is logged when it starts to hold, and leaves `warnings` once it no longer does.
   */
  private async checkSettings() {
    // CONFIG may be disabled (managed Redis): then nothing to say (null). A read that failed
    // otherwise (undefined) leaves what was said as it was.
    const setting = async (name: string): Promise<string | null | undefined> => {
      try {
        const r = (await this.db.client.config('GET', name)) as string[];
        return r.length >= 2 ? r[1] : null;
      } catch (e) {
        return /unknown command|disabled|NOPERM/i.test(String(e)) ? null : undefined;
      }
    };
    const [policy, appendonly, save] = [await setting('maxmemory-policy'), await setting('appendonly'), await setting('save')];
    if (policy !== undefined) {
      this.standing('evicts', policy !== null && policy !== 'noeviction'
        ? `Redis evicts keys by itself (maxmemory-policy ${policy}): stored captures can lose parts. Set maxmemory-policy noeviction.`
        : null);
    }
    if (appendonly !== undefined && save !== undefined) {
      this.standing('persists', appendonly === 'no' && save === ''
        ? 'Redis persists nothing (appendonly no, no save points): a Redis restart loses every capture. Set appendonly yes.'
        : null);
    }
  }

  /** A warning that holds while a setting is what it is (null: it no longer holds). */
  private standing(kind: string, message: string | null) {
    const was = this.settingWarnings.get(kind);
    if (message === null) {
      this.settingWarnings.delete(kind);
      return;
    }
    if (was?.message === message) return;
    this.settingWarnings.set(kind, { message, at: new Date(this.now()).toISOString() });
    this.o.onWarning?.(message);
  }

  private warn(message: string, detail?: Record<string, unknown>) {
    this.warnings.push(`${new Date(this.now()).toISOString()} ${message}`);
    if (this.warnings.length > MAX_WARNINGS) this.warnings.shift();
    this.o.onWarning?.(message, detail);
  }

  health(): StoreHealth {
    const settings = [...this.settingWarnings.values()].map((w) => `${w.at} ${w.message}`);
    return { fault: this.db.currentFault, warnings: [...settings, ...this.warnings] };
  }

  /**
   * Ask Redis whether it answers now, waiting at most `ms` (/api/health, before health()):
   * no answer in time is a fault (see RedisConnection.check). The probe reads the marker, so a
   * Redis that came back empty is noticed too.
   */
  check(ms = HEALTH_PROBE_MS): Promise<StoreFault | null> {
    return this.db.check(ms, (c) => this.readMarker(c));
  }

  /**
   * Read the marker (written if missing). Its token differing from the one found before means
   * Redis lost hooklab's data since: gone (this instance writes a new one) or replaced (another
   * instance found it gone first). Told once per loss.
   */
  private async readMarker(c: Client): Promise<void> {
    const token = String(await c.hlMarker(`${this.prefix}marker`, randomBytes(12).toString('hex')));
    const before = this.marker;
    this.marker = token;
    if (before !== null && token !== before) this.warn(LOST_DATA);
  }

  async getClock(): Promise<ClockPersisted | null> {
    const s = await this.db.run((c) => c.get(`${this.prefix}clock`));
    return s === null ? null : (JSON.parse(s) as ClockPersisted);
  }

  async setClock(c: ClockPersisted): Promise<void> {
    await this.db.run((r) => r.hlClockSet(`${this.prefix}clock`, JSON.stringify(c), ...this.fence));
  }

  /** Writes the dispatcher makes carry this (see fenced()). */
  protected fence: Fence = NO_FENCE;

  /**
   * The store as the dispatcher elected with `epoch` sees it: its writes of webhooks, runs,
   * deliveries and the clock are refused once another instance holds the lease `key`, so a
   * stalled instance cannot record late results. Everything else is this store.
   */
  fenced(key: string, epoch: string): Store {
    const fence: Fence = [key, epoch];
    const p = this.prefix;
    const view = Object.create(this) as RedisStore;
    Object.defineProperties(view, {
      fence: { value: fence },
      webhooks: { value: new RedisCollection<StoredWebhook>(this.db, `${p}webhooks`, fence) },
      runs: { value: new RedisRuns(this.db, `${p}runs`, this.o.maxEndedRuns ?? 500, fence) },
      deliveries: { value: new RedisDeliveries(this.db, `${p}deliveries`, this.o.maxFinishedDeliveries ?? 5000, fence) },
    });
    return view;
  }

  /**
   * The store as the receiver sees it: bins it found lately are not read again for each
   * capture (RedisBins.forCapture: the append checks the bin still exists). Everything
   * else is this store.
   */
  forCaptures(): Store {
    const view = Object.create(this) as RedisStore;
    Object.defineProperty(view, 'bins', { value: new CapturingBins(this.bins) });
    return view;
  }

  /**
   * Start-up: MAX_REQUESTS_PER_BIN (`maxRequestsPerBin`) and MAX_STORE_BYTES lowered since the
   * captures were stored are applied now (request-log.ts: applyCaps), and said in the log (a
   * setting's effect, not a fault: not in health), as the lowdb store does at load.
   */
  async applyCaps(maxRequestsPerBin: number, onEvicted: (evictions: Eviction[]) => void): Promise<void> {
    const stored = Number((await this.db.run((c) => c.get(`${this.prefix}bytes`))) ?? 0);
    const r = await this.requests.applyCaps(maxRequestsPerBin, onEvicted);
    if (r.capped) {
      this.o.onWarning?.(
        `MAX_REQUESTS_PER_BIN (${maxRequestsPerBin}) is below what some bins held: evicted the ${r.capped} oldest capture(s) (${r.cappedBytes} bytes) of those bins at start-up, as new captures would have.`,
      );
    }
    if (r.budget) {
      this.o.onWarning?.(
        `MAX_STORE_BYTES (${this.o.maxStoreBytes}) is below the ${stored - r.cappedBytes} bytes stored (bodies and heads): evicted the ${r.budget} oldest capture(s) (${r.budgetBytes} bytes) across bins at start-up, as new captures would have.`,
      );
    }
  }

  /** Every change was acknowledged by Redis before its call resolved: nothing is held here. */
  async flush(): Promise<void> {}

  /** An append is acknowledged once Redis has it. */
  unwrittenForMs(): number {
    return 0;
  }

  /**
   * What was acknowledged is in Redis (as durable as its appendonly/appendfsync make it).
   * Rejects while Redis is unreachable or refusing writes.
   */
  async durable(): Promise<void> {
    const fault = this.db.currentFault;
    if (fault) throw new StoreUnavailableError(fault.message);
  }

  /** Wait for purges under way (briefly), then quit the connection. Never hangs. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.requests.settled(), new Promise<void>((r) => (timer = setTimeout(r, 2000)))]);
    clearTimeout(timer);
    await this.db.close();
  }
}
