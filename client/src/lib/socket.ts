// The app's one Socket.IO connection, its visible state, and subscriptions that survive
// reconnects: every (re)connect re-subscribes, a bin with the last id seen so the server
// replays what was missed.
import { useEffect, useState } from 'preact/hooks';
import { io, type Socket } from 'socket.io-client';
import type { ClientToServerEvents, ServerToClientEvents, SubscribeAck } from '../../../shared/api.ts';
import { fallBackWhenDropped, liveTransportOptions } from '../../../shared/live-transport.ts';
import { announceReachable } from './reachability.ts';

export type LiveSocket = Socket<ServerToClientEvents, ClientToServerEvents>;
export type ConnState = 'connecting' | 'live' | 'reconnecting' | 'offline';

export interface Connection {
  state: ConnState;
  /** Reconnect attempts since the connection was lost. */
  attempt: number;
  /** Why it is not live, when known. */
  reason: string | null;
}

let socket: LiveSocket | null = null;
let conn: Connection = { state: 'connecting', attempt: 0, reason: null };
const listeners = new Set<(c: Connection) => void>();

function setConn(next: Partial<Connection>) {
  conn = { ...conn, ...next };
  for (const l of listeners) l(conn);
}

export function getSocket(): LiveSocket {
  if (socket) return socket;
  const s: LiveSocket = io({ path: '/socket.io', withCredentials: true, reconnectionDelayMax: 4000, ...liveTransportOptions() });
  socket = s;
  fallBackWhenDropped(s);
  s.on('connect', () => {
    setConn({ state: 'live', attempt: 0, reason: null });
    announceReachable();
  });
  s.on('disconnect', (reason) => {
    // A server-side or transport drop reconnects on its own; our own disconnect does not.
    setConn({ state: s.active ? 'reconnecting' : 'offline', reason });
  });
  s.on('connect_error', (err) => {
    // A handshake refused for its token (401: the cookie is gone or stale) is not retried:
    // each try would count as a wrong token and lock this address out of signing in.
    if ((err as { description?: unknown }).description === 401) {
      s.disconnect();
      setConn({ state: 'offline', reason: 'unauthorized' });
      return;
    }
    setConn({ state: s.active ? 'reconnecting' : 'offline', reason: err.message });
  });
  s.io.on('reconnect_attempt', (n) => setConn({ state: 'reconnecting', attempt: n }));
  return s;
}

export function useConnection(): Connection {
  const [c, setC] = useState(conn);
  useEffect(() => {
    getSocket();
    listeners.add(setC);
    setC(conn);
    return () => void listeners.delete(setC);
  }, []);
  return c;
}

/** A refused subscribe (the server's store away, say) is asked again after this, doubling up to the cap. */
const RESUBSCRIBE_FIRST_MS = 1000;
const RESUBSCRIBE_MAX_MS = 30_000;

/**
 * Join a bin's room now (if connected) and on every reconnect. `lastId` is read at each
 * (re)connect: the server replays every request after it as ordinary `request` events. A
 * subscribe the server could not serve (anything but an unknown bin: its store unreachable, a
 * restart) is asked again, backing off, so the page goes live again by itself; the ack after
 * such a retry counts as a reconnect (what came meanwhile is replayed and said).
 */
export function subscribeBin(binId: string, lastId: () => string | null, onAck?: (ack: SubscribeAck, reconnect: boolean) => void): () => void {
  return subscribeBinOn(getSocket(), binId, lastId, onAck);
}

/** subscribeBin on a given socket (a test's own). */
export function subscribeBinOn(s: LiveSocket, binId: string, lastId: () => string | null, onAck?: (ack: SubscribeAck, reconnect: boolean) => void): () => void {
  let first = true;
  let retry: ReturnType<typeof setTimeout> | undefined;
  let wait = RESUBSCRIBE_FIRST_MS;
  let done = false;
  const join = () => {
    clearTimeout(retry);
    if (done || !s.connected) return;
    const reconnect = !first;
    first = false;
    s.emit('subscribe', { binId, lastId: lastId() }, (ack) => {
      if (done) return;
      onAck?.(ack, reconnect);
      if (ack.ok) wait = RESUBSCRIBE_FIRST_MS;
      else if (ack.error !== 'bin not found') {
        // Out of the room until the next try answers: its live events would otherwise come
        // before that try's backfill.
        s.emit('unsubscribe', { binId });
        retry = setTimeout(join, Math.max(wait, ack.retryAfterMs ?? 0));
        wait = Math.min(RESUBSCRIBE_MAX_MS, wait * 2);
      }
    });
  };
  s.on('connect', join);
  if (s.connected) join();
  return () => {
    done = true;
    clearTimeout(retry);
    s.off('connect', join);
    if (s.connected) s.emit('unsubscribe', { binId });
  };
}

/** Join the dispatcher room now and on every reconnect; `onJoin(reconnect)` may re-fetch. */
export function subscribeDispatcher(onJoin: (reconnect: boolean) => void): () => void {
  const s = getSocket();
  let first = true;
  const join = () => {
    const reconnect = !first;
    first = false;
    s.emit('dispatcher:subscribe', () => onJoin(reconnect));
  };
  s.on('connect', join);
  if (s.connected) join();
  return () => void s.off('connect', join);
}
