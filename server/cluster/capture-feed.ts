// Reads the Redis store's capture feed (one stream entry per capture, written by the append
// script itself) and hands each capture to this instance's live viewers (and, for captures
// made on other instances, to its wait-API waiters). Every instance reads
// the same stream, so every viewer of a bin sees its captures in one order, the order ids
// were given in, whichever instance received them. (The Socket.IO adapter carries the other
// events; its instances publish independently, so it could not promise that order.)
//
// After an outage the reader resumes where it was; a viewer that missed events anyway catches
// up through `subscribe {lastId}` backfill from the store.
import { Redis } from 'ioredis';
import type { Eviction } from '../store/types.ts';

export interface CaptureFeedOptions {
  url: string;
  prefix: string;
  /** A capture (its bin, and its list row's JSON as the append script wrote it: a RequestItem),
   * what its append evicted (its own bin's first), and the tag of the instance that appended
   * it (RedisStore.origin; '' in entries from before tags). */
  onCapture: (binId: string, row: string, evictions: Eviction[], origin: string) => void;
  onError?: (err: unknown) => void;
}

/** Entries per read; a burst is handed on in batches of this size. */
const BATCH = 500;

export class CaptureFeed {
  private readonly redis: Redis;
  private readonly key: string;
  private last = '$';
  private stopped = false;
  private loop: Promise<void> | null = null;

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

  private async run() {
    while (!this.stopped) {
      try {
        const res = (await this.redis.xread('COUNT', BATCH, 'BLOCK', 2000, 'STREAMS', this.key, this.last)) as [string, [string, string[]][]][] | null;
        if (!res) {
          await this.checkReset();
          continue;
        }
        for (const [id, fields] of res[0][1]) {
          this.last = id;
          this.deliver(fields);
        }
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
    this.o.onCapture(bin, row, evictions, origin);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.redis.disconnect();
    await this.loop?.catch(() => {});
  }
}

function streamIdLess(a: string, b: string): boolean {
  const [am, as] = a.split('-').map(Number);
  const [bm, bs] = b.split('-').map(Number);
  return am < bm || (am === bm && as < bs);
}
