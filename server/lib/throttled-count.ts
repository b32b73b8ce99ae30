// Events of one kind told in the log as a count, at most one line per interval, never a line
// each (a flood of them would flood the log). The first is told at once; later ones within the
// interval are summed and told when it ends, so the last burst before a quiet spell is told too.
// Time is real time (not the dispatcher's virtual clock): it paces a log for people.

export interface ThrottledCountOptions<D> {
  intervalMs: number;
  /** Writes one line: how many since the last line, and the detail of the latest of them. */
  write: (count: number, latest: D) => void;
  /** Injected for tests; Date.now by default. */
  now?: () => number;
}

export class ThrottledCount<D = undefined> {
  private unlogged = 0;
  private latest: D | undefined;
  private loggedAt: number | null = null;
  private timer: NodeJS.Timeout | null = null;
  private readonly now: () => number;

  constructor(private readonly o: ThrottledCountOptions<D>) {
    this.now = o.now ?? Date.now;
  }

  /** One more event: told now, or summed into the line at the end of the interval. */
  add(detail: D): void {
    this.unlogged++;
    this.latest = detail;
    if (this.timer) return;
    const wait = this.loggedAt === null ? 0 : this.loggedAt + this.o.intervalMs - this.now();
    if (wait <= 0) this.flush();
    else {
      this.timer = setTimeout(() => this.flush(), wait);
      // A pending line must not keep a stopping process alive (close() tells it).
      this.timer.unref();
    }
  }

  /** Tell what is not told yet, now (on close, so nothing counted goes untold). */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (!this.unlogged) return;
    const n = this.unlogged;
    const latest = this.latest as D;
    this.unlogged = 0;
    this.latest = undefined;
    this.loggedAt = this.now();
    this.o.write(n, latest);
  }
}
