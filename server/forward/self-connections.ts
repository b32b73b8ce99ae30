// Forward loops that a URL check cannot see. A target may lead back into this hooklab under a
// name or address its origin list does not know (its own LAN IP, an IPv4-mapped IPv6
// address, a DNS name, a port mapping...). So while a forward is in flight, the local end of
// its connection is noted here, and the receiver refuses a request arriving from one of them:
// it was sent by this process to itself. Replays are not noted: one to a bin's own URL is
// asked for, once, and makes a new capture there.
import type { Socket } from 'node:net';

/** The header on the receiver's refusal, so the forward is recorded as a loop. */
export const LOOP_HEADER = 'x-hooklab-loop';

const norm = (address: string | undefined) => (address?.startsWith('::ffff:') ? address.slice(7) : (address ?? ''));
const keyOf = (address: string | undefined, port: number | undefined) => `${norm(address)}:${port ?? 0}`;

export class SelfConnections {
  /** Local ends of forwards in flight (a count: a key can repeat across quick reuse). */
  private readonly ends = new Map<string, number>();

  /**
   * Note the forward using `socket` until `release` is called. Works for a new socket (noted
   * once connected: the request is written only then) and a pooled one (connected already).
   */
  track(socket: Socket): () => void {
    let key: string | null = null;
    let released = false;
    const add = () => {
      if (released) return;
      key = keyOf(socket.localAddress, socket.localPort);
      this.ends.set(key, (this.ends.get(key) ?? 0) + 1);
    };
    if (socket.localPort) add();
    else socket.once('connect', add);
    return () => {
      released = true;
      socket.off('connect', add);
      if (key === null) return;
      const n = (this.ends.get(key) ?? 1) - 1;
      if (n > 0) this.ends.set(key, n);
      else this.ends.delete(key);
      key = null;
    };
  }

  /** Did this inbound connection come from one of our own forwards in flight? */
  isOwn(socket: Socket): boolean {
    return this.ends.size > 0 && this.ends.has(keyOf(socket.remoteAddress, socket.remotePort));
  }

  get size() {
    return this.ends.size;
  }
}
