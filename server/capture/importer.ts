// Adds imported captures to a bin: ids as of the import, as a live capture arriving then would
// get (so "ids sort by arrival" holds: the list, wait?after= and live cursors see an import as
// new, and the bin's oldest-first eviction takes the oldest arrivals, imported or not); their
// original times stay as their receivedAt. The usual caps and budgets, live events for watchers.
import type { Config } from '../config.ts';
import type { LiveBus } from '../live/bus.ts';
import { toItem } from '../store/request-index.ts';
import type { CapturedRequest, Store } from '../store/types.ts';
import type { Verifier } from '../verify/service.ts';
import type { Imported } from './exchange.ts';
import { iso } from '../time.ts';
import type { RequestWaiters } from './waiters.ts';
import { unwrittenLimitMs, writesBehind } from './receiver.ts';

/**
 * The longest NDJSON line an import reads, in bytes. An export line holds the body in base64
 * (4/3 of MAX_BODY_BYTES, the most a capture keeps) and the request head as JSON. Node counts
 * only the URL and the header names and values against MAX_HEADER_BYTES (not ": " or line
 * ends), so a head of one-letter headers ("a:" CRLF, 1 byte counted) takes 9 bytes each in
 * JSON (["a",""],), and "é" or a quote in a value takes 2: 10x MAX_HEADER_BYTES, as much again
 * for chunked trailers (Node bounds them by MAX_HEADER_BYTES on their own), and 64 KiB of
 * metadata cover any capture. A longer line is no export of a hooklab set up like this one;
 * reading it on would only hold memory.
 */
export function maxImportLineBytes(c: Pick<Config, 'maxBodyBytes' | 'maxHeaderBytes'>): number {
  return 4 * Math.ceil(c.maxBodyBytes / 3) + 2 * 10 * c.maxHeaderBytes + 64 * 1024;
}

export class Importer {
  imported = 0;
  evicted = 0;

  constructor(
    private readonly binId: string,
    private readonly deps: {
      store: Store;
      live: LiveBus;
      config: Config;
      /** The receiver's own id source, so an import and live captures share one order. */
      newRequestId: () => string;
      /** The wait API's: an imported capture is new, as a live one is. */
      waiters: Pick<RequestWaiters, 'captured'>;
      now: () => number;
      /** The bins' signature settings: an imported capture is keyed and checked as a live one is (and what it evicts forgotten). */
      verifier?: Pick<Verifier, 'keyOf' | 'captured' | 'gone'>;
    },
  ) {}

  /** The bin was marked as in use by this import (see touch). */
  private touched = false;

  /**
   * An import is activity: idle expiry (BIN_IDLE_DAYS) counts from it. Its captures keep their
   * original times, and the newest arrival's time is what a bin's last request says, so an
   * import of old captures would otherwise make a bin in use look idle for years.
   */
  private async touch(): Promise<void> {
    if (this.touched) return;
    this.touched = true;
    const bin = await this.deps.store.bins.get(this.binId);
    if (bin) await this.deps.store.bins.put({ ...bin, activeAt: iso(this.deps.now()) });
  }

  /** Add one; false when the bin is gone. */
  async add(x: Imported): Promise<boolean> {
    const { store, live, config } = this.deps;
    let r = x;
    if (r.body.length > config.maxBodyBytes) {
      // As the receiver does: keep MAX_BODY_BYTES, count the rest.
      r = { ...r, body: r.body.subarray(0, config.maxBodyBytes), storedBytes: config.maxBodyBytes, truncated: true };
    }
    // '' on Redis: the store numbers it, in the order appends reach it (see RequestLog.append).
    const record: CapturedRequest = { ...r, body: Buffer.from(r.body), id: this.deps.newRequestId(), binId: this.binId };
    // As the receiver does: `?key=`, wait?key= and the key groups find imports too.
    const key = this.deps.verifier?.keyOf(this.binId, record);
    if (key) record.idempotency = key;
    const evictions = await store.requests.append(record, config.maxRequestsPerBin);
    if (evictions === null) return false;
    this.imported++;
    let own: string[] = [];
    for (const ev of evictions) {
      this.evicted += ev.ids.length;
      this.deps.verifier?.gone(ev.binId, ev.ids);
      if (ev.binId === this.binId) own = ev.ids;
      else live.requestsEvicted(ev.binId, ev.ids); // pushed out by the store-wide budget
    }
    // Before the live event, as the receiver does (its verdict then leaves with it). The check
    // takes the capture's receivedAt as "now": an old capture is judged against when it arrived.
    this.deps.verifier?.captured(record);
    if (live.wants(this.binId)) live.requestCaptured(toItem(record), own);
    this.deps.waiters.captured(record, true); // its answer went long ago
    await this.touch();
    // A big import goes at the disk's pace, like captures do.
    if (writesBehind(store, config.maxUnwrittenBytes, unwrittenLimitMs(config.flushIntervalMs))) await store.durable();
    return true;
  }
}
