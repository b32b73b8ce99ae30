// Forward loops that a URL check cannot see. A target may lead back into this hooklab under a
// name or address its origin list does not know (its own LAN IP, an IPv4-mapped IPv6
// address, a DNS name, a port mapping...). So while a forward is in flight, the local port of
// its connection is noted here with its request line, and the receiver refuses a request
// arriving from that port with that same request line: it was sent by this process to itself.
// Replays are not noted: one to a bin's own URL is asked for, once, and makes a new capture
// there.
//
// The request line matters: the kernel gives the same local port to connections to different
// destinations, so a sender on this machine (a load generator, another app) can be connecting
// to hooklab from the very port a forward to somewhere else goes out from. Its requests are
// not ours and must not be refused; they carry their own paths, not the forward's.
//
// The notes live in a table indexed by port (a count and a hash of the request line), in
// memory that the forwarding thread (forward-thread.ts) shares: it notes its sockets before
// their requests are written, and the receiver reads the table without any message.
import type { Socket } from 'node:net';

/** The header on the receiver's refusal, so the forward is recorded as a loop. */
export const LOOP_HEADER = 'x-hooklab-loop';

const PORTS = 65536;

/** FNV-1a over the UTF-16 code units: a request line's fingerprint. */
function lineHash(method: string, path: string): number {
  let h = 0x811c9dc5;
  const mix = (s: string) => {
    for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  };
  mix(method);
  h = Math.imul(h ^ 0x20, 0x01000193);
  mix(path);
  return h | 1; // never 0: 0 is "no line"
}

export class SelfConnections {
  /** Per local port: [forwards in flight, hash of the latest one's request line]. */
  private readonly table: Int32Array;

  /** `shared`: the memory of a table another thread writes (a new one by default). */
  constructor(readonly shared: SharedArrayBuffer = new SharedArrayBuffer(PORTS * 2 * 4)) {
    this.table = new Int32Array(shared);
  }

  /**
   * Note the forward of `method path` using `socket` until the function returned is called.
   * Works for a new socket (noted once connected: the request is written only then) and a
   * pooled one.
   */
  track(socket: Socket, method: string, path: string): () => void {
    const t = this.table;
    let port = 0;
    let released = false;
    const add = () => {
      if (released) return;
      port = socket.localPort ?? 0;
      // The line first, then the count: a reader that sees the count sees the line.
      Atomics.store(t, 2 * port + 1, lineHash(method, path));
      Atomics.add(t, 2 * port, 1);
    };
    if (socket.localPort) add();
    else socket.once('connect', add);
    return () => {
      released = true;
      socket.off('connect', add);
      if (port === 0) return;
      // Two forwards at once on one port (different destinations) keep the latest's line.
      if (Atomics.sub(t, 2 * port, 1) === 1) Atomics.store(t, 2 * port + 1, 0);
      port = 0;
    };
  }

  /** Is this request (on this inbound connection) one of our own forwards in flight? */
  isOwn(socket: Socket, method: string | undefined, url: string | undefined): boolean {
    const port = socket.remotePort ?? 0;
    // One load: a port with no forward out from it (nearly every request) costs nothing more.
    if (Atomics.load(this.table, 2 * port) === 0) return false;
    return Atomics.load(this.table, 2 * port + 1) === lineHash(method ?? '', url ?? '');
  }

  /** Forget every note (the thread that made them is gone, and its forwards with it). */
  clear(): void {
    this.table.fill(0);
  }

  /** Local ports with a forward in flight. */
  get size() {
    let n = 0;
    for (let p = 0; p < PORTS; p++) if (Atomics.load(this.table, 2 * p) > 0) n++;
    return n;
  }
}
