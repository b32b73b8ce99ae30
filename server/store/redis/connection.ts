// The one connection a Redis store uses, and what its state means for health(). Commands fail
// fast while Redis is away (no offline queue, nothing resent after a reconnect: an append
// resent blindly could land twice), and the client reconnects by itself. While Redis is
// unreachable, refuses writes (out of memory, a failing AOF, a read-only replica) or stops
// answering, health() reports the fault; it clears by itself once Redis is back. Whether it
// stops answering is not left to a command's 5 s timeout: /api/health asks Redis itself
// (check(): one probe at a time, answered within a bound), and a probe that does not come back
// in time is a `stall` fault, which the probe's late answer (or any later one) clears.
// While the connection knows Redis is away (unreachable, or stalled), commands fail at once
// (run(), transaction()) rather than each waiting out the command timeout; the probes go on
// directly on the client, so recovery is seen as promptly. Out of memory (maxmemory with
// noeviction) is seen by the health probe too (INFO memory), before any write was refused,
// and clears only once Redis is below maxmemory by a margin: not at the first small write that
// squeezes in (which made health flip every half second near the limit).
import type { Socket } from 'node:net';
import { Redis } from 'ioredis';
import { COLLECTION_SCRIPTS } from './collection-scripts.ts';
import { REQUEST_SCRIPTS } from './request-scripts.ts';
import { type StoreFault, StoreUnavailableError } from '../types.ts';
import { safeUrl } from './safe-url.ts';
import { RedisUnavailableError } from './unavailable.ts';

export { RedisUnavailableError, safeUrl };

type Arg = string | number | Buffer;
type FaultKind = 'link' | 'refused' | 'stall';
type ScriptName = keyof typeof REQUEST_SCRIPTS | keyof typeof COLLECTION_SCRIPTS;

/** The client with the scripts defined on it (EVALSHA, loaded on first use per connection). */
export type Client = Redis & { [K in ScriptName]: (...args: Arg[]) => Promise<unknown> };

export interface RedisConnectionOptions {
  url: string;
  /** Per connection attempt (default 5 s). */
  connectTimeoutMs?: number;
  /** A command that gets no answer in this long fails, and the store reports a fault (default 5 s). */
  commandTimeoutMs?: number;
  /** Wall clock, for fault times. */
  now?: () => number;
  /** The fault began (with the first error), or is over (null). For the log. Not called while open() waits: */
  onFault?: (fault: StoreFault | null, err?: unknown) => void;
  /** open() waits for Redis: why, in words (again when that changes: unreachable, credentials refused). */
  onStartWait?: (message: string) => void;
}

/** A transaction waiting for this turn's batch (see RedisConnection.transaction). */
interface PendingTransaction {
  queue: (c: Client) => Promise<unknown>[];
  /** How many appends' worth of work it is (for GROUP_MAX), asked when it is sent. */
  weight?: () => number;
  resolve: (r: [Error | null, unknown][]) => void;
  reject: (e: unknown) => void;
}

/**
 * Work sent in one MULTI … EXEC at most (transactions, each weighing what it says, one by
 * default): Redis runs an EXEC whole, and a burst of appends in one would hold it (and every
 * other client) for its whole length.
 */
const GROUP_MAX = 32;


/** How long open() lets a connected Redis stay not ready (loading its data) before saying so. */
const NOT_READY_SAY_MS = 1000;

const UNREACHABLE = 'Redis is unreachable: captures and changes are refused (503) until it answers again; hooklab reconnects by itself.';
const AUTH_REFUSED = "Redis refuses hooklab's credentials (the user and password in REDIS_URL): captures and changes are refused (503) until it accepts them; hooklab tries again by itself.";
/** Redis answers, but not to these credentials: a fault of its own, not "unreachable". */
const isAuthError = (err: unknown) => /\b(WRONGPASS|NOAUTH|NOPERM)\b|invalid password|invalid username-password/i.test(err instanceof Error ? err.message : String(err));
/** Redis answers, but refuses writes: what it said, in words for the operator. */
const REFUSALS: [RegExp, string][] = [
  [/^OOM\b/, 'Redis is out of memory (maxmemory) and refuses writes: captures and changes are refused (503). Free memory (delete captures or bins: reading and deleting still work) or raise maxmemory.'],
  [/^MISCONF\b/, 'Redis cannot persist to its disk and refuses writes: captures and changes are refused (503). Check the Redis server\'s disk and log.'],
  [/^READONLY\b/, 'Redis is a read-only replica: captures and changes are refused (503). Point REDIS_URL at the primary.'],
  [/^(NOREPLICAS|MASTERDOWN)\b/, 'Redis refuses writes (its replicas are not in sync): captures and changes are refused (503).'],
  [/^LOADING\b/, 'Redis is loading its data: captures and changes are refused (503) until it is done.'],
  [/^BUSY\b/, 'Redis is busy running a script: captures and changes are refused (503) until it is done.'],
];
const STALLED = 'Redis does not answer in time: captures and changes are refused (503) until it does.';
const OUT_OF_MEMORY = REFUSALS[0][1];
const LOADING = REFUSALS.find(([re]) => re.test('LOADING'))![1];
/**
 * An out-of-memory fault clears once Redis uses at most maxmemory less this share of it (at
 * least OOM_MARGIN_MIN, at most OOM_MARGIN_MAX; never more than half of maxmemory):
 * hysteresis, so that health does not flip at every write near the limit.
 */
const OOM_MARGIN_SHARE = 0.05;
const OOM_MARGIN_MIN = 1024 * 1024;
const OOM_MARGIN_MAX = 64 * 1024 * 1024;
/** Probe writes that must pass in a row before an out-of-memory refusal INFO cannot judge (an evicting policy) clears. */
const OOM_WRITES_TO_CLEAR = 3;
/** How long ioredis waits between ready checks while Redis loads its data (its default, 10 s, delayed recovery that long). */
const LOADING_RETRY_MS = 200;

/** What INFO memory says of Redis's limit: bytes it counts against maxmemory, maxmemory (0: none), the policy. */
export interface RedisMemory {
  used: number;
  max: number;
  policy: string;
}

export function memoryOf(info: string): RedisMemory | null {
  const num = (k: string) => {
    const m = new RegExp(`^${k}:(\\d+)`, 'm').exec(info);
    return m ? Number(m[1]) : null;
  };
  const used = num('used_memory');
  const max = num('maxmemory');
  if (used === null || max === null) return null;
  // What Redis compares with maxmemory: used memory less replica and AOF buffers (as evict.c does).
  return { used: used - (num('mem_not_counted_for_evict') ?? 0), max, policy: /^maxmemory_policy:(\S+)/m.exec(info)?.[1] ?? '' };
}

/** Redis refuses writes now for memory (a write that needs memory: every capture). */
const overLimit = (m: RedisMemory | null) => m !== null && m.max > 0 && m.policy === 'noeviction' && m.used > m.max;
/** Far enough below the limit for an out-of-memory fault to clear (see OOM_MARGIN_SHARE). */
const belowMargin = (m: RedisMemory) =>
  m.max === 0 || m.used <= m.max - Math.min(Math.max(m.max * OOM_MARGIN_SHARE, OOM_MARGIN_MIN), OOM_MARGIN_MAX, m.max / 2);
const TIMEOUT = /Command timed out/i;
const DISCONNECTED = /Connection is closed|Stream isn't writeable|enableOfflineQueue|MaxRetriesPerRequest|ECONNRESET|ECONNREFUSED|EPIPE|ETIMEDOUT/i;


export class RedisConnection {
  readonly client: Client;
  private fault: StoreFault | null = null;
  /**
   * 'link': cleared when the connection is ready again; 'refused': by a successful write probe;
   * 'stall' (no answer in time): by any answer to a probe, or the connection ready again.
   */
  private faultKind: FaultKind | null = null;
  /** For a 'refused' fault: whether Redis refused for memory (its own way to clear: see probeRefused). */
  private refusal: 'oom' | 'other' | null = null;
  /** The refusal a stall or a lost link replaced (see raise()), back when that ends. */
  private replaced: { fault: StoreFault; refusal: 'oom' | 'other' } | null = null;
  /** Probe writes passed in a row while refused (see OOM_WRITES_TO_CLEAR). */
  private writesPassed = 0;
  /** The probe in flight (check() and the stall probe share it: never a pile of them). */
  private probing: Promise<void> | null = null;
  /** When the last probe was sent (the write probe goes at most once a second). */
  private probedAt = 0;
  private probe: NodeJS.Timeout | null = null;
  /** The socket corked for this turn's commands (see batch()). */
  private corked: Socket | null = null;
  /** Transactions to send with this turn's commands (see transaction()). */
  private pending: PendingTransaction[] = [];
  /** Reads waiting in this turn's batch, by key (see sharedRead()). */
  private readonly reads = new Map<string, Promise<unknown>>();
  private closing = false;
  /** open() is waiting for Redis: faults are its to tell (onStartWait), not the log's. */
  private opening = false;
  /** The last connection error, for open()'s message. */
  private lastError: string | null = null;
  private readonly now: () => number;
  /** When the last fault ended, on performance.now()'s clock (0: none yet); see lastFaultAt. */
  private faultEndedAt = 0;

  constructor(
    private readonly o: RedisConnectionOptions,
    private readonly probeKey: string,
  ) {
    this.now = o.now ?? Date.now;
    const redis = new Redis(o.url, {
      lazyConnect: true,
      connectionName: 'hooklab',
      // Fail fast while disconnected rather than queue without bound…
      enableOfflineQueue: false,
      // …and fail what was in flight when the link broke (a blind resend could append twice).
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
      retryStrategy: (times) => Math.min(50 * times, 1000),
      connectTimeout: o.connectTimeoutMs ?? 5000,
      // While Redis loads its data (after a restart, LOADING), ready checks every 200 ms, not
      // at its own estimate (up to 10 s): recovery within a moment of the load's end.
      maxLoadingRetryTime: LOADING_RETRY_MS,
      commandTimeout: o.commandTimeoutMs ?? 5000,
      enableReadyCheck: true,
    });
    for (const [name, lua] of Object.entries({ ...REQUEST_SCRIPTS, ...COLLECTION_SCRIPTS })) {
      redis.defineCommand(name, { numberOfKeys: 0, lua });
    }
    this.client = redis as Client;
    redis.on('ready', () => {
      // A new connection answered its ready check: Redis answers again.
      if (this.faultKind === 'link' || this.faultKind === 'stall') this.clear();
    });
    redis.on('error', (err: Error) => {
      if (redis.status !== 'ready') this.raise('link', isAuthError(err) ? AUTH_REFUSED : UNREACHABLE, err);
    });
    redis.on('close', () => this.raise('link', UNREACHABLE, null));
  }

  /**
   * Connect, waiting up to `waitMs` for Redis (it may still be starting, or loading its data).
   * Meanwhile onStartWait says why it waits (not onFault: nothing runs yet to be refused); past
   * `waitMs` this rejects with RedisUnavailableError, saying why.
   */
  async open(waitMs: number): Promise<void> {
    const redis = this.client;
    const where = safeUrl(this.o.url);
    this.opening = true;
    let told: string | null = null;
    const ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        cleanup();
        const why = this.lastError ? ` (${this.lastError})` : '';
        reject(
          new RedisUnavailableError(
            this.lastError && isAuthError(this.lastError)
              ? `Redis at ${where} refused hooklab's credentials for ${waitMs} ms${why}: giving up. Fix the user and password in REDIS_URL.`
              : told === 'loading' && !this.lastError
                ? `Redis at ${where} answered but was not ready (still loading its data?) within ${waitMs} ms: giving up. Raise REDIS_START_WAIT_MS where Redis takes longer to load.`
                : `Redis at ${where} did not answer within ${waitMs} ms${why}: giving up. Start Redis or fix REDIS_URL (REDIS_START_WAIT_MS sets how long an instance waits for it as it starts).`,
          ),
        );
      }, waitMs);
      const onReady = () => {
        cleanup();
        resolve();
      };
      const onEnd = () => {
        cleanup();
        reject(new RedisUnavailableError(`Redis at ${where}: the connection ended${this.lastError ? ` (${this.lastError})` : ''}.`));
      };
      // Said once, and again only when the reason's kind changes (not at every reconnect).
      const say = (kind: string, message: string) => {
        if (kind === told) return;
        told = kind;
        this.o.onStartWait?.(message);
      };
      const onError = (err: Error) => {
        clearTimeout(notReady);
        if (isAuthError(err)) {
          say('auth', `Redis at ${where} refuses hooklab's credentials (${err.message}); fix the user and password in REDIS_URL. Waiting for it to accept them; giving up after ${waitMs} ms (REDIS_START_WAIT_MS).`);
        } else say('away', `waiting for Redis at ${where} (${err.message}); giving up after ${waitMs} ms (REDIS_START_WAIT_MS) if it does not answer.`);
      };
      // Connected, yet not ready: Redis answers but is still loading its data, which ioredis
      // waits out without an error. Said once that has lasted NOT_READY_SAY_MS.
      let notReady: NodeJS.Timeout | undefined;
      const onConnect = () => {
        clearTimeout(notReady);
        notReady = setTimeout(
          () => say('loading', `Redis at ${where} answers but is not ready (still loading its data?); giving up after ${waitMs} ms (REDIS_START_WAIT_MS) if it is not ready by then.`),
          NOT_READY_SAY_MS,
        );
      };
      const cleanup = () => {
        clearTimeout(timer);
        clearTimeout(notReady);
        redis.off('ready', onReady);
        redis.off('end', onEnd);
        redis.off('error', onError);
        redis.off('connect', onConnect);
      };
      redis.on('ready', onReady);
      redis.on('end', onEnd);
      redis.on('error', onError);
      redis.on('connect', onConnect);
    });
    redis.connect().catch(() => {}); // retries by itself; `ready` says when it is up
    try {
      await ready;
    } catch (e) {
      this.closing = true;
      redis.disconnect();
      throw e;
    } finally {
      this.opening = false;
    }
  }

  /** Report a fault (once: until it clears). `err` null: the connection closed (the error, if any, came first). */
  private raise(kind: FaultKind, message: string, err: unknown, refusal: 'oom' | 'other' | null = null) {
    if (err !== null) this.lastError = err instanceof Error ? err.message : String(err);
    else err = new Error(this.lastError ?? 'connection closed');
    if (this.closing) return;
    // A refusal (out of memory) that Redis then stops answering, or drops the connection: the
    // worse fault replaces it, so that commands fail fast again (see away()) and health says
    // so. Its end gives the refusal back (see clear()), for the refusal's own probe to clear.
    const worse = this.faultKind === 'refused' && kind !== 'refused';
    // A link lost, then its reconnects refused for their credentials: said as such.
    const renamed = this.faultKind === 'link' && kind === 'link' && message !== this.fault?.message && message === AUTH_REFUSED;
    if (this.fault && !worse && !renamed) return;
    if (worse) this.replaced = { fault: this.fault!, refusal: this.refusal ?? 'other' };
    this.fault = { code: 'redis_unavailable', message, since: new Date(this.now()).toISOString() };
    this.faultKind = kind;
    this.refusal = kind === 'refused' ? (refusal ?? 'other') : null;
    this.writesPassed = 0;
    if (!this.opening) this.o.onFault?.(this.fault, err);
    if (kind !== 'link') this.startProbe();
  }

  private clear() {
    if (!this.fault) return;
    // The stall (or lost link) ends, the refusal it replaced is back until its probe says
    // otherwise: "writes succeed again" would not be true yet.
    const back = this.replaced;
    this.replaced = null;
    if (back && this.faultKind !== 'refused') {
      this.fault = back.fault;
      this.faultKind = 'refused';
      this.refusal = back.refusal;
      this.writesPassed = 0;
      this.o.onFault?.(this.fault, new Error('Redis answers again; it refused writes before, and is asked again whether it still does'));
      if (!this.closing) this.startProbe();
      return;
    }
    this.fault = null;
    this.faultKind = null;
    this.refusal = null;
    this.writesPassed = 0;
    this.faultEndedAt = performance.now();
    if (this.probe) clearInterval(this.probe);
    this.probe = null;
    if (!this.opening) this.o.onFault?.(null);
  }

  /**
   * While Redis refuses writes, probe every second (see probeRefused); while it does not
   * answer, a PING every 250 ms (one at a time: one that waits is not sent again; it goes on
   * the client directly, not through run(), which fails fast meanwhile). The first answer
   * ends a stall.
   */
  private startProbe() {
    if (this.probe) return;
    this.probe = setInterval(() => {
      if (this.client.status !== 'ready') return; // the 'ready' event takes over
      if (this.faultKind === 'refused' && Date.now() - this.probedAt < 1000) return;
      void this.sendProbe((c) => c.ping());
    }, 250);
    this.probe.unref();
  }

  /**
   * One probe at a time: while Redis refuses writes, probeRefused; else `read` (a PING, or
   * the store's marker read), with INFO memory when `memory` (the health probe): Redis at
   * maxmemory refuses writes, which a read alone does not show. Its answer ends a `stall` fault.
   */
  private sendProbe(read: (c: Client) => Promise<unknown>, memory = false): Promise<void> {
    return (this.probing ??= (async () => {
      this.probedAt = Date.now();
      try {
        if (this.faultKind === 'refused') {
          await this.probeRefused();
        } else {
          const [, info] = await Promise.all([read(this.client), memory ? this.client.info('memory') : null]);
          if (this.faultKind === 'stall') this.clear();
          const m = info === null ? null : memoryOf(String(info));
          if (overLimit(m)) this.raise('refused', OUT_OF_MEMORY, new Error(`Redis uses ${m!.used} bytes, over its maxmemory ${m!.max}`), 'oom');
        }
      } catch (err) {
        this.writesPassed = 0;
        this.classify(err);
      }
    })().finally(() => (this.probing = null)));
  }

  /**
   * Does Redis accept writes again? Out of memory under noeviction: once INFO memory shows it
   * below maxmemory by the margin (a read: Redis answers it at maxmemory), not when one tiny
   * write squeezes in. Otherwise (another refusal, or an evicting policy that could not
   * evict): a tiny write; for memory, OOM_WRITES_TO_CLEAR of them in a row.
   */
  private async probeRefused(): Promise<void> {
    if (this.refusal === 'oom') {
      const m = memoryOf(String(await this.client.info('memory')));
      if (m && (m.max === 0 || m.policy === 'noeviction')) {
        if (belowMargin(m)) this.clear();
        return;
      }
    }
    await this.client.set(this.probeKey, '1', 'PX', 10_000);
    if (++this.writesPassed >= (this.refusal === 'oom' ? OOM_WRITES_TO_CLEAR : 1)) this.clear();
  }

  /**
   * Ask Redis whether it answers (for /api/health), waiting at most `ms`: a probe (see
   * sendProbe; one already in flight is joined, not sent again) that does not come back in
   * time raises a `stall` fault. Answers the fault now, if any. Never waits longer than `ms`.
   */
  async check(ms: number, read: (c: Client) => Promise<unknown> = (c) => c.ping()): Promise<StoreFault | null> {
    if (this.closing) return this.fault;
    if (this.client.status !== 'ready') {
      // Not connected (the 'close' event raised it already, unless it is still connecting).
      this.raise('link', UNREACHABLE, new Error(`the connection is ${this.client.status}`));
      // Connected, but the ready check waits: is Redis loading its data (a restart)? INFO may
      // be sent before ready (ioredis lets loading-safe commands through); said so if it is.
      if (this.client.status === 'connect') await this.sayIfLoading(ms);
      return this.fault;
    }
    let timer: NodeJS.Timeout | undefined;
    let answered = false;
    const probe = this.sendProbe(read, true).then(() => void (answered = true));
    const late = await Promise.race([
      probe.then(() => false),
      new Promise<boolean>((r) => (timer = setTimeout(() => r(true), ms))),
    ]);
    clearTimeout(timer);
    // The timer and the answer may both have become due while this thread was busy (a long
    // search): timers run before I/O, so let the I/O phase read the answer before calling it late.
    if (late) await new Promise((r) => setImmediate(r));
    if (late && !answered) this.raise('stall', STALLED, new Error(`Redis did not answer a probe within ${ms} ms`));
    return this.fault;
  }

  /** While not ready: a fault that says Redis is unreachable says it loads its data, if INFO says so. */
  private async sayIfLoading(ms: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const info = await Promise.race([
      this.client.info('persistence').catch(() => ''),
      new Promise<string>((r) => (timer = setTimeout(() => r(''), ms))),
    ]);
    clearTimeout(timer);
    const loading = /^loading:1/m.test(String(info));
    if (this.fault && this.faultKind === 'link' && loading !== (this.fault.message === LOADING)) {
      // The same fault (logged once, as it began), in the words that are true now.
      this.fault = { ...this.fault, message: loading ? LOADING : UNREACHABLE };
    }
  }

  get currentFault(): StoreFault | null {
    return this.fault;
  }

  /**
   * When this connection last knew of a fault (now, while there is one): the dispatcher's
   * lease takes a silent holder's lease only after a whole lease without one (see dispatcher-lease.ts).
   * On performance.now()'s clock, as the lease's: a wall clock stepped back would hide a fault.
   */
  lastFaultAt(): number {
    return this.fault ? performance.now() : this.faultEndedAt;
  }

  /**
   * Run commands; a failure that means Redis is away or refusing raises the fault and
   * rejects with StoreUnavailableError (the receiver answers 503). Other errors pass as they are.
   */
  async run<T>(fn: (c: Client) => Promise<T>): Promise<T> {
    const away = this.away();
    if (away) throw away;
    this.batch();
    try {
      return await fn(this.client);
    } catch (err) {
      throw this.classify(err);
    }
  }

  /**
   * Run the commands `queue` sends as one MULTI … EXEC: they land whole or not at all.
   * Answers their results as [error, value] pairs; rejects (classified) when the transaction
   * did not run.
   *
   * Transactions asked for in one turn of the event loop are sent together when the turn's
   * commands leave (see batch()): one MULTI, each one's commands in the order asked, one EXEC,
   * for up to GROUP_MAX of work (`weight`, asked as they are sent: 1 if not given; `queue`
   * is called then too) (a group commit: each stays whole; a command that fails as it
   * runs fails alone, as in any MULTI; one refused as queued, which only a Redis that refuses
   * writes does, fails the group). MULTI and EXEC are written as plain commands, back to back in one synchronous
   * run, so nothing else can come between them (ioredis writes commands in call order, and
   * Redis drops a MULTI whose EXEC never came); ioredis's transaction object would copy every
   * script defined on the client onto itself, for each capture.
   */
  transaction(queue: (c: Client) => Promise<unknown>[], weight?: () => number): Promise<[Error | null, unknown][]> {
    // Before 'ready', ioredis would still write MULTI and EXEC (loading-safe) but refuse the rest.
    if (this.client.status !== 'ready') return Promise.reject(this.classify(new Error('Connection is closed.')));
    const away = this.away();
    if (away) return Promise.reject(away);
    this.batch();
    return new Promise((resolve, reject) => {
      this.pending.push({ queue, weight, resolve, reject });
      if (!this.corked) this.commit(); // nothing to wait for (the socket could not be corked)
    });
  }

  /** Send the transactions asked for so far, up to GROUP_MAX of work to a MULTI … EXEC. */
  private commit(): void {
    const all = this.pending;
    if (!all.length) return;
    this.pending = [];
    if (this.client.status !== 'ready') {
      const err = this.classify(new Error('Connection is closed.'));
      for (const t of all) t.reject(err);
      return;
    }
    let group: PendingTransaction[] = [];
    let load = 0;
    for (const t of all) {
      const w = Math.max(1, t.weight?.() ?? 1);
      if (group.length && load + w > GROUP_MAX) {
        this.commitGroup(group);
        group = [];
        load = 0;
      }
      group.push(t);
      load += w;
    }
    if (group.length) this.commitGroup(group);
  }

  private commitGroup(txs: PendingTransaction[]): void {
    const c = this.client;
    let refused: unknown = null;
    const keep = (err: unknown) => void (refused ??= err);
    const sizes: number[] = [];
    const broken: unknown[] = [];
    (c.multi({ pipeline: false }) as Promise<unknown>).catch(keep);
    for (const t of txs) {
      let sent: Promise<unknown>[] = [];
      let err: unknown = null;
      try {
        sent = t.queue(c);
      } catch (e) {
        err = e; // a bug in the caller: that one is refused (what it queued runs, as in any MULTI)
      }
      sizes.push(sent.length);
      broken.push(err);
      for (const p of sent) p.catch(keep);
    }
    (c.exec() as Promise<[Error | null, unknown][] | null>).then(
      (res) => {
        let at = 0;
        for (const [i, t] of txs.entries()) {
          if (!res) t.reject(new Error('the transaction was aborted'));
          else if (broken[i]) t.reject(broken[i]);
          else t.resolve(res.slice(at, at + sizes[i]));
          at += sizes[i];
        }
      },
      (err) => {
        // EXECABORT: a command was refused as queued (OOM, say); that refusal says why.
        const e = this.classify(refused ?? err);
        for (const t of txs) t.reject(e);
      },
    );
  }

  /**
   * A read that may be shared: while a read under `key` waits in this turn's unsent batch,
   * another caller joins it rather than sending its own (it runs in Redis after both asked:
   * as fresh for each as a read of its own). Once the batch has left, a new read is sent.
   */
  sharedRead<T>(key: string, fn: (c: Client) => Promise<T>): Promise<T> {
    const queued = this.reads.get(key);
    if (queued) return queued as Promise<T>;
    const p = this.run(fn);
    if (this.corked) this.reads.set(key, p);
    return p;
  }

  /**
   * Commands sent in one turn of the event loop leave in one write: the socket is corked at
   * the first and uncorked once the turn's callbacks have run (setImmediate). ioredis writes
   * each command on its own otherwise (several per capture, from every request in flight).
   * Order is kept: it is one stream.
   */
  private batch(): void {
    if (this.corked) return;
    const s = (this.client as unknown as { stream?: Socket }).stream;
    if (!s || !s.writable || typeof s.cork !== 'function') return;
    s.cork();
    this.corked = s;
    setImmediate(this.uncork);
  }

  private readonly uncork = () => {
    const s = this.corked;
    this.corked = null;
    this.reads.clear();
    this.commit();
    s?.uncork();
  };

  /**
   * While this connection knows Redis is away (no answer in time, or not connected), the
   * error a command gets at once, rather than after the command timeout (5 s: senders with
   * shorter timeouts gave up, connections piled up). Nothing is sent, so nothing is in doubt.
   * The probes (sendProbe) go on meanwhile and end the fault; out of memory is not 'away':
   * reads and deletions work then.
   */
  private away(): StoreUnavailableError | null {
    const f = this.fault;
    if (!f || this.closing) return null;
    if (this.faultKind === 'stall' || (this.faultKind === 'link' && this.client.status !== 'ready')) return new StoreUnavailableError(f.message);
    return null;
  }

  /** Map a command's error: faults become StoreUnavailableError. */
  classify(err: unknown): unknown {
    // A MULTI whose commands were refused as queued (OOM, say) fails as EXECABORT: the
    // refusal is in its previous errors.
    const inner = (err as { previousErrors?: unknown[] } | null)?.previousErrors?.[0];
    const msg = `${err instanceof Error ? err.message : String(err)} ${inner instanceof Error ? inner.message : ''}`;
    for (const [re, words] of REFUSALS) {
      if (re.test(msg) || (inner instanceof Error && re.test(inner.message))) {
        this.raise('refused', words, err, words === OUT_OF_MEMORY ? 'oom' : 'other');
        return new StoreUnavailableError(words);
      }
    }
    if (TIMEOUT.test(msg)) {
      this.raise('stall', STALLED, err);
      return new StoreUnavailableError(this.fault?.message ?? msg);
    }
    if (DISCONNECTED.test(msg) || this.client.status !== 'ready') {
      this.raise('link', UNREACHABLE, err);
      return new StoreUnavailableError(UNREACHABLE);
    }
    return err;
  }

  /** Quit (sending what is queued first); a hard disconnect if that takes longer than `ms`. */
  async close(ms = 2000): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    if (this.probe) clearInterval(this.probe);
    this.probe = null;
    const redis = this.client;
    if (redis.status === 'ready') {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        redis.quit().catch(() => {}),
        new Promise<void>((r) => (timer = setTimeout(r, ms))),
      ]);
      clearTimeout(timer);
    }
    redis.disconnect();
  }
}
