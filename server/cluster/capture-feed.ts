// Reads the Redis store's capture feed (one stream entry per capture, written by the append
// script itself) and hands each capture to this instance's live viewers (and, for captures
// made on other instances, to its wait-API waiters). Every instance reads
// the same stream, so every viewer of a bin sees its captures in one order, the order ids
// were given in, whichever instance received them. (The Socket.IO adapter carries the other
// events; its instances publish independently, so it could not promise that order.)
//
// After an outage the reader resumes where it was; a viewer that missed events anyway catches
// up through `subscribe {lastId}` backfill from the store.
//
// An instance that appends learns of the feed through its appends (see "Following the feed"
// in store/redis/request-scripts.ts): each append run answers every entry since this
// instance's position, other instances' rows included, and the instance knows its own rows,
// so it does not read them back (under load, reading them back cost more than the append).
// It reads the stream itself (a blocking XREAD) only once it has not appended for IDLE_MS.
// Either way entries are handed on strictly in stream order, each once: a range that does
// not start at the position (an append's answer lost to an error, say) is first filled in
// from the stream, on the store's connection (so after every append sent before).
import { Redis } from 'ioredis';
import type { FeedEntry, FeedSink } from '../store/redis/request-log.ts';
import type { Eviction } from '../store/types.ts';

export interface CaptureFeedOptions {
  url: string;
  prefix: string;
  /** A capture (its bin, and its list row's JSON as the append script wrote it: a RequestItem),
   * what its append evicted (its own bin's first), and the tag of the instance that appended
   * it (RedisStore.origin; '' in entries from before tags). */
  onCapture: (binId: string, row: string, evictions: Eviction[], origin: string) => void;
  onError?: (err: unknown) => void;
  /** Feed entries after `after`, read on the store's connection (for gaps; see above). */
  range?: (key: string, after: string, count: number) => Promise<FeedEntry[]>;
}

/** Entries per read; a burst is handed on in batches of this size. */
const BATCH = 500;
/** Without an append for this long, the instance reads the stream itself again (also the
 * most another instance's capture may wait while this one appends only now and then). */
const IDLE_MS = 20;

export class CaptureFeed implements FeedSink {
  private readonly redis: Redis;
  private readonly key: string;
  /** Every entry up to here has been handed on. */
  private last = '$';
  private stopped = false;
  private loop: Promise<void> | null = null;
  /** When an append last answered its range. */
  private busyAt = 0;
  /** Ranges waiting for a gap before them to be filled in. */
  private waiting: [string, FeedEntry[], boolean][] = [];
  private filling: Promise<void> | null = null;

  constructor(private readonly o: CaptureFeedOptions) {
    // Its own connection: a blocking read holds it. No command timeout (the read blocks by design).
    this.redis = new Redis(o.url, { connectionName: 'hooklab-feed', maxRetriesPerRequest: null, retryStrategy: (n) => Math.min(50 * n, 1000) });
    this.redis.on('error', (e) => o.onError?.(e));
    this.key = `${o.prefix}feed`;
  }

  /** Start from now: what came before is in the store, for backfill. */
  async start(): Promise<void> {
    const info = (await this.redis.xrevrange(this.key, '+', '-', 'COUNT', 1)) as [string, string[]][];
    this.last = info[0]?.[0] ?? '0-0';
    this.loop = this.run();
  }

  position(): string {
    return this.last === '$' ? '' : this.last; // ('' until started: not followed)
  }

  /** Entries in (start, last of them], from an append run or a read (see FeedSink). */
  offer(start: string, entries: FeedEntry[], more: boolean): void {
    this.busyAt = Date.now();
    if (this.filling || streamIdLess(this.last, start)) {
      this.waiting.push([start, entries, more]);
      this.fill();
      return;
    }
    this.take(entries);
    if (more) this.fill();
  }

  private take(entries: FeedEntry[]) {
    for (const [id, fields] of entries) {
      if (!streamIdLess(this.last, id)) continue; // handed on already
      this.last = id;
      this.deliver(fields);
    }
  }

  /** Read the stream from the position to its end, then take the ranges that waited. */
  private fill() {
    this.filling ??= (async () => {
      await null; // (filling is set before anything below runs)
      while (!this.stopped) {
        try {
          const read = this.o.range ?? ((key, after, count) => this.redis.xrange(key, `(${after}`, '+', 'COUNT', count) as Promise<FeedEntry[]>);
          const got = await read(this.key, this.last, BATCH);
          this.take(got);
          if (got.length < BATCH) break;
        } catch (err) {
          this.o.onError?.(err);
          await new Promise((r) => setTimeout(r, 500));
        }
      }
      this.filling = null;
      const waiting = this.waiting;
      this.waiting = [];
      if (!this.stopped) for (const [start, entries, more] of waiting) this.offer(start, entries, more);
    })();
  }

  private async run() {
    while (!this.stopped) {
      try {
        // Appending: the appends' answers carry the feed.
        const quiet = Date.now() - this.busyAt;
        if (quiet < IDLE_MS) {
          await new Promise((r) => setTimeout(r, IDLE_MS - quiet));
          continue;
        }
        const from = this.last;
        const res = (await this.redis.xread('COUNT', BATCH, 'BLOCK', 2000, 'STREAMS', this.key, from)) as [string, FeedEntry[]][] | null;
        if (!res) {
          await this.checkReset();
          continue;
        }
        const entries = res[0][1];
        // (offer would count a read as an append.)
        const busyAt = this.busyAt;
        this.offer(from, entries, entries.length === BATCH);
        this.busyAt = busyAt;
      } catch (err) {
        if (this.stopped) return;
        this.o.onError?.(err);
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }

  /** A Redis that lost its data (no AOF) restarts the stream's ids: follow from its start. */
  private async checkReset() {
    const top = (await this.redis.xrevrange(this.key, '+', '-', 'COUNT', 1)) as [string, string[]][];
    const newest = top[0]?.[0] ?? '0-0';
    if (streamIdLess(newest, this.last)) this.last = '0-0';
  }

  private deliver(fields: string[]) {
    let bin = '';
    let row = '';
    let evicted = '';
    let origin = '';
    for (let i = 0; i < fields.length; i += 2) {
      if (fields[i] === 'b') bin = fields[i + 1];
      else if (fields[i] === 'i') row = fields[i + 1];
      else if (fields[i] === 'e') evicted = fields[i + 1];
      else if (fields[i] === 'o') origin = fields[i + 1];
    }
    // Passed on unparsed (live viewers get the text as it is): it must at least be a row.
    if (!bin || !row.startsWith('{"id":')) {
      this.o.onError?.(new Error(`capture feed: an entry without a capture (bin ${JSON.stringify(bin)})`));
      return;
    }
    const evictions: Eviction[] = [];
    const parts = evicted ? evicted.split(' ') : [];
    for (let i = 0; i + 1 < parts.length; i += 2) {
      let ev = evictions.find((e) => e.binId === parts[i]);
      if (!ev) evictions.push((ev = { binId: parts[i], ids: [] }));
      ev.ids.push(parts[i + 1]);
    }
    // Its own bin's evictions first, as the store answers them.
    evictions.sort((a, b) => (a.binId === bin ? -1 : b.binId === bin ? 1 : 0));
    // Handed on once per turn, in order: entries come from every append run's answer, and
    // Socket.IO writes to a viewer at the first event of a run of them (a write per append
    // run, each a syscall, rather than one per turn).
    this.ready.push({ bin, row, evictions, origin });
    this.flushAt ??= setImmediate(this.flush);
  }

  private ready: { bin: string; row: string; evictions: Eviction[]; origin: string }[] = [];
  private flushAt: NodeJS.Immediate | null = null;
  private readonly flush = () => {
    this.flushAt = null;
    const ready = this.ready;
    this.ready = [];
    for (const c of ready) {
      // (A failing viewer must not keep the others from theirs.)
      try {
        this.o.onCapture(c.bin, c.row, c.evictions, c.origin);
      } catch (err) {
        this.o.onError?.(err);
      }
    }
  };

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.flushAt) clearImmediate(this.flushAt);
    this.flushAt = null;
    this.redis.disconnect();
    await this.loop?.catch(() => {});
    await this.filling?.catch(() => {});
  }
}

/** Stream ids 'ms-seq': a < b (compared as numbers, without splitting: once per entry). */
function streamIdLess(a: string, b: string): boolean {
  const ad = a.indexOf('-');
  const bd = b.indexOf('-');
  const am = Number(a.slice(0, ad));
  const bm = Number(b.slice(0, bd));
  return am < bm || (am === bm && Number(a.slice(ad + 1)) < Number(b.slice(bd + 1)));
}
