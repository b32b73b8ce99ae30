// Sends a captured request on to a target, as it came: same method, the target URL followed by
// the capture's sub-path and query string, the body byte-exact, the headers in their original
// order and case (so header-signing schemes keep working). Only the hop-by-hop headers (and
// Expect) are left out, and Host and Content-Length are set for the target. Redirects are never
// followed; one timeout covers the whole exchange; the answer is read up to a cap.
//
// The HTTP client is undici's (a Pool of keep-alive connections per origin, one request at a
// time on each, driven through dispatch() with a handler: a fraction of node:http's CPU per
// request). undici writes Host first and Content-Length last, as `host:` / `content-length:`
// (lower case); every other header goes out as captured.
//
// The handler is undici's raw one (onConnect / onHeaders / onData / onComplete / onError), the
// interface its client calls. The newer one (onRequestStart / onResponseStart ...) is an adapter
// over it that parses every answer's headers into an object first, which an exchange never
// reads (it keeps the raw pairs): ~6 us per request, a tenth of the forwarding thread's work.
// undici 7 keeps the raw interface (it is what its own client drives); it is pinned to 7.
import diagnostics from 'node:diagnostics_channel';
import type { LookupFunction, Socket } from 'node:net';
import { Agent, type Dispatcher, type buildConnector } from 'undici';
import type { HeaderPair } from '../../shared/api.ts';
import { DOT_SEGMENT_REASON, hasDotSegment } from '../../shared/sub-path.ts';
import { GRACE_MS, isLate } from '../lib/wake-aware-timeout.ts';

// Expect is end-to-end on paper, but `100-continue` asks the client to wait before the body,
// which a forward never does (the body is all here): it is dropped (undici refuses to send it).
const DROPPED = new Set(['connection', 'keep-alive', 'transfer-encoding', 'te', 'upgrade', 'trailer', 'proxy-connection', 'proxy-authenticate', 'proxy-authorization', 'expect']);

export interface Capture {
  method: string;
  /** Sub-path below the bin, starting with '/'. */
  path: string;
  queryString: string;
  /** Flat [name, value, …] as received (values carry raw bytes as Latin-1). */
  headers: readonly string[];
  body: Buffer;
  /**
   * Set only when MAX_BODY_BYTES cut the body: its size as sent. Such a capture is not sent
   * (see Forwarder.exchange): its first bytes are not the request that came.
   */
  truncatedFrom?: number;
  /**
   * How many chunked trailers the request had, when any. None is sent: undici ends a chunked
   * body with no trailer section and takes no trailers to send, so the record says so.
   */
  trailerCount?: number;
}

export type ForwardError = 'timeout' | 'refused' | 'reset' | 'dns' | 'blocked' | 'loop' | 'overloaded' | 'truncated' | 'error';

export interface ForwardResult {
  /** The URL the request went to. */
  url: string;
  status: number | null;
  headers: HeaderPair[];
  /** The answer's first bytes (up to the cap), and whether there was more. */
  body: Buffer;
  bodyTruncated: boolean;
  durationMs: number;
  error: ForwardError | null;
  errorDetail: string | null;
}

export interface ForwardOptions {
  timeoutMs: number;
  maxResponseBytes: number;
  /** The connections to use (forwardConnections); default: one shared pool with no address check (the CLI's). */
  dispatcher?: Dispatcher;
  /** Told the socket the request goes out on (and its method and path); the function it answers is called when done. */
  onSocket?: (socket: Socket, method: string, path: string) => () => void;
  /** Who answers, as error details name it (default 'target'; the dispatcher's is a 'receiver'). */
  peer?: string;
}

export interface ConnectionOptions {
  /** Checks where a host name resolved to (the outbound policy); none on the CLI's own laptop. */
  lookup?: LookupFunction;
  /** Connections per origin. */
  connections?: number;
  /** An idle connection is closed after this long. */
  idleMs?: number;
  /** Bound on connecting (TCP and TLS). */
  connectTimeoutMs?: number;
  /** Certificate authorities trusted besides the system's (tests: a self-signed target). */
  ca?: string | Buffer;
  /** Make connections this way instead of TCP/TLS (the dispatcher's in-process link). */
  connector?: buildConnector.connector;
}

/**
 * Keep-alive connections to forward targets: a pool per origin (http and https), one request at
 * a time on each connection (so the socket a request went out on is its own until it is done),
 * idle ones closed after `idleMs`. Redirects are not followed (undici follows none unless asked).
 */
export function forwardConnections(o: ConnectionOptions = {}): Agent {
  return new Agent({
    connections: o.connections ?? 64,
    pipelining: 1,
    keepAliveTimeout: o.idleMs ?? 1000,
    keepAliveMaxTimeout: o.idleMs ?? 1000,
    // The exchange's own timer bounds the whole of it (see forwardTo).
    headersTimeout: 0,
    bodyTimeout: 0,
    connect: o.connector ?? { timeout: o.connectTimeoutMs ?? 10_000, ...(o.lookup ? { lookup: o.lookup } : {}), ...(o.ca ? { ca: o.ca } : {}) },
  });
}

export type PoolName = 'checked' | 'unchecked' | 'own';

/**
 * The three sets of connections forwards use. A pooled connection skips the address check, so
 * calls checked against the outbound policy (`lookup`) never share one with unchecked ones;
 * replays to hooklab's own receiver URLs (asked for, never noted as loops) have their own.
 */
export function forwardPools(o: { lookup?: LookupFunction; connectTimeoutMs: number; connections: number }): Record<PoolName, Agent> {
  const { connectTimeoutMs, connections } = o;
  return {
    checked: forwardConnections({ lookup: o.lookup, connectTimeoutMs, connections }),
    unchecked: forwardConnections({ connectTimeoutMs, connections }),
    own: forwardConnections({ connectTimeoutMs, connections }),
  };
}

let shared: Agent | null = null;
const sharedConnections = () => (shared ??= forwardConnections());

/** Why a capture is not sent on: its sub-path could reach above the target's path (see hasDotSegment). */
export class SubPathRefused extends Error {
  constructor() {
    super(`not sent: the sub-path ${DOT_SEGMENT_REASON}`);
  }
}

/**
 * The target URL followed by the capture's sub-path and query string. A capture at the bin's
 * root goes to the target's path as written (a trailing slash kept: `/hooks/` stays `/hooks/`);
 * a sub-path is joined with one slash (`/hooks/` or `/hooks` + `/a` -> `/hooks/a`). Throws
 * SubPathRefused for a sub-path with a dot segment, TypeError for an invalid target URL.
 */
export function targetUrl(target: string, c: Pick<Capture, 'path' | 'queryString'>): URL {
  if (hasDotSegment(c.path)) throw new SubPathRefused();
  const u = new URL(target);
  if (c.path !== '/' && c.path !== '') u.pathname = (u.pathname.endsWith('/') ? u.pathname.slice(0, -1) : u.pathname) + c.path;
  if (c.queryString) u.search = u.search ? `${u.search}&${c.queryString}` : `?${c.queryString}`;
  return u;
}

/** The capture's headers for the target: hop-by-hop ones out, Host and Content-Length set in place. */
export function forwardHeaders(flat: readonly string[], host: string, length: number, method: string): string[] {
  const out: string[] = [];
  let sawHost = false;
  let sawLength = false;
  for (let i = 0; i < flat.length; i += 2) {
    const name = flat[i];
    const lower = name.toLowerCase();
    if (DROPPED.has(lower) || lower.startsWith('proxy-')) continue;
    if (lower === 'host') {
      if (sawHost) continue;
      sawHost = true;
      out.push(name, host);
    } else if (lower === 'content-length') {
      if (sawLength) continue;
      sawLength = true;
      out.push(name, String(length));
    } else out.push(name, flat[i + 1]);
  }
  if (!sawHost) out.unshift('Host', host);
  // A body needs its length (the original may have been chunked); an empty GET needs none.
  if (!sawLength && (length > 0 || !NO_BODY_METHODS.has(method.toUpperCase()))) out.push('Content-Length', String(length));
  return out;
}

const NO_BODY_METHODS = new Set(['GET', 'HEAD', 'DELETE', 'OPTIONS']);

type NetError = Error & { code?: string; address?: unknown; port?: unknown; errors?: unknown };

/**
 * Where a connection was refused: the addresses tried (one error, or each of an AggregateError
 * when several addresses of a name were tried), else the destination's host and port (the
 * in-process link names none). The error code already says "refused": the detail says where.
 */
function refusedAt(err: NetError, d: Destination): string {
  const each = (Array.isArray(err.errors) ? err.errors : [err]) as NetError[];
  const at = new Set<string>();
  for (const e of each) {
    if (typeof e?.address !== 'string') continue;
    const ip = e.address.includes(':') ? `[${e.address}]` : e.address;
    at.add(typeof e.port === 'number' ? `${ip}:${e.port}` : ip);
  }
  const where = at.size ? [...at].join(' or ') : `${d.url.hostname}:${d.url.port || (d.url.protocol === 'https:' ? 443 : 80)}`;
  return `nothing listens at ${where}`;
}

function classify(err: NetError, timedOut: boolean, peer: string, d: Destination): { error: ForwardError; detail: string } {
  if (timedOut) return { error: 'timeout', detail: 'no answer within the timeout' };
  switch (err.code) {
    case 'EHOOKLAB_BLOCKED':
      return { error: 'blocked', detail: err.message };
    case 'ECONNREFUSED':
      return { error: 'refused', detail: refusedAt(err, d) };
    case 'ECONNRESET':
    case 'EPIPE':
    case 'ECONNABORTED':
      return { error: 'reset', detail: `connection reset by the ${peer}` };
    case 'UND_ERR_SOCKET':
      // undici's word for an interim 100 Continue nobody asked for.
      if (err.message === 'bad response') return { error: 'error', detail: 'not a valid HTTP answer (a 100 Continue that was not asked for)' };
      // The target closed the connection (cleanly) before its answer's head was complete.
      return { error: 'reset', detail: 'connection closed without an answer' };
    case 'UND_ERR_DESTROYED':
      // hooklab is shutting down.
      return { error: 'reset', detail: 'connection closed without an answer' };
    case 'UND_ERR_CONNECT_TIMEOUT':
      return { error: 'timeout', detail: 'no connection within the timeout' };
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return { error: 'dns', detail: 'host name did not resolve' };
    case 'UND_ERR_INVALID_ARG':
    case 'UND_ERR_NOT_SUPPORTED':
      return { error: 'error', detail: `the request cannot be sent: ${err.message}` };
    case 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH':
      return { error: 'error', detail: 'not a valid HTTP answer (the body does not match its Content-Length)' };
    default:
      // llhttp's verdict: "Response does not match the HTTP/1.1 protocol (Invalid header token)".
      if (err.name === 'HTTPParserError') return { error: 'error', detail: `not a valid HTTP answer (${/\(([^)]*)\)$/.exec(err.message)?.[1] ?? err.message})` };
      return { error: 'error', detail: err.code ?? err.message };
  }
}

const EMPTY = Buffer.alloc(0);

/** Why an answer whose head came was cut off (classify's words are about an answer that never came). */
function cutOffDetail(k: { error: ForwardError; detail: string }, peer: string): string {
  if (k.error === 'timeout') return 'answer not finished within the timeout';
  if (k.error === 'reset') return k.detail === 'connection closed without an answer' ? 'connection closed before the answer was complete' : `connection reset by the ${peer} before the answer was complete`;
  return k.detail;
}

const failed = (url: string, error: ForwardError, detail: string): ForwardResult => ({ url, status: null, headers: [], body: Buffer.alloc(0), bodyTruncated: false, durationMs: 0, error, errorDetail: detail });

/** The result when destination() threw: a refused sub-path is blocked (a rule), else the target URL is invalid. */
export const notMade = (target: string, err: unknown): ForwardResult =>
  err instanceof SubPathRefused ? failed(target, 'blocked', err.message) : failed(target, 'error', 'invalid target URL');

/** Where one capture goes: its target URL, and the parts of it a request needs (read once). */
export interface Destination {
  url: URL;
  href: string;
  origin: string;
  /** Path and query string. */
  path: string;
  host: string;
}

/** The destination of capture `c` at `target` (throws on an invalid target URL). */
/** What a request line cannot carry as it is: controls, space, and anything past ASCII (Node refuses it: a capture has none). */
const OFF_THE_WIRE = /[\u0000-\u0020\u007f-\u{10ffff}]/gu;
const percentEncoded = (ch: string) => [...Buffer.from(ch, 'utf8')].map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join('');

/**
 * Where a capture goes. `url` is the joined URL as the URL parser reads it, for the checks (the
 * outbound policy, loops); `path`, the request-target sent, joins the target's path and query
 * with the capture's sub-path and query string as they came: the URL setters would re-encode
 * them (`\` made `/`, `'` and `#` escaped), and the target would get another request line.
 * A captured one is sent byte for byte; what no request line can hold (an edited replay's
 * space, say) is percent-encoded.
 */
export function destination(target: string, c: Pick<Capture, 'path' | 'queryString'>): Destination {
  const url = targetUrl(target, c);
  const base = new URL(target);
  const sub = c.path !== '/' && c.path !== '' ? (base.pathname.endsWith('/') ? base.pathname.slice(0, -1) : base.pathname) + c.path : base.pathname;
  const query = c.queryString ? (base.search ? `${base.search}&${c.queryString}` : `?${c.queryString}`) : base.search;
  const path = (sub + query).replace(OFF_THE_WIRE, percentEncoded);
  return { url, href: url.origin + path, origin: url.origin, path, host: url.host };
}

export function forwardRequest(target: string, c: Capture, o: ForwardOptions): Promise<ForwardResult> {
  let d: Destination;
  try {
    d = destination(target, c);
  } catch (err) {
    return Promise.resolve(notMade(target, err));
  }
  return forwardTo(d, c, o);
}

/** forwardRequest to a destination made already. */
export function forwardTo(d: Destination, c: Capture, o: ForwardOptions): Promise<ForwardResult> {
  const method = c.method.toUpperCase();
  // CONNECT asks the target for a tunnel, not an answer (an edited replay can name it).
  if (method === 'CONNECT') return Promise.resolve(failed(d.href, 'error', 'the request cannot be sent: CONNECT opens a tunnel, it has no answer to record'));
  return new Promise((resolve) => {
    const x = new Exchange(d, method, o, resolve);
    const dispatcher = o.dispatcher ?? sharedConnections();
    try {
      dispatcher.dispatch(
        {
          origin: d.origin,
          path: d.path,
          method,
          // A flat array keeps the headers' order, case and repeats.
          headers: forwardHeaders(c.headers, d.host, c.body.length, method),
          body: c.body,
          // Only the exchange's own timer (one for the whole of it).
          headersTimeout: 0,
          bodyTimeout: 0,
        },
        // The raw interface is not in undici's types any more (see the header).
        x as unknown as Dispatcher.DispatchHandler,
      );
    } catch (err) {
      // Refused before anything was sent (a header undici will not write, a closed pool...).
      x.fail(err as Error);
    }
  });
}

/** Exchanges whose request is being written right now (see the sendHeaders subscriber). */
let starting: Exchange | null = null;
let watching = false;

/**
 * undici says which socket a request goes out on in its `undici:client:sendHeaders` message,
 * published right after it told the request's handler that it starts (onConnect), in the
 * same synchronous step. The exchange that just started is matched to it there (and checked
 * against the message's origin, method and path).
 */
function watchSockets() {
  if (watching) return;
  watching = true;
  diagnostics.subscribe('undici:client:sendHeaders', (message) => {
    const x = starting;
    if (!x) return;
    starting = null;
    const { request, socket } = message as { request: { origin?: unknown; method?: string; path: string }; socket: Socket };
    if (String(request.origin) === x.d.origin && request.path === x.d.path && request.method === x.method) x.tracked(socket);
  });
}

/** A header value without the whitespace that may follow it (undici keeps it; it is not part of the value). */
function trimEnd(v: string): string {
  const last = v.charCodeAt(v.length - 1);
  return last === 0x20 || last === 0x09 ? v.replace(/[ \t]+$/, '') : v;
}

/** undici's raw handler interface (see the header): what its client calls, answers' headers as raw pairs. */
interface RawHandler {
  onConnect(abort: (err?: Error) => void): void;
  onHeaders(statusCode: number, rawHeaders: Buffer[], resume: () => void, statusText: string): boolean;
  onData(chunk: Buffer): boolean;
  onComplete(trailers: Buffer[] | null): void;
  onError(err: Error): void;
}

/** One request and its answer, as a dispatch handler. */
class Exchange implements RawHandler {
  private readonly started = performance.now();
  private timer: NodeJS.Timeout;
  private readonly due: number;
  private abort: ((err?: Error) => void) | null = null;
  private finished = false;
  private timedOut = false;
  private status: number | null = null;
  private headers: HeaderPair[] = [];
  private chunks: Buffer[] = [];
  private kept = 0;
  private untrack: (() => void) | null = null;

  constructor(
    readonly d: Destination,
    readonly method: string,
    private readonly o: ForwardOptions,
    private readonly resolve: (r: ForwardResult) => void,
  ) {
    if (o.onSocket) watchSockets();
    this.due = this.started + o.timeoutMs;
    this.timer = setTimeout(onTimer, o.timeoutMs, this);
  }

  onConnect(abort: (err?: Error) => void): void {
    // Timed out while waiting for a connection: not sent at all.
    if (this.finished) return abort(new Error('timeout'));
    this.abort = abort;
    if (this.o.onSocket) starting = this;
  }

  tracked(socket: Socket): void {
    if (this.finished || this.untrack) return;
    this.untrack = this.o.onSocket!(socket, this.method, this.d.path);
  }

  onHeaders(statusCode: number, raw: Buffer[]): boolean {
    if (statusCode < 200) return true; // 102, 103: an interim answer, the real one follows
    this.status = statusCode;
    for (let i = 0; i + 1 < raw.length; i += 2) this.headers.push([raw[i].toString('latin1'), trimEnd(raw[i + 1].toString('latin1'))]);
    return true;
  }

  onData(chunk: Buffer): boolean {
    if (this.finished) return true;
    const take = Math.min(chunk.length, this.o.maxResponseBytes - this.kept);
    if (take > 0) this.chunks.push(take === chunk.length ? chunk : chunk.subarray(0, take));
    this.kept += take;
    if (take < chunk.length) {
      // Enough read: stop downloading the rest (an endless answer ends here).
      this.answered(true);
      this.abort?.(new Error('response cap reached'));
    }
    return true;
  }

  onComplete(): void {
    this.answered(false);
  }

  onError(err: Error): void {
    if (this.finished) return;
    // A 204 or 304 has no body, whatever Content-Length it names (undici checks it all the same): whole.
    if ((this.status === 204 || this.status === 304) && (err as NetError).code === 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH') this.answered(false);
    else this.fail(err);
  }

  /**
   * No answer, or (a head came) one cut off: its status, headers and the bytes that came are
   * kept, marked truncated, with why it failed. Not an answer to pass on as complete (a proxied
   * sender would take a reset mid-body for a 200), and not one we chose to cap (see onData).
   */
  fail(err: Error): void {
    const k = classify(err, this.timedOut, this.o.peer ?? 'target', this.d);
    if (this.status === null) this.done(null, [], EMPTY, false, k.error, k.detail);
    else this.done(this.status, this.headers, Buffer.concat(this.chunks), true, k.error, cutOffDetail(k, this.o.peer ?? 'target'));
  }

  /** The timer fired: time out once the sockets were read (and after a grace when it fired late; see wake-aware-timeout.ts). */
  expired(): void {
    if (this.finished) return;
    if (isLate(this.due)) this.timer = setTimeout(onGrace, GRACE_MS, this);
    else setImmediate(onGrace, this);
  }

  timeout(): void {
    if (this.finished) return;
    this.timedOut = true;
    this.fail(new Error('timeout'));
    this.abort?.(new Error('timeout'));
  }

  private answered(truncated: boolean) {
    // A copy: a chunk may be a view of a larger read buffer.
    this.done(this.status, this.headers, Buffer.concat(this.chunks), truncated, null, null);
  }

  private done(status: number | null, headers: HeaderPair[], body: Buffer, bodyTruncated: boolean, error: ForwardError | null, errorDetail: string | null) {
    if (this.finished) return;
    this.finished = true;
    clearTimeout(this.timer);
    if (starting === this) starting = null;
    this.untrack?.();
    this.resolve({ url: this.d.href, status, headers, body, bodyTruncated, durationMs: Math.round(performance.now() - this.started), error, errorDetail });
  }
}

function onGrace(x: Exchange) {
  x.timeout();
}

function onTimer(x: Exchange) {
  x.expired();
}
