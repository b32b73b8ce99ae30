// Live sessions: an Engine.IO session is made by its handshake, before any Socket.IO
// middleware runs, costs ~6.5 KB, and outlives its client by pingInterval + pingTimeout (45 s).
// A long-polling one holds no connection, so MAX_CONNECTIONS does not bound them: one client
// made 30,000 in 4.4 s over 8 keep-alive sockets (+200 MB). So each handshake is counted here,
// per instance (LIVE_MAX_SESSIONS) and per client IP (LIVE_MAX_SESSIONS_PER_IP), from the
// moment it is let through until its session closes; past either cap it is refused (503 with
// Retry-After), which socket.io-client treats as a failed attempt and retries on its backoff.
import { type IncomingMessage, type ServerResponse, STATUS_CODES } from 'node:http';

/** What the engine hands to 'connection': the handshake's request, and 'close' once it ends. */
interface EngineSession {
  request: IncomingMessage;
  once(event: 'close', fn: () => void): unknown;
}

export type SessionRefusal = 'instance' | 'ip';

export class SessionBudget {
  private total = 0;
  private readonly perIp = new Map<string, number>();
  /** Handshakes let through whose session is not made yet, with their client's IP. */
  private readonly admitted = new WeakMap<IncomingMessage, string>();

  constructor(
    readonly maxSessions: number,
    readonly maxPerIp: number,
  ) {}

  /**
   * Count a handshake (from allowRequest) as a session now, or say which cap it is over.
   * Counted before the engine makes the session: handshakes pipelined on one connection are
   * let through together, before any of their sessions exists.
   */
  admit(req: IncomingMessage, ip: string): SessionRefusal | null {
    if (this.total >= this.maxSessions) return 'instance';
    const n = this.perIp.get(ip) ?? 0;
    if (n >= this.maxPerIp) return 'ip';
    this.total++;
    this.perIp.set(ip, n + 1);
    this.admitted.set(req, ip);
    // The engine makes the session within the same turn (after a microtask); a handshake it
    // refuses after all (a malformed WebSocket upgrade, say) makes none: given back then.
    setImmediate(() => {
      if (this.admitted.delete(req)) this.release(ip);
    });
    return null;
  }

  /** The engine made a session (its 'connection' event): counted until it closes. */
  made(s: EngineSession): void {
    const ip = this.admitted.get(s.request);
    if (ip === undefined) return;
    this.admitted.delete(s.request);
    s.once('close', () => this.release(ip));
  }

  private release(ip: string): void {
    this.total--;
    const n = (this.perIp.get(ip) ?? 1) - 1;
    if (n > 0) this.perIp.set(ip, n);
    else this.perIp.delete(ip);
  }

  /** Sessions counted now (those made, and handshakes let through whose session is coming). */
  get size(): number {
    return this.total;
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
