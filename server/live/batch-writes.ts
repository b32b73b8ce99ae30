// Under a burst, each live event would cost one write syscall per subscriber: the biggest
// single cost of a capture. engine.io already queues packets while a write is pending and then
// sends the queue in one loop, one WebSocket frame each; corking the TCP socket around that
// loop turns those frames into a single write. Polling transports batch on their own.
import type { Socket as NetSocket } from 'node:net';
import type { Socket } from 'socket.io';

interface WsTransport {
  name: string;
  socket?: { _socket?: NetSocket };
  send(packets: unknown[]): void;
  hooklabCorked?: boolean;
}

function corkSends(t: WsTransport | undefined) {
  const tcp = t?.socket?._socket;
  if (!t || t.name !== 'websocket' || t.hooklabCorked || !tcp || typeof tcp.cork !== 'function') return;
  const send = t.send.bind(t);
  t.send = (packets) => {
    tcp.cork();
    try {
      send(packets);
    } finally {
      tcp.uncork();
    }
  };
  t.hooklabCorked = true;
}

export function batchWebSocketWrites(socket: Socket) {
  const conn = socket.conn as unknown as { transport: WsTransport; on(e: 'upgrade', f: (t: WsTransport) => void): void };
  corkSends(conn.transport);
  conn.on('upgrade', (t) => corkSends(t));
}
