// Sends a captured request on to a target, as it came: same method, the target URL followed by
// the capture's sub-path and query string, the body byte-exact, the headers in their original
// order and case (so header-signing schemes keep working). Only the hop-by-hop headers are left
// out, and Host and Content-Length are set for the target, in place. Redirects are never
// followed; one timeout covers the whole exchange; the answer is read up to a cap.
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction, Socket } from 'node:net';
import type { HeaderPair } from '../../shared/api.ts';
import { wakeAwareTimeout } from '../lib/wake-aware-timeout.ts';

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'te', 'upgrade', 'trailer', 'proxy-connection', 'proxy-authenticate', 'proxy-authorization']);

export interface Capture {
  method: string;
  /** Sub-path below the bin, starting with '/'. */
  path: string;
  queryString: string;
  /** Flat [name, value, …] as received (values carry raw bytes as Latin-1). */
  headers: readonly string[];
  body: Buffer;
}

export type ForwardError = 'timeout' | 'refused' | 'reset' | 'dns' | 'blocked' | 'loop' | 'overloaded' | 'error';

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
  agents?: { http: http.Agent; https: https.Agent };
  /** Checks where the name resolved to (the outbound policy); none on the CLI's own laptop. */
  lookup?: LookupFunction;
  /** Told the socket the request goes out on; the function it answers is called when done. */
  onSocket?: (socket: Socket) => () => void;
}

/** The target URL followed by the capture's sub-path and query string. */
export function targetUrl(target: string, c: Pick<Capture, 'path' | 'queryString'>): URL {
  const u = new URL(target);
  const base = u.pathname.replace(/\/+$/, '');
  u.pathname = (base + (c.path === '/' ? '' : c.path)) || '/';
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
    if (HOP_BY_HOP.has(lower) || lower.startsWith('proxy-')) continue;
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
  if (!sawLength && (length > 0 || !['GET', 'HEAD', 'DELETE', 'OPTIONS'].includes(method.toUpperCase()))) out.push('Content-Length', String(length));
  return out;
}

function classify(err: NodeJS.ErrnoException, timedOut: boolean): { error: ForwardError; detail: string } {
  if (timedOut) return { error: 'timeout', detail: 'no answer within the timeout' };
  switch (err.code) {
    case 'EHOOKLAB_BLOCKED':
      return { error: 'blocked', detail: err.message };
    case 'ECONNREFUSED':
      return { error: 'refused', detail: 'connection refused' };
    case 'ECONNRESET':
    case 'EPIPE':
    case 'ECONNABORTED':
      return { error: 'reset', detail: 'connection reset by the target' };
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return { error: 'dns', detail: 'host name did not resolve' };
    default:
      if (err.message === 'socket hang up') return { error: 'reset', detail: 'connection closed without an answer' };
      return { error: 'error', detail: err.code ?? err.message };
  }
}

export function forwardRequest(target: string, c: Capture, o: ForwardOptions): Promise<ForwardResult> {
  return new Promise((resolve) => {
    const started = performance.now();
    let url: URL;
    try {
      url = targetUrl(target, c);
    } catch {
      resolve({ url: target, status: null, headers: [], body: Buffer.alloc(0), bodyTruncated: false, durationMs: 0, error: 'error', errorDetail: 'invalid target URL' });
      return;
    }
    let finished = false;
    let untrack: (() => void) | null = null;
    const done = (partial: Partial<ForwardResult>) => {
      if (finished) return;
      finished = true;
      timer.clear();
      untrack?.();
      resolve({ url: url.toString(), status: null, headers: [], body: Buffer.alloc(0), bodyTruncated: false, error: null, errorDetail: null, ...partial, durationMs: Math.round(performance.now() - started) });
    };
    const https_ = url.protocol === 'https:';
    const req = (https_ ? https : http).request({
      protocol: url.protocol,
      hostname: url.hostname.replace(/^\[|\]$/g, ''),
      port: url.port || undefined,
      path: url.pathname + url.search,
      method: c.method,
      // A flat array keeps the headers' order, case and repeats.
      headers: forwardHeaders(c.headers, url.host, c.body.length, c.method) as unknown as http.OutgoingHttpHeaders,
      agent: o.agents ? (https_ ? o.agents.https : o.agents.http) : undefined,
      lookup: o.lookup,
    });
    if (o.onSocket) {
      req.once('socket', (sock) => {
        const release = o.onSocket!(sock);
        if (finished) release();
        else untrack = release;
      });
    }
    let timedOut = false;
    // Wake-aware: after a laptop sleep the answer may already be waiting to be read.
    const timer = wakeAwareTimeout(o.timeoutMs, () => {
      timedOut = true;
      req.destroy(new Error('timeout'));
    });
    req.on('error', (err: NodeJS.ErrnoException) => {
      const k = classify(err, timedOut);
      done({ error: k.error, errorDetail: k.detail });
    });
    req.on('response', (res) => {
      const headers: HeaderPair[] = [];
      for (let i = 0; i < res.rawHeaders.length; i += 2) headers.push([res.rawHeaders[i], res.rawHeaders[i + 1]]);
      const chunks: Buffer[] = [];
      let kept = 0;
      let truncated = false;
      const finish = () =>
        done({
          status: res.statusCode ?? null,
          headers,
          body: Buffer.concat(chunks),
          bodyTruncated: truncated,
          ...(timedOut ? { error: 'timeout' as const, errorDetail: 'answer not finished within the timeout' } : {}),
        });
      res.on('data', (d: Buffer) => {
        const take = Math.min(d.length, o.maxResponseBytes - kept);
        if (take > 0) chunks.push(d.subarray(0, take));
        kept += take;
        if (take < d.length) {
          // Enough read: stop downloading the rest (an endless answer ends here).
          truncated = true;
          res.destroy();
          finish();
        }
      });
      res.on('end', finish);
      res.on('error', finish);
      res.on('close', finish);
    });
    req.end(c.body);
  });
}
