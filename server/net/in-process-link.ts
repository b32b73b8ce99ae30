// A connection from hooklab to its own HTTP server that never leaves the process: a pair of
// linked Duplex streams, one handed to the HTTP client as its socket, the other to the server
// as a new connection. The request's bytes go straight into the server's parser and the
// answer's bytes back into the client's, so what a receiver sees is exactly what it would see
// over loopback TCP (the same bytes, parsers and handlers; the peer address such a connection
// would show), minus the system calls.
//
// Why: the dispatcher's fast-forward to hooklab's own bins (the retry lab's usual target) put
// both ends of every attempt on the main thread, and over loopback TCP each paid two writev
// and two reads, the largest part of an attempt on this VM. Measured one process, undici to
// node:http, 64 at once: a round trip 70-105 us over TCP, ~31 us linked (steadier too, as no
// system call is involved).
import type { Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { Duplex } from 'node:stream';
import type { buildConnector } from 'undici';

/** Bytes handed to the peer at once at most: what one read from a socket gives. */
const PIECE = 64 * 1024;

/** One end of a link. It has the parts of net.Socket that node:http and undici use. */
export class LinkEnd extends Duplex {
  peer!: LinkEnd;
  /** Our write being passed to the peer, how far, and its callback (see drain). */
  private out: Buffer | null = null;
  private outAt = 0;
  private outDone: (() => void) | null = null;
  private idle: NodeJS.Timeout | null = null;

  constructor(
    readonly remoteAddress: string,
    readonly remotePort: number,
    readonly localAddress: string,
    readonly localPort: number,
  ) {
    // As net.Socket: the end of the peer's writes ends ours.
    super({ allowHalfOpen: false });
  }

  override _read() {
    this.peer.drain();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void) {
    this.pass(chunk, cb);
  }

  override _writev(chunks: { chunk: Buffer }[], cb: (err?: Error | null) => void) {
    this.pass(chunks.length === 1 ? chunks[0].chunk : Buffer.concat(chunks.map((c) => c.chunk)), cb);
  }

  private pass(chunk: Buffer, cb: () => void) {
    this.touch();
    this.peer.touch();
    this.out = chunk;
    this.outAt = 0;
    this.outDone = cb;
    this.drain();
  }

  /**
   * Our write into the peer's read buffer, in pieces of at most a socket read's size (as its
   * parser would get them from a socket), stopping while that buffer is full: a slow reader
   * holds the writer back instead of the whole body piling up in memory.
   */
  private drain() {
    const out = this.out;
    if (!out) return;
    while (this.outAt < out.length) {
      if (this.peer.destroyed) break; // as a socket's write into a closed peer: gone
      const piece = out.subarray(this.outAt, this.outAt + PIECE);
      this.outAt += piece.length;
      if (!this.peer.push(piece)) return; // the peer's _read calls us again
      if (this.out !== out) return; // finished meanwhile by a read from within push
    }
    if (this.out !== out) return;
    const done = this.outDone!;
    this.out = null;
    this.outDone = null;
    done();
  }

  override _final(cb: (err?: Error | null) => void) {
    if (!this.peer.destroyed) this.peer.push(null);
    cb();
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void) {
    this.stopIdle();
    this.out = null;
    this.outDone = null;
    // A closed connection is closed for both ends, and the peer can tell it was closed from
    // here, as over TCP (hang-up.ts reads that: a sender giving up is a hang-up, hooklab's own
    // close is not): unread bytes left here send a reset, else a FIN, an end of stream the peer
    // reads, which then closes it (allowHalfOpen false). A bare destroy said neither.
    const peer = this.peer;
    if (!peer.destroyed) {
      if (this.readableLength > 0) peer.destroy(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET', errno: -104, syscall: 'read' }));
      else peer.push(null);
    }
    cb(err);
  }

  /** net.Socket's idle timeout: 'timeout' after `ms` without reads or writes (0: none). */
  setTimeout(ms: number, onTimeout?: () => void) {
    // As net.Socket: a callback is added for a timeout, and taken off with 0.
    if (onTimeout) {
      if (ms === 0) this.off('timeout', onTimeout);
      else this.once('timeout', onTimeout);
    }
    this.stopIdle();
    if (ms > 0 && !this.destroyed) {
      this.idle = setTimeout(() => this.emit('timeout'), ms);
      this.idle.unref();
    }
    return this;
  }

  /** Activity: the idle timeout starts again (node:http calls this as net.Socket's). */
  _unrefTimer() {
    this.touch();
  }

  private touch() {
    this.idle?.refresh();
  }

  private stopIdle() {
    if (this.idle) clearTimeout(this.idle);
    this.idle = null;
  }

  setNoDelay() {
    return this;
  }

  setKeepAlive() {
    return this;
  }

  ref() {
    return this;
  }

  unref() {
    return this;
  }
}

let nextPort = 0;
/** A made-up client port per link, from the ephemeral range, as TCP would show one. */
function clientPort() {
  nextPort = (nextPort + 1) % 16384;
  return 49152 + nextPort;
}

/**
 * Two linked ends, the client's and the server's, both at `address` (a loopback connection's
 * two ends are, as are those of one to the server's own address).
 */
export function linkPair(address: string, serverPort: number): { client: LinkEnd; server: LinkEnd } {
  const port = clientPort();
  const client = new LinkEnd(address, serverPort, address, port);
  const server = new LinkEnd(address, port, address, serverPort);
  client.peer = server;
  server.peer = client;
  return { client, server };
}

const bare = (host: string) => (host.startsWith('[') ? host.slice(1, -1) : host);

/**
 * Whether a connection to `hostname:port` over TCP would reach this server (http only), and if
 * so the address it would come from, as the server would see it; null otherwise. Only the
 * loopback names and the address the server listens on: a URL under a PUBLIC_URL elsewhere
 * goes through whatever is in between (a proxy adds headers a capture shows), over the network.
 */
export function reachedAt(a: AddressInfo | string | null, hostname: string, port: number): string | null {
  if (!a || typeof a !== 'object' || port !== a.port) return null;
  const host = bare(hostname.toLowerCase());
  const listen = a.address;
  const v4Any = listen === '0.0.0.0' || listen === '::';
  if (host === '127.0.0.1') return listen === '127.0.0.1' || listen === '0.0.0.0' ? '127.0.0.1' : listen === '::' ? '::ffff:127.0.0.1' : null;
  if (host === '::1') return listen === '::1' || listen === '::' ? '::1' : null;
  if (host === 'localhost') {
    if (listen === '::1' || listen === '::') return '::1';
    return listen === '127.0.0.1' || v4Any ? '127.0.0.1' : null;
  }
  // The server's own specific address: a connection to it comes from it.
  return !v4Any && host === listen ? listen : null;
}

/**
 * For undici's `connect` option: each new connection to an origin that reaches `server` is a
 * link, its server end handed to the server as a connection (so its connection cap, timeouts
 * and handlers apply as to any other). Other origins are refused (the caller only sends linked
 * origins here).
 */
export function linkConnector(server: Server): buildConnector.connector {
  return (opts, callback) => {
    const a = server.address();
    const peer = opts.protocol === 'http:' ? reachedAt(a, opts.hostname, Number(opts.port || 80)) : null;
    if (peer === null || !a || typeof a !== 'object') {
      process.nextTick(callback, Object.assign(new Error(`${opts.hostname}:${opts.port} is not this hooklab`), { code: 'ECONNREFUSED' }), null);
      return;
    }
    const { client, server: end } = linkPair(peer, a.port);
    server.emit('connection', end);
    // As a socket's connect: after this turn. Typed as a socket: it has the parts undici uses.
    process.nextTick(callback, null, client as unknown as Socket);
  };
}
