// In-memory store. It is the working set of the lowdb driver too: that driver subclasses it
// and persists the parts reported through `changed()`.
import type { Delivery, DeliveryQuery, Run } from '../../shared/api.ts';
import type {
  ClockPersisted,
  Collection,
  DeliveryCollection,
  RequestLog,
  RequestPageQuery,
  Store,
  StoredBin,
  StoredRequest,
  StoredResponseControl,
  StoredWebhook,
} from './types.ts';

/** A unit of persistence: the main file, the deliveries file, or one bin's request file. */
export type Part = 'main' | 'responses' | 'deliveries' | `bin:${string}`;

export interface MemoryStoreOptions {
  /** Finished (not pending) deliveries kept; the oldest finished go first. */
  maxFinishedDeliveries?: number;
  /** Ended runs kept. */
  maxEndedRuns?: number;
}

class MapCollection<T extends { id: string }> implements Collection<T> {
  readonly map = new Map<string, T>();
  constructor(private readonly onChange: () => void) {}
  async get(id: string) {
    return this.map.get(id);
  }
  async list() {
    return [...this.map.values()];
  }
  async put(record: T) {
    this.map.set(record.id, record);
    this.onChange();
  }
  async delete(id: string) {
    const had = this.map.delete(id);
    if (had) this.onChange();
    return had;
  }
  /** Replace contents without reporting a change (used when loading from disk). */
  load(records: T[]) {
    this.map.clear();
    for (const r of records) this.map.set(r.id, r);
  }
}

class DeliveryMap extends MapCollection<Delivery> implements DeliveryCollection {
  finished = 0;
  constructor(onChange: () => void, private readonly maxFinished: number) {
    super(onChange);
  }
  override async put(d: Delivery) {
    const prev = this.map.get(d.id);
    if (prev && prev.state !== 'pending') this.finished--;
    if (d.state !== 'pending') this.finished++;
    // Ids sort by creation time, so Map order (first insertion) is creation order.
    await super.put(d);
    if (this.finished > this.maxFinished) this.prune();
  }
  override async delete(id: string) {
    const prev = this.map.get(id);
    if (prev && prev.state !== 'pending') this.finished--;
    return super.delete(id);
  }
  override load(records: Delivery[]) {
    super.load(records);
    this.finished = records.filter((d) => d.state !== 'pending').length;
  }
  private prune() {
    for (const [id, d] of this.map) {
      if (this.finished <= this.maxFinished) break;
      if (d.state !== 'pending') {
        this.map.delete(id);
        this.finished--;
      }
    }
  }
  async query(q: DeliveryQuery) {
    const out: Delivery[] = [];
    const limit = q.limit ?? Infinity;
    const all = [...this.map.values()];
    for (let i = all.length - 1; i >= 0 && out.length < limit; i--) {
      const d = all[i];
      if (q.webhookId && d.webhookId !== q.webhookId) continue;
      if (q.state && d.state !== q.state) continue;
      if (q.runId && d.runId !== q.runId) continue;
      if (q.before !== undefined && d.id >= q.before) continue;
      out.push(d);
    }
    return out;
  }
}

class RunMap extends MapCollection<Run> {
  constructor(onChange: () => void, private readonly maxEnded: number) {
    super(onChange);
  }
  override async put(r: Run) {
    await super.put(r);
    let ended = 0;
    for (const x of this.map.values()) if (x.ended) ended++;
    for (const [id, x] of this.map) {
      if (ended <= this.maxEnded) break;
      if (x.ended) {
        this.map.delete(id);
        ended--;
      }
    }
  }
}

/** Deleting a bin also drops its requests. */
class BinMap extends MapCollection<StoredBin> {
  constructor(onChange: () => void, private readonly onDelete: (id: string) => void) {
    super(onChange);
  }
  override async delete(id: string) {
    const had = await super.delete(id);
    if (had) this.onDelete(id);
    return had;
  }
}

/** One bin's requests, ascending by id (ids sort by arrival), with an id index. */
export interface BinLog {
  list: StoredRequest[];
  index: Map<string, StoredRequest>;
}

/** First index whose id is > id (ids are fixed-width and sort by time). */
function upperBound(list: StoredRequest[], id: string): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (list[mid].id <= id) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function lowerBound(list: StoredRequest[], id: string): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (list[mid].id < id) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * What changed in a bin's log: the request added (if any) and the ids removed, either
 * evicted by the cap (to make room for `added`) or deleted on purpose.
 */
export type RequestsChanged = (binId: string, added: StoredRequest | null, removed: readonly string[], why: 'evicted' | 'deleted') => void;

class MemoryRequestLog implements RequestLog {
  readonly logs = new Map<string, BinLog>();
  constructor(
    private readonly onChange: RequestsChanged,
    private readonly binExists: (binId: string) => boolean,
  ) {}

  log(binId: string): BinLog {
    let l = this.logs.get(binId);
    if (!l) {
      l = { list: [], index: new Map() };
      this.logs.set(binId, l);
    }
    return l;
  }

  async append(r: StoredRequest, cap: number) {
    if (!this.binExists(r.binId)) return null;
    const l = this.log(r.binId);
    const last = l.list[l.list.length - 1];
    if (!last || last.id < r.id) l.list.push(r);
    else l.list.splice(upperBound(l.list, r.id), 0, r); // out-of-order arrival: keep sorted
    l.index.set(r.id, r);
    const evicted: string[] = [];
    // shift() is cheap in V8 (it trims the array's front in place); splice(0, n) copies.
    while (l.list.length > cap) {
      const gone = l.list.shift()!;
      l.index.delete(gone.id);
      evicted.push(gone.id);
    }
    this.onChange(r.binId, r, evicted, 'evicted');
    return evicted;
  }

  async page(binId: string, q: RequestPageQuery) {
    const l = this.logs.get(binId);
    if (!l) return [];
    const end = q.before !== undefined ? lowerBound(l.list, q.before) : l.list.length;
    const start = q.after !== undefined ? upperBound(l.list, q.after) : 0;
    const from = Math.max(start, end - q.limit);
    return l.list.slice(from, end).reverse();
  }

  async get(binId: string, id: string) {
    return this.logs.get(binId)?.index.get(id);
  }

  async delete(binId: string, id: string) {
    const l = this.logs.get(binId);
    const r = l?.index.get(id);
    if (!l || !r) return false;
    l.list.splice(lowerBound(l.list, id), 1);
    l.index.delete(id);
    this.onChange(binId, null, [id], 'deleted');
    return true;
  }

  async clear(binId: string) {
    const l = this.logs.get(binId);
    const removed = l ? l.list.map((r) => r.id) : [];
    if (l) {
      l.list = [];
      l.index.clear();
    }
    this.onChange(binId, null, removed, 'deleted');
    return removed.length;
  }

  async stats(binId: string) {
    const l = this.logs.get(binId);
    const last = l?.list[l.list.length - 1];
    return { count: l?.list.length ?? 0, lastAt: last ? last.receivedAt : null };
  }

  drop(binId: string) {
    this.logs.delete(binId);
  }

  load(binId: string, records: StoredRequest[]) {
    const list = [...records].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    this.logs.set(binId, { list, index: new Map(list.map((r) => [r.id, r])) });
  }
}

export class MemoryStore implements Store {
  readonly bins: MapCollection<StoredBin>;
  readonly requests: MemoryRequestLog;
  readonly responses: MapCollection<StoredResponseControl>;
  readonly webhooks: MapCollection<StoredWebhook>;
  readonly deliveries: DeliveryMap;
  readonly runs: RunMap;
  protected clock: ClockPersisted | null = null;

  constructor(opts: MemoryStoreOptions = {}) {
    const main = () => this.changed('main');
    this.bins = new BinMap(main, (id) => {
      this.requests.drop(id);
      this.changed(`bin:${id}`);
    });
    this.requests = new MemoryRequestLog(
      (binId, added, removed, why) => this.requestsChanged(binId, added, removed, why),
      (binId) => this.bins.map.has(binId),
    );
    this.responses = new MapCollection(() => this.changed('responses'));
    this.webhooks = new MapCollection(main);
    this.deliveries = new DeliveryMap(() => this.changed('deliveries'), opts.maxFinishedDeliveries ?? 5000);
    this.runs = new RunMap(main, opts.maxEndedRuns ?? 500);
  }

  /** Hook for persistence; the memory driver keeps nothing. */
  protected changed(_part: Part): void {}

  /** Finer hook for a bin's requests (the lowdb driver tracks its segment files with it). */
  protected requestsChanged(binId: string, _added: StoredRequest | null, _removed: readonly string[], _why: 'evicted' | 'deleted'): void {
    this.changed(`bin:${binId}`);
  }

  async getClock() {
    return this.clock;
  }
  async setClock(c: ClockPersisted) {
    this.clock = c;
    this.changed('main');
  }
  async flush() {}
  async close() {}
}
