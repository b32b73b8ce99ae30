// How many captures a bin holds, kept right while the page is open, without one request per
// live event (a flood brings thousands a second).
//
// Counted from the events, at once: +1 per new capture (`request`), -n per capture deleted or
// pushed out by a cap (`requests:deleted`), 0 on a clear. While the page is subscribed that is
// exact, but not always: the first read of the bin and the subscribe's replay of what came
// meanwhile overlap; a viewer that fell behind is dropped and catches up by a replay of
// captures only (none of the deletions it missed); a subscribe the server could not serve is
// retried. So the count is also read again from the bin (GET /api/bins/:id): after every
// (re)subscribe, and while events arrive, at most once per `intervalMs` (one read in flight at
// a time, a last one after the events stop). A read replaces the count, plus whatever the
// events said since it was sent (those it may not include); a clear meanwhile voids it. A read
// that has not answered after `readTimeoutMs` counts as failed (its answer, if it ever comes,
// is ignored): one that never settles would otherwise stop the reads for good.
// Between reads the events keep the count live; the reads keep it from drifting.
//
// A (re)subscribe's replay is not counted capture by capture: it replays what came after the
// page's last seen capture, which for a filtered list is its newest match, so much of it may be
// in the count already (a bin of 5,000 briefly counted 8,000, "pushed out" at the end of the
// list). What comes between the subscribe and its answer is its replay; the answer has the bin
// read again at once.

export interface LiveCountOptions {
  /** The bin's stored count now; null when it could not be read (offline: the events carry on). */
  read: (signal: AbortSignal) => Promise<number | null>;
  /** Told when the count changed (the page batches renders: call often, cheaply). */
  onChange: () => void;
  /** At most one read per this many ms while events arrive. */
  intervalMs?: number;
  /** A read not answered after this many ms counts as failed. */
  readTimeoutMs?: number;
  now?: () => number;
}

export const READ_INTERVAL_MS = 2000;
export const READ_TIMEOUT_MS = 15_000;

export class LiveCount {
  private base: number | null = null;
  /** What the events said since the last read was sent. */
  private delta = 0;
  /** Ids counted since the last read was sent: an id announced twice counts once. */
  private added = new Set<string>();
  /** A clear (or a count set from elsewhere) while a read was out: its answer is stale. */
  private voided = false;
  private dirty = false;
  private inFlight = false;
  private lastSentAt = Number.NEGATIVE_INFINITY;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private stopped = false;
  /** A subscribe is out: the captures announced are its replay (see joined()). */
  private replaying = false;
  /** The next read goes at once, not an interval after the last (a subscribe answered). */
  private urgent = false;
  private readonly interval: number;
  private readonly readTimeout: number;
  private readonly now: () => number;

  constructor(private readonly o: LiveCountOptions) {
    this.interval = o.intervalMs ?? READ_INTERVAL_MS;
    this.readTimeout = o.readTimeoutMs ?? READ_TIMEOUT_MS;
    this.now = o.now ?? (() => Date.now());
  }

  /** The count, or null before the bin was first read. */
  get value(): number | null {
    return this.base === null ? null : Math.max(0, this.base + this.delta);
  }

  /**
   * A count read elsewhere (the page's first read of the bin, a `bin:updated` event), as of
   * `sentAt`: it replaces what the events said so far.
   */
  set(n: number, sentAt = this.now()): void {
    if (this.inFlight) this.voided = true;
    this.base = n;
    this.delta = 0;
    this.added.clear();
    this.lastSentAt = Math.max(this.lastSentAt, sentAt);
    this.o.onChange();
  }

  /** A new capture (`request`). */
  capture(id: string): void {
    if (this.replaying || this.added.has(id)) return;
    this.added.add(id);
    this.delta++;
    this.changed();
  }

  /** `n` captures deleted or pushed out. */
  removed(n: number): void {
    if (n <= 0) return;
    this.delta -= n;
    this.changed();
  }

  /** Every capture deleted (a clear). */
  cleared(): void {
    if (this.inFlight) this.voided = true;
    this.base = 0;
    this.delta = 0;
    this.added.clear();
    this.changed();
  }

  /** Read the bin again soon (a (re)subscribe replayed what came meanwhile). */
  resync(): void {
    this.dirty = true;
    this.plan();
  }

  /** A (re)subscribe was sent: what is announced until it answers is its replay, not counted one by one. */
  joining(): void {
    this.replaying = true;
  }

  /** The (re)subscribe answered (or failed): read the bin now, for what its replay held and what the events missed. */
  joined(): void {
    this.replaying = false;
    this.urgent = true;
    this.dirty = true;
    this.plan();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private changed(): void {
    this.o.onChange();
    this.resync();
  }

  private plan(): void {
    if (this.stopped || this.timer || this.inFlight || !this.dirty) return;
    const wait = this.urgent ? 0 : Math.max(0, this.lastSentAt + this.interval - this.now());
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.readNow();
    }, wait);
  }

  private async readNow(): Promise<void> {
    if (this.stopped) return;
    this.dirty = false;
    this.urgent = false;
    this.inFlight = true;
    this.voided = false;
    this.lastSentAt = this.now();
    // The events so far are in what the read answers; those from now on may not be.
    this.base = this.base === null ? null : this.base + this.delta;
    this.delta = 0;
    this.added.clear();
    let n: number | null = null;
    let giveUp: ReturnType<typeof setTimeout> | undefined;
    const abort = new AbortController();
    try {
      // Raced against a timeout: a read that never settles would keep `inFlight` set, so no
      // read planned again (and `added`, cleared per read, growing with every event). Once the
      // race is settled, a late answer (or error) of the read goes nowhere; the request itself
      // is ended (left open, hung reads would take the browser's few connections to the server).
      n = await Promise.race([
        this.o.read(abort.signal),
        new Promise<null>((resolve) => {
          giveUp = setTimeout(() => {
            abort.abort();
            resolve(null);
          }, this.readTimeout);
        }),
      ]);
    } catch {
      n = null;
    } finally {
      clearTimeout(giveUp);
    }
    this.inFlight = false;
    if (this.stopped) return;
    if (n !== null && !this.voided) {
      this.base = n;
      this.o.onChange();
    }
    this.voided = false;
    this.plan();
  }
}
