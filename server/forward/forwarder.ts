// Sends captures on to a bin's forward targets (in the background, or in proxy mode for the
// sender's answer) and replays stored captures, recording each sending with the capture.
// Outbound calls obey the same policy as the dispatcher's (DISPATCH_ALLOW, no private
// addresses from a public HOST), never follow redirects, and read answers up to a cap. A
// target that is one of hooklab's own receiver URLs would loop: it is refused.
import { isUtf8 } from 'node:buffer';
import type { AnswerOutcome, ForwardRecord, RequestItem } from '../../shared/api.ts';
import { RECEIVER_PREFIX } from '../../shared/api.ts';
import { checkedLookup } from '../net/checked-lookup.ts';
import type { OutboundPolicy } from '../net/outbound-policy.ts';
import type { Annotations, StoredForward, Store } from '../store/types.ts';
import { usableTargets } from '../../shared/forward-target.ts';
import { changesRow } from '../store/request-index.ts';
import { readCaptured } from '../store/captured.ts';
import type { Agent } from 'undici';
import { type Capture, type Destination, type ForwardOptions, type ForwardResult, type PoolName, destination, forwardPools, forwardTo, notMade } from './request.ts';
import type { ForwardThread } from './forward-thread-client.ts';
import { LOOP_HEADER, type SelfConnections } from './self-connections.ts';
import { internPairs } from '../lib/intern.ts';
import type { Logger } from '../log.ts';
import { ThrottledCount } from '../lib/throttled-count.ts';
import { SettingsReads } from '../cluster/settings-copy.ts';

export interface ForwarderDeps {
  store: Store;
  policy: OutboundPolicy;
  /** Whether a URL is at one of hooklab's own origins (PUBLIC_URL's, the listening address): a target there loops. */
  isOwnOrigin: (url: string) => boolean;
  timeoutMs: number;
  maxResponseBytes: number;
  /** Sendings at once; past maxQueued waiting ones, new ones fail as "overloaded". */
  concurrency: number;
  maxQueued: number;
  now: () => number;
  /** A sending was recorded with its capture (tell watchers: the capture's row changed). */
  /** `rowChanged`: the record changed the capture's list row too (a proxied answer's status). */
  onRecorded?: (item: RequestItem, rec: ForwardRecord, rowChanged: boolean) => void;
  /** Forwards in flight, so the receiver can refuse one that came back in (a loop). */
  self?: SelfConnections;
  /** Make the exchanges on the forwarding thread (FORWARD_WORKER); none: on this thread. */
  thread?: ForwardThread;
  /** Where forwards not sent are told (rate-limited: see NOT_SENT_LOG_MS). */
  log?: Logger;
}

/** Whether a URL is one of hooklab's own receiver URLs (a forward there would loop). */
function loopsBack(u: URL, isOwnOrigin: (url: string) => boolean): boolean {
  // The path first: it rules most targets out without working out hooklab's own origins.
  return u.pathname.startsWith(RECEIVER_PREFIX) && isOwnOrigin(u.href);
}

/**
 * Why a forward target cannot be used (a loop, or not allowed by the outbound policy), or null:
 * for PUT …/forward (Forwarder.refuse) and the config file's forward targets alike.
 */
export function targetRefusal(target: string, d: Pick<ForwarderDeps, 'policy' | 'isOwnOrigin'>): string | null {
  let u: URL;
  try {
    u = new URL(target);
  } catch {
    return 'is not a URL';
  }
  if (loopsBack(u, d.isOwnOrigin)) return "is one of this hooklab's own receiver URLs: forwarding there would loop";
  const v = d.policy.checkUrl(u);
  return v.ok ? null : v.reason;
}

/** A replay whose client left before its turn came: not sent (see Forwarder.send). */
export class ReplayAbandoned extends Error {
  constructor() {
    super('the client that asked for the replay has gone');
  }
}

/** Records kept per capture (the oldest go first). */
const MAX_RECORDS = 50;
/**
 * Connections per target origin. undici lets a connection rest one turn of the event loop
 * before its next request (a check that the target did not close it meanwhile), so under a
 * capture flood, when a turn is long, a connection carries about half what a node:http socket
 * did: twice node:http's 64, so that forwards keep pace. (FORWARD_CONCURRENCY, 32 by default,
 * bounds the forwards in flight anyway; this bounds them per target when it is raised.)
 */
export const CONNECTIONS_PER_ORIGIN = 128;
/** Destinations remembered (see destinationOf); past this many, it starts over. */
const MAX_DESTINATIONS = 1000;
/** At most one log line this often about forwards not sent (see notSent), and one about store failures (see backgroundFailed): never one per capture. */
export const NOT_SENT_LOG_MS = 10_000;
const NOT_SENT_WHY = 'the capture was no longer stored when a sending slot came free (raise FORWARD_CONCURRENCY, MAX_REQUESTS_PER_BIN or MAX_STORE_BYTES)';

/** Stored settings as a save would take them now (see usableTargets); the same object when they are. */
function usable(f: StoredForward): StoredForward {
  const u = usableTargets(f.targets);
  return u.changed ? { ...f, targets: u.targets } : f;
}

export class Forwarder {
  /** Keep-alive connections (128 per origin, idle ones closed after 1 s); none with a forwarding thread (it has its own). */
  private readonly pools: Record<PoolName, Agent> | null;
  /** Notes the socket a forward goes out on (see SelfConnections), when the receiver asks. */
  private readonly track: ForwardOptions['onSocket'];
  private running = 0;
  /** Replays asked for through the API, waiting or under way (see replayTicket). */
  private replaysAsked = 0;
  private readonly waiting: (() => void)[] = [];
  /** Each bin's targets, in memory: the receiver asks on every capture. */
  private readonly settings = new Map<string, StoredForward>();
  /** Destinations made (see destinationOf). */
  private readonly destinations = new Map<string, Destination>();
  /** Background forwards not sent since start: their capture was evicted while they waited (see notSent). */
  private notSentTotal = 0;
  private notSentLastAt = 0;
  /** Those told in the log (a count only: a bin's id is its receiver URL's secret). */
  private readonly notSentLog: ThrottledCount;
  /** Background sendings the store failed (see backgroundFailed), told in the log. */
  private readonly failedLog: ThrottledCount<unknown>;
  /** Captures with forwards waiting for a slot (see sendStored): how many wait, by key. */
  private readonly waitingFor = new Map<string, number>();
  /** Of those, the ones deleted through this instance's API meanwhile (see deleted). */
  private readonly deletedWhileWaiting = new Set<string>();

  constructor(private readonly d: ForwarderDeps) {
    this.pools = d.thread ? null : forwardPools({ lookup: checkedLookup(d.policy), connectTimeoutMs: d.timeoutMs, connections: CONNECTIONS_PER_ORIGIN });
    const self = d.self;
    this.track = self && ((s, method, path) => self.track(s, method, path));
    this.notSentLog = new ThrottledCount({
      intervalMs: NOT_SENT_LOG_MS,
      write: (count) => d.log?.warn(`background forwards not sent: ${NOT_SENT_WHY}`, { count, total: this.notSentTotal }),
    });
    this.failedLog = new ThrottledCount<unknown>({
      intervalMs: NOT_SENT_LOG_MS,
      write: (count, err) => d.log?.warn('background forwards could not be read or recorded: the store failed (see /api/health)', { count, error: String(err) }),
    });
  }

  /**
   * Read every bin's targets: at start, and again (on Redis) whenever notes from other
   * instances may have been lost (see cluster/redis-cluster.ts): bins whose targets are gone
   * from the store are dropped. Reads never undo a newer one (see SettingsReads).
   */
  async load(): Promise<void> {
    let cleaned = 0;
    await this.reads.read(null, () => this.d.store.forwards.list(), (all, apply) => {
      const listed = new Set<string>();
      for (const f of all) {
        listed.add(f.id);
        const used = usable(f);
        if (used !== f) cleaned++;
        apply(f.id, () => this.settings.set(f.id, used));
      }
      for (const id of [...this.settings.keys()]) if (!listed.has(id)) apply(id, () => this.settings.delete(id));
    });
    // A count only: a bin's id is its receiver URL's secret, and a target's URL may hold one.
    if (cleaned) this.d.log?.warn(`forward targets saved by an older build repeat a target or carry a #fragment: each place is used once, without the fragment (a save of the bin's forward settings stores them so)`, { bins: cleaned });
  }

  /** Another instance changed this bin's targets: read them again. */
  async reload(binId: string): Promise<void> {
    await this.reads.read(binId, () => this.d.store.forwards.get(binId), (f, apply) =>
      apply(binId, () => (f ? this.settings.set(binId, usable(f)) : this.settings.delete(binId))),
    );
  }

  /** Orders load() and reload() (see SettingsReads). */
  private readonly reads = new SettingsReads(this.settings);

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
    return targetRefusal(target, this.d);
  }

  private loops(u: URL): boolean {
    return loopsBack(u, this.d.isOwnOrigin);
  }

  /**
   * A place for a replay asked for through the API (each holds its body, maybe an edited one of
   * up to a megabyte, while it waits for a slot): at most FORWARD_CONCURRENCY at once, or null
   * (the caller answers 503). Give it back with the function answered.
   */
  replayTicket(): (() => void) | null {
    if (this.replaysAsked >= this.d.concurrency) return null;
    this.replaysAsked++;
    let held = true;
    return () => {
      if (held) this.replaysAsked--;
      held = false;
    };
  }

  /**
   * Send one capture to one target (waiting for a slot), and record it with the capture.
   * `wanted`: asked once the slot comes; false (the client that asked has gone) sends nothing
   * and rejects with ReplayAbandoned.
   */
  async send(binId: string, requestId: string, target: string, c: Capture, kind: ForwardRecord['kind'], edited = false, wanted?: () => boolean): Promise<ForwardRecord> {
    const turn = this.slot();
    if (turn) await turn;
    if (wanted && !wanted()) {
      this.release();
      throw new ReplayAbandoned();
    }
    let res: ForwardResult;
    try {
      // A replay is asked for, once: one to a bin's own URL (a new capture there) cannot loop.
      res = loopRefused(await this.exchange(target, c, kind === 'replay', kind !== 'forward'));
    } finally {
      this.release();
    }
    return this.record(binId, requestId, toRecord(kind, target, c, res, this.d.now(), edited));
  }

  /**
   * Proxy mode: the first target's answer, for the sender. Takes no slot (a sender waits for
   * it). What it holds is bounded by the receiver: the capture's body stays counted in
   * MAX_BUFFERED_BYTES until this settles, so a slow target makes new senders wait (503), not
   * memory grow; the promise always settles (FORWARD_TIMEOUT_MS) and never rejects. Recorded
   * with the capture by `recordProxy`, once the sender's answer is known.
   */
  proxy(target: string, c: Capture): Promise<ForwardResult> {
    return this.exchange(target, c, false, true).then(loopRefused);
  }

  /**
   * Record a proxy exchange, and the status the sender got, in one change to the capture. Never
   * rejects (nothing awaits it: see backgroundFailed); null when it could not be recorded.
   */
  recordProxy(binId: string, requestId: string, target: string, c: Capture, res: ForwardResult, answer: AnswerOutcome): Promise<ForwardRecord | null> {
    return this.record(binId, requestId, toRecord('proxy', target, c, res, this.d.now(), false), { answer }).catch((err: unknown) => {
      this.backgroundFailed(err);
      return null;
    });
  }

  /**
   * A background sending that failed in the store (reading its capture, or recording the
   * result: Redis away, a disk fault). Nothing awaits these, and an unhandled rejection would
   * end the process: logged instead, at most one line per NOT_SENT_LOG_MS with how many since.
   * The store's fault itself shows in /api/health.
   */
  private readonly backgroundFailed = (err: unknown): void => this.failedLog.add(err);

  private async record(binId: string, requestId: string, rec: ForwardRecord, extra?: Partial<Annotations>): Promise<ForwardRecord> {
    const item = await this.d.store.requests.annotate(binId, requestId, (r) => {
      // A new list (the record it replaces may be being written), the oldest past MAX_RECORDS out.
      const forwards = r.forwards ? r.forwards.concat(rec) : [rec];
      if (forwards.length > MAX_RECORDS) forwards.splice(0, forwards.length - MAX_RECORDS);
      return extra ? { forwards, ...extra } : { forwards };
    });
    if (item) this.d.onRecorded?.(item, rec, extra !== undefined && changesRow(extra));
    return rec;
  }

  /**
   * One exchange, under the outbound policy (no slot, no recording; see loopRefused).
   * `ownAllowed`: a replay (it may go to hooklab's own receiver URLs, and is never noted as a
   * possible loop). `soon`: someone waits for the answer (a proxied sender, a replay asked for).
   */
  private exchange(target: string, c: Capture, ownAllowed: boolean, soon = false): Promise<ForwardResult> {
    // First: whatever else holds, its first bytes are not the request that came (a target, and
    // any signature check there, would get other bytes).
    if (c.truncatedFrom !== undefined) return Promise.resolve(failed(target, 'truncated', truncatedWhy(c.body.length, c.truncatedFrom)));
    let d: Destination;
    try {
      d = this.destinationOf(target, c);
    } catch (err) {
      return Promise.resolve(notMade(target, err));
    }
    const url = d.url;
    if (!ownAllowed && this.loops(url)) return Promise.resolve(failed(d.href, 'loop', "the target is one of this hooklab's receiver URLs: forwarding there would loop"));
    const own = ownAllowed && this.loops(url);
    const verdict = own ? { ok: true as const, checkAddresses: false } : this.d.policy.checkUrl(url);
    if (!verdict.ok) return Promise.resolve(failed(d.href, 'blocked', verdict.reason));
    const pool: PoolName = own ? 'own' : verdict.checkAddresses ? 'checked' : 'unchecked';
    // A replay (ownAllowed) is asked for once and cannot loop: its socket is never noted, so
    // one to this hooklab under a name its origin list does not know (its LAN IP, 127.0.0.2,
    // [::ffff:127.0.0.1]...) makes a new capture there like one to a known name. Forwards and
    // proxied requests are noted (see self-connections.ts).
    const track = !ownAllowed;
    if (this.d.thread) {
      return this.d.thread.exchange({
        d: { href: d.href, origin: d.origin, path: d.path, host: d.host },
        c,
        connections: pool,
        track: track && this.track !== undefined,
        soon,
      });
    }
    return forwardTo(d, c, {
      timeoutMs: this.d.timeoutMs,
      maxResponseBytes: this.d.maxResponseBytes,
      dispatcher: this.pools![pool],
      onSocket: track ? this.track : undefined,
    });
  }

  /**
   * The destination of a capture at a target, remembered: forwards go to a few targets at a few
   * sub-paths, and making one (parsing the target, setting its path) costs more than the rest
   * of the checks. Lengths in the key keep target, path and query apart.
   */
  private destinationOf(target: string, c: Capture): Destination {
    const key = `${target.length}:${target}${c.path.length}:${c.path}${c.queryString}`;
    let d = this.destinations.get(key);
    if (!d) {
      d = destination(target, c);
      if (this.destinations.size >= MAX_DESTINATIONS) this.destinations.clear();
      this.destinations.set(key, d);
    }
    return d;
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
        this.send(binId, requestId, t.url, c, 'forward').catch(this.backgroundFailed);
        return;
      }
      if (this.waiting.length >= this.d.maxQueued) {
        const why = 'too many forwards waiting (FORWARD_CONCURRENCY x 10); this one was not sent';
        this.record(binId, requestId, toRecord('forward', t.url, c, failed(t.url, 'overloaded', why), this.d.now(), false)).catch(this.backgroundFailed);
        return;
      }
      this.sendStored(binId, requestId, t.url).catch(this.backgroundFailed);
    });
  }

  private async sendStored(binId: string, requestId: string, target: string): Promise<void> {
    const queuedAt = this.d.now();
    const key = `${binId}/${requestId}`;
    this.waitingFor.set(key, (this.waitingFor.get(key) ?? 0) + 1);
    const turn = this.slot();
    if (turn) await turn;
    let c: Capture | null = null;
    let res: ForwardResult | null = null;
    let deleted = false;
    try {
      c = await this.capture(binId, requestId).finally(() => {
        deleted = this.deletedWhileWaiting.has(key);
        const n = this.waitingFor.get(key)! - 1;
        if (n > 0) this.waitingFor.set(key, n);
        else {
          this.waitingFor.delete(key);
          this.deletedWhileWaiting.delete(key);
        }
      });
      if (c) res = loopRefused(await this.exchange(target, c, false));
    } finally {
      this.release();
    }
    // Gone meanwhile (evicted, or deleted): nothing to send, nor to record it with.
    if (!c || !res) return deleted ? undefined : this.notSent(binId, requestId, queuedAt);
    await this.record(binId, requestId, toRecord('forward', target, c, res, this.d.now(), false));
  }

  /** A capture is being deleted through the API: a forward of it still waiting is no loss. */
  deleted(binId: string, requestId: string): void {
    const key = `${binId}/${requestId}`;
    if (this.waitingFor.has(key)) this.deletedWhileWaiting.add(key);
  }

  /**
   * A waiting forward whose capture was gone when its turn came. Deleted on purpose (its bin
   * deleted or cleared since it was queued, or the capture deleted on its own) is no loss;
   * pushed out by MAX_REQUESTS_PER_BIN or MAX_STORE_BYTES is: counted (see warnings) and
   * logged, at most one line per NOT_SENT_LOG_MS. Off the hot path: only forwards that
   * waited for a slot and lost their capture get here.
   */
  private async notSent(binId: string, requestId: string, queuedAt: number): Promise<void> {
    try {
      if (await this.deletedOnPurpose(binId, requestId, queuedAt)) return;
    } catch {
      // The store cannot tell: counted, rather than lost silently.
    }
    this.notSentTotal++;
    this.notSentLastAt = this.d.now();
    this.notSentLog.add(undefined);
  }

  /**
   * A bin gone, or cleared (its clearedAt) since the forward was queued, was emptied on purpose.
   * A capture deleted on its own through this instance is known (see deleted); through another
   * instance, it is told by its bin: evictions take a bin's oldest first, so one gone while an
   * older one of its bin is still stored was deleted (the bin's oldest deleted there counts).
   */
  private async deletedOnPurpose(binId: string, requestId: string, queuedAt: number): Promise<boolean> {
    const bin = await this.d.store.bins.get(binId);
    if (!bin) return true;
    if (bin.clearedAt && Date.parse(bin.clearedAt) >= queuedAt) return true;
    const { oldestId } = await this.d.store.requests.stats(binId);
    return oldestId !== null && oldestId < requestId;
  }

  /** Background forwards not sent since start because their capture was evicted while they waited. */
  get notSentCount(): number {
    return this.notSentTotal;
  }

  /** For /api/health (a warning, not a fault: captures and other forwards go on). */
  warnings(): string[] {
    if (!this.notSentTotal) return [];
    const n = this.notSentTotal;
    return [`${new Date(this.notSentLastAt).toISOString()} ${n} background forward${n === 1 ? ' was' : 's were'} not sent: ${NOT_SENT_WHY}`];
  }

  /** A stored capture as it came, or null when it is gone. */
  async capture(binId: string, requestId: string): Promise<Capture | null> {
    const c = await readCaptured(this.d.store, binId, requestId);
    if (!c) return null;
    const out: Capture = { method: c.method, path: c.path, queryString: c.queryString, headers: c.headers, body: c.body };
    if (c.truncated) out.truncatedFrom = c.size;
    if (c.trailers?.length) out.trailerCount = c.trailers.length / 2;
    return out;
  }

  /** Take a sending slot: null when one was free, else the promise of one. */
  private slot(): Promise<void> | null {
    if (this.running < this.d.concurrency) {
      this.running++;
      return null;
    }
    return new Promise((r) => this.waiting.push(r));
  }

  private release() {
    const next = this.waiting.shift();
    if (next) next();
    else this.running--;
  }

  close(): void {
    // Those not logged yet are told now.
    this.notSentLog.flush();
    this.failedLog.flush();
    this.d.thread?.close();
    for (const a of Object.values(this.pools ?? {})) void a.destroy().catch(() => {});
  }
}

/** An answer from the receiver's loop refusal (a forward that came back in): recorded as a loop. */
function loopRefused(r: ForwardResult): ForwardResult {
  for (const [name] of r.headers) {
    if (name.length === LOOP_HEADER.length && name.toLowerCase() === LOOP_HEADER) {
      return { ...r, error: 'loop', errorDetail: `${new URL(r.url).host} led back into this hooklab, which refused it (${r.status}) to stop a forwarding loop` };
    }
  }
  return r;
}

function failed(url: string, error: ForwardResult['error'], detail: string): ForwardResult {
  return { url, status: null, headers: [], body: Buffer.alloc(0), bodyTruncated: false, durationMs: 0, error, errorDetail: detail };
}

export function toRecord(kind: ForwardRecord['kind'], target: string, c: Pick<Capture, 'method' | 'trailerCount'>, r: ForwardResult, now: number, edited: boolean): ForwardRecord {
  const text = isUtf8(r.body);
  const rec: ForwardRecord = {
    kind,
    at: new Date(now).toISOString(),
    target,
    url: r.url,
    method: c.method,
    status: r.status,
    // Kept with the capture: the repeated strings of the answers shared (see lib/intern.ts).
    headers: internPairs(r.headers),
    body: text ? r.body.toString('utf8') : r.body.toString('base64'),
    bodyEncoding: text ? 'utf8' : 'base64',
    bodyTruncated: r.bodyTruncated,
    durationMs: r.durationMs,
    error: r.error,
    errorDetail: r.errorDetail,
    edited,
  };
  // Said, not lost silently: a sender that signs in a trailer fails at the target otherwise.
  if (c.trailerCount) rec.trailersNotSent = c.trailerCount;
  return rec;
}

/** Why a capture whose body MAX_BODY_BYTES cut is not sent. */
export function truncatedWhy(kept: number, size: number): string {
  return `its body was cut at MAX_BODY_BYTES (${kept} of ${size} bytes kept): not sent, since the target would get other bytes than the sender sent`;
}
