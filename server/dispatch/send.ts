// One HTTP attempt, the careful way: never follows redirects, one timeout for the whole
// exchange, response body read only up to a cap, errors reduced to a short code. The outbound
// policy (net/outbound-policy.ts) is checked on the URL first and then on the resolved address,
// inside the connection.
//
// The exchange itself is the forwarder's (forward/request.ts, undici): a fast-forward sends
// thousands of attempts, and undici costs a fraction of node:http's CPU per request.
import type { Server } from 'node:http';
import type { Agent } from 'undici';
import type { AttemptError, HeaderPair } from '../../shared/api.ts';
import { checkedLookup } from '../net/checked-lookup.ts';
import { linkConnector, reachedAt } from '../net/in-process-link.ts';
import type { OutboundPolicy } from '../net/outbound-policy.ts';
import { type Destination, type ForwardError, forwardConnections, forwardTo } from '../forward/request.ts';

export interface SendRequest {
  url: string;
  headers: Record<string, string>;
  body: Buffer;
  timeoutMs: number;
}

export interface SendResult {
  status: number | null;
  error: AttemptError | null;
  errorDetail: string | null;
  durationMs: number;
  headers: HeaderPair[];
  body: string;
  bodyTruncated: boolean;
}

export type Send = (r: SendRequest) => Promise<SendResult>;

/** A forward's error as an attempt's (loops, overload and cut bodies are the forwarder's own words). */
const attemptError = (e: ForwardError): AttemptError => (e === 'loop' || e === 'overloaded' || e === 'truncated' ? 'error' : e);

export interface SenderOptions {
  maxResponseBytes: number;
  /** Where calls may go; null for anywhere. */
  policy: OutboundPolicy | null;
  /**
   * hooklab's own HTTP server: calls to an origin that reaches it (its loopback names and
   * listening address, http) go to it in-process (net/in-process-link.ts), not over TCP.
   */
  link?: Server;
}

/** A destination, and whether it reaches our own server (undefined: not known yet). */
type Target = Destination & { linked: boolean | undefined };

export function createSender(opts: SenderOptions): { send: Send; close(): void } {
  // A pooled connection skips the lookup, so connections opened without the address check (the
  // policy's exceptions, e.g. our own receiver URLs) never serve a call that needs it. Idle
  // ones are dropped after 1 s, well before typical servers' keep-alive timeout.
  const lookup = opts.policy ? checkedLookup(opts.policy) : undefined;
  const pools: { checked: Agent; unchecked: Agent; linked: Agent | null } = {
    checked: forwardConnections({ lookup, connections: 256, idleMs: 1000 }),
    unchecked: forwardConnections({ connections: 256, idleMs: 1000 }),
    linked: opts.link ? forwardConnections({ connector: linkConnector(opts.link), connections: 256, idleMs: 1000 }) : null,
  };
  const linked = (d: Target) => {
    if (d.linked === undefined) {
      // Asked once per destination: the server listens on one address for its whole life.
      const a = opts.link?.address() ?? null;
      if (a === null) return false; // not listening yet: decide later
      d.linked = d.url.protocol === 'http:' && reachedAt(a, d.url.hostname, Number(d.url.port || 80)) !== null;
    }
    return d.linked;
  };
  // A fast-forward sends thousands of attempts to a few URLs: parse each URL once.
  const parsed = new Map<string, Target>();
  const parse = (raw: string): Target => {
    let d = parsed.get(raw);
    if (!d) {
      const url = new URL(raw);
      // The URL exactly as given (no sub-path joined, unlike a forward's).
      d = { url, href: url.href, origin: url.origin, path: url.pathname + url.search, host: url.host, linked: undefined };
      if (parsed.size >= 1000) parsed.delete(parsed.keys().next().value!);
      parsed.set(raw, d);
    }
    return d;
  };
  const failed = (error: AttemptError, errorDetail: string): SendResult => ({ status: null, error, errorDetail, durationMs: 0, headers: [], body: '', bodyTruncated: false });

  const send: Send = async (r) => {
    let d: Target;
    try {
      d = parse(r.url);
    } catch {
      return failed('error', 'invalid URL');
    }
    if (d.url.protocol !== 'http:' && d.url.protocol !== 'https:') return failed('error', 'invalid URL');
    // The URL first (a literal IP never goes through lookup); resolved names at connect time.
    const verdict = opts.policy ? opts.policy.checkUrl(d.url) : { ok: true as const, checkAddresses: false };
    if (!verdict.ok) return failed('blocked', verdict.reason);
    const headers: string[] = [];
    for (const name in r.headers) headers.push(name, r.headers[name]);
    const res = await forwardTo(d, { method: 'POST', path: d.path, queryString: '', headers, body: r.body }, {
      timeoutMs: r.timeoutMs,
      maxResponseBytes: opts.maxResponseBytes,
      // Linked only when the policy needs no look at resolved addresses (a link has none).
      dispatcher: verdict.checkAddresses ? pools.checked : pools.linked && linked(d) ? pools.linked : pools.unchecked,
      peer: 'receiver',
    });
    return {
      status: res.status,
      error: res.error && attemptError(res.error),
      errorDetail: res.errorDetail,
      durationMs: res.durationMs,
      headers: res.headers,
      body: res.body.toString('utf8'),
      bodyTruncated: res.bodyTruncated,
    };
  };

  return {
    send,
    close() {
      void pools.checked.destroy();
      void pools.unchecked.destroy();
      void pools.linked?.destroy();
    },
  };
}
