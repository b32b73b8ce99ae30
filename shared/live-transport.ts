// How hooklab's live clients (the UI, and the CLI's tail and forward) reach the server: a
// WebSocket first (one connection, so instances behind a load balancer need no sticky
// sessions), long-polling where no WebSocket gets through.
import type { Socket } from 'socket.io-client';

type TransportName = 'websocket' | 'polling';
const WEBSOCKET_FIRST: TransportName[] = ['websocket', 'polling'];
const POLLING_FIRST: TransportName[] = ['polling', 'websocket'];

/** Options for io(): WebSocket first, every transport tried before an attempt fails. */
export const liveTransportOptions = () => ({ transports: [...WEBSOCKET_FIRST], tryAllTransports: true });

/**
 * socket.io-client moves on to long-polling only when the WebSocket *fails*. A proxy that
 * accepts the WebSocket and then drops it before the handshake makes it *close* instead: the
 * client then waits for its 20 s connect timeout and tries the WebSocket again, so it never
 * connects, though long-polling would. This watches each attempt: a close before the handshake
 * ends the attempt at once as an error (the manager retries on its usual backoff), and the next
 * attempt starts with long-polling (which upgrades to a WebSocket if one gets through). Each
 * new connection tries the WebSocket first again.
 */
export function fallBackWhenDropped(s: Socket): void {
  const watch = () => {
    const engine = s.io.engine;
    if (!engine) return;
    let opened = false;
    engine.once('open', () => (opened = true));
    engine.once('close', () => {
      if (opened || s.connected) return;
      s.io.opts.transports = [...POLLING_FIRST];
      // The manager ends an attempt on its engine's "error" event (a public event).
      (engine as unknown as { emit(ev: 'error', err: Error): void }).emit('error', new Error('WebSocket closed before the handshake; trying long-polling'));
    });
  };
  watch();
  // A reconnect attempt makes its engine right after this event, in the same task.
  s.io.on('reconnect_attempt', () => queueMicrotask(watch));
  s.on('connect', () => (s.io.opts.transports = [...WEBSOCKET_FIRST]));
}
