// One HTTP attempt, the careful way: never follows redirects (node:http does not), one
// timeout for the whole exchange, response body read only up to a cap, errors reduced to a
// short code. The outbound policy (net/outbound-policy.ts) is checked on the URL first and
// then on the resolved address, inside the connection.
import http from 'node:http';
import https from 'node:https';
import { urlToHttpOptions } from 'node:url';
import type { AttemptError, HeaderPair } from '../../shared/api.ts';
import { checkedLookup } from '../net/checked-lookup.ts';
import type { OutboundPolicy } from '../net/outbound-policy.ts';

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

function classify(err: NodeJS.ErrnoException, timedOut: boolean): { error: AttemptError; detail: string } {
  if (timedOut) return { error: 'timeout', detail: 'no answer within the timeout' };
  switch (err.code) {
    case 'EHOOKLAB_BLOCKED':
      return { error: 'blocked', detail: err.message };
    case 'ECONNREFUSED':
      return { error: 'refused', detail: 'connection refused' };
    case 'ECONNRESET':
    case 'EPIPE':
    case 'ECONNABORTED':
      return { error: 'reset', detail: 'connection reset by the receiver' };
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return { error: 'dns', detail: 'host name did not resolve' };
    default:
      if (err.message === 'socket hang up') return { error: 'reset', detail: 'connection closed without an answer' };
      return { error: 'error', detail: err.code ?? err.message };
  }
}

export interface SenderOptions {
  maxResponseBytes: number;
  /** Where calls may go; null for anywhere. */
  policy: OutboundPolicy | null;
}

export function createSender(opts: SenderOptions): { send: Send; close(): void } {
  // Keep-alive pays off when fast-forwarding thousands of attempts; idle sockets are dropped
  // after 1 s, well before typical servers' keep-alive timeout, to avoid reuse races.
  const agentPair = () => ({
    'http:': new http.Agent({ keepAlive: true, timeout: 1000, maxSockets: 256 }),
    'https:': new https.Agent({ keepAlive: true, timeout: 1000, maxSockets: 256 }),
  });
  // A pooled socket skips the lookup, so sockets opened without the address check (the
  // policy's exceptions, e.g. our own receiver URLs) never serve a call that needs it.
  const agents = { checked: agentPair(), unchecked: agentPair() };
  const lookup = opts.policy ? checkedLookup(opts.policy) : undefined;
  // A fast-forward sends thousands of attempts to a few URLs: parse each URL once.
  const parsed = new Map<string, { url: URL; target: http.RequestOptions }>();
  const parse = (raw: string) => {
    let p = parsed.get(raw);
    if (!p) {
      const url = new URL(raw);
      p = { url, target: urlToHttpOptions(url) as http.RequestOptions };
      if (parsed.size >= 1000) parsed.delete(parsed.keys().next().value!);
      parsed.set(raw, p);
    }
    return p;
  };

  const send: Send = (r) =>
    new Promise((resolve) => {
      const started = performance.now();
      let url: URL;
      let target: http.RequestOptions;
      try {
        ({ url, target } = parse(r.url));
      } catch {
        resolve({ status: null, error: 'error', errorDetail: 'invalid URL', durationMs: 0, headers: [], body: '', bodyTruncated: false });
        return;
      }
      const done = (partial: Partial<SendResult>) => {
        clearTimeout(timer);
        resolve({ status: null, error: null, errorDetail: null, headers: [], body: '', bodyTruncated: false, ...partial, durationMs: Math.round(performance.now() - started) });
      };
      // The URL first (a literal IP never goes through lookup); resolved names at connect time.
      const verdict = opts.policy ? opts.policy.checkUrl(url) : { ok: true as const, checkAddresses: false };
      if (!verdict.ok) {
        resolve({ status: null, error: 'blocked', errorDetail: verdict.reason, durationMs: 0, headers: [], body: '', bodyTruncated: false });
        return;
      }
      let timedOut = false;
      const mod = url.protocol === 'https:' ? https : http;
      const req = mod.request({
        ...target,
        method: 'POST',
        headers: { ...r.headers, 'content-length': String(r.body.length) },
        agent: agents[verdict.checkAddresses ? 'checked' : 'unchecked'][url.protocol as 'http:' | 'https:'],
        lookup: verdict.checkAddresses ? lookup : undefined,
      });
      const timer = setTimeout(() => {
        timedOut = true;
        req.destroy(new Error('timeout'));
      }, r.timeoutMs);
      req.on('error', (err: NodeJS.ErrnoException) => {
        const c = classify(err, timedOut);
        done({ error: c.error, errorDetail: c.detail });
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
            body: Buffer.concat(chunks).toString('utf8'),
            bodyTruncated: truncated,
            ...(timedOut ? { error: 'timeout' as const, errorDetail: 'response body not finished within the timeout' } : {}),
          });
        res.on('data', (c: Buffer) => {
          if (kept >= opts.maxResponseBytes) {
            // Enough read (a chunk ended right at the cap, or the cap is 0): stop here.
            truncated = true;
            res.destroy();
            finish();
            return;
          }
          const take = Math.min(c.length, opts.maxResponseBytes - kept);
          chunks.push(c.subarray(0, take));
          kept += take;
          if (take < c.length) truncated = true;
          if (truncated) {
            // Enough read; stop downloading the rest.
            res.destroy();
            finish();
          }
        });
        res.on('end', finish);
        res.on('error', () => finish());
        res.on('close', () => finish());
      });
      req.end(r.body);
    });

  return {
    send,
    close() {
      for (const pair of Object.values(agents)) for (const a of Object.values(pair)) a.destroy();
    },
  };
}
