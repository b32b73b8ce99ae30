// Live-region news at a pace a screen reader can speak: a busy bin brings many captures a
// second, and one announcement each would drown everything else out. The first news is told
// at once; whatever comes within `intervalMs` after is told once, at the end of the interval,
// as `compose` sums it up then (e.g. "12 new requests"). A quiet interval resets the pace.

export interface Timers {
  now(): number;
  set(fn: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

const realTimers: Timers = {
  now: () => Date.now(),
  set: (fn, ms) => setTimeout(fn, ms),
  clear: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

/** A few seconds: the pace of the bin page's announcements. */
export const ANNOUNCE_INTERVAL_MS = 5000;

export class CalmAnnouncer {
  private lastSaid = -Infinity;
  private timer: unknown = null;

  /**
   * `compose`: the words for everything new since the last announcement, read when it is
   * made (null: nothing worth saying). `say`: puts them in the live region.
   */
  constructor(
    private readonly compose: () => string | null,
    private readonly say: (text: string) => void,
    private readonly intervalMs = ANNOUNCE_INTERVAL_MS,
    private readonly timers: Timers = realTimers,
  ) {}

  /** Something new happened. */
  poke(): void {
    if (this.timer !== null) return;
    const wait = this.lastSaid + this.intervalMs - this.timers.now();
    if (wait <= 0) this.fire();
    else this.timer = this.timers.set(() => {
      this.timer = null;
      this.fire();
    }, wait);
  }

  stop(): void {
    if (this.timer !== null) this.timers.clear(this.timer);
    this.timer = null;
  }

  private fire(): void {
    const text = this.compose();
    if (text === null) return;
    this.lastSaid = this.timers.now();
    this.say(text);
  }
}
