// Body searches take turns. A search over compressed bodies may inflate 1 MiB per capture, so
// its CPU work (matching bodies) runs in slices of at most SEARCH_SLICE_MS of wall time, and
// the event loop gets a turn between them. Yielding alone did not bound the wait when many ran
// at once: each ran its slice in the same turn of the loop (30 searches held a health check
// 2.1 s). Here one search holds the slice at a time, and the next gets it on the loop's next
// turn (setImmediate): at most one slice per turn, whatever the number of searches, in turn.
// Store reads are outside the turn: while others wait, the slice is handed on after each body
// (one match per turn of the loop), so no search holds it through its reads; alone, a search
// keeps it until the slice runs out, in work or in reads (see check).

/** A search's slice of the event loop, in wall time (CPU and the holder's reads). */
export const SEARCH_SLICE_MS = 20;

/** The searches waiting past this many, a new one is refused (see SearchTurns.join). */
export class SearchesFullError extends Error {}

export interface SearchTurnsOptions {
  /** Searches under way at once (holding or waiting); past it, join() throws SearchesFullError. */
  max?: number;
  sliceMs?: number;
  now?: () => number;
}

export class SearchTurns {
  private holder: object | null = null;
  private sliceStart = 0;
  /** A hand-on is scheduled: the slice goes to the first waiting on the loop's next turn. */
  private handing = false;
  private readonly waiting: { who: object; go: () => void }[] = [];
  private readonly members = new Set<object>();
  private readonly max: number;
  private readonly sliceMs: number;
  private readonly now: () => number;

  constructor(o: SearchTurnsOptions = {}) {
    this.max = o.max ?? Infinity;
    this.sliceMs = o.sliceMs ?? SEARCH_SLICE_MS;
    this.now = o.now ?? (() => performance.now());
  }

  /** A new search: its token, for work() and leave(). */
  join(): object {
    if (this.members.size >= this.max) throw new SearchesFullError(`${this.members.size} body searches are under way`);
    const who = {};
    this.members.add(who);
    return who;
  }

  /** Searches under way (holding, waiting, or reading between slices). */
  get size(): number {
    return this.members.size;
  }

  /** Searches waiting for the slice. */
  get queued(): number {
    return this.waiting.length;
  }

  /**
   * Run a piece of CPU work (one body matched) in this search's slice, waiting for the slice
   * first if another holds it. Null (not run) when `gone()` says so once its turn came.
   */
  async work<T>(who: object, fn: () => T, gone?: () => boolean): Promise<T | null> {
    if (this.holder !== who) {
      if (this.holder === null && !this.handing && !this.waiting.length) this.hold(who);
      else await new Promise<void>((go) => this.waiting.push({ who, go }));
      if (gone?.()) return null;
    }
    try {
      return fn();
    } finally {
      // Others waiting: handed on now, so that this one's next reads do not hold them (reads
      // of searches on Redis overlap). Alone: kept until the slice runs out.
      if (this.waiting.length && this.holder === who) {
        this.holder = null;
        this.handOn();
      } else this.check(who);
    }
  }

  /** The holder's slice ran out (in work or in reads since): hand it on. */
  check(who: object): void {
    if (this.holder === who && this.now() - this.sliceStart > this.sliceMs) {
      this.holder = null;
      this.handOn();
    }
  }

  /** The search is done (ended, failed or given up): it holds nothing and waits for nothing. */
  leave(who: object): void {
    this.members.delete(who);
    const i = this.waiting.findIndex((w) => w.who === who);
    if (i !== -1) this.waiting.splice(i, 1);
    if (this.holder === who) {
      this.holder = null;
      if (this.waiting.length) this.handOn();
    }
  }

  private hold(who: object) {
    this.holder = who;
    this.sliceStart = this.now();
  }

  private handOn() {
    if (this.handing) return;
    this.handing = true;
    setImmediate(() => {
      this.handing = false;
      if (this.holder !== null) return;
      const next = this.waiting.shift();
      if (!next) return;
      this.hold(next.who);
      next.go();
    });
  }
}
