// Each Socket.IO connection may hold at most LIVE_MAX_BUFFER_BYTES of events its client has
// not read yet (packets engine.io still queues plus the TCP socket's write buffer). A viewer
// over it, a stuck tab or a dead link, is dropped at the TCP level: its buffers are freed
// at once instead of growing with every capture, and its client reconnects and catches up
// through `subscribe {lastId}` backfill. Without the cap one stuck viewer grew the server by
// ~2 KB per event and stalled every receiver when it finally went.
import type { Socket as NetSocket } from 'node:net';
import type { Socket } from 'socket.io';
import type { IoServer } from './bus.ts';

interface EngineConn {
  writeBuffer: { data?: unknown }[];
  transport: { name: string; socket?: { _socket?: NetSocket } };
  close(discard?: boolean): void;
}

const conn = (s: Socket) => s.conn as unknown as EngineConn;

/** Bytes held for this client: queued packets plus the TCP write buffer. */
export function bufferedBytes(s: Socket): number {
  const c = conn(s);
  let n = c.transport.socket?._socket?.writableLength ?? 0;
  for (const p of c.writeBuffer) n += typeof p.data === 'string' ? p.data.length : 64;
  return n;
}

/** One error for every write a dropped connection still had queued (see dropConnection). */
const DROPPED = Object.assign(new Error('live viewer dropped: it stopped reading'), { code: 'EHOOKLAB_DROPPED' });

/**
 * Close the connection now, discarding what it still holds. Cheaply: engine.io's queue is
 * emptied first (else it would be flushed into the dead socket, packet by packet), and the
 * socket is destroyed with one shared error, so its thousands of pending write callbacks
 * get that one (stack formatted once) instead of a new error each.
 */
export function dropConnection(s: Socket): void {
  const c = conn(s);
  c.writeBuffer.length = 0;
  (c.transport as { writable?: boolean }).writable = false;
  const tcp = c.transport.socket?._socket;
  if (tcp) tcp.destroy(DROPPED);
  else c.close(true);
}

/**
 * Resolves when the client has read what was sent, down to `lowWater` unread bytes (false if
 * it did not within timeoutMs, or the connection closed). Polled: engine.io's own "drain"
 * fires when packets are handed to the transport, not when the client has read them.
 */
export function drained(s: Socket, lowWater: number, timeoutMs: number, pollMs = 10): Promise<boolean> {
  if (bufferedBytes(s) <= lowWater) return Promise.resolve(true);
  return new Promise((resolve) => {
    const started = performance.now();
    const t = setInterval(() => {
      if (!s.connected) done(false);
      else if (bufferedBytes(s) <= lowWater) done(true);
      else if (performance.now() - started > timeoutMs) done(false);
    }, pollMs);
    const done = (ok: boolean) => {
      clearInterval(t);
      resolve(ok);
    };
  });
}

export class SendCap {
  private sweep: NodeJS.Timeout | null = null;

  constructor(
    private readonly io: IoServer,
    readonly maxBytes: number,
    private readonly onDrop: (s: Socket, bytes: number) => void = () => {},
  ) {}

  /** Check the sockets of a room (after emitting to it). */
  checkRoom(room: string): void {
    const ids = this.io.sockets.adapter.rooms.get(room);
    if (!ids) return;
    for (const id of ids) {
      const s = this.io.sockets.sockets.get(id);
      if (s) this.check(s);
    }
  }

  check(s: Socket): void {
    const n = bufferedBytes(s);
    if (n > this.maxBytes) {
      dropConnection(s);
      this.onDrop(s, n);
    }
  }

  /**
   * Also check every connection once a second (events outside the busy rooms). Bounded: at most
   * LIVE_MAX_SOCKETS_PER_SESSION sockets per session and LIVE_MAX_SESSIONS sessions (4 x 2000
   * by default; see sessions.ts), where one session's flood of connects once made 50,000.
   */
  start(): void {
    this.sweep ??= setInterval(() => {
      for (const s of this.io.sockets.sockets.values()) this.check(s);
    }, 1000);
    this.sweep.unref();
  }

  stop(): void {
    if (this.sweep) clearInterval(this.sweep);
    this.sweep = null;
  }
}
