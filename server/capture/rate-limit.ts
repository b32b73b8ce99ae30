// Per-bin token bucket: `perSecond` requests a second on average, bursts up to one second's
// worth. Time is passed in, so it is exact under test.

export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  constructor(private readonly perSecond: number) {}

  take(key: string, now: number): boolean {
    const b = this.refill(key, now);
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  retryAfterSeconds(key: string, now: number): number {
    const b = this.refill(key, now);
    return Math.max(1, Math.ceil((1 - b.tokens) / this.perSecond));
  }

  forget(key: string) {
    this.buckets.delete(key);
  }

  private refill(key: string, now: number) {
    let b = this.buckets.get(key);
    if (!b) {
      b = { tokens: this.perSecond, at: now };
      this.buckets.set(key, b);
    }
    b.tokens = Math.min(this.perSecond, b.tokens + ((now - b.at) / 1000) * this.perSecond);
    b.at = now;
    return b;
  }
}
