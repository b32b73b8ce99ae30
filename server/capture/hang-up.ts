// Did the sender close its connection (a FIN after its request, or a reset), rather than
// hooklab (a stop, a guard such as MAX_PIPELINED, a fault the bin asked for)? Only then did
// the sender hang up: hooklab's own closes never reach the peer's side of the stream.
import type { Socket } from 'node:net';

const PEER_RESETS = new Set(['ECONNRESET', 'EPIPE']);

export function closedByPeer(socket: Socket): boolean {
  if (socket.readableEnded) return true;
  const e = socket.errored as NodeJS.ErrnoException | null;
  return e !== null && PEER_RESETS.has(e.code ?? '');
}
