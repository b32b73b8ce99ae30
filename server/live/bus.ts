// The live-broadcast seam. The app talks to a LiveBus; the Socket.IO implementation maps it
// onto rooms (one per bin, one for the dispatcher), so a Redis adapter can fan it out later.
import type { Server } from 'socket.io';
import { RawJson } from './parser.ts';
import type { SendCap } from './send-cap.ts';
import type { Eviction } from '../store/types.ts';
import type {
  Bin,
  ClientToServerEvents,
  ClockState,
  Delivery,
  PlanPosition,
  RequestItem,
  Run,
  ServerToClientEvents,
  SettingsKind,
  Webhook,
} from '../../shared/api.ts';

export interface LiveBus {
  /**
   * False when the capture path need not build a capture's event: nobody is watching this bin,
   * or (shared rooms) the event is made from the store's capture feed instead.
   */
  wants(binId: string): boolean;
  /** A capture, and the ids the per-bin cap pushed out to make room for it. */
  requestCaptured(r: RequestItem, evicted: string[]): void;
  /**
   * A stored capture's row changed (a check or forward result was added). When the capture
   * itself has not been sent yet, it may go out changed instead, with no update after it.
   */
  requestUpdated(r: RequestItem): void;
  /** A stored capture's detail changed, not its row (a forward's result): only its id goes out. */
  requestDetailChanged(binId: string, id: string): void;
  requestsDeleted(binId: string, ids: string[] | 'all'): void;
  /**
   * Captures of another bin that an append pushed out (the store-wide byte budget). Shared
   * rooms: the capture feed tells every instance of those, so this tells nobody, unless
   * `everywhere` (what a start-up pass evicted: no feed entry says it).
   */
  requestsEvicted(binId: string, ids: string[], everywhere?: boolean): void;
  settingsChanged(binId: string, kind: SettingsKind, etag: string): void;
  binUpdated(b: Bin): void;
  binDeleted(id: string): void;
  responsePosition(binId: string, position: PlanPosition): void;
  deliveryChanged(d: Delivery): void;
  /** A webhook the dispatcher changed by itself (a behaviour disabled it). */
  webhookChanged(w: Webhook): void;
  webhookDeleted(id: string, cancelling: number): void;
  runChanged(r: Run): void;
  clockChanged(c: ClockState): void;
  close(): void;
}

export type IoServer = Server<ClientToServerEvents, ServerToClientEvents>;

export const binRoom = (binId: string) => `bin:${binId}`;
/** Rows per `requests:updated` event (a row is ~0.5 KB), and ids of changed details. */
export const UPDATES_PER_EVENT = 256;
export const DETAILS_PER_EVENT = 4096;
export const DISPATCHER_ROOM = 'dispatcher';

/** A bin's live events of this turn, sent together (see SocketBus.flushRequests). */
interface PendingRequests {
  added: RequestItem[];
  evicted: string[];
  /** Rows already sent that changed, by id (the latest wins; first-change order). */
  updated: Map<string, RequestItem>;
  /** Captures whose detail changed, not their row. */
  details: Set<string>;
  /** Where each capture is in `added`, once an update has asked (see requestUpdated). */
  byId?: Map<string, number>;
}

export interface SocketBusOptions {
  /** Delivery updates are coalesced per delivery for this long (a fast-forward makes thousands). */
  deliveryCoalesceMs?: number;
  /** Checked after each batch of events: drops viewers that stopped reading. */
  sendCap?: SendCap;
  /** Rooms span several instances (a Redis adapter): a bin may be watched elsewhere. */
  shared?: boolean;
}

export class SocketBus implements LiveBus {
  private readonly pendingDeliveries = new Map<string, Delivery>();
  private readonly pendingRequests = new Map<string, PendingRequests>();
  private pendingClock: ClockState | null = null;
  private requestFlush: NodeJS.Immediate | null = null;
  private timer: NodeJS.Timeout | null = null;
  private readonly coalesceMs: number;
  private readonly cap: SendCap | null;
  private readonly shared: boolean;
  /** Viewers backfilling, per bin: their live captures wait here (shared rooms only). */
  private readonly held = new Map<string, Map<string, RequestItem[]>>();
  get isShared() {
    return this.shared;
  }

  constructor(private readonly io: IoServer, opts: SocketBusOptions = {}) {
    this.coalesceMs = opts.deliveryCoalesceMs ?? 50;
    this.cap = opts.sendCap ?? null;
    this.shared = opts.shared ?? false;
  }

  wants(binId: string) {
    // Shared rooms: every instance hears of each capture from the capture feed (feedCaptured),
    // so requestCaptured has nothing to do.
    return !this.shared && this.io.sockets.adapter.rooms.has(binRoom(binId));
  }
  requestCaptured(r: RequestItem, evicted: string[]) {
    if (this.shared) return; // every instance hears of it from the capture feed (feedCaptured)
    // Emitted together once per event-loop turn, so a burst leaves in few writes (see
    // batch-writes.ts); order is kept. Evictions of the turn follow as one event.
    const q = this.pendingFor(r.binId);
    q.added.push(r);
    q.byId?.set(r.id, q.added.length - 1);
    for (const id of evicted) q.evicted.push(id);
  }
  private pendingFor(binId: string) {
    let q = this.pendingRequests.get(binId);
    if (!q) this.pendingRequests.set(binId, (q = { added: [], evicted: [], updated: new Map(), details: new Set() }));
    if (!this.requestFlush) this.requestFlush = setImmediate(this.flushRequests);
    return q;
  }
  private readonly flushRequests = () => {
    this.requestFlush = null;
    for (const [binId, { added, evicted, updated, details }] of this.pendingRequests) {
      const room = this.io.to(binRoom(binId));
      for (const r of added) room.emit('request', r);
      // After the captures: a row may change in the turn it arrived. One event for all: under
      // load forward results and checks come back by the thousand. A detail-only change of a
      // row sent whole anyway, or of a capture whose event leaves now, says nothing more.
      if (details.size) {
        for (const id of updated.keys()) details.delete(id);
        for (const r of added) details.delete(r.id);
      }
      if (updated.size || details.size) {
        const items = [...updated.values()];
        const ids = [...details];
        // In pieces: one event never grows past what a viewer's send buffer holds easily.
        const n = Math.max(Math.ceil(items.length / UPDATES_PER_EVENT), Math.ceil(ids.length / DETAILS_PER_EVENT));
        for (let k = 0; k < n; k++) {
          const e: { binId: string; items: RequestItem[]; details?: string[] } = { binId, items: items.slice(k * UPDATES_PER_EVENT, (k + 1) * UPDATES_PER_EVENT) };
          const part = ids.slice(k * DETAILS_PER_EVENT, (k + 1) * DETAILS_PER_EVENT);
          if (part.length) e.details = part;
          room.emit('requests:updated', e);
        }
      }
      if (evicted.length) room.emit('requests:deleted', { binId, ids: evicted, reason: 'evicted' });
      this.cap?.checkRoom(binRoom(binId));
    }
    this.pendingRequests.clear();
  };
  requestUpdated(r: RequestItem) {
    // Nobody watches this bin here: skip (Socket.IO would encode the event all the same).
    // Shared rooms: viewers of this bin may be on other instances, so it always goes out.
    if (!this.shared && !this.wants(r.binId)) return;
    // Batched with the captures, one flush per turn: forward results and signature checks
    // come back by the thousand under load, and sent one by one each cost a write of its own.
    const q = this.pendingFor(r.binId);
    // A capture not sent yet goes out as it is now, with no update after it: a signature
    // checked in the turn its capture arrived (see Verifier.captured) costs no event of its own.
    if (q.added.length) {
      // Indexed when the turn's first update comes: turns without one (no checks) pay nothing.
      if (!q.byId) {
        q.byId = new Map();
        for (let i = 0; i < q.added.length; i++) q.byId.set(q.added[i].id, i);
      }
      const i = q.byId.get(r.id);
      if (i !== undefined) {
        q.added[i] = r;
        return;
      }
    }
    q.updated.set(r.id, r);
  }
  requestDetailChanged(binId: string, id: string) {
    if (!this.shared && !this.wants(binId)) return;
    this.pendingFor(binId).details.add(id);
  }
  requestsDeleted(binId: string, ids: string[] | 'all') {
    this.io.to(binRoom(binId)).emit('requests:deleted', { binId, ids, reason: 'deleted' });
  }
  requestsEvicted(binId: string, ids: string[], everywhere = false) {
    if (!this.shared || everywhere) this.io.to(binRoom(binId)).emit('requests:deleted', { binId, ids, reason: 'evicted' });
  }

  /**
   * Shared rooms: a capture from the feed, for this instance's viewers (each instance reads
   * the feed, so this emits locally). Viewers still backfilling get it after their backfill.
   * `row` is its list row's JSON as the store wrote it: sent on as it is (RawJson).
   */
  feedCaptured(binId: string, row: string, evictions: Eviction[]) {
    const room = binRoom(binId);
    const held = this.held.get(binId);
    // Typed as the event's argument: the encoder writes its text (see RawJson).
    const raw = new RawJson(row) as unknown as RequestItem;
    if (held?.size) {
      const r = JSON.parse(row) as RequestItem;
      for (const buf of held.values()) buf.push(r);
      this.io.local.to(room).except([...held.keys()]).emit('request', raw);
    } else this.io.local.to(room).emit('request', raw);
    // Evictions leave once per turn, after that turn's captures (a full bin evicts one per
    // capture: one event each would double the events of a burst), as requestCaptured does.
    for (const ev of evictions) {
      const ids = this.feedEvictions.get(ev.binId);
      if (ids) for (const id of ev.ids) ids.push(id);
      else this.feedEvictions.set(ev.binId, [...ev.ids]);
    }
    if (evictions.length && !this.feedFlush) this.feedFlush = setImmediate(this.flushFeedEvictions);
    this.cap?.checkRoom(room);
  }
  private readonly feedEvictions = new Map<string, string[]>();
  private feedFlush: NodeJS.Immediate | null = null;
  private readonly flushFeedEvictions = () => {
    this.feedFlush = null;
    for (const [binId, ids] of this.feedEvictions) this.io.local.to(binRoom(binId)).emit('requests:deleted', { binId, ids, reason: 'evicted' });
    this.feedEvictions.clear();
  };

  /** A viewer is backfilling a bin: hold its live captures until release (shared rooms). */
  hold(binId: string, socketId: string) {
    let m = this.held.get(binId);
    if (!m) this.held.set(binId, (m = new Map()));
    m.set(socketId, []);
  }

  /** The captures held for a viewer since hold(), in feed order. */
  release(binId: string, socketId: string): RequestItem[] {
    const m = this.held.get(binId);
    const out = m?.get(socketId) ?? [];
    m?.delete(socketId);
    if (m?.size === 0) this.held.delete(binId);
    return out;
  }
  settingsChanged(binId: string, kind: SettingsKind, etag: string) {
    this.io.to(binRoom(binId)).emit('settings:changed', { binId, kind, etag });
  }
  binUpdated(b: Bin) {
    this.io.to(binRoom(b.id)).emit('bin:updated', b);
  }
  binDeleted(id: string) {
    this.io.to(binRoom(id)).emit('bin:deleted', { id });
  }
  responsePosition(binId: string, position: PlanPosition) {
    this.io.to(binRoom(binId)).emit('response:position', { binId, position });
  }
  deliveryChanged(d: Delivery) {
    // Nobody has the console open: skip (Socket.IO would encode the event all the same).
    if (!this.shared && !this.io.sockets.adapter.rooms.has(DISPATCHER_ROOM)) return;
    this.pendingDeliveries.set(d.id, d);
    if (!this.timer) this.timer = setTimeout(() => this.flushDispatcher(), this.coalesceMs);
  }
  webhookChanged(w: Webhook) {
    this.io.to(DISPATCHER_ROOM).emit('webhook', w);
  }
  webhookDeleted(id: string, cancelling: number) {
    this.io.to(DISPATCHER_ROOM).emit('webhook:deleted', { id, cancelling });
  }
  runChanged(r: Run) {
    this.io.to(DISPATCHER_ROOM).emit('run', r);
  }
  clockChanged(c: ClockState) {
    if (!this.shared && !this.io.sockets.adapter.rooms.has(DISPATCHER_ROOM)) return;
    // Coalesced with deliveries: a fast clock changes `nextDueAt` with every attempt.
    this.pendingClock = c;
    if (!this.timer) this.timer = setTimeout(() => this.flushDispatcher(), this.coalesceMs);
  }
  close() {
    if (this.timer) clearTimeout(this.timer);
    if (this.requestFlush) clearImmediate(this.requestFlush);
    this.flushRequests();
    if (this.feedFlush) clearImmediate(this.feedFlush);
    this.flushFeedEvictions();
    this.flushDispatcher();
  }

  private flushDispatcher() {
    this.timer = null;
    const room = this.io.to(DISPATCHER_ROOM);
    for (const d of this.pendingDeliveries.values()) room.emit('delivery', d);
    this.pendingDeliveries.clear();
    if (this.pendingClock) room.emit('clock', this.pendingClock);
    this.pendingClock = null;
    this.cap?.checkRoom(DISPATCHER_ROOM);
  }
}

/** For code run without Socket.IO (unit tests, tools): remembers what it was told. */
export class RecordingBus implements LiveBus {
  readonly events: { type: string; data: unknown }[] = [];
  private rec = (type: string) => (data: unknown) => void this.events.push({ type, data });
  wants = () => true;
  requestCaptured = this.rec('request');
  requestUpdated = (r: RequestItem) => void this.events.push({ type: 'requests:updated', data: { binId: r.binId, items: [r] } });
  requestDetailChanged = (binId: string, id: string) => void this.events.push({ type: 'requests:updated', data: { binId, items: [], details: [id] } });
  settingsChanged = (binId: string, kind: SettingsKind, etag: string) => void this.events.push({ type: 'settings:changed', data: { binId, kind, etag } });
  requestsDeleted = (binId: string, ids: string[] | 'all') => void this.events.push({ type: 'requests:deleted', data: { binId, ids, reason: 'deleted' } });
  requestsEvicted = (binId: string, ids: string[]) => void this.events.push({ type: 'requests:deleted', data: { binId, ids, reason: 'evicted' } });
  binUpdated = this.rec('bin:updated');
  binDeleted = this.rec('bin:deleted');
  responsePosition = (binId: string, position: PlanPosition) => void this.events.push({ type: 'response:position', data: { binId, position } });
  deliveryChanged = this.rec('delivery');
  webhookChanged = this.rec('webhook');
  webhookDeleted = (id: string, cancelling: number) => void this.events.push({ type: 'webhook:deleted', data: { id, cancelling } });
  runChanged = this.rec('run');
  clockChanged = this.rec('clock');
  close() {}
}
