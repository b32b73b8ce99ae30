// Adds imported captures to a bin: ids made from their original times (so they sort where
// they belong and keep their order), the usual caps and budgets, live events for watchers.
import type { Config } from '../config.ts';
import { sortableIdFactory } from '../ids.ts';
import type { LiveBus } from '../live/bus.ts';
import { toItem } from '../store/request-index.ts';
import type { Store } from '../store/types.ts';
import type { Imported } from './exchange.ts';

export class Importer {
  imported = 0;
  evicted = 0;
  private at = 0;
  private readonly nextId = sortableIdFactory(() => this.at);

  constructor(
    private readonly binId: string,
    private readonly deps: { store: Store; live: LiveBus; config: Config },
  ) {}

  /** Add one; false when the bin is gone. */
  async add(x: Imported): Promise<boolean> {
    const { store, live, config } = this.deps;
    let r = x;
    if (r.body.length > config.maxBodyBytes) {
      // As the receiver does: keep MAX_BODY_BYTES, count the rest.
      r = { ...r, body: r.body.subarray(0, config.maxBodyBytes), storedBytes: config.maxBodyBytes, truncated: true };
    }
    this.at = Date.parse(r.receivedAt);
    const record = { ...r, body: Buffer.from(r.body), id: this.nextId(), binId: this.binId };
    const evictions = await store.requests.append(record, config.maxRequestsPerBin);
    if (evictions === null) return false;
    this.imported++;
    let own: string[] = [];
    for (const ev of evictions) {
      this.evicted += ev.ids.length;
      if (ev.binId === this.binId) own = ev.ids;
      else live.requestsDeleted(ev.binId, ev.ids);
    }
    if (live.wants(this.binId)) live.requestCaptured(toItem(record), own);
    // A big import goes at the disk's pace, like captures do.
    if (store.requests.pendingBytes() > config.maxUnwrittenBytes) await store.durable();
    return true;
  }
}
