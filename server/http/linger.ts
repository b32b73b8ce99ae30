// Closing a connection right after a refusal (503 + "connection: close") while the client is
// still sending its body: destroying the socket at once makes the kernel answer the unread
// upload with a reset, which can wipe the 503 from the client's receive buffer before it reads
// it (16 of 20 8 MB uploads got EPIPE instead of their 503). So, as nginx's lingering close
// does: the answer ends the connection (FIN after it), what the client still sends is read and
// dropped (no memory held), and the socket is destroyed once the client has sent it all (or
// stops: its FIN), or after LINGER_MS at most, in case the client never stops.
//
// Node's own server does the destroying: for an answer with connection: close, resOnFinish
// (lib/_http_server.js) calls socket.destroySoon() once the answer is written, and that is
// end() then destroy() as soon as the FIN is flushed, whatever the client is still sending.
// So that one socket's destroySoon is replaced here; no other connection is touched.
import type { IncomingMessage, ServerResponse } from 'node:http';

export const LINGER_MS = 2000;
/**
 * Connections lingering at once, at most. Lingering costs reading what the sender still sends
 * (up to its whole body, as a capture would): under a flood of refusals (3,000 uploads of 1 MiB
 * at once, test/hardening/memory-bounds.test.ts) lingering on all of them doubled the server's
 * CPU and slowed its answers to everyone. Past this, a refused connection is closed as Node
 * closes it (at once: its sender may then see a reset instead of its answer). Senders refused
 * one after another, or a few dozen at once, all linger.
 */
export const MAX_LINGERING = 64;
let lingering = 0;

/** Call with the refusal (its headers set with connection: close), before or right after res.end(). */
export function closeAfterAnswer(req: IncomingMessage, res: ServerResponse, lingerMs = LINGER_MS): void {
  req.resume(); // discard the rest of the body
  const socket = req.socket;
  // Past MAX_LINGERING (or already gone): Node's own destroySoon, a close at once.
  if (lingering < MAX_LINGERING && !socket.destroyed) {
    lingering++;
    socket.once('close', () => lingering--);
    socket.destroySoon = () => {
      if (socket.writable) socket.end(); // the FIN after the answer: the client stops sending
      // Destroyed once nothing it sent is left unread (no reset then), the answer flushed.
      const destroy = () => (socket.writableFinished ? socket.destroy() : socket.once('finish', () => socket.destroy()));
      if (req.complete) destroy();
      else req.once('end', destroy);
      // A client that stops before the end of its body sends its FIN: Node's server then
      // destroys the socket itself (a body cut short is a parse error to it).
      socket.once('end', destroy);
    };
  }
  res.once('finish', () => {
    const t = setTimeout(() => socket.destroy(), lingerMs);
    t.unref();
    socket.once('close', () => clearTimeout(t));
  });
}
