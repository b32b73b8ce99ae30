// In-memory store: keeps everything, persists nothing. For tests and tools; the default
// driver is lowdb (lowdb.ts), which shares the collections and the request index.
import type { RequestItem } from '../../shared/api.ts';
import { MAX_REPLAY_JOBS } from '../../shared/schema/forward.ts';
import { BinMap, DeliveryMap, MapCollection, ReplayMap, unkept, RunMap } from './collections.ts';
import { changesRow, evictionsOf, type IndexEntry, RequestIndex, toItem, withAnnotations } from './request-index.ts';
import { ownBytes } from '../lib/own-bytes.ts';
import { headBytes } from './head-bytes.ts';
import type {
  Annotations,
  CapturedRequest,
  ClockPersisted,
  RequestLog,
  RequestPageQuery,
  Store,
  StoreHealth,
  StoredRequest,
  StoredForward,
  StoredResponseControl,
  StoredVerify,
  StoredWebhook,
} from './types.ts';

export interface MemoryStoreOptions {
  /** Finished (not pending) deliveries kept; the oldest finished go first. */
  maxFinishedDeliveries?: number;
  /** Ended runs kept. */
  maxEndedRuns?: number;
  /** Bytes kept across all bins, bodies and heads (MAX_STORE_BYTES); the oldest captures go first. */
  maxStoreBytes?: number;
}

interface MemEntry extends IndexEntry {
  rec: StoredRequest; // replaced (not changed) by annotate
  body: Buffer;
}

class MemoryRequestLog implements RequestLog {
  readonly index: RequestIndex<MemEntry>;
  constructor(
    maxBytes: number,
    private readonly binExists: (binId: string) => boolean,
  ) {
    this.index = new RequestIndex(maxBytes);
  }
  async append(r: CapturedRequest, cap: number) {
    if (!this.binExists(r.binId)) return null;
    r.seq = this.index.nextSeq(r.binId);
    const { body, ...rec } = r;
    // Kept for good: its own bytes (a small body is a view of Node's pool, which it would pin).
    const removed = this.index.add({ id: r.id, binId: r.binId, item: toItem(r), bytes: body.length, head: headBytes(r), rec, body: ownBytes(body) }, cap);
    return evictionsOf(r.binId, removed);
  }
  async items(binId: string, q: RequestPageQuery): Promise<RequestItem[]> {
    return this.index.page(binId, q).map((e) => e.item);
  }
  async page(binId: string, q: RequestPageQuery) {
    return this.index.page(binId, q).map((e) => e.rec);
  }
  async get(binId: string, id: string) {
    return this.index.get(binId, id)?.rec;
  }
  async has(binId: string, id: string) {
    return this.index.get(binId, id) !== undefined;
  }
  async annotate(binId: string, id: string, fn: (r: StoredRequest) => Partial<Annotations>) {
    const e = this.index.get(binId, id);
    if (!e) return null;
    const change = fn(e.rec);
    e.rec = withAnnotations(e.rec, change);
    if (changesRow(change)) e.item = toItem(e.rec);
    return e.item;
  }
  async body(binId: string, id: string) {
    return this.index.get(binId, id)?.body;
  }
  async delete(binId: string, id: string) {
    return this.index.remove(binId, id) !== undefined;
  }
  async clear(binId: string) {
    return this.index.clear(binId).length;
  }
  async stats(binId: string) {
    return this.index.stats(binId);
  }
  async lastSeq(binId: string) {
    return this.index.lastSeq(binId);
  }
  pendingBytes() {
    return 0;
  }
}

export class MemoryStore implements Store {
  readonly bins: BinMap;
  readonly requests: MemoryRequestLog;
  readonly responses = new MapCollection<StoredResponseControl>(unkept);
  readonly webhooks = new MapCollection<StoredWebhook>(unkept);
  readonly deliveries: DeliveryMap;
  readonly runs: RunMap;
  readonly forwards = new MapCollection<StoredForward>(unkept);
  readonly verifications = new MapCollection<StoredVerify>(unkept);
  readonly replays = new ReplayMap(unkept, MAX_REPLAY_JOBS);
  private clock: ClockPersisted | null = null;

  constructor(opts: MemoryStoreOptions = {}) {
    this.requests = new MemoryRequestLog(opts.maxStoreBytes ?? Infinity, (id) => this.bins.map.has(id));
    this.bins = new BinMap(
      unkept,
      (id) => this.requests.index.dropBin(id),
      async () => {},
    );
    this.deliveries = new DeliveryMap(unkept, opts.maxFinishedDeliveries ?? 5000);
    this.runs = new RunMap(unkept, opts.maxEndedRuns ?? 500);
  }

  async getClock() {
    return this.clock;
  }
  async setClock(c: ClockPersisted) {
    this.clock = c;
  }
  health(): StoreHealth {
    return { fault: null, warnings: [] };
  }
  async flush() {}
  async durable() {}
  unwrittenForMs() {
    return 0;
  }
  async close() {}
}

