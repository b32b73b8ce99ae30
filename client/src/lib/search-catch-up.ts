// Which new captures a filtered list must ask the server about (a filter on headers or the
// body cannot be checked on a row), and from where: one question at a time covers every
// capture from the oldest one not asked about yet. A question reads the matches newer than
// `after`, the newest capture announced before that oldest one (captures may be announced
// slightly out of order), so none is skipped and the server does not search a stretch twice.
// `after` is fixed when the capture is asked about: the ids announced since may be many
// (a burst during a slow search), and those kept to look it up later would no longer reach
// back to it.

/** Ids announced lately, kept to find where a question starts (see after()). */
const RECENT = 1024;

export interface Question {
  /** The oldest capture it covers. */
  low: string;
  /** Matches newer than this id; undefined: the whole bin. */
  after: string | undefined;
}

/** The lower start of two (undefined, the whole bin, is the lowest). */
const lower = (a: string | undefined, b: string | undefined) => (a === undefined || b === undefined ? undefined : a < b ? a : b);

export class SearchCatchUp {
  /** Announced ids, in arrival order, at most RECENT of them. */
  private recent: string[] = [];
  private pending: Question | null = null;

  /** The newest capture known before the live events began (undefined: none, or not read yet). */
  private floor: string | undefined;

  /** Until the first page was read (see setFloor): the oldest capture asked about meanwhile (a question covers all after it). */
  private beforeFloor: { low: string | null } | null = { low: null };

  /** The first page was read: its newest capture (undefined: it read empty). */
  setFloor(id: string | undefined): void {
    this.floor = id;
    const early = this.beforeFloor?.low ?? null;
    this.beforeFloor = null;
    if (early !== null) this.ask(early);
  }

  /** A capture arrived (matching the filter or not). */
  announce(id: string): void {
    this.recent.push(id);
    if (this.recent.length > RECENT) this.recent.splice(0, RECENT / 2);
  }

  /** A capture that only the server can match: the next question must cover it. */
  ask(id: string): void {
    // Before the first page there is no floor: a question would search the whole bin.
    if (this.beforeFloor) {
      if (this.beforeFloor.low === null || id < this.beforeFloor.low) this.beforeFloor.low = id;
      return;
    }
    if (this.pending && this.pending.low <= id) return;
    let after = this.floor;
    for (const r of this.recent) if (r < id && (after === undefined || r > after)) after = r;
    this.pending = this.pending ? { low: id, after: lower(after, this.pending.after) } : { low: id, after };
  }

  /** The question to ask now (what it covers is then no longer pending), or null. */
  take(): Question | null {
    const q = this.pending;
    this.pending = null;
    return q;
  }

  /** A question that could not be asked (offline): asked again, with whatever came since. */
  failed(q: Question): void {
    const p = this.pending;
    this.pending = p ? { low: p.low < q.low ? p.low : q.low, after: lower(p.after, q.after) } : q;
  }

  /** Is a question waiting? */
  get waiting(): boolean {
    return this.pending !== null;
  }
}
