// Socket.IO handlers: join a bin's room (with backfill of what a reconnecting client
// missed), or the dispatcher's room.
import type { Socket } from 'socket.io';
import type { RequestItem, SubscribeAck } from '../../shared/api.ts';
import { type Store, StoreUnavailableError } from '../store/types.ts';
import { batchWebSocketWrites } from './batch-writes.ts';
import { DISPATCHER_ROOM, type IoServer, binRoom } from './bus.ts';
import { drained, dropConnection } from './send-cap.ts';

/** When a subscribe the store could not answer should be made again (its ack's retryAfterMs). */
const STORE_RETRY_MS = 2000;

export interface LiveHandlerOptions {
  store: Store;
  /** Requests sent per backfill page; the next page waits until the client has read this one. */
  backfillPage?: number;
  /**
   * LIVE_MAX_BUFFER_BYTES: a page is also cut by bytes, well under it (a row can carry a 64 KB
   * path; 200 of them made 12 MB unread per viewer, past the cap the live side keeps).
   */
  maxBufferBytes?: number;
  /** A client that has not read a page within this is dropped (it reconnects and resumes). */
  drainTimeoutMs?: number;
  /** Subscribes a connection may have waiting; more is abuse and drops it. */
  maxQueuedSubscribes?: number;
  /**
   * Rooms shared by several instances: live captures come from the capture feed, later than
   * the store has them. A subscriber joins first and its live captures are held while it
   * backfills, then those newer than the backfill follow, so nothing is missed or doubled.
   */
  gate?: { hold(binId: string, socketId: string): void; release(binId: string, socketId: string): RequestItem[] };
  /**
   * A socket joined a bin's room: what it missed of the bin's live state before (the plan's
   * position changes with every request, and only live events carry it) is sent to it now.
   */
  joined?: (socket: Socket, binId: string) => void;
}

/** Below this many unread bytes, the next backfill page goes out. */
const LOW_WATER = 64 * 1024;
/** A backfill page's bytes, at most (one row larger than it goes alone). */
const PAGE_BYTES = 256 * 1024;

/** How many of `page`'s rows go out now: within `budget` bytes (as JSON), at least one. */
export function rowsWithin(page: readonly RequestItem[], budget: number): number {
  let bytes = 0;
  for (let i = 0; i < page.length; i++) {
    bytes += Buffer.byteLength(JSON.stringify(page[i]));
    if (bytes > budget) return Math.max(1, i);
  }
  return page.length;
}

export function attachLiveHandlers(io: IoServer, opts: LiveHandlerOptions) {
  const pageSize = opts.backfillPage ?? 200;
  const drainTimeoutMs = opts.drainTimeoutMs ?? 30_000;
  const maxQueued = opts.maxQueuedSubscribes ?? 64;
  // A quarter of the cap each: the page sent and what may still be unread before it.
  const cap = opts.maxBufferBytes ?? Number.POSITIVE_INFINITY;
  const pageBytes = Math.min(PAGE_BYTES, cap / 4);
  const lowWater = Math.min(LOW_WATER, cap / 4);

  /**
   * Replay what came after `lastId` in pages, each once the client has read the one before,
   * then join the room. The last page is read and the room joined in the same turn, so a
   * capture landing meanwhile is either in that page or arrives live after it. Clients
   * de-duplicate by id (ids sort by arrival), which makes any overlap harmless.
   */
  async function subscribe(socket: Socket, binId: string, lastId: string | null, lastSeq: number | null): Promise<SubscribeAck> {
    const bin = binId ? await opts.store.bins.get(binId) : undefined;
    if (!bin) return { ok: false, error: 'bin not found' };
    let sent = 0;
    // A client that joined an empty bin passes the ack's lastId (null) and lastSeq (a number)
    // after a reconnect: what came since is every capture the bin holds now (it was empty),
    // replayed and its gap counted as for a cursor. (The UI and the CLI send lastId "0".)
    const fromEmpty = lastId === null && lastSeq !== null;
    let cursor = fromEmpty ? '0' : lastId;
    /** The newest capture sent (fromEmpty: the ack's lastId and lastSeq). */
    let newest: { id: string; seq: number | null } | null = null;
    let gap: number | undefined;
    let uncounted = false;
    /** The bin's numbers went back below the client's lastSeq (see below). */
    let wentBack = false;
    // Without lastSeq, the capture lastId names tells it, while it is still stored.
    if (lastSeq === null && lastId) {
      const rec = await opts.store.requests.get(binId, lastId);
      if (rec?.seq !== undefined) lastSeq = rec.seq;
      else if (!rec) uncounted = true; // gone itself: what followed it may be gone too (checked below)
    }
    const gate = opts.gate;
    if (gate) {
      gate.hold(binId, socket.id);
      socket.join(binRoom(binId));
      opts.joined?.(socket, binId);
    }
    // Without a cursor nothing is replayed, but the ack says where "now" is (see SubscribeAck):
    // read here, and the room joined in the continuation's turn (the loop below, no await when
    // there is no cursor), so a capture is either in this read or arrives live.
    let at: { id: string; seq?: number } | null = null;
    // An empty bin's position is its arrival number so far (it outlives evicted and deleted
    // captures), so a client that was away can still be told how many it missed: with null it
    // could only hear "some, how many unknown". Read before the newest capture, so a capture
    // landing between the two reads is that newest one (and its number is used instead).
    let seqNow: number | null = null;
    if (cursor === null) {
      seqNow = await opts.store.requests.lastSeq(binId);
      [at = null] = await opts.store.requests.items(binId, { limit: 1 });
    } else if (fromEmpty) seqNow = await opts.store.requests.lastSeq(binId);
    const finish = (): SubscribeAck => {
      if (gate) {
        // Held while backfilling: only what the backfill did not already send, in order.
        for (const item of gate.release(binId, socket.id)) {
          if (cursor !== null && item.id <= cursor) continue;
          socket.emit('request', item);
          cursor = item.id;
        }
      }
      // Where the client stands now: the newest capture it was sent, else where the bin stood.
      const from = fromEmpty
        ? sent
          ? { lastId: newest!.id, lastSeq: newest!.seq }
          : { lastId: null, lastSeq: wentBack ? seqNow : Math.max(lastSeq ?? 0, seqNow ?? 0) }
        : lastId === null
          ? { lastId: at?.id ?? null, lastSeq: at ? (at.seq ?? null) : seqNow }
          : {};
      return { ok: true, backfilled: sent, ...(gap ? { gap } : {}), ...(uncounted || wentBack ? { gapUncounted: true } : {}), ...from };
    };
    // Rows read per page: fewer after a page cut by bytes (the rest would be read for nothing,
    // and on Redis each read row is fetched and parsed), more again as they fit.
    let limit = pageSize;
    for (;;) {
      // From an empty bin's position every capture stored now is new to the client, whatever
      // its number: lastSeq counts the gap only (numbers start again in a bin made anew).
      const page = cursor ? await opts.store.requests.items(binId, { limit, after: cursor, oldestFirst: true }) : [];
      if (!socket.connected) {
        gate?.release(binId, socket.id);
        return { ok: false, error: 'disconnected' };
      }
      // Numbers between the client's last and the first still here belong to captures gone
      // (with a cursor only: without one nothing is replayed, so nothing is counted missing).
      if (sent === 0 && lastSeq !== null && cursor !== null) {
        const next = page[0]?.seq ?? (await opts.store.requests.lastSeq(binId)) + 1;
        gap = Math.max(0, next - lastSeq - 1);
        // The bin's numbers went back below the client's (deleted and made again with the same
        // id, or emptied and restarted, which numbers from what is left): what came after its
        // last may be gone, how many cannot be told.
        if (next <= lastSeq) wentBack = true;
      }
      // lastId gone and no lastSeq: nothing is missing only if the first left is number 1.
      if (sent === 0 && uncounted) uncounted = (page[0]?.seq ?? (await opts.store.requests.lastSeq(binId)) + 1) > 1;
      // Cut by bytes too: the rest of the page is read again after the cursor, next time.
      const n = rowsWithin(page, pageBytes);
      const last = n === page.length && page.length < limit;
      limit = n < page.length ? Math.max(1, Math.min(pageSize, 2 * n)) : Math.min(pageSize, 2 * limit);
      if (last && !gate) {
        socket.join(binRoom(binId));
        opts.joined?.(socket, binId);
      }
      for (let i = 0; i < n; i++) socket.emit('request', page[i]);
      sent += n;
      if (n) {
        cursor = page[n - 1].id;
        newest = { id: cursor, seq: page[n - 1].seq ?? null };
      }
      if (last) return finish();
      if (!(await drained(socket, lowWater, drainTimeoutMs))) {
        gate?.release(binId, socket.id);
        dropConnection(socket);
        return { ok: false, error: 'client did not read the backfill' };
      }
    }
  }

  io.on('connection', (socket) => {
    batchWebSocketWrites(socket);
    // One subscribe at a time per connection, in order: a flood of them waits in line
    // instead of each buffering its own backfill.
    let chain: Promise<unknown> = Promise.resolve();
    let queued = 0;
    socket.on('subscribe', (arg, ack) => {
      const reply = (r: SubscribeAck) => (typeof ack === 'function' ? ack(r) : undefined);
      const binId = arg && typeof arg.binId === 'string' ? arg.binId : '';
      // '' is no cursor, as null is (the replay reads it so; the gap count must too).
      const lastId = arg && typeof arg.lastId === 'string' && arg.lastId !== '' ? arg.lastId : null;
      const lastSeq = arg && Number.isSafeInteger(arg.lastSeq) && (arg.lastSeq as number) >= 0 ? (arg.lastSeq as number) : null;
      if (++queued > maxQueued) {
        dropConnection(socket);
        return;
      }
      chain = chain
        .then(() => subscribe(socket, binId, lastId, lastSeq))
        // The store cannot be read now (Redis away, a capture file unreadable): retryable, said so.
        .then(reply, (err: unknown) => {
          // A backfill that failed after its hold: released, or the feed would keep copying
          // the bin's captures for this socket for good.
          opts.gate?.release(binId, socket.id);
          reply(err instanceof StoreUnavailableError ? { ok: false, error: 'store unavailable', retryAfterMs: STORE_RETRY_MS } : { ok: false, error: 'internal error' });
        })
        .finally(() => queued--);
    });

    socket.on('unsubscribe', (arg) => {
      if (arg && typeof arg.binId === 'string') socket.leave(binRoom(arg.binId));
    });

    socket.on('dispatcher:subscribe', (ack) => {
      socket.join(DISPATCHER_ROOM);
      if (typeof ack === 'function') ack({ ok: true });
    });

    socket.on('dispatcher:unsubscribe', () => {
      socket.leave(DISPATCHER_ROOM);
    });
  });
}
