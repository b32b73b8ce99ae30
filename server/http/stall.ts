// RESPONSE_STALL_MS: an HTTP connection holding answer bytes its client does not read is ended.
// Node keeps what the kernel will not take (a 12.5 MB detail, a list page) until the client
// reads it, with no timeout of its own: 40 clients that asked and never read held +900 MB for
// as long as they stayed connected. Here a connection with bytes waiting to be sent that makes
// no progress (the kernel takes none of them) for RESPONSE_STALL_MS is reset, which frees
// them and their share of MAX_RESPONSE_BUFFER_BYTES (http/response-budget.ts).
//
// Only bytes waiting in the process count: a small answer the kernel took whole, a request
// being held (a delay, a hang fault, a wait), an idle keep-alive connection, never stall.
// Upgraded connections (Socket.IO's WebSocket) are left to LIVE_MAX_BUFFER_BYTES.
import type http from 'node:http';
import type { Socket } from 'node:net';

interface Watch {
  /** Bytes the kernel has taken (written whole, or in part of the write under way). */
  sent: number;
  /** Bytes libuv still has to hand to the kernel of the write under way (-1: not known). */
  queued: number;
  since: number;
}

/**
 * libuv's count of the bytes of writes under way not yet taken by the kernel (an internal; -1
 * when absent): it falls, in steps (the kernel takes more once a third of its send buffer is
 * free), while one large write is read, where the public counters move only at its end.
 */
function libuvQueued(socket: Socket): number {
  const q = (socket as unknown as { _handle?: { writeQueueSize?: unknown } | null })._handle?.writeQueueSize;
  return typeof q === 'number' ? q : -1;
}

export interface StallWatch {
  /** Watch this connection (call with each request's socket; once is enough). */
  add(socket: Socket): void;
  /** Connections destroyed for a stall so far. */
  readonly ended: number;
  stop(): void;
}

/**
 * Watch HTTP connections of `server` (each one add()ed): one whose unsent bytes see no progress
 * for `stallMs` is destroyed. Checked every quarter of it (at most every second).
 */
export function watchStalls(server: http.Server, stallMs: number, now: () => number = Date.now): StallWatch {
  const sockets = new Map<Socket, Watch | null>();
  let timer: NodeJS.Timeout | null = null;
  let ended = 0;
  const every = Math.max(25, Math.min(1000, Math.floor(stallMs / 4)));

  const check = () => {
    const t = now();
    for (const [socket, w] of sockets) {
      const pending = socket.writableLength;
      if (socket.destroyed || pending === 0) {
        if (w) sockets.set(socket, null);
        continue;
      }
      // bytesWritten counts what is buffered too; less what is still pending, the rest is done.
      const sent = socket.bytesWritten - pending;
      const queued = libuvQueued(socket);
      if (!w || sent > w.sent || (queued >= 0 && w.queued >= 0 && queued < w.queued)) {
        sockets.set(socket, { sent, queued, since: t });
      } else if (t - w.since >= stallMs) {
        ended++;
        sockets.delete(socket);
        // A reset, not a close: a close would leave the kernel still trying to hand the unread
        // bytes to a client that reads none (an orphan socket, for minutes).
        socket.resetAndDestroy();
      } else if (queued > w.queued) w.queued = queued; // a new write, not progress
    }
    if (sockets.size === 0) stopTimer();
  };
  const stopTimer = () => {
    if (timer) clearInterval(timer);
    timer = null;
  };
  /** Sockets with their 'close' listener: one each, however often an upgrade took one out and a request put it back (plain-upgrades.ts). */
  const listened = new WeakSet<Socket>();
  const add = (socket: Socket) => {
    if (sockets.has(socket) || socket.destroyed) return;
    sockets.set(socket, null);
    if (!listened.has(socket)) {
      listened.add(socket);
      socket.once('close', () => sockets.delete(socket));
    }
    if (!timer) {
      timer = setInterval(check, every);
      timer.unref();
    }
  };
  const onUpgrade = (_req: http.IncomingMessage, socket: Socket) => sockets.delete(socket);
  server.on('upgrade', onUpgrade);
  server.once('close', stopTimer);
  return {
    add,
    get ended() {
      return ended;
    },
    stop() {
      server.off('upgrade', onUpgrade);
      stopTimer();
      sockets.clear();
    },
  };
}
