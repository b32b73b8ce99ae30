// Body searches take turns. A search over compressed bodies may inflate 1 MiB per capture, so
// each runs in slices of at most SEARCH_SLICE_MS and gives the event loop a turn between them.
// Yielding alone did not bound the wait when many run at once: each ran its slice in the same
// turn of the loop (30 searches held a health check 2.1 s). Here one slice runs at a time, and
// the next is handed on with setImmediate: at most one slice per turn of the event loop,
// whatever the number of searches (which then each go slower, sharing it fairly).

export class SearchTurns {
  /** A search holds the turn, or one is handed on (its wake-up scheduled). */
  private held = false;
  private readonly waiting: (() => void)[] = [];

  /** Wait for a first turn. */
  take(): Promise<void> {
    if (!this.held) {
      this.held = true;
      return Promise.resolve();
    }
    return new Promise<void>((r) => this.waiting.push(r));
  }

  /** The holder's slice is over: it waits behind the others, and the first waiting goes on the loop's next turn. */
  pass(): Promise<void> {
    const mine = new Promise<void>((r) => this.waiting.push(r));
    setImmediate(() => this.wake());
    return mine;
  }

  /** The holder is done (ended, failed or given up). */
  release(): void {
    if (this.waiting.length) setImmediate(() => this.wake());
    else this.held = false;
  }

  /** Searches waiting for a turn. */
  get queued(): number {
    return this.waiting.length;
  }

  private wake() {
    const next = this.waiting.shift();
    if (next) next();
    else this.held = false;
  }
}
