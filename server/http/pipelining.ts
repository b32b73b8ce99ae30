// HTTP pipelining within bounds. A client may send requests on one connection before the
// answers to earlier ones came; Node parses them all and runs each at once (it stops reading
// only when answers back up unread, and answers here come after work: a capture is stored
// first). A client writing pipelined requests as fast as it could (100,000 on one connection,
// read or not) had them all in hand at once: the server went from 175 MB to 873 MB (ten such
// connections: 3.7 GB) and /api/health took seconds. Past MAX_PIPELINED unanswered requests on
// one connection, it is closed: nothing it was not answered for was acknowledged, so the
// client can send those again. Browsers and most clients send one request at a time.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

export interface PipelineGuard {
  /** Count a request in, until its answer ends; false: its connection has too many waiting and is closed. */
  admit(req: IncomingMessage, res: ServerResponse): boolean;
}

export function pipelineGuard(max: number): PipelineGuard {
  const waiting = new WeakMap<Socket, number>();
  return {
    admit(req, res) {
      const socket = req.socket;
      const n = (waiting.get(socket) ?? 0) + 1;
      if (n > max) {
        // Pausing the socket would not do: Node's parser reads the connection itself.
        socket.destroy();
        return false;
      }
      waiting.set(socket, n);
      res.once('close', () => waiting.set(socket, (waiting.get(socket) ?? 1) - 1));
      return true;
    },
  };
}
