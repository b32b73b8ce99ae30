// The live connection of `hooklab tail` and `hooklab forward`: a WebSocket first, long-polling
// where no WebSocket gets through (shared/live-transport.ts), and never silent about the link:
// a lost connection, a server it cannot reach and the reconnect are each said once, on stderr.
//
// A handshake the server refuses is told apart from one that cannot reach it, whichever
// transport carried it: a refused token (401) or a refused connection (403) ends the command
// (retrying cannot help, and each try with a wrong token counts against AUTH_FAILURES_PER_MINUTE
// for the whole address); a server that rate-limits this address (429) or is busy (503) is said
// as such, and asked again only after its Retry-After.
import { io, type Socket } from 'socket.io-client';
import { fallBackWhenDropped, liveTransportOptions } from '../../shared/live-transport.ts';
import { type Conn, CliError, EXIT } from './client.ts';
import { withoutToken } from './token.ts';

/** socket.io-client's reconnection back-off, as set below: from 1 s, doubling, up to 5 s, ±50 %. */
const DELAY_MS = 1000;
const DELAY_MAX_MS = 5000;
const JITTER = 0.5;
/** How long to wait on a 429 without Retry-After (the server's count of wrong tokens lasts a minute). */
const RATE_LIMITED_WAIT_MS = 30_000;
/** How long to wait on a 503 without Retry-After. */
const BUSY_WAIT_MS = 5_000;
/** A Retry-After is honoured up to this (a longer one is taken as this). */
const MAX_WAIT_MS = 10 * 60_000;

/** What a refused handshake said: its HTTP status, the server's Retry-After and message (long-polling only). */
export interface Refusal {
  status: number;
  retryAfterMs?: number;
  message?: string;
}

interface TransportErrorLike {
  message?: string;
  /** Long-polling: the answer's status (0 when there was none). WebSocket: ws's ErrorEvent. */
  description?: unknown;
  /** Long-polling: the XMLHttpRequest, still readable while the error is emitted. */
  context?: { getResponseHeader?(name: string): string | null; responseText?: unknown };
}

/** The refusal a transport's error carries, if the server answered the handshake with an error status. */
export function refusalOf(err: unknown): Refusal | null {
  const e = err as TransportErrorLike | null;
  if (!e) return null;
  if (typeof e.description === 'number') {
    if (e.description < 400) return null; // 0: no answer at all (unreachable)
    const r: Refusal = { status: e.description };
    try {
      const ra = e.context?.getResponseHeader?.('retry-after');
      const n = Number(ra);
      if (ra != null && ra !== '' && Number.isInteger(n) && n >= 0) r.retryAfterMs = n * 1000;
      const body = JSON.parse(String(e.context?.responseText ?? '')) as { error?: { message?: unknown } };
      if (typeof body?.error?.message === 'string') r.message = body.error.message;
    } catch {
      // no readable headers or body: the status alone
    }
    return r;
  }
  // ws: "Unexpected server response: 401" (the ErrorEvent's message, and its error's).
  const d = e.description as { message?: unknown; error?: { message?: unknown } } | undefined;
  const m = /Unexpected server response: (\d{3})/.exec(`${d?.error?.message ?? ''} ${d?.message ?? ''}`);
  return m && Number(m[1]) >= 400 ? { status: Number(m[1]) } : null;
}

/** `onFatal`: the server refused the token or the connection (retrying cannot help). */
export function openLiveSocket(c: Conn, onFatal: (err: CliError) => void): Socket {
  // The token goes with the handshake too (a header): the server refuses one without it
  // before making a session, so the auth payload alone no longer gets in.
  const socket = io(c.server, {
    ...liveTransportOptions(),
    auth: c.token ? { token: c.token } : undefined,
    extraHeaders: c.token ? { authorization: `Bearer ${c.token}` } : undefined,
    reconnectionDelay: DELAY_MS,
    reconnectionDelayMax: DELAY_MAX_MS,
    randomizationFactor: JITTER,
  });
  fallBackWhenDropped(socket);

  // Each attempt tries both transports (tryAllTransports); only the last one's error reaches
  // connect_error, so each transport's is looked at as it comes: the long-polling one carries
  // the status, Retry-After and message, the WebSocket one the status only.
  let refusals: Refusal[] = [];
  const watched = new WeakSet<object>();
  const watch = () => {
    const t = (socket.io.engine as unknown as { transport?: { once(ev: 'error', fn: (e: unknown) => void): void } } | undefined)?.transport;
    if (!t || watched.has(t)) return;
    watched.add(t);
    t.once('error', (e) => {
      const r = refusalOf(e);
      if (r) refusals.push(r);
      watch(); // the engine has moved on to its next transport (if any) by now
    });
  };
  watch();
  // A reconnect attempt makes its engine right after this event, in the same task.
  socket.io.on('reconnect_attempt', () => {
    refusals = [];
    queueMicrotask(watch);
  });

  // The back-off: socket.io-client's own, or the server's Retry-After while it refuses.
  const pace = (ms: number | null) => {
    if (ms === null) socket.io.reconnectionDelay(DELAY_MS).reconnectionDelayMax(DELAY_MAX_MS).randomizationFactor(JITTER);
    else socket.io.reconnectionDelay(ms).reconnectionDelayMax(ms).randomizationFactor(0);
  };

  // Said once per outage, and again when what is wrong changes (unreachable, then rate-limited):
  // a retry every few seconds would flood the terminal.
  const say = (line: string) => process.stderr.write(`${line}\n`);
  let down = false;
  let said: string | null = null;
  let connected = false;
  socket.on('connect', () => {
    if (down) say(`${connected ? 'reconnected' : 'connected'} to ${c.server}`);
    down = false;
    said = null;
    connected = true;
    refusals = [];
    pace(null);
  });
  socket.on('disconnect', (reason) => {
    if (!socket.active || down) return; // our own close, or already said
    down = true;
    said = 'lost';
    say(`lost the connection to ${c.server} (${reason}); reconnecting`);
  });
  socket.on('connect_error', (e) => {
    const all = [...refusals, refusalOf(e)].filter((r): r is Refusal => r !== null);
    refusals = [];
    const of = (status: number) => all.find((r) => r.status === status);
    const withRetry = (status: number) => all.find((r) => r.status === status && r.retryAfterMs !== undefined) ?? of(status);
    // Refused by Socket.IO itself (a middleware's "unauthorized"), or by the handshake's 401.
    if (/unauthorized/.test(e.message) || of(401)) {
      const what = c.token ? 'refused the access token given (--token or HOOKLAB_TOKEN)' : 'wants an access token: pass --token or set HOOKLAB_TOKEN';
      return onFatal(new CliError(`${c.server} ${what}${connected ? ' (401 on reconnecting: was it changed or revoked?)' : ''}`, EXIT.server, { status: 401 }));
    }
    if (of(403)) return onFatal(new CliError(`${c.server} refused the live connection (403 Forbidden)`, EXIT.server, { status: 403 }));
    // Socket.IO at that origin, but no namespace by the server's path: hooklab is not under it
    // (a path prefix in --server). Retrying cannot help.
    if (e.message === 'Invalid namespace') {
      const which = c.from ?? '--server (or HOOKLAB_SERVER)';
      return onFatal(new CliError(`${c.server} is not where hooklab is (its live connection answered "Invalid namespace" for ${new URL(c.server).pathname}): hooklab serves at the root of its origin; is ${which} right?`, EXIT.server));
    }
    const busy = withRetry(429) ?? withRetry(503);
    if (busy) {
      const waitMs = Math.min(MAX_WAIT_MS, Math.max(1000, busy.retryAfterMs ?? (busy.status === 429 ? RATE_LIMITED_WAIT_MS : BUSY_WAIT_MS)));
      pace(waitMs);
      const kind = `busy ${busy.status}`;
      down = true;
      if (said === kind) return;
      said = kind;
      const why = busy.message ? `: ${withoutToken(busy.message, c.token)}` : '';
      const after = `trying again in ${Math.round(waitMs / 1000)} s${busy.retryAfterMs === undefined ? '' : ' (its Retry-After)'}`;
      return say(
        busy.status === 429
          ? `${c.server} is rate-limiting this address (429 Too Many Requests${why}); ${after}`
          : `${c.server} is busy (503 Service Unavailable${why}); ${after}`,
      );
    }
    pace(null);
    const was = said;
    down = true;
    said = 'unreachable';
    // After "lost the connection …; reconnecting", failing tries are what that line announced.
    if (was === 'lost' || was === 'unreachable') return;
    // An answer of another status (a proxy's 502, say) is named.
    const status = all.length ? `: ${all[all.length - 1].status}` : '';
    say(`cannot reach ${c.server} (${withoutToken(e.message, c.token)}${status}); retrying`);
  });
  return socket;
}
