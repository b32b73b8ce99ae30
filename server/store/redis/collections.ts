// Collections in Redis, with the memory driver's semantics (collections.ts): list() oldest
// first by first insertion; runs and deliveries bounded by their own rules; deleting a bin
// takes its captures with it. Nothing is cached in Node: instances sharing the Redis see each
// other's changes at once.
import type { Delivery, DeliveryQuery, Run } from '../../../shared/api.ts';
import type { Collection, DeliveryCollection, StoredBin } from '../types.ts';
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
}

/** Bins: deleting one deletes its captures in the same step (then frees their bodies). */
export class RedisBins extends RedisCollection<StoredBin> {
  constructor(
    db: RedisConnection,
    base: string,
    private readonly requests: RedisRequestLog,
  ) {
    super(db, base);
  }
  override async put(b: StoredBin): Promise<void> {
    if (!isSafeBinId(b.id)) throw new Error('bin ids cannot contain ":" or whitespace');
    await super.put(b);
  }
  override async delete(id: string): Promise<boolean> {
    if (!isSafeBinId(id)) return false;
    return (await this.requests.emptyBin(id, 'drop')).found;
  }
}

/** Runs: beyond maxEnded ended runs, the oldest ended go (RunMap's rule). */
export class RedisRuns extends RedisCollection<Run> {
  constructor(
    db: RedisConnection,
    base: string,
    private readonly maxEnded: number,
    fence: Fence = NO_FENCE,
  ) {
    super(db, base, fence);
  }
  override async put(r: Run): Promise<void> {
    await this.db.run((c) => c.hlRunPut(this.base, r.id, JSON.stringify(r), r.ended ? '1' : '0', boundOf(this.maxEnded), ...this.fence));
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
