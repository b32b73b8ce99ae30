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
const keyOf = (address: string | undefined, port: number | undefined) => `${norm(address)}:${port ?? 0}`;

export class SelfConnections {
  /** Local ends of forwards in flight, each with the request lines sent from it ("POST /h/x/y?z"). */
  private readonly ends = new Map<string, string[]>();

  /**
   * Note the forward of `method path` using `socket` until `release` is called. Works for a new
   * socket (noted once connected: the request is written only then) and a pooled one.
   */
  track(socket: Socket, method: string, path: string): () => void {
    const line = `${method} ${path}`;
    let key: string | null = null;
    let released = false;
    const add = () => {
      if (released) return;
      key = keyOf(socket.localAddress, socket.localPort);
      const lines = this.ends.get(key);
      if (lines) lines.push(line);
      else this.ends.set(key, [line]);
    };
    if (socket.localPort) add();
    else socket.once('connect', add);
    return () => {
      released = true;
      socket.off('connect', add);
      if (key === null) return;
      const lines = this.ends.get(key);
      if (lines) {
        const i = lines.indexOf(line);
        if (i !== -1) lines.splice(i, 1);
        if (lines.length === 0) this.ends.delete(key);
      }
      key = null;
    };
  }

  /** Is this request (on this inbound connection) one of our own forwards in flight? */
  isOwn(socket: Socket, method: string | undefined, url: string | undefined): boolean {
    if (this.ends.size === 0) return false;
    const lines = this.ends.get(keyOf(socket.remoteAddress, socket.remotePort));
    return lines !== undefined && lines.includes(`${method} ${url}`);
  }

  /** Local ends with a forward in flight. */
  get size() {
    return this.ends.size;
  }
}
