// Wrong access tokens per client IP: the login form, Bearer/cookie checks on the API and
// Socket.IO handshakes are one guessing game, so they share one count. After `limit` failures
// in a window (a minute), that IP gets 429 until the window is over. Pure: time is passed in.
// Memory is bounded: at most `maxIps` addresses are tracked; a new one drops the oldest.
// The same wrong token again counts once: a tab left open after AUTH_TOKEN changed sends its
// old cookie on every poll, and locked its whole address out (the new token refused too) while
// guessing nothing. A guess is a new value: each counts.

/** Wrong values remembered per address: past this many, each new one counts anyway. */
const SEEN_PER_IP = 16;

export class AuthFailureLimiter {
  // Map order is insertion order, and an entry is (re)inserted when its window starts: the
  // first key is always the oldest window.
  private readonly byIp = new Map<string, { start: number; count: number; seen: Set<string> }>();

  constructor(
    private readonly limit: number,
    private readonly windowMs = 60_000,
    private readonly maxIps = 10_000,
  ) {}

  /** Seconds until `ip` may try again (for Retry-After); 0 when it may now. */
  retryAfterSeconds(ip: string, now: number): number {
    const e = this.current(ip, now);
    if (!e || e.count < this.limit) return 0;
    return Math.max(1, Math.ceil((e.start + this.windowMs - now) / 1000));
  }

  /** Count one wrong token from `ip`; `value` (a digest of it) counts once per window. */
  fail(ip: string, now: number, value?: string): void {
    let e = this.current(ip, now);
    if (!e) {
      if (this.byIp.size >= this.maxIps) this.byIp.delete(this.byIp.keys().next().value!);
      e = { start: now, count: 0, seen: new Set() };
      this.byIp.set(ip, e);
    }
    if (value !== undefined) {
      if (e.seen.has(value)) return;
      if (e.seen.size < SEEN_PER_IP) e.seen.add(value);
    }
    e.count++;
  }

  /** Addresses tracked now (for tests). */
  get size(): number {
    return this.byIp.size;
  }

  private current(ip: string, now: number) {
    const e = this.byIp.get(ip);
    if (e && now - e.start >= this.windowMs) {
      this.byIp.delete(ip);
      return undefined;
    }
    return e;
  }
}
