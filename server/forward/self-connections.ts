// Forward loops that a URL check cannot see. A target may lead back into this hooklab under a
// name or address its origin list does not know (its own LAN IP, an IPv4-mapped IPv6
// address, a DNS name, a port mapping...). So while a forward is in flight, the local end of
// its connection is noted here with its request line, and the receiver refuses a request
// arriving from one of them with that same request line: it was sent by this process to itself.
// Replays are not noted: one to a bin's own URL is asked for, once, and makes a new capture
// there.
//
// The request line matters: the kernel gives the same local port to connections to different
// destinations, so a sender on this machine (a load generator, another app) can be connecting
// to hooklab from the very address:port a forward to somewhere else goes out from. Its
// requests are not ours and must not be refused; they carry their own paths, not the forward's.
import type { Socket } from 'node:net';

/** The header on the receiver's refusal, so the forward is recorded as a loop. */
export const LOOP_HEADER = 'x-hooklab-loop';

const norm = (address: string | undefined) => (address?.startsWith('::ffff:') ? address.slice(7) : (address ?? ''));

/** A forward in flight: the address it goes out from, and its request line. */
interface End {
  address: string;
  line: string;
}

export class SelfConnections {
  /**
   * Forwards in flight by local port (the receiver asks on every capture: a number looked up,
   * no string built, is all it costs when the port is not one of ours).
   */
  private readonly byPort = new Map<number, End[]>();

  /**
   * Note the forward of `method path` using `socket` until `release` is called. Works for a new
   * socket (noted once connected: the request is written only then) and a pooled one.
   */
  track(socket: Socket, method: string, path: string): () => void {
    let end: End | null = null;
    let port = 0;
    let released = false;
    const add = () => {
      if (released) return;
      port = socket.localPort ?? 0;
      end = { address: norm(socket.localAddress), line: `${method} ${path}` };
      const list = this.byPort.get(port);
      if (list) list.push(end);
      else this.byPort.set(port, [end]);
    };
    if (socket.localPort) add();
    else socket.once('connect', add);
    return () => {
      released = true;
      socket.off('connect', add);
      if (end === null) return;
      const list = this.byPort.get(port);
      if (list) {
        const i = list.indexOf(end);
        if (i !== -1) list.splice(i, 1);
        if (list.length === 0) this.byPort.delete(port);
      }
      end = null;
    };
  }

  /** Is this request (on this inbound connection) one of our own forwards in flight? */
  isOwn(socket: Socket, method: string | undefined, url: string | undefined): boolean {
    if (this.byPort.size === 0) return false;
    const list = this.byPort.get(socket.remotePort ?? 0);
    if (list === undefined) return false;
    const address = norm(socket.remoteAddress);
    const line = `${method} ${url}`;
    return list.some((e) => e.address === address && e.line === line);
  }

  /** Local ports with a forward in flight. */
  get size() {
    return this.byPort.size;
  }
}
