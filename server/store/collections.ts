// The in-memory collections both drivers keep (the lowdb driver persists them through the
// change callbacks, each into its journal): bins, webhooks, runs, response settings, deliveries
// and bulk replays.
import type { Delivery, DeliveryQuery, Run } from '../../shared/api.ts';
import type { Collection, CreateResult, DeliveryCollection, StoredBin, StoredReplay } from './types.ts';

/**
 * A collection in a Map. Each change is told to `changes` (the previous version with the
 * next: a journal writes only what changed).
 */
export class MapCollection<T extends { id: string }> implements Collection<T> {
  readonly map = new Map<string, T>();
  constructor(protected readonly changes: RecordChanges<T>) {}
  async get(id: string) {
    return this.map.get(id);
  }
  async list() {
    return [...this.map.values()];
  }
  async put(record: T) {
    const prev = this.map.get(record.id);
    this.map.set(record.id, record);
    this.changes.put(prev, record);
  }
  async delete(id: string) {
    const had = this.map.delete(id);
    if (had) this.changes.removed(id);
    return had;
  }
  /** Checked and put in one step (no await between): see Creatable. */
  async create(record: T, max: number): Promise<CreateResult> {
    if (this.map.has(record.id)) return 'exists';
    if (this.map.size >= max) return 'full';
    await this.put(record);
    return 'created';
  }
  /** Replace contents without reporting a change (used when loading from disk). */
  load(records: T[]) {
    this.map.clear();
    for (const r of records) this.map.set(r.id, r);
  }
}

/** Changes nobody keeps (the memory driver). */
export const unkept: RecordChanges<never> = { put() {}, removed() {} };

/** What the lowdb driver's journals hear: each version put, and each removal. */
export interface RecordChanges<T> {
  put(prev: T | undefined, next: T): void;
  removed(id: string): void;
}


export class DeliveryMap implements DeliveryCollection {
  readonly map = new Map<string, Delivery>();
  private finished = 0;
  constructor(
    private readonly changes: RecordChanges<Delivery>,
    private readonly maxFinished: number,
  ) {}
  async get(id: string) {
    return this.map.get(id);
  }
  async list() {
    return [...this.map.values()];
  }
  async put(d: Delivery) {
    const prev = this.map.get(d.id);
    if (prev && prev.state !== 'pending') this.finished--;
    if (d.state !== 'pending') this.finished++;
    // Ids sort by creation time, so Map order (first insertion) is creation order.
    this.map.set(d.id, d);
    this.changes.put(prev, d);
    if (this.finished > this.maxFinished) this.prune();
  }
  async delete(id: string) {
    const prev = this.map.get(id);
    if (!prev) return false;
    if (prev.state !== 'pending') this.finished--;
    this.map.delete(id);
    this.changes.removed(id);
    return true;
  }
  load(records: Iterable<Delivery>) {
    this.map.clear();
    this.finished = 0;
    for (const d of records) {
      this.map.set(d.id, d);
      if (d.state !== 'pending') this.finished++;
    }
  }
  private prune() {
    for (const [id, d] of this.map) {
      if (this.finished <= this.maxFinished) break;
      if (d.state !== 'pending') {
        this.map.delete(id);
        this.finished--;
        this.changes.removed(id);
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

/**
 * Records that end (runs, bulk replays): every one still going is kept, and beyond `maxEnded`
 * ended ones those that ended first go. (By when they ended, not when they began: a long job
 * that ends after a hundred short ones is the newest, not the first to go.)
 */
export class EndingMap<T extends { id: string }> extends MapCollection<T> {
  /** Ended records' ids, in the order they ended (after a load: the order loaded). */
  private readonly endedOrder = new Set<string>();
  constructor(
    changes: RecordChanges<T>,
    private readonly maxEnded: number,
    private readonly ended: (x: T) => boolean,
  ) {
    super(changes);
  }
  override async put(r: T) {
    await super.put(r);
    if (!this.ended(r)) this.endedOrder.delete(r.id);
    else if (!this.endedOrder.has(r.id)) this.endedOrder.add(r.id);
    for (const id of this.endedOrder) {
      if (this.endedOrder.size <= this.maxEnded) break;
      this.endedOrder.delete(id);
      this.map.delete(id);
      this.changes.removed(id);
    }
  }
  override async delete(id: string) {
    this.endedOrder.delete(id);
    return super.delete(id);
  }
  override load(records: T[]) {
    super.load(records);
    this.endedOrder.clear();
    for (const r of records) if (this.ended(r)) this.endedOrder.add(r.id);
  }
}

export class RunMap extends EndingMap<Run> {
  constructor(changes: RecordChanges<Run>, maxEnded: number) {
    super(changes, maxEnded, (r) => r.ended);
  }
}

/** Bulk replays: every running one, and the newest `maxEnded` finished or failed ones. */
export class ReplayMap extends EndingMap<StoredReplay> {
  constructor(changes: RecordChanges<StoredReplay>, maxEnded: number) {
    super(changes, maxEnded, (j) => j.state !== 'running');
  }
}

/**
 * Bins. Deleting one also drops its requests (onDelete). `durable` is awaited after a change:
 * the lowdb driver resolves it once the change is on disk, so a 201 or 204 is never undone
 * by a crash. A driver may delete its own way (`remove`: the lowdb driver records the deletion
 * first, and one it cannot write changes nothing).
 */
export class BinMap extends MapCollection<StoredBin> {
  constructor(
    changes: RecordChanges<StoredBin>,
    private readonly onDelete: (id: string) => void,
    private readonly durable: () => Promise<void>,
    private readonly remove?: (id: string) => Promise<boolean>,
  ) {
    super(changes);
  }
  override async put(b: StoredBin) {
    await super.put(b);
    await this.durable();
  }
  override async delete(id: string) {
    if (this.remove) return this.remove(id);
    const had = await super.delete(id);
    if (had) {
      this.onDelete(id);
      await this.durable();
    }
    return had;
  }
}
