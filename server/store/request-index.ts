// The in-memory index of captured requests every driver shares: per bin, entries sorted by id
// (ids sort by arrival), the per-bin cap, and the store-wide byte budget (MAX_STORE_BYTES: bodies
// and heads), which evicts the oldest capture across all bins first. Entries carry the list row, so live
// backfill and the list are served without touching the disk; drivers add where the rest is.
import type { DispatchLabel, RequestItem, VerificationBadge } from '../../shared/api.ts';
import type { VerificationT } from '../../shared/schema/verify.ts';
import { MinHeap } from '../lib/min-heap.ts';
import type { Annotations, Eviction, RequestPageQuery, StoredRequest } from './types.ts';

/** What an entry counts against the byte budget. */
export const countedBytes = (e: IndexEntry): number => e.bytes + e.head;

export interface IndexEntry {
  readonly id: string;
  readonly binId: string;
  /** Replaced when the capture is annotated (its signature checked, …). */
  item: RequestItem;
  /** Body bytes stored. */
  readonly bytes: number;
  /** Its head's bytes as stored (head-bytes.ts): counted against the byte budget with the body. */
  readonly head: number;
  /** Set when evicted or deleted, for drivers that still hold a reference. */
  gone?: boolean;
}

interface BinEntries<E> {
  list: E[];
  byId: Map<string, E>;
}

export interface Removed<E> {
  entry: E;
  why: 'evicted' | 'deleted';
}

/** First index whose id is > id. */
function upperBound(list: readonly IndexEntry[], id: string): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (list[mid].id <= id) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** First index whose id is >= id. */
function lowerBound(list: readonly IndexEntry[], id: string): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (list[mid].id < id) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export function toItem(r: StoredRequest): RequestItem {
  // Built field by field, in this order (the order clients see): conditional spreads of
  // small objects cost a generic property copy each, and this runs for every capture and
  // every change to one.
  const item: RequestItem = {
    id: r.id,
    binId: r.binId,
    method: r.method,
    path: r.path,
    queryString: r.queryString,
    ip: r.ip,
    receivedAt: r.receivedAt,
    size: r.size,
    truncated: r.truncated,
    contentType: r.contentType,
  } as RequestItem;
  if (r.seq !== undefined) item.seq = r.seq;
  item.status = r.answer.status;
  item.answer = r.answer;
  const dispatch = dispatchLabel(r.headers);
  if (dispatch) item.dispatch = dispatch;
  if (r.verification) item.verification = badgeOf(r.verification);
  if (r.idempotency) item.idempotencyKey = r.idempotency.key;
  return item;
}

/**
 * A stored request with later annotations applied: a new object (drivers and writes in flight
 * tell a changed record by its identity). Object.assign rather than `{ ...r, ...change }`: V8
 * gives a spread-built copy a map of its own, so the property it adds and every later read of
 * it (toItem, on every annotation) take the slow path: about 3 µs instead of 0.5 per change.
 */
export function withAnnotations<R extends StoredRequest>(r: R, change: Partial<Annotations>): R {
  return Object.assign(Object.assign({}, r), change);
}

/**
 * Does this change show in the list row? A forward's result does not (the detail has it):
 * the row then stays as it is, with no rebuilding per forward.
 */
export function changesRow(change: Partial<Annotations>): boolean {
  return 'verification' in change || 'idempotency' in change || 'answer' in change;
}

/** A signature check as the list row shows it (the detail has the rest). */
function badgeOf(v: VerificationT): VerificationBadge {
  const b: VerificationBadge = { status: v.status };
  if (v.scheme) b.scheme = v.scheme;
  if (v.secretIndex !== undefined) b.secretIndex = v.secretIndex;
  if (v.skewSec !== undefined) b.skewSec = v.skewSec;
  if (v.details?.cause) b.cause = v.details.cause;
  return b;
}

/**
 * A capture the dispatcher sent says so in its x-hooklab-* headers: the list row shows
 * "sync_end · attempt 3" and the detail links the delivery. (Any sender could send these
 * headers: the UI checks the delivery exists before it says more.)
 */
function dispatchLabel(flat: readonly string[]): DispatchLabel | undefined {
  let deliveryId: string | undefined;
  let attempt: string | undefined;
  let event: string | undefined;
  let virtualAt: string | undefined;
  for (let i = 0; i < flat.length; i += 2) {
    const n = flat[i];
    // Cheap first test: most captures have no x-hooklab-* header at all.
    if (n.length < 15 || (n.charCodeAt(0) | 0x20) !== 0x78) continue;
    switch (n.toLowerCase()) {
      case 'x-hooklab-delivery':
        deliveryId ??= flat[i + 1];
        break;
      case 'x-hooklab-attempt':
        attempt ??= flat[i + 1];
        break;
      case 'x-hooklab-event':
        event ??= flat[i + 1];
        break;
      case 'x-hooklab-virtual-time':
        virtualAt ??= flat[i + 1];
        break;
    }
  }
  if (!deliveryId) return undefined;
  const n = attempt !== undefined && /^\d{1,6}$/.test(attempt) ? Number(attempt) : null;
  const t = virtualAt !== undefined && Number.isFinite(Date.parse(virtualAt)) ? virtualAt : null;
  return { deliveryId: deliveryId.slice(0, 100), attempt: n, event: event?.slice(0, 100) ?? null, virtualAt: t };
}

/** Group removed entries by bin, the appended record's bin first. */
const NONE: Eviction[] = [];

export function evictionsOf(binId: string, removed: readonly IndexEntry[]): Eviction[] {
  if (removed.length === 0) return NONE; // the common case, on the capture hot path
  const out: Eviction[] = [{ binId, ids: [] }];
  for (const e of removed) {
    let ev = out.find((x) => x.binId === e.binId);
    if (!ev) out.push((ev = { binId: e.binId, ids: [] }));
    ev.ids.push(e.id);
  }
  return out.filter((x) => x.ids.length > 0);
}

export class RequestIndex<E extends IndexEntry> {
  private readonly bins = new Map<string, BinEntries<E>>();
  /** Each bin's last arrival number: kept when its captures are cleared, gone with the bin. */
  private readonly seqs = new Map<string, number>();
  private total = 0;
  /** Each bin's oldest id; stale heads (already removed) are skipped when popped. */
  private readonly oldest = new MinHeap<{ id: string; binId: string }>((a, b) => a.id < b.id);
  /**
   * Bins whose oldest entry changed since it was last pushed to `oldest`: pushed only when the
   * byte budget needs the oldest across bins (rarely), not on every eviction of a bin at its
   * cap (every capture then).
   */
  private readonly moved = new Set<string>();

  /** maxBytes: the store-wide byte budget, bodies and heads (Infinity for none). */
  constructor(private readonly maxBytes: number) {}

  get totalBytes(): number {
    return this.total;
  }

  hasBin(binId: string): boolean {
    return this.bins.has(binId);
  }

  binIds(): IterableIterator<string> {
    return this.bins.keys();
  }

  private bin(binId: string): BinEntries<E> {
    let b = this.bins.get(binId);
    if (!b) {
      b = { list: [], byId: new Map() };
      this.bins.set(binId, b);
    }
    return b;
  }

  /** The next arrival number of a bin (the store numbers each capture as it appends it). */
  nextSeq(binId: string): number {
    const n = (this.seqs.get(binId) ?? 0) + 1;
    this.seqs.set(binId, n);
    return n;
  }

  lastSeq(binId: string): number {
    return this.seqs.get(binId) ?? 0;
  }

  /** Numbers up to n were used (loading: by captures since evicted, say). */
  usedSeq(binId: string, n: number): void {
    if (n > (this.seqs.get(binId) ?? 0)) this.seqs.set(binId, n);
  }

  /** Replace a bin's entries (loading from disk). Entries need not be sorted. */
  load(binId: string, entries: E[]): void {
    const seq = this.seqs.get(binId) ?? 0;
    this.dropBin(binId);
    const list = [...entries].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    this.seqs.set(binId, list.reduce((m, e) => Math.max(m, e.item.seq ?? 0), seq));
    this.bins.set(binId, { list, byId: new Map(list.map((e) => [e.id, e])) });
    for (const e of list) this.total += countedBytes(e);
    if (list.length) this.moved.add(binId);
  }

  /**
   * Add an entry, then remove what the bin's cap and the byte budget require (never the new
   * entry). Answers what was removed, in eviction order.
   */
  add(e: E, cap: number): E[] {
    const b = this.bin(e.binId);
    const last = b.list[b.list.length - 1];
    if (!last || last.id < e.id) b.list.push(e);
    else b.list.splice(upperBound(b.list, e.id), 0, e); // out-of-order arrival: keep sorted
    b.byId.set(e.id, e);
    this.total += countedBytes(e);
    if (b.list[0] === e) this.moved.add(e.binId);
    const out: E[] = [];
    // shift() is cheap in V8 (it trims the array's front in place); splice(0, n) copies.
    while (b.list.length > cap) out.push(this.takeOldest(b));
    while (this.total > this.maxBytes) {
      const victim = this.globalOldest(e);
      if (!victim) break;
      out.push(victim);
    }
    return out;
  }

  /**
   * Remove the oldest entries across bins until the byte budget holds (it was lowered since
   * they were stored: applied at load, not left to the next capture). Answers them, oldest first.
   */
  trimToBudget(): E[] {
    const out: E[] = [];
    while (this.total > this.maxBytes) {
      const victim = this.globalOldest();
      if (!victim) break;
      out.push(victim);
    }
    return out;
  }

  private takeOldest(b: BinEntries<E>): E {
    const gone = b.list.shift()!;
    b.byId.delete(gone.id);
    this.total -= countedBytes(gone);
    gone.gone = true;
    if (b.list.length) this.moved.add(gone.binId);
    return gone;
  }

  /** Remove and answer the oldest entry across bins, never `keep`. */
  private globalOldest(keep?: E): E | undefined {
    for (const binId of this.moved) {
      const first = this.bins.get(binId)?.list[0];
      if (first) this.oldest.push({ id: first.id, binId });
    }
    this.moved.clear();
    this.compactHeap();
    for (;;) {
      const head = this.oldest.peek();
      if (!head) return undefined;
      const b = this.bins.get(head.binId);
      const first = b?.list[0];
      if (!b || !first || first.id !== head.id) {
        this.oldest.pop(); // stale
        continue;
      }
      if (first === keep) return undefined;
      this.oldest.pop();
      return this.takeOldest(b);
    }
  }

  remove(binId: string, id: string): E | undefined {
    const b = this.bins.get(binId);
    const e = b?.byId.get(id);
    if (!b || !e) return undefined;
    const wasFirst = b.list[0] === e;
    b.list.splice(lowerBound(b.list, id), 1);
    b.byId.delete(id);
    this.total -= countedBytes(e);
    e.gone = true;
    if (wasFirst && b.list.length) this.moved.add(binId);
    return e;
  }

  /** Remove every entry of a bin (the bin stays known). */
  clear(binId: string): E[] {
    const b = this.bins.get(binId);
    if (!b) return [];
    const all = b.list;
    for (const e of all) {
      this.total -= countedBytes(e);
      e.gone = true;
    }
    b.list = [];
    b.byId.clear();
    return all;
  }

  /** Forget a bin and its entries. */
  dropBin(binId: string): E[] {
    const all = this.clear(binId);
    this.bins.delete(binId);
    this.moved.delete(binId);
    this.seqs.delete(binId);
    return all;
  }

  /** Heads kept for the byte budget, stale ones and bins to push included (bounded: see compactHeap). */
  get heads(): number {
    return this.oldest.size + this.moved.size;
  }

  /** Heads are pushed only by globalOldest; entries removed since leave theirs stale: drop them before they pile up. */
  private compactHeap() {
    if (this.oldest.size > 4 * this.bins.size + 64) {
      this.oldest.filter((h) => this.bins.get(h.binId)?.list[0]?.id === h.id);
    }
  }

  get(binId: string, id: string): E | undefined {
    return this.bins.get(binId)?.byId.get(id);
  }

  /** Newest first (or the oldest first, with q.oldestFirst). */
  page(binId: string, q: RequestPageQuery): E[] {
    const b = this.bins.get(binId);
    if (!b) return [];
    const end = q.before !== undefined ? lowerBound(b.list, q.before) : b.list.length;
    const start = q.after !== undefined ? upperBound(b.list, q.after) : 0;
    if (q.oldestFirst) return b.list.slice(start, Math.max(start, Math.min(end, start + q.limit)));
    const from = Math.max(start, end - q.limit);
    return b.list.slice(from, end).reverse();
  }

  /** Every entry of a bin, oldest first (do not modify). */
  entries(binId: string): readonly E[] {
    return this.bins.get(binId)?.list ?? [];
  }

  stats(binId: string): { count: number; lastAt: string | null; oldestId: string | null } {
    const list = this.bins.get(binId)?.list;
    if (!list?.length) return { count: 0, lastAt: null, oldestId: null };
    return { count: list.length, lastAt: list[list.length - 1].item.receivedAt, oldestId: list[0].id };
  }
}
