// Sends captures on to a bin's forward targets (in the background, or in proxy mode for the
// sender's answer) and replays stored captures, recording each sending with the capture.
// Outbound calls obey the same policy as the dispatcher's (DISPATCH_ALLOW, no private
// addresses from a public HOST), never follow redirects, and read answers up to a cap. A
// target that is one of hooklab's own receiver URLs would loop: it is refused.
import { isUtf8 } from 'node:buffer';
import http from 'node:http';
import https from 'node:https';
import type { ForwardRecord } from '../../shared/api.ts';
import { RECEIVER_PREFIX } from '../../shared/api.ts';
import { checkedLookup } from '../net/checked-lookup.ts';
import type { OutboundPolicy } from '../net/outbound-policy.ts';
import type { StoredForward, Store } from '../store/types.ts';
import { type Capture, type ForwardResult, forwardRequest, targetUrl } from './request.ts';

export interface ForwarderDeps {
  store: Store;
  policy: OutboundPolicy;
  /** hooklab's own origins (PUBLIC_URL's, the listening address): a target there loops. */
  ownOrigins: () => string[];
  timeoutMs: number;
  maxResponseBytes: number;
  /** Sendings at once; past maxQueued waiting ones, new ones fail as "overloaded". */
  concurrency: number;
  maxQueued: number;
  now: () => number;
  /** A sending finished (tell watchers). */
  onRecorded?: (binId: string, requestId: string, rec: ForwardRecord) => void;
}

/** Records kept per capture (the oldest go first). */
const MAX_RECORDS = 50;

export class Forwarder {
  private readonly agents = { http: new http.Agent({ keepAlive: true, timeout: 1000, maxSockets: 64 }), https: new https.Agent({ keepAlive: true, timeout: 1000, maxSockets: 64 }) };
  private readonly unchecked = { http: new http.Agent({ keepAlive: true, timeout: 1000, maxSockets: 64 }), https: new https.Agent({ keepAlive: true, timeout: 1000, maxSockets: 64 }) };
  private readonly lookup;
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly d: ForwarderDeps) {
    this.lookup = checkedLookup(d.policy);
  }

  /** Why a target cannot be used (a loop, or not allowed), or null. */
  refuse(target: string): string | null {
    let u: URL;
    try {
      u = new URL(target);
    } catch {
      return 'is not a URL';
    }
    if (this.loops(u)) return "is one of this hooklab's own receiver URLs: forwarding there would loop";
    const v = this.d.policy.checkUrl(u);
    return v.ok ? null : v.reason;
  }

  private loops(u: URL): boolean {
    return this.d.ownOrigins().some((o) => o === u.origin) && u.pathname.startsWith(RECEIVER_PREFIX);
  }

  /** Send one capture to one target now, and record it with the capture. */
  async send(binId: string, requestId: string, target: string, c: Capture, kind: ForwardRecord['kind'], edited = false): Promise<ForwardRecord> {
    // A replay is asked for, once: one to a bin's own URL (a new capture there) cannot loop.
    const res = await this.exchange(target, c, kind === 'replay');
    const rec = toRecord(kind, target, c.method, res, this.d.now(), edited);
    await this.d.store.requests.annotate(binId, requestId, (r) => ({ forwards: [...(r.forwards ?? []), rec].slice(-MAX_RECORDS) }));
    this.d.onRecorded?.(binId, requestId, rec);
    return rec;
  }

  /** The exchange itself (no recording): for proxy mode, whose answer the sender gets. */
  async exchange(target: string, c: Capture, ownAllowed = false): Promise<ForwardResult> {
    const url = targetUrl(target, c);
    if (!ownAllowed && this.loops(url)) return failed(url.toString(), 'loop', "the target is one of this hooklab's receiver URLs: forwarding there would loop");
    const own = ownAllowed && this.loops(url);
    const verdict = own ? { ok: true as const, checkAddresses: false } : this.d.policy.checkUrl(url);
    if (!verdict.ok) return failed(url.toString(), 'blocked', verdict.reason);
    await this.slot();
    try {
      return await forwardRequest(target, c, {
        timeoutMs: this.d.timeoutMs,
        maxResponseBytes: this.d.maxResponseBytes,
        // A pooled socket skips the address check: checked calls never share one with unchecked.
        agents: verdict.checkAddresses ? this.agents : this.unchecked,
        lookup: verdict.checkAddresses ? this.lookup : undefined,
      });
    } finally {
      this.release();
    }
  }

  /** A capture just stored: send it to the bin's targets in the background (all but `skip`). */
  forwardInBackground(binId: string, requestId: string, settings: StoredForward, c: Capture, skipFirst: boolean): void {
    settings.targets.forEach((t, i) => {
      if (skipFirst && i === 0) return;
      if (this.waiting.length >= this.d.maxQueued) {
        const rec = toRecord('forward', t.url, c.method, failed(t.url, 'error', 'too many forwards waiting (FORWARD_CONCURRENCY); this one was dropped'), this.d.now(), false);
        void this.d.store.requests.annotate(binId, requestId, (r) => ({ forwards: [...(r.forwards ?? []), rec].slice(-MAX_RECORDS) }));
        this.d.onRecorded?.(binId, requestId, rec);
        return;
      }
      void this.send(binId, requestId, t.url, c, 'forward');
    });
  }

  private slot(): Promise<void> {
    if (this.running < this.d.concurrency) {
      this.running++;
      return Promise.resolve();
    }
    return new Promise((r) => this.waiting.push(r));
  }

  private release() {
    const next = this.waiting.shift();
    if (next) next();
    else this.running--;
  }

  close(): void {
    for (const a of [...Object.values(this.agents), ...Object.values(this.unchecked)]) a.destroy();
  }
}

function failed(url: string, error: ForwardResult['error'], detail: string): ForwardResult {
  return { url, status: null, headers: [], body: Buffer.alloc(0), bodyTruncated: false, durationMs: 0, error, errorDetail: detail };
}

export function toRecord(kind: ForwardRecord['kind'], target: string, method: string, r: ForwardResult, now: number, edited: boolean): ForwardRecord {
  const text = isUtf8(r.body);
  return {
    kind,
    at: new Date(now).toISOString(),
    target,
    url: r.url,
    method,
    status: r.status,
    headers: r.headers,
    body: text ? r.body.toString('utf8') : r.body.toString('base64'),
    bodyEncoding: text ? 'utf8' : 'base64',
    bodyTruncated: r.bodyTruncated,
    durationMs: r.durationMs,
    error: r.error,
    errorDetail: r.errorDetail,
    edited,
  };
}
