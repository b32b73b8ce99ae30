// A real socket.io-client for tests, with a queue of received events.
import { io, type Socket } from 'socket.io-client';
import type { ClientToServerEvents, RequestItem, ServerToClientEvents, SubscribeAck } from '../../shared/api.ts';

export type ClientSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

export async function connect(base: string, opts: { token?: string } = {}): Promise<ClientSocket> {
  // The token goes with the handshake (a header), as the CLI sends it: the server checks it
  // before a session is made.
  const s: ClientSocket = io(base, {
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
    auth: opts.token ? { token: opts.token } : undefined,
    extraHeaders: opts.token ? { authorization: `Bearer ${opts.token}` } : undefined,
  });
  await new Promise<void>((resolve, reject) => {
    s.once('connect', () => resolve());
    s.once('connect_error', reject);
  });
  return s;
}

/**
 * The HTTP status a refused handshake was answered with, from socket.io-client's connect_error
 * (refused before any session: long-polling gives the status, a WebSocket its error's text);
 * null when it was not an HTTP refusal (a Socket.IO middleware's error, say).
 */
export function handshakeStatus(err: unknown): number | null {
  const d = (err as { description?: unknown }).description;
  if (typeof d === 'number') return d;
  const m = /Unexpected server response: (\d+)/.exec(String((d as { message?: unknown } | undefined)?.message ?? ''));
  return m ? Number(m[1]) : null;
}

export function subscribe(s: ClientSocket, binId: string, lastId?: string | null, lastSeq?: number): Promise<SubscribeAck> {
  return new Promise((resolve) => s.emit('subscribe', { binId, lastId, ...(lastSeq !== undefined ? { lastSeq } : {}) }, resolve));
}

/** Resolve once `n` events of a kind have arrived (collecting them from now on). */
export function collect<K extends keyof ServerToClientEvents>(s: ClientSocket, event: K) {
  const items: Parameters<ServerToClientEvents[K]>[0][] = [];
  const waiters: { n: number; resolve: () => void }[] = [];
  const handler = (x: Parameters<ServerToClientEvents[K]>[0]) => {
    items.push(x);
    for (const w of [...waiters]) if (items.length >= w.n) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve();
    }
  };
  s.on(event, handler as never);
  return {
    items,
    until(n: number): Promise<typeof items> {
      if (items.length >= n) return Promise.resolve(items);
      return new Promise((resolve) => waiters.push({ n, resolve: () => resolve(items) }));
    },
    stop() {
      s.off(event, handler as never);
    },
  };
}

/**
 * Rows from `requests:updated` events (one event per bin per turn carries many), flattened:
 * `until(n)` resolves once n rows have come, `untilEach(ids)` once each id has come at least
 * once, as a row or (`details`: its detail changed, not its row) as an id.
 */
export function collectUpdates(s: ClientSocket) {
  const items: RequestItem[] = [];
  const details: string[] = [];
  const waiters: { done: () => boolean; resolve: () => void }[] = [];
  const handler = (e: { binId: string; items: RequestItem[]; details?: string[] }) => {
    items.push(...e.items);
    details.push(...(e.details ?? []));
    for (const w of [...waiters]) if (w.done()) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve();
    }
  };
  s.on('requests:updated', handler);
  const wait = (done: () => boolean) => (done() ? Promise.resolve(items) : new Promise<RequestItem[]>((resolve) => waiters.push({ done, resolve: () => resolve(items) })));
  return {
    items,
    details,
    until: (n: number) => wait(() => items.length >= n),
    untilEach: (ids: string[]) => wait(() => ids.every((id) => details.includes(id) || items.some((r) => r.id === id))),
    stop: () => void s.off('requests:updated', handler),
  };
}
