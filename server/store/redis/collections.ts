// Collections in Redis, with the memory driver's semantics (collections.ts): list() oldest
// first by first insertion; runs and deliveries bounded by their own rules; deleting a bin
// takes its captures with it. Nothing is cached in Node: instances sharing the Redis see each
// other's changes at once. (The one exception, bins the receiver found, is RedisBins.forCapture:
// what it remembers cannot make a capture land in a deleted bin.)
import type { Delivery, DeliveryQuery, Run } from '../../../shared/api.ts';
import type { Collection, Creatable, CreateResult, DeliveryCollection, StoredBin, StoredReplay } from '../types.ts';
import type { RedisConnection } from './connection.ts';
import { isSafeBinId, type RedisRequestLog } from './request-log.ts';

/** A bound for a script (Infinity: none). */
const boundOf = (n: number) => (Number.isFinite(n) ? Math.max(0, Math.floor(n)) : Number.MAX_SAFE_INTEGER);

const parse = <T>(s: string | null): T | undefined => (s === null ? undefined : (JSON.parse(s) as T));

/** Lease key and epoch that writes must still hold (see FENCE in collection-scripts.ts). */
export type Fence = readonly [key: string, epoch: string];
export const NO_FENCE: Fence = ['', ''];

export class RedisCollection<T extends { id: string }> implements Collection<T> {
  constructor(
    protected readonly db: RedisConnection,
    /** The collection's hash; its order is base:order (see collection-scripts.ts). */
    protected readonly base: string,
    protected readonly fence: Fence = NO_FENCE,
  ) {}
  async get(id: string): Promise<T | undefined> {
    return parse<T>(await this.db.run((c) => c.hget(this.base, id)));
  }
  async list(): Promise<T[]> {
    const rows = (await this.db.run((c) => c.hlCollList(this.base))) as (string | null)[];
    return rows.filter((r): r is string => r !== null).map((r) => JSON.parse(r) as T);
  }
  async put(record: T): Promise<void> {
    await this.db.run((c) => c.hlCollPut(this.base, record.id, JSON.stringify(record), ...this.fence));
  }
  async delete(id: string): Promise<boolean> {
    return Number(await this.db.run((c) => c.hlCollDelete(this.base, id))) === 1;
  }
  /** Checked and inserted in one script: see Creatable. (Not fenced: bins and webhooks are made through the API.) */
  async create(record: T, max: number): Promise<CreateResult> {
    return (await this.db.run((c) => c.hlCollCreate(this.base, record.id, JSON.stringify(record), String(boundOf(max))))) as CreateResult;
  }
}

/**
 * Response settings: deleting a bin's deletes where its plan stands too (<p>plan:<bin>, see
 * control/redis-control.ts). Left without its settings, that hash made every capture of a bin
 * made again with the id fail (its version no longer matched settings that were gone).
 */
export class RedisResponses<T extends { id: string }> extends RedisCollection<T> {
  constructor(db: RedisConnection, base: string, private readonly planPrefix: string) {
    super(db, base);
  }
  override async delete(id: string): Promise<boolean> {
    const gone = await super.delete(id);
    await this.db.run((c) => c.del(this.planPrefix + id));
    return gone;
  }
}

/** How long the receiver trusts a bin it found (notes about changes usually come sooner). */
const KNOWN_BIN_MS = 10_000;
/** Bins remembered for the receiver at most (the oldest found go first). */
const KNOWN_BINS_MAX = 10_000;

/** Bins: deleting one deletes its captures in the same step (then frees their bodies). */
export class RedisBins extends RedisCollection<StoredBin> {
  /** Bins the receiver found lately (see forCapture), with when. */
  private readonly known = new Map<string, { bin: StoredBin; at: number }>();
  /** Counts forget()s: a look-up that saw one while it waited does not remember what it read. */
  private forgets = 0;
  private changed: ((id: string) => void) | null = null;

  constructor(
    db: RedisConnection,
    base: string,
    private readonly requests: RedisRequestLog,
    private readonly now: () => number = Date.now,
  ) {
    super(db, base);
  }
  override async put(b: StoredBin): Promise<void> {
    if (!isSafeBinId(b.id)) throw new Error('bin ids cannot contain ":" or whitespace');
    await super.put(b);
    this.forget(b.id);
    this.changed?.(b.id);
  }
  override async create(b: StoredBin, max: number): Promise<CreateResult> {
    if (!isSafeBinId(b.id)) throw new Error('bin ids cannot contain ":" or whitespace');
    const done = await super.create(b, max);
    if (done === 'created') {
      this.forget(b.id);
      this.changed?.(b.id);
    }
    return done;
  }
  override async delete(id: string): Promise<boolean> {
    if (!isSafeBinId(id)) return false;
    this.forget(id);
    const found = (await this.requests.emptyBin(id, 'drop')).found;
    this.forget(id);
    if (found) this.changed?.(id);
    return found;
  }

  /**
   * The receiver's look-up, without a round trip for a bin found lately. Only bins that exist
   * are remembered (one created on another instance is read from Redis at its first capture),
   * and a remembered one may have been deleted elsewhere a moment ago: the append script
   * checks that its bin exists, in the same atomic step, so such a capture is answered 404
   * and never stored (then forgotten here). Renames do not matter to the receiver (it uses the
   * id); other readers use get().
   */
  async forCapture(id: string): Promise<StoredBin | undefined> {
    const k = this.known.get(id);
    const t = this.now();
    if (k && t - k.at < KNOWN_BIN_MS) return k.bin;
    const seen = this.forgets;
    const bin = await this.get(id);
    if (!bin || seen !== this.forgets) {
      if (!bin) this.known.delete(id);
      return bin;
    }
    this.known.delete(id); // re-inserted: the Map's order is the order found
    if (this.known.size >= KNOWN_BINS_MAX) this.known.delete(this.known.keys().next().value!);
    this.known.set(id, { bin, at: t });
    return bin;
  }

  /** A bin was changed or deleted (here, by another instance, or found gone by an append). */
  forget(id: string): void {
    this.forgets++;
    this.known.delete(id);
  }

  /** Forget every bin found (notes from other instances may have been lost). */
  forgetAll(): void {
    this.forgets++;
    this.known.clear();
  }

  /** Told after this instance created, changed or deleted a bin (the app tells the others). */
  onChange(fn: ((id: string) => void) | null): void {
    this.changed = fn;
  }
}

/** The bins as the receiver reads them: get() is RedisBins.forCapture; the rest as they are. */
export class CapturingBins implements Creatable<StoredBin> {
  constructor(private readonly bins: RedisBins) {}
  get(id: string): Promise<StoredBin | undefined> {
    return this.bins.forCapture(id);
  }
  list(): Promise<StoredBin[]> {
    return this.bins.list();
  }
  put(b: StoredBin): Promise<void> {
    return this.bins.put(b);
  }
  create(b: StoredBin, max: number): Promise<CreateResult> {
    return this.bins.create(b, max);
  }
  delete(id: string): Promise<boolean> {
    return this.bins.delete(id);
  }
}

/** Records that end (runs, bulk replays): beyond maxEnded ended ones, the oldest ended go (EndingMap's rule). */
export class RedisEnding<T extends { id: string }> extends RedisCollection<T> {
  constructor(
    db: RedisConnection,
    base: string,
    private readonly maxEnded: number,
    private readonly ended: (x: T) => boolean,
    fence: Fence = NO_FENCE,
  ) {
    super(db, base, fence);
  }
  override async put(r: T): Promise<void> {
    await this.db.run((c) => c.hlRunPut(this.base, r.id, JSON.stringify(r), this.ended(r) ? '1' : '0', boundOf(this.maxEnded), ...this.fence));
  }
}

/** Runs: beyond maxEnded ended runs, the oldest ended go (RunMap's rule). */
export class RedisRuns extends RedisEnding<Run> {
  constructor(db: RedisConnection, base: string, maxEnded: number, fence: Fence = NO_FENCE) {
    super(db, base, maxEnded, (r) => r.ended, fence);
  }
}

/** Bulk replays: every running one, and the newest maxEnded finished or failed ones (ReplayMap's rule). */
export class RedisReplays extends RedisEnding<StoredReplay> {
  constructor(db: RedisConnection, base: string, maxEnded: number) {
    super(db, base, maxEnded, (j) => j.state !== 'running');
  }
}

/** Deliveries: indexed for query(); beyond maxFinished finished ones, the oldest finished go. */
export class RedisDeliveries extends RedisCollection<Delivery> implements DeliveryCollection {
  constructor(
    db: RedisConnection,
    base: string,
    private readonly maxFinished: number,
    fence: Fence = NO_FENCE,
  ) {
    super(db, base, fence);
  }
  override async put(d: Delivery): Promise<void> {
    await this.db.run((c) =>
      c.hlDeliveryPut(this.base, d.id, JSON.stringify(d), d.state, d.webhookId, d.runId ?? '', boundOf(this.maxFinished), ...this.fence),
    );
  }
  override async delete(id: string): Promise<boolean> {
    return Number(await this.db.run((c) => c.hlDeliveryDelete(this.base, id))) === 1;
  }
  async query(q: DeliveryQuery): Promise<Delivery[]> {
    const limit = q.limit === undefined || !Number.isFinite(q.limit) ? -1 : Math.floor(q.limit);
    if (limit === 0) return [];
    const rows = (await this.db.run((c) =>
      c.hlDeliveryQuery(this.base, q.state ?? '', q.webhookId ?? '', q.runId ?? '', q.before ?? '', limit),
    )) as (string | null)[];
    return rows.filter((r): r is string => r !== null).map((r) => JSON.parse(r) as Delivery);
  }
}
