// Closing a connection right after a refusal (503 + "connection: close") while the client is
// still sending its body: destroying the socket at once makes the kernel answer the unread
// upload with a reset, which can wipe the 503 from the client's receive buffer before it reads
// it. So, as nginx's lingering close does: the answer ends the connection (Node sends FIN after
// it), what the client still sends is read and dropped (no memory held), and the socket is
// destroyed after LINGER_MS at most, in case the client never stops.
import type { IncomingMessage, ServerResponse } from 'node:http';

export const LINGER_MS = 2000;

/** Call once the refusal is written (headers set with connection: close). */
export function closeAfterAnswer(req: IncomingMessage, res: ServerResponse, lingerMs = LINGER_MS): void {
  req.resume(); // discard the rest of the body
  res.once('finish', () => {
    const socket = req.socket;
    const t = setTimeout(() => socket.destroy(), lingerMs);
    t.unref();
    socket.once('close', () => clearTimeout(t));
  });
}
