// Which instance runs the dispatcher. On Redis, exactly one does at a time: it holds a lease
// (<p>dispatcher:lease = "<epoch> <its URL>", the epoch a count and a random token: a Redis
// that comes back empty counts from 1 again, and two holders must never share one) and beats
// on it (<p>dispatcher:beat, a counter it increments every third of DISPATCHER_LEASE_MS).
// Its writes carry the epoch it was elected with and are refused once another instance holds
// the lease (see the fence in store/redis/collection-scripts.ts), so an instance that stalls
// past its lease (a long GC pause, SIGSTOP) cannot record late results.
//
// The lease lapses when its holder stops beating, as another instance sees it: the others read
// the lease and its beat every tick, and one takes it over only after a whole lease of its own
// time in which Redis answered each read promptly and the beat never moved. The lease has no
// expiry in Redis: a Redis outage (down, stalled, restarted from its AOF) is not a lapse, since
// no instance sees Redis answer meanwhile. The holder, unable to beat for most of a lease,
// suspends (it sends nothing more, in case another instance is taking over) but keeps its
// epoch, and what it holds unrecorded (attempts answered while Redis was away); once a beat
// goes through again it resumes and records them, each attempt sent once. Only if another
// instance did take over (the holder stalled, or lost its own link to Redis while the others
// kept theirs) does its beat find the lease gone: it stops, and the new holder makes again what
// it could not record (at-least-once). The holder died: another takes over a lease later and
// resumes every delivery owed from the store.
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';

/**
 * Take the lease: when nobody holds it (first start, or a clean stop released it); when it
 * still holds the epoch this instance gave up (ARGV[4], '' when none); or when it and its beat
 * are what this instance watched unchanged for a whole lease (ARGV[2], ARGV[3]: its holder
 * stopped beating). A lease with an expiry is an older build's: it lapses by itself.
 * KEYS: lease, epoch counter, beat. ARGV: url, watched lease, watched beat, stale epoch, token.
 * Answers the new epoch ("<count>.<token>"), or 0.
 */
const ACQUIRE = `
local v = redis.call('GET', KEYS[1])
if v and not (ARGV[4] ~= '' and string.sub(v, 1, #ARGV[4] + 1) == ARGV[4] .. ' ') then
  if ARGV[2] == '' or v ~= ARGV[2] or (redis.call('GET', KEYS[3]) or '') ~= ARGV[3] then return 0 end
  if redis.call('PTTL', KEYS[1]) > 0 then return 0 end
end
local epoch = redis.call('INCR', KEYS[2]) .. '.' .. ARGV[5]
redis.call('SET', KEYS[1], epoch .. ' ' .. ARGV[1])
redis.call('INCR', KEYS[3])
return epoch
`;

/** Beat, if still ours. KEYS: lease, beat. ARGV: epoch. Answers 1 when it beat. */
const RENEW = `
local v = redis.call('GET', KEYS[1])
if not v or string.sub(v, 1, #ARGV[1] + 1) ~= ARGV[1] .. ' ' then return 0 end
redis.call('INCR', KEYS[2])
return 1
`;

/** Give it up, if still ours (a clean stop: another instance takes over at once). */
const RELEASE = `
local v = redis.call('GET', KEYS[1])
if v and string.sub(v, 1, #ARGV[1] + 1) == ARGV[1] .. ' ' then redis.call('DEL', KEYS[1]) return 1 end
return 0
`;

type LeaseClient = Redis & {
  hooklabLeaseAcquire(lease: string, counter: string, beat: string, url: string, watched: string, watchedBeat: string, stale: string, token: string): Promise<string | number>;
  hooklabLeaseRenew(lease: string, beat: string, epoch: string): Promise<number>;
  hooklabLeaseRelease(lease: string, epoch: string): Promise<number>;
};

/** What the lease needs of the store's connection (store/redis/connection.ts). */
export interface LeaseConnection {
  readonly client: Redis;
  /** Commands go through it: a timeout or a lost link raises the store's fault (and fails fast meanwhile). */
  run<T>(fn: (c: Redis) => Promise<T>): Promise<T>;
  /** When the connection last knew Redis was away (unreachable, stalled) or refusing: now, while it is. On performance.now()'s clock, as the lease's. */
  lastFaultAt(): number;
}

export interface DispatcherLeaseOptions {
  db: LeaseConnection;
  prefix: string;
  /** How other instances reach this one (INSTANCE_URL). */
  selfUrl: string;
  /** Lease length; beaten every third of it (DISPATCHER_LEASE_MS). */
  ttlMs: number;
  /** Elected: start the dispatcher with this epoch (its writes carry it). */
  onAcquire: (epoch: string) => Promise<void>;
  /** Lost it (another instance holds it): stop the dispatcher. */
  onLose: () => Promise<void>;
  /** Unsure (no beat for most of a lease): sends wait (see whenSure); and sure again. For the log. */
  onSuspend?: () => void;
  onResume?: () => void;
  /** A read or beat failed (Redis away): once per outage, however many ticks fail. */
  onError?: (err: unknown) => void;
  /** One went through again after onError. */
  onRecover?: () => void;
  /** A step failed other than by its Redis command (taking up or putting down the dispatcher): each time, as it is. */
  onStepError?: (err: unknown) => void;
  /**
   * Milliseconds on a clock that only goes forward (default performance.now()): a step of the
   * wall clock must not end a lease early, or keep one. It stands still while the machine
   * sleeps, though, so the wall clock (`wallNow`, default Date.now) is read too: a holder is
   * overdue when either says so, a watcher takes over only when both do.
   */
  now?: () => number;
  wallNow?: () => number;
}

export class DispatcherLease {
  readonly key: string;
  private readonly counter: string;
  private readonly beatKey: string;
  private readonly client: LeaseClient;
  private readonly now: () => number;
  private readonly wallNow: () => number;
  private epoch: string | null = null;
  /** The epoch this instance last gave up: a lease still holding it is ours to take again (see ACQUIRE). */
  private stale: string | null = null;
  /** When the last beat that went through was sent (or the lease taken). */
  private beatSentAt = 0;
  /** The same on the wall clock (see DispatcherLeaseOptions.now). */
  private beatSentWall = 0;
  /** No beat for most of a lease: sends wait until one goes through (or the lease is lost). */
  private suspended = false;
  private waiting: (() => void)[] = [];
  /** Not holding: the lease and beat read, unchanged since `since` (null: start watching again). */
  private watch: { lease: string; beat: string; since: number; sinceWall: number } | null = null;
  private timer: NodeJS.Timeout | null = null;
  private busy: Promise<void> = Promise.resolve();
  private stopped = false;
  /** Told onError, and no read or beat has gone through since (see failed). */
  private failing = false;

  constructor(private readonly o: DispatcherLeaseOptions) {
    this.key = `${o.prefix}dispatcher:lease`;
    this.counter = `${o.prefix}dispatcher:epoch`;
    this.beatKey = `${o.prefix}dispatcher:beat`;
    this.now = o.now ?? (() => performance.now());
    this.wallNow = o.wallNow ?? Date.now;
    const c = o.db.client as LeaseClient;
    c.defineCommand('hooklabLeaseAcquire', { numberOfKeys: 3, lua: ACQUIRE });
    c.defineCommand('hooklabLeaseRenew', { numberOfKeys: 2, lua: RENEW });
    c.defineCommand('hooklabLeaseRelease', { numberOfKeys: 1, lua: RELEASE });
    this.client = c;
  }

  /** The epoch this instance holds the lease with, or null. */
  get held(): string | null {
    return this.epoch;
  }

  async start(): Promise<void> {
    await this.tick();
    this.timer = setInterval(() => {
      // Not behind the step under way: a beat that hangs (Redis stalled) must not delay this.
      if (this.overdue()) this.suspend();
      void this.tick();
    }, Math.max(50, Math.floor(this.o.ttlMs / 3)));
    this.timer.unref();
  }

  /**
   * Before the dispatcher sends anything: at once while the lease is ours for sure; else
   * (no beat for most of a lease) once a beat goes through again, or the lease is lost (the
   * dispatcher is stopped then, and sends nothing).
   */
  whenSure(): Promise<void> {
    if (this.epoch === null || (!this.suspended && !this.overdue())) return Promise.resolve();
    this.suspend();
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  /** No beat went through for 2/3 of a lease: another instance may soon take it over. */
  private overdue(): boolean {
    const most = (this.o.ttlMs * 2) / 3;
    return this.epoch !== null && (this.now() - this.beatSentAt > most || this.wallNow() - this.beatSentWall > most);
  }

  private suspend() {
    if (this.suspended || this.epoch === null) return;
    this.suspended = true;
    this.o.onSuspend?.();
  }

  private release() {
    const w = this.waiting;
    this.waiting = [];
    for (const f of w) f();
  }

  /** A step's Redis command failed: told once, not at every tick of an outage. */
  private failed(err: unknown) {
    if (this.failing) return;
    this.failing = true;
    this.o.onError?.(err);
  }

  private succeeded() {
    if (!this.failing) return;
    this.failing = false;
    this.o.onRecover?.();
  }

  /** One step: beat on what we hold, or watch it and take it when due. Serialised: a slow step delays the next. */
  private tick(): Promise<void> {
    // The Redis commands' own failures are told (once an outage) inside step.
    this.busy = this.busy.then(() => this.step()).catch((err) => this.o.onStepError?.(err));
    return this.busy;
  }

  private async step() {
    if (this.stopped) return;
    if (this.epoch !== null) {
      const sentAt = this.now();
      const sentWall = this.wallNow();
      let answer: 'renewed' | 'lost' | 'unknown' = 'unknown';
      try {
        answer = (await this.o.db.run(() => this.client.hooklabLeaseRenew(this.key, this.beatKey, this.epoch!))) === 1 ? 'renewed' : 'lost';
        this.succeeded();
      } catch (err) {
        this.failed(err);
      }
      if (answer === 'lost') await this.lose();
      else if (answer === 'renewed') {
        this.beatSentAt = sentAt;
        this.beatSentWall = sentWall;
        // A beat answered late (this process stalled while its answer waited) shows the lease
        // was ours when it was sent, not now: sends go on only once a beat comes back in time.
        if (this.overdue()) this.suspend();
        else if (this.suspended) {
          this.suspended = false;
          this.o.onResume?.();
          this.release();
        }
      } else if (this.overdue()) this.suspend();
      return;
    }
    let epoch: string | null = null;
    try {
      epoch = await this.o.db.run(() => this.takeIfDue());
      this.succeeded();
    } catch (err) {
      this.watch = null;
      this.failed(err);
      return;
    }
    if (!epoch) return;
    this.watch = null;
    this.stale = null;
    this.epoch = epoch;
    this.beatSentAt = this.now();
    this.beatSentWall = this.wallNow();
    this.suspended = false;
    try {
      await this.o.onAcquire(this.epoch);
    } catch (err) {
      this.o.onStepError?.(err);
      await this.lose();
    }
  }

  /**
   * Read the lease and its beat; take it when nobody holds it, when it holds our stale epoch,
   * or when it and its beat stayed as they were for a whole lease of reads, with no fault of
   * the connection meanwhile (a Redis outage stops the holder's beats and everyone's reads
   * alike: it is not the holder's lapse). Answers the new epoch, or null.
   */
  private async takeIfDue(): Promise<string | null> {
    const sentAt = this.now();
    const [lease, beat] = await this.client.mget(this.key, this.beatKey);
    const at = this.now();
    const atWall = this.wallNow();
    const mine = lease !== null && this.stale !== null && lease.startsWith(`${this.stale} `);
    let watched: { lease: string; beat: string } | null = null;
    if (lease !== null && !mine) {
      const w = this.watch;
      // A read answered late (Redis stalled shorter than the command timeout) does not show
      // that Redis served the holder meanwhile: the watch starts again.
      const late = at - sentAt > this.o.ttlMs / 3;
      // (A wall clock stepped back since: watched again from now.)
      if (!w || late || w.lease !== lease || w.beat !== (beat ?? '') || this.o.db.lastFaultAt() >= w.since || atWall < w.sinceWall) {
        this.watch = { lease, beat: beat ?? '', since: at, sinceWall: atWall };
        return null;
      }
      if (at - w.since < this.o.ttlMs || atWall - w.sinceWall < this.o.ttlMs) return null;
      watched = w;
    }
    const token = randomBytes(6).toString('base64url');
    const got = await this.client.hooklabLeaseAcquire(this.key, this.counter, this.beatKey, this.o.selfUrl, watched?.lease ?? '', watched?.beat ?? '', this.stale ?? '', token);
    return typeof got === 'string' ? got : null;
  }

  private async lose() {
    if (this.epoch === null) return;
    this.stale = this.epoch;
    this.epoch = null;
    this.suspended = false;
    await this.o.onLose();
    this.release();
  }

  /** Where the dispatcher runs now (another instance's URL, or ours), or null between holders. */
  async holderUrl(): Promise<string | null> {
    return (await this.holder())?.url ?? null;
  }

  /** The same with the lease itself (epoch and URL): it changes when the lease changes hands, even to the same URL. */
  async holder(): Promise<{ lease: string; url: string } | null> {
    const v = await this.o.db.run(() => this.client.get(this.key));
    if (!v) return null;
    return { lease: v, url: v.slice(v.indexOf(' ') + 1) };
  }

  /** A clean stop: stop our dispatcher and hand the lease on at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.busy;
    const epoch = this.epoch ?? this.stale;
    await this.lose();
    this.release();
    if (epoch !== null) await this.o.db.run(() => this.client.hooklabLeaseRelease(this.key, epoch)).catch(() => {});
  }
}
