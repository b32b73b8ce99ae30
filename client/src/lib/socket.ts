// The app's one Socket.IO connection, its visible state, and subscriptions that survive
// reconnects: every (re)connect re-subscribes, a bin with the last id seen so the server
// replays what was missed.
import { useEffect, useState } from 'preact/hooks';
import { io, type Socket } from 'socket.io-client';
import type { ClientToServerEvents, ServerToClientEvents, SubscribeAck } from '../../../shared/api.ts';
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
  // WebSocket first: one connection, so several instances behind a load balancer need no
  // sticky sessions; long-polling only where a WebSocket cannot get through (that needs them).
  const s: LiveSocket = io({ path: '/socket.io', withCredentials: true, reconnectionDelayMax: 4000, transports: WEBSOCKET_FIRST, tryAllTransports: true });
  socket = s;
  fallBackWhenDropped(s);
  s.on('connect', () => {
    // Each new connection tries the WebSocket first again (the fallback was for one attempt).
    s.io.opts.transports = WEBSOCKET_FIRST;
    setConn({ state: 'live', attempt: 0, reason: null });
    announceReachable();
  });
  s.on('disconnect', (reason) => {
    // A server-side or transport drop reconnects on its own; our own disconnect does not.
    setConn({ state: s.active ? 'reconnecting' : 'offline', reason });
  });
  s.on('connect_error', (err) => {
    setConn({ state: s.active ? 'reconnecting' : 'offline', reason: err.message });
  });
  s.io.on('reconnect_attempt', (n) => setConn({ state: 'reconnecting', attempt: n }));
  return s;
}

const WEBSOCKET_FIRST: ('websocket' | 'polling')[] = ['websocket', 'polling'];
const POLLING_FIRST: ('websocket' | 'polling')[] = ['polling', 'websocket'];

/**
 * socket.io-client moves on to long-polling only when the WebSocket *fails*. A proxy that
 * accepts the WebSocket and then drops it before the handshake makes it *close* instead: the
 * client then waits for its 20 s connect timeout and tries the WebSocket again, so the live view
 * never connects, though long-polling would. Each attempt is watched: a close before the
 * handshake ends the attempt at once as an error (the manager retries on its usual backoff),
 * and the next attempt starts with long-polling (which upgrades to a WebSocket if one gets
 * through).
 */
function fallBackWhenDropped(s: LiveSocket) {
  const watch = () => {
    const engine = s.io.engine;
    if (!engine) return;
    let opened = false;
    engine.once('open', () => (opened = true));
    engine.once('close', () => {
      if (opened || s.connected) return;
      s.io.opts.transports = POLLING_FIRST;
      // The manager ends an attempt on its engine's "error" event (its public one).
      (engine as unknown as { emit(ev: 'error', err: Error): void }).emit('error', new Error('WebSocket closed before the handshake; trying long-polling'));
    });
  };
  watch();
  // A reconnect attempt makes its engine right after this event (in the same task).
  s.io.on('reconnect_attempt', () => queueMicrotask(watch));
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

/**
 * Join a bin's room now (if connected) and on every reconnect. `lastId` is read at each
 * (re)connect: the server replays every request after it as ordinary `request` events.
 */
export function subscribeBin(binId: string, lastId: () => string | null, onAck?: (ack: SubscribeAck, reconnect: boolean) => void): () => void {
  const s = getSocket();
  let first = true;
  const join = () => {
    const reconnect = !first;
    first = false;
    s.emit('subscribe', { binId, lastId: lastId() }, (ack) => onAck?.(ack, reconnect));
  };
  s.on('connect', join);
  if (s.connected) join();
  return () => {
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
