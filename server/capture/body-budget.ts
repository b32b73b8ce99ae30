// MAX_BUFFERED_BYTES: body bytes held in memory at once, counting requests still being
// received, captures the store has not yet written, and proxied captures waiting for their
// target's answer. A request's bytes count as they arrive; one that announces more (its
// Content-Length, capped at MAX_BODY_BYTES) than there is room for is refused before its body.
// Announcing reserves nothing: 64 heads announcing 1 MiB and sending no body held the whole
// budget, so every sender to every bin got 503 until they timed out. Past the budget the
// receiver answers 503 with Retry-After, so a flood of slow or stalled uploads cannot grow memory, a disk that cannot
// keep up slows senders instead of filling RAM, and neither can a proxy target that is slow
// to answer (each proxied body is held, and copied to the forwarding thread, until it does).

export class BodyBudget {
  private receiving = 0;

  constructor(
    private readonly limit: number,
    /** Bytes captured but not yet on disk (the store's). */
    private readonly unwritten: () => number,
  ) {}

  /** Is there room for n more bytes now? (Nothing reserved.) */
  fits(n: number): boolean {
    return this.receiving + this.unwritten() + n <= this.limit;
  }

  /** Reserve n bytes; false (nothing reserved) when that would exceed the budget. */
  take(n: number): boolean {
    if (n > 0 && this.receiving + this.unwritten() + n > this.limit) return false;
    this.receiving += n;
    return true;
  }

  release(n: number): void {
    this.receiving -= n;
  }

  /** Bytes reserved by requests being received (and proxied ones waiting for their target). */
  get inFlight(): number {
    return this.receiving;
  }
}
