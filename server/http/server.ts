// The HTTP server, made before anything else so hooklab can listen at once: until the app is
// installed (the store is still loading) every request gets a 503 with Retry-After, which
// senders retry, instead of "connection refused". Also the connection caps (MAX_CONNECTIONS,
// and MAX_CONNECTIONS_PER_IP so that one client cannot hold them all): past one, a new
// connection gets a 503 for its request and is closed (within a deadline: refusals.ts). And
// RESPONSE_STALL_MS: a connection whose client reads none of the answer waiting for it is
// ended (stall.ts). And MAX_PIPELINED: requests in flight on one connection (pipelining.ts).
// And upgrade requests other than the live view's, answered as plain HTTP/1.1
// (plain-upgrades.ts), and bytes that are no request after one being answered (client-errors.ts).
import http from 'node:http';
import type { Socket } from 'node:net';
import type { Config } from '../config.ts';
import { KeyedSlots, type SlotRefusal } from '../lib/keyed-slots.ts';
import { clientKey } from '../net/client-key.ts';
import { closeAfterAnswer } from './linger.ts';
import { type StallWatch, watchStalls } from './stall.ts';
import { pipelineGuard } from './pipelining.ts';
import { answerUpgradesAsPlain } from './plain-upgrades.ts';
import { answerClientErrors } from './client-errors.ts';
import { overHeaderCount, tooManyHeaders } from './too-many-headers.ts';
import { pendingRefusals } from './refusals.ts';

export interface HooklabHttp {
  server: http.Server;
  /** Replace the request handler (the app, once it is built). */
  setHandler(h: http.RequestListener): void;
  /** What the 503 "starting" says until then (what start-up waits for). */
  setStarting(message: string): void;
  /** Which connection cap this connection was over (and so refused), or null. */
  overCap(socket: Socket): SlotRefusal | null;
  /** RESPONSE_STALL_MS: connections whose client reads none of its answer are ended (http/stall.ts). */
  stalls: StallWatch;
  /** Listen on config.host:config.port (0 = any); answers the base URL to call it on. */
  listen(): Promise<string>;
}

function unavailable(res: http.ServerResponse, code: string, message: string, retryAfterS: number, close = false) {
  const body = JSON.stringify({ ok: false, status: code, error: { code, message } });
  res.writeHead(503, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'retry-after': String(retryAfterS),
    ...(close ? { connection: 'close' } : {}),
  });
  res.end(body);
}

/** What a connection refused by a cap is told (Socket.IO's handshakes too). */
export function connectionRefusal(which: SlotRefusal, config: Pick<Config, 'maxConnectionsPerIp'>): string {
  return which === 'key'
    ? `This client has as many open connections as hooklab allows one client (MAX_CONNECTIONS_PER_IP, ${config.maxConnectionsPerIp}); retry shortly.`
    : 'hooklab has too many open connections (MAX_CONNECTIONS); retry shortly.';
}

/**
 * A connection made from the address it reached: this machine (a reverse proxy beside hooklab,
 * hooklab's own dispatcher, a local tool), not counted per client. A remote peer cannot have
 * our address as its own.
 */
const fromThisMachine = (socket: Socket): boolean => socket.remoteAddress !== undefined && socket.remoteAddress === socket.localAddress;

export function createHttp(config: Config): HooklabHttp {
  const refused = new WeakMap<Socket, SlotRefusal>();
  const slots = new KeyedSlots(config.maxConnections, config.maxConnectionsPerIp);
  const pipelining = pipelineGuard(config.maxPipelined);
  const refusals = pendingRefusals();
  let starting = 'hooklab is starting (loading its data); retry in a moment.';
  let handler: http.RequestListener = (_req, res) => unavailable(res, 'starting', starting, 2);
  const server = http.createServer(
    {
      headersTimeout: config.headersTimeoutMs,
      requestTimeout: config.requestTimeoutMs,
      // Node checks those timeouts on this interval (default 30 s): keep it proportionate.
      connectionsCheckingInterval: Math.max(50, Math.min(30_000, Math.floor(Math.min(config.headersTimeoutMs, config.requestTimeoutMs) / 4))),
      maxHeaderSize: config.maxHeaderBytes,
      keepAliveTimeout: config.keepAliveTimeoutMs,
    },
    (req, res) => {
      upgrades.restoreOffer(req);
      stalls.add(req.socket);
      const over = refused.get(req.socket);
      if (over) {
        unavailable(res, 'too_many_connections', connectionRefusal(over, config), 2, true);
        closeAfterAnswer(req, res);
        return;
      }
      if (!pipelining.admit(req, res)) return; // closed: too many waiting on it (pipelining.ts)
      // (Trailers, which come after the body, the receiver counts with these: too-many-headers.ts.)
      if (overHeaderCount(req, config.maxHeaderCount)) {
        tooManyHeaders(res, config.maxHeaderCount);
        closeAfterAnswer(req, res);
        return;
      }
      handler(req, res);
    },
  );
  // By default Node keeps about the first 1000 headers and drops the rest without a word (a
  // signature sent last with them). MAX_HEADER_BYTES (maxHeaderSize: the URL and the header
  // names and values, 431 past it) bounds their bytes, MAX_HEADER_COUNT their number (431 in
  // the handler above); 0 here keeps every header, so none goes missing silently.
  server.maxHeadersCount = 0;
  const stalls = watchStalls(server, config.responseStallMs);
  const upgrades = answerUpgradesAsPlain(server);
  answerClientErrors(server);
  server.on('connection', (socket: Socket) => {
    if (upgrades.refed(socket)) return; // counted when it came
    // Behind a proxy (TRUST_PROXY) every connection is the proxy's: only the total counts.
    const got = slots.take(config.trustProxy || fromThisMachine(socket) ? null : clientKey(socket.remoteAddress ?? ''));
    if (typeof got === 'function') socket.once('close', got);
    // Room for one request to be told why, within a deadline and only for so many at once (refusals.ts).
    else if (refusals.admit(socket)) refused.set(socket, got);
  });
  return {
    server,
    setStarting(message) {
      starting = message;
    },
    setHandler(h) {
      handler = h;
    },
    overCap: (socket) => refused.get(socket) ?? null,
    stalls,
    listen: () =>
      new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(config.port, config.host, () => {
          server.off('error', reject);
          const a = server.address();
          const port = typeof a === 'object' && a ? a.port : config.port;
          const host = config.host.includes(':') ? `[${config.host}]` : config.host;
          if (config.publicUrlDefaulted) config.publicUrl = `http://localhost:${port}`;
          resolve(`http://${host === '0.0.0.0' || host === '[::]' ? '127.0.0.1' : host}:${port}`);
        });
      }),
  };
}
