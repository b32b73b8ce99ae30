// What several hooklab instances on one Redis share besides the store: the Socket.IO adapter
// (a capture received by A reaches a viewer connected to B), and a small channel of notes
// between instances: a bin's settings changed (reload your copy), a bin was created, changed
// or deleted (forget what your receiver remembers of it), a webhook or delivery changed.
//
// Some notes are hints: plans check their version in Redis, an append checks its bin still
// exists and that the response settings it answered with are still the bin's, the dispatcher
// reads a webhook before each attempt, and viewers catch up from the store through
// `subscribe {lastId}` after any outage. (Captures need no note: the capture feed, written by
// the append itself, tells every instance; see capture-feed.ts.) But forward targets and
// signature settings are used from each instance's memory (the receiver asks on every
// capture), kept fresh by notes alone, so a lost note must not leave an instance on old ones.
// Pub/sub drops what is published while a subscriber is away (a network blip, a failover, a
// killed connection), so:
// - Every note is counted: one script increments <p>notes:rev and publishes the note with its
//   number, so each instance sees every note's number in order (its own included) and knows
//   when it missed one.
// - The instance reloads its copies of everything notes keep fresh (onResync: forward and
//   verify settings, response settings, the receiver's known bins) when its subscriber is back
//   after a drop (once subscribed again: anything changed before that is in what it reads),
//   when a note's number skips one, when a note's reload failed, and when the periodic check
//   (every REVISION_CHECK_MS, one GET) finds <p>notes:rev still ahead of the notes received
//   since the check before (a note lost with no drop seen: the subscriber is then reconnected
//   too) or behind them (Redis lost its data). A reload that fails is logged and tried again
//   until it works.
// So a lost note costs a reload, and an instance follows within a few seconds at worst.
// Ordinarily a change on A holds on B once its note arrives: tens of milliseconds.
import { createAdapter } from '@socket.io/redis-streams-adapter';
import { Redis } from 'ioredis';
import type { SettingsKind } from '../../shared/api.ts';
import { type Logger, silentLogger } from '../log.ts';

/** `answered`: a proxied capture's answer was recorded (its waiters elsewhere hear of it then). */
export type NoteKind = SettingsKind | 'bin' | 'webhook' | 'delivery' | 'answered';

export interface ClusterOptions {
  url: string;
  prefix: string;
  /** Events kept in the adapter's stream (LIVE_STREAM_MAX_LEN); a viewer further behind backfills. */
  streamMaxLen: number;
  onError?: (err: unknown) => void;
  /** How often notes:rev is compared with the notes received (default REVISION_CHECK_MS). */
  revisionCheckMs?: number;
}

/** How often each instance compares the notes' count in Redis with the notes it received. */
export const REVISION_CHECK_MS = 2000;
/** A reload that failed is tried again after this long, doubling up to RESYNC_RETRY_MAX_MS. */
const RESYNC_RETRY_MS = 500;
const RESYNC_RETRY_MAX_MS = 5000;

/**
 * Count the note and publish it with its number: KEYS[1] notes:rev; ARGV: channel, note.
 * The number is appended last ("origin kind binId id n"): an instance of an older build reads
 * the four fields it knows and ignores it.
 */
const NOTE = `
local n = redis.call('INCR', KEYS[1])
redis.call('PUBLISH', ARGV[1], ARGV[2] .. ' ' .. n)
return n
`;

type NotesClient = Redis & { hooklabNote(key: string, channel: string, note: string): Promise<number> };

export class RedisCluster {
  /** Publishes notes; the adapter's own connections are made from it. */
  private readonly pub: NotesClient;
  private readonly sub: Redis;
  private readonly adapterClient: Redis;
  private readonly channel: string;
  private readonly revKey: string;
  private readonly handlers = new Map<NoteKind, ((binId: string, id: string) => void)[]>();
  private readonly resyncs: (() => Promise<void>)[] = [];
  /** This instance, so it skips its own notes. */
  private readonly origin = Math.random().toString(36).slice(2, 12);
  private log: Logger = silentLogger;
  /** The newest note number accounted for: received in order, or read by a reload (null: not started). */
  private seen: number | null = null;
  /** Before start() knows where the count stands: the newest number received. */
  private early = 0;
  /** notes:rev as the last check found it ahead of `seen` (still unreached at the next: missed). */
  private ahead: number | null = null;
  private checking = false;
  private timer: NodeJS.Timeout | null = null;
  /** The reload under way, and why another is due after it (see resync). */
  private resyncing: Promise<void> | null = null;
  private again: { why: string; reset: boolean } | null = null;
  private closed = false;

  get url() {
    return this.o.url;
  }

  constructor(private readonly o: ClusterOptions) {
    // Plain clients that reconnect forever and queue while away: a note or an adapter read
    // that waits a moment is fine; the adapter's blocking reads must not hit a command timeout.
    const options = { lazyConnect: false, maxRetriesPerRequest: null, retryStrategy: (n: number) => Math.min(50 * n, 1000) };
    this.pub = new Redis(o.url, { ...options, connectionName: 'hooklab-notes' }) as NotesClient;
    this.pub.defineCommand('hooklabNote', { numberOfKeys: 1, lua: NOTE });
    this.sub = new Redis(o.url, { ...options, connectionName: 'hooklab-notes-sub' });
    this.adapterClient = new Redis(o.url, { ...options, connectionName: 'hooklab-live' });
    for (const c of [this.pub, this.sub, this.adapterClient]) c.on('error', (e) => o.onError?.(e));
    this.channel = `${o.prefix}notes`;
    this.revKey = `${o.prefix}notes:rev`;
  }

  /** Subscribe, and from then on keep this instance's copies fresh (see the top of this file). */
  async start(log?: Logger): Promise<void> {
    if (log) this.log = log;
    this.sub.on('message', (channel: string, message: string) => {
      if (channel !== this.channel) return;
      const [origin, kind, binId, id = '', n] = message.split(' ');
      if (n !== undefined) this.counted(Number(n));
      if (origin === this.origin) return;
      for (const h of this.handlers.get(kind as NoteKind) ?? []) h(binId, id);
    });
    await this.sub.subscribe(this.channel);
    // Any later 'ready' is a reconnection (ioredis subscribes again by itself just before it).
    this.sub.on('ready', () => this.resubscribed());
    const rev = await this.revision();
    this.seen = Math.max(rev, this.early, this.seen ?? 0);
    this.timer = setInterval(() => void this.checkRevision(), this.o.revisionCheckMs ?? REVISION_CHECK_MS);
    this.timer.unref();
  }

  /** The Socket.IO adapter: every instance's rooms, through one Redis stream. */
  adapter() {
    return createAdapter(this.adapterClient, {
      streamName: `${this.o.prefix}live`,
      maxLen: this.o.streamMaxLen,
      // Below the clients' reconnect pace, so a Redis restart resumes the stream promptly.
      blockTimeInMs: 2000,
    });
  }

  /** Tell the other instances. */
  note(kind: NoteKind, binId: string, id = ''): void {
    const text = `${this.origin} ${kind} ${binId} ${id}`;
    void this.pub.hooklabNote(this.revKey, this.channel, text).catch((e) => {
      this.o.onError?.(e);
      // Redis out of memory refuses the count (INCR) but not a PUBLISH: the note still goes,
      // uncounted (as an older build's), so a bin deleted to free memory is deleted everywhere.
      return this.pub.publish(this.channel, text).catch(() => {});
    });
  }

  on(kind: NoteKind, fn: (binId: string, id: string) => void): void {
    this.handlers.set(kind, [...(this.handlers.get(kind) ?? []), fn]);
  }

  /** Reload everything notes keep fresh (all bins): run whenever notes may have been lost. */
  onResync(fn: () => Promise<void>): void {
    this.resyncs.push(fn);
  }

  /**
   * Notes may have been lost, or a note's reload failed (`err`): reload everything (onResync),
   * now, or after the reload under way; retried until it works, and logged.
   */
  resync(why: string, err?: unknown, reset = false): void {
    if (this.closed) return;
    if (err !== undefined) why = `${why} (${String(err)})`;
    if (this.resyncing) {
      this.again = { why, reset: reset || (this.again?.reset ?? false) };
      return;
    }
    this.resyncing = this.reloadAll(why, reset).finally(() => (this.resyncing = null));
  }

  /** The reloads run until one works; another follows when asked for meanwhile. */
  private async reloadAll(why: string, reset: boolean): Promise<void> {
    let failures = 0;
    let wait = RESYNC_RETRY_MS;
    this.log.info(`cluster notes: ${why}; reloading every bin's settings from Redis`);
    while (!this.closed) {
      this.again = null;
      try {
        // Read first: the reloads see every change counted up to it (each is counted after it is made).
        const rev = await this.revision();
        if (reset || this.seen === null || rev > this.seen) this.seen = rev;
        this.ahead = null;
        await Promise.all(this.resyncs.map((f) => f()));
        if (failures) this.log.info("cluster notes: every bin's settings reloaded from Redis", { failedTries: failures });
        const next = this.pending();
        if (!next) return;
        ({ why, reset } = next);
        failures = 0;
        wait = RESYNC_RETRY_MS;
        continue;
      } catch (e) {
        if (this.closed) return;
        failures++;
        // Loud: until this works, this instance may forward and check signatures with old settings.
        if (failures === 1) {
          this.log.error(`cluster notes: reloading every bin's settings from Redis failed (${why}); this instance may use old forward and signature settings until it works; retrying`, { error: String(e) });
        }
        await new Promise((r) => setTimeout(r, wait).unref());
        wait = Math.min(wait * 2, RESYNC_RETRY_MAX_MS);
        reset = reset || (this.pending()?.reset ?? false);
      }
    }
  }

  /** Another reload asked for while this one ran (read through a call: it changes meanwhile). */
  private pending() {
    return this.again;
  }

  /** A note's number arrived (in order on this connection): one skipped was lost. */
  private counted(n: number) {
    if (!Number.isSafeInteger(n)) return;
    if (this.seen === null) {
      this.early = Math.max(this.early, n);
      return;
    }
    if (n <= this.seen) return; // counted by a reload already (or a reset, which the check finds)
    const skipped = n > this.seen + 1;
    this.seen = n;
    if (skipped) this.resync('notes from other instances were lost');
  }

  /** The subscriber reconnected: once it is subscribed again, reload (notes sent meanwhile are lost). */
  private resubscribed() {
    if (this.closed) return;
    // ioredis sent its own SUBSCRIBE just before 'ready': this one's answer comes after it.
    this.sub.subscribe(this.channel).then(
      () => this.resync('the notes connection was re-established'),
      (e) => this.resync('the notes connection was re-established', e),
    );
  }

  /** The periodic check (see the top of this file). */
  private async checkRevision() {
    if (this.checking || this.seen === null || this.closed) return;
    this.checking = true;
    // Notes arrive on another connection: ones counted after the read ran can arrive before
    // its reply. Only notes received before it was sent must be within what it reads.
    const before = this.seen;
    try {
      const rev = await this.revision();
      if (this.resyncing) return;
      if (rev < before) {
        this.resync('the notes count in Redis went back (Redis lost its data, or was replaced)', undefined, true);
      } else if (rev > this.seen) {
        if (this.ahead !== null && this.seen < this.ahead) {
          this.resync('notes from other instances were not received');
          // The subscription may be broken without the connection knowing: make it again.
          this.sub.disconnect(true);
        } else this.ahead = rev;
      } else this.ahead = null;
    } catch (e) {
      this.o.onError?.(e);
    } finally {
      this.checking = false;
    }
  }

  private async revision(): Promise<number> {
    return Number((await this.pub.get(this.revKey)) ?? 0);
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await Promise.all([this.pub, this.sub, this.adapterClient].map((c) => c.quit().catch(() => c.disconnect())));
  }
}
