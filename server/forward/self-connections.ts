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
//
// Forwards sent from the forwarding thread (forward-thread.ts) are noted there and told here
// as notes on a MessagePort, queued before the request is written; the receiver drains them
// synchronously (receiveMessageOnPort) before it decides, so a note cannot come too late.
import type { Socket } from 'node:net';
import { type MessagePort, receiveMessageOnPort } from 'node:worker_threads';

/** The header on the receiver's refusal, so the forward is recorded as a loop. */
export const LOOP_HEADER = 'x-hooklab-loop';

const norm = (address: string | undefined) => (address?.startsWith('::ffff:') ? address.slice(7) : (address ?? ''));

/** A forward's socket noted (+) or released (-), from the forwarding thread. */
export type SocketNote = { op: '+'; key: number; port: number; address: string; line: string } | { op: '-'; key: number };

/** A forward in flight: the address it goes out from, and its request line. */
interface End {
  address: string;
  line: string;
}

/**
 * Note a forward's socket, from the thread that sends it: `post` gets a note once it is
 * connected (the request is written only then) and one when released; `inFlight[0]` counts
 * those noted and not released, so the receiver knows without a message whether to look.
 */
export function noteSocket(socket: Socket, method: string, path: string, inFlight: Int32Array, key: number, post: (n: SocketNote) => void): () => void {
  let noted = false;
  let released = false;
  const add = () => {
    if (released) return;
    noted = true;
    Atomics.add(inFlight, 0, 1);
    post({ op: '+', key, port: socket.localPort ?? 0, address: norm(socket.localAddress), line: `${method} ${path}` });
  };
  if (socket.localPort) add();
  else socket.once('connect', add);
  return () => {
    released = true;
    socket.off('connect', add);
    if (!noted) return;
    noted = false;
    Atomics.sub(inFlight, 0, 1);
    post({ op: '-', key });
  };
}

export class SelfConnections {
  /**
   * Forwards in flight by local port (the receiver asks on every capture: a number looked up,
   * no string built, is all it costs when the port is not one of ours).
   */
  private readonly byPort = new Map<number, End[]>();
  /** Notes from the forwarding thread, and its count of noted sockets (see follow). */
  private thread: { port: MessagePort; inFlight: Int32Array; ends: Map<number, { port: number; end: End }> } | null = null;
  private drainTimer: NodeJS.Timeout | null = null;

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
      this.add(port, end);
    };
    if (socket.localPort) add();
    else socket.once('connect', add);
    return () => {
      released = true;
      socket.off('connect', add);
      if (end === null) return;
      this.remove(port, end);
      end = null;
    };
  }

  /**
   * Follow a forwarding thread's notes (a new port when the thread restarts: the old one's
   * forwards died with it). Drained when the receiver asks, and every second in case it does not.
   */
  follow(port: MessagePort, inFlight: Int32Array): void {
    if (this.thread) for (const { port: p, end } of this.thread.ends.values()) this.remove(p, end);
    this.thread?.port.close();
    this.thread = { port, inFlight, ends: new Map() };
    if (!this.drainTimer) {
      this.drainTimer = setInterval(() => this.drain(), 1000);
      this.drainTimer.unref();
    }
  }

  /** Stop following the thread. */
  close(): void {
    if (this.drainTimer) clearInterval(this.drainTimer);
    this.drainTimer = null;
    this.thread?.port.close();
    this.thread = null;
  }

  /** Is this request (on this inbound connection) one of our own forwards in flight? */
  isOwn(socket: Socket, method: string | undefined, url: string | undefined): boolean {
    // The thread has sockets noted, or notes of released ones not read yet: read them first.
    if (this.thread && (Atomics.load(this.thread.inFlight, 0) > 0 || this.thread.ends.size > 0)) this.drain();
    if (this.byPort.size === 0) return false;
    const list = this.byPort.get(socket.remotePort ?? 0);
    if (list === undefined) return false;
    const address = norm(socket.remoteAddress);
    const line = `${method} ${url}`;
    return list.some((e) => e.address === address && e.line === line);
  }

  /** Local ports with a forward in flight (those of the thread as far as read). */
  get size() {
    return this.byPort.size;
  }

  private drain() {
    const t = this.thread;
    if (!t) return;
    for (let m = receiveMessageOnPort(t.port); m; m = receiveMessageOnPort(t.port)) {
      const n = m.message as SocketNote;
      if (n.op === '+') {
        const end = { address: n.address, line: n.line };
        t.ends.set(n.key, { port: n.port, end });
        this.add(n.port, end);
      } else {
        const e = t.ends.get(n.key);
        if (!e) continue;
        t.ends.delete(n.key);
        this.remove(e.port, e.end);
      }
    }
  }

  private add(port: number, end: End) {
    const list = this.byPort.get(port);
    if (list) list.push(end);
    else this.byPort.set(port, [end]);
  }

  private remove(port: number, end: End) {
    const list = this.byPort.get(port);
    if (!list) return;
    const i = list.indexOf(end);
    if (i !== -1) list.splice(i, 1);
    if (list.length === 0) this.byPort.delete(port);
  }
}
