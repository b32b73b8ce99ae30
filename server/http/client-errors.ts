// Bytes on a connection that are no request (Node's 'clientError'). Node's default answers 400
// (431, 408) at once and destroys the socket, even while the request before them is still
// being answered: a sender whose Content-Length was shorter than its body (a common bug: the
// length of a UTF-8 string in characters) got 400 while its capture said 200, and it never saw
// the 200. Here that answer goes first; the connection is then closed, the rest of the bytes
// unread (they were never a request). With no answer under way, Node's default is kept.
import type http from 'node:http';
import type { Socket } from 'node:net';
import { LINGER_MS } from './linger.ts';

const ANSWERS: Record<string, string> = {
  HPE_HEADER_OVERFLOW: '431 Request Header Fields Too Large',
  HPE_CHUNK_EXTENSIONS_OVERFLOW: '413 Payload Too Large',
  ERR_HTTP_REQUEST_TIMEOUT: '408 Request Timeout',
};

/**
 * The answer Node has attached to the socket, not yet finished (its `_httpMessage`: read here,
 * at an error, rather than each request noted on the capture path).
 */
export const answerUnderWay = (socket: Socket): http.ServerResponse | null => {
  const res = (socket as { _httpMessage?: http.ServerResponse | null })._httpMessage;
  return res && !res.writableFinished ? res : null;
};

export function answerClientErrors(server: http.Server): void {
  /** Sockets closing after their answers (Node reports the parse error again for each chunk that comes). */
  const closing = new WeakSet<Socket>();
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    if (closing.has(socket)) return;
    const res = answerUnderWay(socket);
    // Only bytes after a whole request: one cut off mid-body (the sender gone) ends as Node ends it.
    if (res?.req?.complete && !socket.destroyed && err.code?.startsWith('HPE_')) {
      closing.add(socket);
      closeWhenAnswered(socket);
      return;
    }
    // As Node does: an error answer unless one of its own has begun on the connection.
    if (socket.writable && !res?.headersSent) {
      const status = (err.code && ANSWERS[err.code]) ?? '400 Bad Request';
      socket.write(`HTTP/1.1 ${status}\r\nConnection: close\r\n\r\n`);
    }
    socket.destroy(err);
  });
}

/**
 * End the connection once every answer on it has gone (pipelined requests before the bad bytes
 * are answered too: Node hands the socket to the next one as each finishes), then destroy it
 * after LINGER_MS should the client keep it open.
 */
function closeWhenAnswered(socket: Socket): void {
  const next = answerUnderWay(socket);
  if (next) {
    next.once('finish', () => closeWhenAnswered(socket));
    return;
  }
  if (socket.destroyed) return;
  socket.end();
  const t = setTimeout(() => socket.destroy(), LINGER_MS);
  t.unref();
  socket.once('close', () => clearTimeout(t));
}
