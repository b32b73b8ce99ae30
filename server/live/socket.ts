// Socket.IO handlers: join a bin's room (with backfill of what a reconnecting client
// missed), or the dispatcher's room.
import type { SubscribeAck } from '../../shared/api.ts';
import { toItem } from '../capture/view.ts';
import type { Store } from '../store/types.ts';
import { batchWebSocketWrites } from './batch-writes.ts';
import { DISPATCHER_ROOM, type IoServer, binRoom } from './bus.ts';

export interface LiveHandlerOptions {
  store: Store;
  /** Most requests replayed on one subscribe. */
  maxBackfill: number;
}

export function attachLiveHandlers(io: IoServer, opts: LiveHandlerOptions) {
  io.on('connection', (socket) => {
    batchWebSocketWrites(socket);
    socket.on('subscribe', async (arg, ack) => {
      const reply = (r: SubscribeAck) => (typeof ack === 'function' ? ack(r) : undefined);
      const binId = arg && typeof arg.binId === 'string' ? arg.binId : '';
      const lastId = arg && typeof arg.lastId === 'string' ? arg.lastId : null;
      const bin = binId ? await opts.store.bins.get(binId) : undefined;
      if (!bin) return reply({ ok: false, error: 'bin not found' });
      // Read the backlog first, then join and replay in the same tick: a capture that lands
      // in between is either in the backlog or arrives live after it, never lost. Clients
      // still de-duplicate by id (ids sort by arrival), which makes any overlap harmless.
      const missed = lastId ? await opts.store.requests.page(binId, { limit: opts.maxBackfill, after: lastId }) : [];
      socket.join(binRoom(binId));
      for (let i = missed.length - 1; i >= 0; i--) socket.emit('request', toItem(missed[i]));
      reply({ ok: true, backfilled: missed.length });
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
