// Reads of one thing made again and again (the start page's list of bins, every few seconds):
// a poll is skipped while a read is out, so reads do not pile up on a slow server; and an
// answer is applied only if no newer one was applied already (answers may come out of order)
// nor a change made here since its read was sent (it would undo that change). Pure.

export interface PollGuardOptions {
  /**
   * A read out longer than this no longer holds polls back (one that never settles would
   * stop them for good); its answer, if it comes, is still applied only if the newest.
   */
  staleAfterMs?: number;
  now?: () => number;
}

export const POLL_STALE_AFTER_MS = 30_000;

export class PollGuard {
  /** Reads sent so far: each read's number. */
  private sent = 0;
  /** Answers from reads numbered up to this one are not applied (older than what is shown). */
  private applied = 0;
  /** The newest read still out, and when it was sent. */
  private out: { seq: number; at: number; abort: AbortController } | null = null;
  private readonly staleAfter: number;
  private readonly now: () => number;

  constructor(o: PollGuardOptions = {}) {
    this.staleAfter = o.staleAfterMs ?? POLL_STALE_AFTER_MS;
    this.now = o.now ?? (() => Date.now());
  }

  /** A read is out (and not yet given up on): skip this poll. */
  get busy(): boolean {
    return this.out !== null && this.now() - this.out.at < this.staleAfter;
  }

  /**
   * Read now. `apply` gets the answer unless a newer one was applied, or `changed()` was
   * called, since this read was sent; `fail` gets an error unless a newer answer is shown.
   */
  run<T>(read: (signal: AbortSignal) => Promise<T>, apply: (value: T) => void, fail: (err: unknown) => void = () => {}): Promise<void> {
    const seq = ++this.sent;
    const abort = new AbortController();
    this.out = { seq, at: this.now(), abort };
    const settled = () => {
      if (this.out?.seq === seq) this.out = null;
    };
    let p: Promise<T>;
    try {
      p = read(abort.signal);
    } catch (err) {
      p = Promise.reject(err);
    }
    return p.then(
      (value) => {
        settled();
        if (seq <= this.applied) return;
        this.applied = seq;
        apply(value);
      },
      (err) => {
        settled();
        if (seq > this.applied) fail(err);
      },
    );
  }

  /** Read and apply, unless a read is out already. One out too long is ended first (left open, hung reads would take the browser's few connections to the server). */
  poll<T>(read: (signal: AbortSignal) => Promise<T>, apply: (value: T) => void, fail?: (err: unknown) => void): void {
    if (this.busy) return;
    this.out?.abort.abort();
    void this.run(read, apply, fail);
  }

  /** Changed here (a bin deleted): answers to reads sent before now are stale. */
  changed(): void {
    this.applied = this.sent;
  }
}
