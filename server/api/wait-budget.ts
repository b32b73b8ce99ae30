// The wait API's budget (GET …/requests/wait, …/deliveries/:id/wait). A waiter holds its
// request (~10 KB) for up to 10 minutes, and a request waiter is matched against every capture
// of its bin on the main thread (a `q` search reads up to 1 MiB of body each time). Requests
// pipelined on one connection are all taken at once, so MAX_CONNECTIONS does not bound them:
// 10,000 waits on one socket held +90–137 MB and made one 1 MiB capture take 20 s to answer.
// Each waiter takes a slot (ctx.waitBudget, KeyedSlots), per instance (WAIT_MAX_WAITERS) and
// per client (WAIT_MAX_WAITERS_PER_IP; see clientKey), until it answers or its client goes.
import type { Socket } from 'node:net';
import type { Request, Response } from 'express';
import { clientIp } from '../capture/receiver.ts';
import { clientKey } from '../net/client-key.ts';
import { HttpError } from '../http/errors.ts';
import type { ApiContext } from './context.ts';

const RETRY_AFTER_S = 5;

/**
 * Waits to end when their connection closes, one listener per socket. A wait pipelined behind
 * another on its connection gets no 'close' of its response when the client goes (Node queues
 * its response), so the socket's own 'close' is what frees it.
 */
const goneWithSocket = new WeakMap<Socket, Set<() => void>>();

function onSocketClose(socket: Socket, fn: () => void): () => void {
  let set = goneWithSocket.get(socket);
  if (!set) {
    const fns = (set = new Set());
    goneWithSocket.set(socket, fns);
    socket.once('close', () => {
      goneWithSocket.delete(socket);
      for (const f of fns) f();
    });
  }
  set.add(fn);
  return () => set.delete(fn);
}

/**
 * A slot for this wait request, or a 503 too_many_waiters with Retry-After past a cap. `gone`
 * ends the wait when its client goes (its response closes, or its connection does); the
 * release it answers gives the slot back (idempotent: the wait calls it when it answers too).
 */
export function waitSlot(ctx: ApiContext, req: Request, res: Response, gone: () => void): () => void {
  const got = ctx.waitBudget.take(clientKey(clientIp(req, ctx.config.trustProxy)));
  if (typeof got === 'function') {
    const unlisten = onSocketClose(req.socket, gone);
    if (req.socket.destroyed) setImmediate(gone); // gone already: its 'close' came before we listened
    res.once('close', gone);
    return () => {
      unlisten();
      got();
    };
  }
  res.setHeader('retry-after', String(RETRY_AFTER_S));
  const cap = got === 'key' ? `WAIT_MAX_WAITERS_PER_IP (${ctx.waitBudget.maxPerKey}) from this client` : `WAIT_MAX_WAITERS (${ctx.waitBudget.max})`;
  throw new HttpError(503, 'too_many_waiters', `As many wait requests are open as hooklab allows: ${cap}. Retry shortly.`);
}
