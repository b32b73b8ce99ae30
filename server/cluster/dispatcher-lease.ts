// Which instance runs the dispatcher. On Redis, exactly one does at a time: it holds a lease
// (<p>dispatcher:lease = "<epoch> <its URL>", with an expiry it keeps renewing). Its writes
// carry the epoch it was elected with and are refused once another instance holds the lease
// (see the fence in store/redis/collection-scripts.ts), so an instance that stalls past its
// lease (a long GC pause, SIGSTOP) cannot record late results. When the holder dies, another
// takes over once the lease expires, and resumes every delivery owed from the store.
import type { Redis } from 'ioredis';

/**
 * Take the lease if nobody holds it, or if it still holds the epoch this instance gave up
 * (ARGV[3], '' when none: a renewal sent during a Redis stall, run by Redis once it resumed,
 * extended a lease its holder had already stopped for; nobody else would dispatch until it
 * lapsed). KEYS: lease, epoch counter. ARGV: url, ttl, stale epoch. Answers the new epoch, or 0.
 */
const ACQUIRE = `
local v = redis.call('GET', KEYS[1])
if v and not (ARGV[3] ~= '' and string.sub(v, 1, #ARGV[3] + 1) == ARGV[3] .. ' ') then return 0 end
local epoch = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], epoch .. ' ' .. ARGV[1], 'PX', ARGV[2])
return epoch
`;

/** Keep it, if still ours. KEYS: lease. ARGV: epoch, ttl. Answers 1 when renewed. */
const RENEW = `
local v = redis.call('GET', KEYS[1])
if not v or string.sub(v, 1, #ARGV[1] + 1) ~= ARGV[1] .. ' ' then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
`;

/** Give it up, if still ours (a clean stop: another instance takes over at once). */
const RELEASE = `
local v = redis.call('GET', KEYS[1])
if v and string.sub(v, 1, #ARGV[1] + 1) == ARGV[1] .. ' ' then redis.call('DEL', KEYS[1]) return 1 end
return 0
`;

type LeaseClient = Redis & {
  hooklabLeaseAcquire(lease: string, counter: string, url: string, ttl: number, stale: string): Promise<number>;
  hooklabLeaseRenew(lease: string, epoch: string, ttl: number): Promise<number>;
  hooklabLeaseRelease(lease: string, epoch: string): Promise<number>;
};

export interface DispatcherLeaseOptions {
  client: Redis;
  prefix: string;
  /** How other instances reach this one (INSTANCE_URL). */
  selfUrl: string;
  /** Lease length; renewed every third of it (DISPATCHER_LEASE_MS). */
  ttlMs: number;
  /** Elected: start the dispatcher with this epoch (its writes carry it). */
  onAcquire: (epoch: string) => Promise<void>;
  /** Not (or no longer) sure to hold it: stop the dispatcher. */
  onLose: () => Promise<void>;
  onError?: (err: unknown) => void;
  now?: () => number;
}

export class DispatcherLease {
  readonly key: string;
  private readonly counter: string;
  private readonly client: LeaseClient;
  private readonly now: () => number;
  private epoch: string | null = null;
  /** The epoch this instance last gave up: a lease still holding it is ours to take again (see ACQUIRE). */
  private stale: string | null = null;
  /** When the lease was last renewed (or taken): past ttl without a renewal, assume it lost. */
  private heldSince = 0;
  private timer: NodeJS.Timeout | null = null;
  private busy: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(private readonly o: DispatcherLeaseOptions) {
    this.key = `${o.prefix}dispatcher:lease`;
    this.counter = `${o.prefix}dispatcher:epoch`;
    this.now = o.now ?? Date.now;
    const c = o.client as LeaseClient;
    c.defineCommand('hooklabLeaseAcquire', { numberOfKeys: 2, lua: ACQUIRE });
    c.defineCommand('hooklabLeaseRenew', { numberOfKeys: 1, lua: RENEW });
    c.defineCommand('hooklabLeaseRelease', { numberOfKeys: 1, lua: RELEASE });
    this.client = c;
  }

  /** The epoch this instance holds the lease with, or null. */
  get held(): string | null {
    return this.epoch;
  }

  async start(): Promise<void> {
    await this.tick();
    this.timer = setInterval(() => void this.tick(), Math.max(50, Math.floor(this.o.ttlMs / 3)));
    this.timer.unref();
  }

  /** One step: renew what we hold, or try to take it. Serialised: a slow step delays the next. */
  private tick(): Promise<void> {
    this.busy = this.busy.then(() => this.step()).catch((err) => this.o.onError?.(err));
    return this.busy;
  }

  private async step() {
    if (this.stopped) return;
    if (this.epoch !== null) {
      let answer: 'renewed' | 'lost' | 'unknown' = 'unknown';
      try {
        answer = (await this.client.hooklabLeaseRenew(this.key, this.epoch, this.o.ttlMs)) === 1 ? 'renewed' : 'lost';
      } catch (err) {
        this.o.onError?.(err);
      }
      if (answer === 'renewed') this.heldSince = this.now();
      // Lost, or unable to tell for most of a lease (Redis away): another instance may take
      // over once it expires, so stop first.
      else if (answer === 'lost' || this.now() - this.heldSince > (this.o.ttlMs * 2) / 3) await this.lose();
      return;
    }
    let epoch = 0;
    try {
      epoch = Number(await this.client.hooklabLeaseAcquire(this.key, this.counter, this.o.selfUrl, this.o.ttlMs, this.stale ?? ''));
    } catch (err) {
      this.o.onError?.(err);
      return;
    }
    if (!epoch) return;
    this.stale = null;
    this.epoch = String(epoch);
    this.heldSince = this.now();
    try {
      await this.o.onAcquire(this.epoch);
    } catch (err) {
      this.o.onError?.(err);
      await this.lose();
    }
  }

  private async lose() {
    if (this.epoch === null) return;
    this.stale = this.epoch;
    this.epoch = null;
    await this.o.onLose();
  }

  /** Where the dispatcher runs now (another instance's URL, or ours), or null between holders. */
  async holderUrl(): Promise<string | null> {
    const v = await this.client.get(this.key);
    if (!v) return null;
    return v.slice(v.indexOf(' ') + 1);
  }

  /** A clean stop: stop our dispatcher and hand the lease on at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.busy;
    const epoch = this.epoch ?? this.stale;
    await this.lose();
    if (epoch !== null) await this.client.hooklabLeaseRelease(this.key, epoch).catch(() => {});
  }
}
