// Which of a bin's captures are unread, and how many: those that arrived after the page
// opened (or after "Mark all read"), less those opened and those gone. It is about the bin's
// captures, not the list's rows: the same whatever the filter, and whatever rows the list keeps
// in memory (a busy bin's list is trimmed, older rows paged again on scroll). Ids sort by
// arrival, so memory stays bounded: a watermark (every id above it arrived since), the ids
// opened above it, and the ids counted lately (an id announced twice counts once). Pure.

/** Ids counted lately, kept to tell a repeat; past twice this the older half is forgotten. */
const RECENT = 4096;

export class Unread {
  private started = false;
  /** Captures with an id above this arrived since the page opened, or since all were read. */
  private from = '';
  private n = 0;
  /** Ids above `from` opened (read). */
  private opened = new Set<string>();
  private recent = new Set<string>();
  /** Ids under this were forgotten by `recent`: too old to tell, so not counted again. */
  private recentFloor = '';
  /**
   * Ids above `from` gone (deleted, pushed out) lately: a second word of the same one (the live
   * event, then a reconnect's read) takes nothing more. Bounded as `recent` is.
   */
  private goneIds = new Set<string>();
  /** The newest id counted. */
  private top = '';
  /** Bumped on every change (the page re-renders on it). */
  version = 0;

  get count(): number {
    return this.n;
  }

  /** Counting starts above `newest`, the bin's newest capture as the page read it ('' when empty). Once. */
  start(newest: string): void {
    if (this.started) return;
    this.started = true;
    this.from = newest;
    this.top = newest;
    this.version++;
  }

  get isStarted(): boolean {
    return this.started;
  }

  /** A capture announced live (or replayed after a reconnect). True when it counted. */
  arrived(id: string): boolean {
    if (!this.started || id <= this.from || id < this.recentFloor || this.recent.has(id) || this.goneIds.has(id)) return false;
    this.remember(id);
    this.n++;
    this.version++;
    return true;
  }

  /** Counted: a later word of it (a live event after a read that counted it) is a repeat. */
  private remember(id: string): void {
    this.recent.add(id);
    if (this.recent.size > 2 * RECENT) {
      const kept = [...this.recent].sort().slice(-RECENT);
      this.recent = new Set(kept);
      this.recentFloor = kept[0];
    }
    if (id > this.top) this.top = id;
  }

  has(id: string): boolean {
    return this.started && id > this.from && !this.opened.has(id) && !this.goneIds.has(id);
  }

  /** Opened: read. True when it was unread. */
  read(id: string): boolean {
    if (!this.has(id)) return false;
    this.opened.add(id);
    this.n = Math.max(0, this.n - 1);
    this.version++;
    return true;
  }

  /** Deleted or pushed out: an unread one no longer counts. */
  gone(ids: Iterable<string>): void {
    let changed = false;
    for (const id of ids) {
      if (!this.started || id <= this.from || this.goneIds.has(id)) continue;
      // Remembered as gone, opened or not: said twice (the live event, then a reconnect's
      // read), it must not take one more off.
      this.goneIds.add(id);
      if (this.opened.delete(id)) continue;
      this.n = Math.max(0, this.n - 1);
      changed = true;
    }
    if (this.goneIds.size > 2 * RECENT) this.goneIds = new Set([...this.goneIds].sort().slice(-RECENT));
    if (changed) this.version++;
  }

  /** Everything up to the newest seen is read (or gone: a clear). */
  allRead(newestSeen = ''): void {
    if (newestSeen > this.top) this.top = newestSeen;
    if (this.top > this.from) this.from = this.top;
    this.n = 0;
    this.opened.clear();
    for (const id of this.goneIds) if (id <= this.from) this.goneIds.delete(id);
    this.version++;
  }

  /** The bin holds only `stored` captures: no more of them can be unread. */
  atMost(stored: number): void {
    if (this.n <= stored) return;
    this.n = Math.max(0, stored);
    this.version++;
  }

  /** The ids of every capture stored above the watermark are known (a complete read): counted exactly. */
  recount(storedIds: Iterable<string>): void {
    let n = 0;
    const opened = new Set<string>();
    for (const id of storedIds) {
      if (id <= this.from || this.goneIds.has(id)) continue;
      if (this.opened.has(id)) opened.add(id);
      else n++;
      // Counted here: its live event, if it comes after this read, is a repeat.
      this.remember(id);
    }
    this.opened = opened;
    if (n !== this.n) this.version++;
    this.n = n;
  }

  /** Does a newest-first run of stored ids that ends at `tail` (or at the bin's oldest) reach down past the watermark? */
  covers(tail: string | null, complete: boolean): boolean {
    return this.started && (complete || (tail !== null && tail <= this.from));
  }
}
