// HTTP/1.1 answers go in the order their requests came: Node holds a pipelined request's
// answer (its ServerResponse has no socket yet) until the ones before it on the connection have
// gone. So a fault that closes the connection must wait its turn, or it drops the answers owed
// to earlier requests; and an answer still held when the connection closes never went, though
// its head counts as sent (headersSent) and its ServerResponse emits no 'close' at all.
import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/** Run `fn` once every answer before this one on its connection has gone (at once when none waits). */
export function onTurn(res: ServerResponse, fn: () => void): void {
  if (res.socket) fn();
  else res.once('socket', () => fn());
}

// One 'close' listener per connection for all its held answers (up to MAX_PIPELINED of them).
const held = new WeakMap<Socket, Set<() => void>>();

/** Call `fn` when this answer's connection closes: its 'close', or, while it is held, the connection's. */
export function onClosed(socket: Socket, res: ServerResponse, fn: () => void): void {
  res.once('close', fn);
  if (res.socket || socket.destroyed) return;
  let waiting = held.get(socket);
  if (!waiting) {
    const set = new Set<() => void>();
    held.set(socket, (waiting = set));
    socket.once('close', () => {
      held.delete(socket);
      for (const f of set) f();
    });
  }
  waiting.add(fn);
  // Its turn came: from now on its own 'close' tells.
  res.once('socket', () => waiting.delete(fn));
}

/** Whether this answer went out whole (not merely its head queued behind an earlier one). */
export const answerWent = (res: ServerResponse): boolean => res.writableFinished;
