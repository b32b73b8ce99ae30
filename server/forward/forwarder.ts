// Sends captures on to a bin's forward targets (in the background, or in proxy mode for the
// sender's answer) and replays stored captures, recording each sending with the capture.
// Outbound calls obey the same policy as the dispatcher's (DISPATCH_ALLOW, no private
// addresses from a public HOST), never follow redirects, and read answers up to a cap. A
// target that is one of hooklab's own receiver URLs would loop: it is refused.
import { isUtf8 } from 'node:buffer';
import http from 'node:http';
import https from 'node:https';
import type { AnswerOutcome, ForwardRecord, RequestItem } from '../../shared/api.ts';
import { RECEIVER_PREFIX } from '../../shared/api.ts';
import { checkedLookup } from '../net/checked-lookup.ts';
import type { OutboundPolicy } from '../net/outbound-policy.ts';
import type { Annotations, StoredForward, Store } from '../store/types.ts';
import { type Capture, type ForwardResult, forwardRequest, targetUrl } from './request.ts';
import { LOOP_HEADER, type SelfConnections } from './self-connections.ts';

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
  /** A sending was recorded with its capture (tell watchers: the capture's row changed). */
  onRecorded?: (item: RequestItem, rec: ForwardRecord) => void;
  /** Forwards in flight, so the receiver can refuse one that came back in (a loop). */
  self?: SelfConnections;
}

/** Records kept per capture (the oldest go first). */
const MAX_RECORDS = 50;

export class Forwarder {
  private readonly agents = { http: new http.Agent({ keepAlive: true, timeout: 1000, maxSockets: 64 }), https: new https.Agent({ keepAlive: true, timeout: 1000, maxSockets: 64 }) };
  private readonly unchecked = { http: new http.Agent({ keepAlive: true, timeout: 1000, maxSockets: 64 }), https: new https.Agent({ keepAlive: true, timeout: 1000, maxSockets: 64 }) };
  private readonly lookup;
  private running = 0;
  private readonly waiting: (() => void)[] = [];
  /** Each bin's targets, in memory: the receiver asks on every capture. */
  private readonly settings = new Map<string, StoredForward>();

  constructor(private readonly d: ForwarderDeps) {
    this.lookup = checkedLookup(d.policy);
  }

  async load(): Promise<void> {
    for (const f of await this.d.store.forwards.list()) this.settings.set(f.id, f);
  }

  /** Another instance changed this bin's targets: read them again. */
  async reload(binId: string): Promise<void> {
    const f = await this.d.store.forwards.get(binId);
    if (f) this.settings.set(binId, f);
    else this.settings.delete(binId);
  }

  settingsOf(binId: string): StoredForward | undefined {
    return this.settings.get(binId);
  }

  /** Replace a bin's targets (none: off). Checked by the caller (see refuse). */
  async set(binId: string, f: Omit<StoredForward, 'id'> | null): Promise<void> {
    if (f && f.targets.length) {
      const stored = { id: binId, ...f };
      await this.d.store.forwards.put(stored);
      this.settings.set(binId, stored);
    } else {
      await this.d.store.forwards.delete(binId);
      this.settings.delete(binId);
    }
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

  /** Send one capture to one target (waiting for a slot), and record it with the capture. */
  async send(binId: string, requestId: string, target: string, c: Capture, kind: ForwardRecord['kind'], edited = false): Promise<ForwardRecord> {
    await this.slot();
    let res: ForwardResult;
    try {
      // A replay is asked for, once: one to a bin's own URL (a new capture there) cannot loop.
      res = await this.exchange(target, c, kind === 'replay');
    } finally {
      this.release();
    }
    return this.record(binId, requestId, toRecord(kind, target, c.method, res, this.d.now(), edited));
  }

  /**
   * Proxy mode: the first target's answer, for the sender. Takes no slot: each one holds an
   * inbound connection, which MAX_CONNECTIONS bounds already. Recorded with the capture by
   * `recordProxy`, once the sender's answer is known.
   */
  proxy(target: string, c: Capture): Promise<ForwardResult> {
    return this.exchange(target, c, false);
  }

  /** Record a proxy exchange, and the status the sender got, in one change to the capture. */
  recordProxy(binId: string, requestId: string, target: string, c: Capture, res: ForwardResult, answer: AnswerOutcome): Promise<ForwardRecord> {
    return this.record(binId, requestId, toRecord('proxy', target, c.method, res, this.d.now(), false), { answer });
  }

  private async record(binId: string, requestId: string, rec: ForwardRecord, extra: Partial<Annotations> = {}): Promise<ForwardRecord> {
    const item = await this.d.store.requests.annotate(binId, requestId, (r) => ({ forwards: [...(r.forwards ?? []), rec].slice(-MAX_RECORDS), ...extra }));
    if (item) this.d.onRecorded?.(item, rec);
    return rec;
  }

  /** One exchange, under the outbound policy (no slot, no recording). */
  private exchange(target: string, c: Capture, ownAllowed: boolean): Promise<ForwardResult> {
    const url = targetUrl(target, c);
    if (!ownAllowed && this.loops(url)) return Promise.resolve(failed(url.toString(), 'loop', "the target is one of this hooklab's receiver URLs: forwarding there would loop"));
    const own = ownAllowed && this.loops(url);
    const verdict = own ? { ok: true as const, checkAddresses: false } : this.d.policy.checkUrl(url);
    if (!verdict.ok) return Promise.resolve(failed(url.toString(), 'blocked', verdict.reason));
    const self = this.d.self;
    return forwardRequest(target, c, {
      timeoutMs: this.d.timeoutMs,
      maxResponseBytes: this.d.maxResponseBytes,
      // A pooled socket skips the address check: checked calls never share one with unchecked.
      agents: verdict.checkAddresses ? this.agents : this.unchecked,
      lookup: verdict.checkAddresses ? this.lookup : undefined,
      onSocket: own || !self ? undefined : (s) => self.track(s),
    }).then((r) =>
      r.headers.some(([k]) => k.toLowerCase() === LOOP_HEADER)
        ? { ...r, error: 'loop' as const, errorDetail: `${url.host} led back into this hooklab, which refused it (${r.status}) to stop a forwarding loop` }
        : r,
    );
  }

  /**
   * A capture just stored: send it to the bin's targets in the background (but the first, in
   * proxy mode). One that must wait for a slot does not keep the body: it reads the capture
   * back from the store when its turn comes, so waiting forwards cost no memory per body.
   */
  forwardInBackground(binId: string, requestId: string, settings: StoredForward, c: Capture, skipFirst: boolean): void {
    settings.targets.forEach((t, i) => {
      if (skipFirst && i === 0) return;
      if (this.running < this.d.concurrency) {
        void this.send(binId, requestId, t.url, c, 'forward');
        return;
      }
      if (this.waiting.length >= this.d.maxQueued) {
        const why = 'too many forwards waiting (FORWARD_CONCURRENCY x 10); this one was not sent';
        void this.record(binId, requestId, toRecord('forward', t.url, c.method, failed(t.url, 'overloaded', why), this.d.now(), false));
        return;
      }
      void this.sendStored(binId, requestId, t.url);
    });
  }

  private async sendStored(binId: string, requestId: string, target: string): Promise<void> {
    await this.slot();
    let c: Capture | null = null;
    let res: ForwardResult;
    try {
      c = await this.capture(binId, requestId);
      if (!c) return; // deleted or pushed out by the cap meanwhile: nothing to send or record
      res = await this.exchange(target, c, false);
    } finally {
      this.release();
    }
    await this.record(binId, requestId, toRecord('forward', target, c.method, res, this.d.now(), false));
  }

  /** A stored capture as it came, or null when it is gone. */
  async capture(binId: string, requestId: string): Promise<Capture | null> {
    const rec = await this.d.store.requests.get(binId, requestId);
    const body = rec && (await this.d.store.requests.body(binId, requestId));
    if (!rec || !body) return null;
    return { method: rec.method, path: rec.path, queryString: rec.queryString, headers: rec.headers, body };
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
