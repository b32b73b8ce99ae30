// Live sessions: an Engine.IO session is made by its handshake, before any Socket.IO
// middleware runs, costs ~6.5 KB, and outlives its client by pingInterval + pingTimeout (45 s).
// A long-polling one holds no connection, so MAX_CONNECTIONS does not bound them: one client
// made 30,000 in 4.4 s over 8 keep-alive sockets (+200 MB). So each handshake is counted here,
// per instance (LIVE_MAX_SESSIONS) and per client (LIVE_MAX_SESSIONS_PER_IP; see clientKey), from the
// moment it is let through until its session closes; past either cap it is refused (503 with
// Retry-After), which socket.io-client treats as a failed attempt and retries on its backoff.
import { type IncomingMessage, type ServerResponse, STATUS_CODES } from 'node:http';
import { KeyedSlots, type SlotRefusal } from '../lib/keyed-slots.ts';

/** What the engine hands to 'connection': the handshake's request, and 'close' once it ends. */
interface EngineSession {
  request: IncomingMessage;
  once(event: 'close', fn: () => void): unknown;
}

export class SessionBudget {
  private readonly slots: KeyedSlots;
  /** Handshakes let through whose session is not made yet, with their slot's release. */
  private readonly admitted = new WeakMap<IncomingMessage, () => void>();

  constructor(maxSessions: number, maxPerClient: number) {
    this.slots = new KeyedSlots(maxSessions, maxPerClient);
  }

  /**
   * Count a handshake (from allowRequest) as a session now, or say which cap it is over.
   * Counted before the engine makes the session: handshakes pipelined on one connection are
   * let through together, before any of their sessions exists. `client`: see clientKey.
   */
  admit(req: IncomingMessage, client: string): SlotRefusal | null {
    const got = this.slots.take(client);
    if (typeof got !== 'function') return got;
    this.admitted.set(req, got);
    // The engine makes the session within the same turn (after a microtask); a handshake it
    // refuses after all (a malformed WebSocket upgrade, say) makes none: given back then.
    setImmediate(() => {
      if (this.admitted.delete(req)) got();
    });
    return null;
  }

  /** The engine made a session (its 'connection' event): counted until it closes. */
  made(s: EngineSession): void {
    const release = this.admitted.get(s.request);
    if (release === undefined) return;
    this.admitted.delete(s.request);
    s.once('close', release);
  }

  /** Sessions counted now (those made, and handshakes let through whose session is coming). */
  get size(): number {
    return this.slots.size;
  }
}

/**
 * Answer a handshake from allowRequest with our own status (engine.io would say 403 or 400,
 * with no Retry-After), then let the engine drop it. A long-polling handshake has its response
 * object (engine.io's EngineRequest.res); a WebSocket upgrade only its socket, written raw and
 * ended, so engine.io's own 400 is not added after it.
 */
export function refuseHandshake(req: IncomingMessage, status: number, code: string, message: string, retryAfterS: number | null): void {
  const body = JSON.stringify({ error: { code, message } });
  const headers: Record<string, string | number> = {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    // A flood on keep-alive connections pays a new connection for each refused try.
    connection: 'close',
  };
  if (retryAfterS !== null) headers['retry-after'] = String(retryAfterS);
  const res = (req as IncomingMessage & { res?: ServerResponse }).res;
  if (res) {
    if (!res.headersSent) res.writeHead(status, headers).end(body);
    return;
  }
  const socket = req.socket;
  if (!socket.writable) return;
  let head = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\n`;
  for (const [k, v] of Object.entries(headers)) head += `${k}: ${v}\r\n`;
  socket.end(`${head}\r\n${body}`);
}

/**
 * Socket.IO sockets one Engine.IO session may hold (LIVE_MAX_SOCKETS_PER_SESSION): hooklab's
 * clients use one namespace, so one socket each; 4 leaves room for other Socket.IO clients.
 */
export const LIVE_MAX_SOCKETS_PER_SESSION_DEFAULT = 4;

/** What the engine hands to 'connection', as far as the cap below uses it. */
interface EngineConn {
  readonly id: string;
  prependListener(event: 'data', fn: (data: unknown) => void): unknown;
  close(discard?: boolean): void;
}

/** The server side of Socket.IO this needs (the app's Server, whatever its event types). */
interface IoLike {
  engine: { on(event: 'connection', fn: (conn: EngineConn) => void): unknown };
  on(event: 'connection', fn: (socket: { conn: unknown; once(event: 'disconnect', fn: () => void): unknown }) => void): unknown;
}

/**
 * At most `max` sockets per Engine.IO session, counted from its CONNECT packet until the socket
 * is gone. Socket.IO makes a socket for every namespace CONNECT it decodes, and a namespace
 * only counts as joined once the socket's middlewares have run, a turn later: one long-polling
 * POST of 50,000 `40` packets made 50,000 sockets in one session, each acknowledged (LIVE_MAX_SESSIONS
 * counts sessions, not sockets). So the packets are counted here, before Socket.IO decodes
 * them (a listener ahead of its own, on the session's 'data'), and the session that sends one
 * past the cap is closed at once: the rest of its payload is not read, its sockets go, and
 * the flood costs it its session. Cheap: one comparison per message, no socket made.
 *
 * A CONNECT counts while it settles (until the next setImmediate: Socket.IO's middlewares,
 * all synchronous here, and its connect run within the turn), and its socket from its
 * 'connection' until its 'disconnect'. A client that leaves a namespace and joins it again
 * (disconnect(), connect() on one Manager) holds one socket all along, however often it does.
 */
export function capSocketsPerSession(io: IoLike, max: number, onRefused: (sessionId: string) => void = () => {}): void {
  const held = new WeakMap<object, { n: number }>();
  io.engine.on('connection', (conn) => {
    const count = { n: 0 };
    held.set(conn, count);
    let closed = false;
    conn.prependListener('data', (data) => {
      // A Socket.IO CONNECT is a message whose text starts with its type, 0.
      if (closed || typeof data !== 'string' || data.charCodeAt(0) !== 48) return;
      if (count.n >= max) {
        closed = true;
        // Discarding what is queued for it, now: its later packets are dropped by the engine.
        conn.close(true);
        onRefused(conn.id);
        return;
      }
      count.n++;
      setImmediate(() => count.n--);
    });
  });
  io.on('connection', (socket) => {
    const count = held.get(socket.conn as object);
    if (!count) return;
    count.n++;
    socket.once('disconnect', () => count.n--);
  });
}
