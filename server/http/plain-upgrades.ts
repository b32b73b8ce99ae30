// Upgrade requests that are not the live view's WebSocket: answered as plain HTTP/1.1, as a
// server that does not speak the protocol offered may (RFC 9110 7.8, RFC 9113 3.1). Socket.IO
// listens for 'upgrade' on the server, so Node hands it every request with `Connection:
// Upgrade`, and it closed those it does not serve: a sender offering HTTP/2 (`curl --http2`,
// Java's HttpClient: `Upgrade: h2c`), or a proxy passing the header on, got no answer and its
// webhook was never captured. Node has detached its parser from such a socket by then, so the
// request is fed to the server again, as a new connection, with the `upgrade` token taken out
// of its Connection header; the request handler then puts its headers back as they came
// (restoreOffer), so the capture has every byte of them.
import type http from 'node:http';
import type { Socket } from 'node:net';
import { answerUnderWay } from './client-errors.ts';

/** Socket.IO's path (its default): upgrades there are its own. */
const LIVE_PATH = '/socket.io/';

export interface PlainUpgrades {
  /** A socket fed to the server again (its connection is counted once: see server.ts). */
  refed(socket: Socket): boolean;
  /** Called first for every request: the headers of an upgrade answered as plain, as they came. */
  restoreOffer(req: http.IncomingMessage): void;
}

/** The request's head again, without the `upgrade` token in its Connection header. */
export function plainHead(req: Pick<http.IncomingMessage, 'method' | 'url' | 'httpVersion' | 'rawHeaders'>): Buffer {
  const lines = [`${req.method} ${req.url} HTTP/${req.httpVersion}`];
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    let value = raw[i + 1];
    if (raw[i].toLowerCase() === 'connection') {
      value = value
        .split(',')
        .map((t) => t.trim())
        .filter((t) => t.toLowerCase() !== 'upgrade')
        .join(', ');
    }
    lines.push(`${raw[i]}: ${value}`);
  }
  return Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
}

export function answerUpgradesAsPlain(server: http.Server): PlainUpgrades {
  const again = new WeakSet<Socket>();
  const offers = new WeakMap<Socket, string[]>();
  server.on('upgrade', (req: http.IncomingMessage, socket: Socket, head: Buffer) => {
    if (req.url?.startsWith(LIVE_PATH)) return; // Socket.IO's (destroyUpgrade: false leaves the rest to this)
    const feed = () => {
      // Closing after that answer (it said Connection: close): no request after it is read.
      if (socket.destroyed || !socket.writable) return;
      again.add(socket);
      offers.set(socket, req.rawHeaders);
      socket.unshift(Buffer.concat([plainHead(req), head]));
      server.emit('connection', socket);
    };
    // A pipelined request's answer still under way: fed once it has gone, or the fresh
    // connection state would queue this one's answer where that answer's end never looks.
    const before = answerUnderWay(socket);
    if (before) before.once('finish', () => setImmediate(feed));
    else feed();
  });
  return {
    refed: (socket) => again.has(socket),
    restoreOffer(req) {
      const raw = offers.get(req.socket);
      if (!raw) return;
      offers.delete(req.socket);
      req.rawHeaders = raw;
    },
  };
}
