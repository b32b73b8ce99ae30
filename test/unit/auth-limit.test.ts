// Wrong-token limit per client IP (server/http/auth-limit.ts): time is passed in, so a
// minute passes without sleeping.
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../server/config.ts';
import { AuthFailureLimiter } from '../../server/http/auth-limit.ts';

const T0 = 1_700_000_000_000;

describe('AuthFailureLimiter', () => {
  it('allows `limit` failures in a minute, then asks to wait until the minute is over', () => {
    const l = new AuthFailureLimiter(10);
    for (let i = 0; i < 10; i++) {
      expect(l.retryAfterSeconds('1.2.3.4', T0 + i * 1000), `before failure ${i + 1}`).toBe(0);
      l.fail('1.2.3.4', T0 + i * 1000);
    }
    expect(l.retryAfterSeconds('1.2.3.4', T0 + 10_000)).toBe(50);
    expect(l.retryAfterSeconds('1.2.3.4', T0 + 59_001)).toBe(1);
    expect(l.retryAfterSeconds('1.2.3.4', T0 + 60_000)).toBe(0);
    // A new window: ten more.
    l.fail('1.2.3.4', T0 + 60_000);
    expect(l.retryAfterSeconds('1.2.3.4', T0 + 60_001)).toBe(0);
  });

  it('counts the same wrong value once per window; each new value counts', () => {
    const l = new AuthFailureLimiter(2);
    for (let i = 0; i < 50; i++) l.fail('a', T0 + i, 'stale');
    expect(l.retryAfterSeconds('a', T0 + 50)).toBe(0);
    l.fail('a', T0 + 51, 'guess-1');
    expect(l.retryAfterSeconds('a', T0 + 52)).toBe(60);
    // A new window forgets what was seen: the stale value counts once more.
    l.fail('a', T0 + 60_000, 'stale');
    l.fail('a', T0 + 60_001, 'stale');
    expect(l.retryAfterSeconds('a', T0 + 60_002)).toBe(0);
  });

  it('counts each IP on its own', () => {
    const l = new AuthFailureLimiter(2);
    l.fail('a', T0);
    l.fail('a', T0);
    expect(l.retryAfterSeconds('a', T0)).toBe(60);
    expect(l.retryAfterSeconds('b', T0)).toBe(0);
    expect(l.retryAfterSeconds('::1', T0)).toBe(0);
  });

  it('never answers less than one second while blocked', () => {
    const l = new AuthFailureLimiter(1, 60_000);
    l.fail('a', T0);
    expect(l.retryAfterSeconds('a', T0 + 59_999)).toBe(1);
  });

  it('keeps at most maxIps addresses, dropping the oldest window first', () => {
    const l = new AuthFailureLimiter(1, 60_000, 3);
    l.fail('a', T0);
    l.fail('b', T0 + 1);
    l.fail('c', T0 + 2);
    expect(l.size).toBe(3);
    l.fail('d', T0 + 3);
    expect(l.size).toBe(3);
    expect(l.retryAfterSeconds('a', T0 + 4)).toBe(0); // forgotten
    for (const ip of ['b', 'c', 'd']) expect(l.retryAfterSeconds(ip, T0 + 4), ip).toBeGreaterThan(0);
    for (let i = 0; i < 10_000; i++) l.fail(`10.0.${i >> 8}.${i & 255}`, T0 + 5);
    expect(l.size).toBe(3);
  });

  it('an expired window is dropped when next seen', () => {
    const l = new AuthFailureLimiter(1, 60_000, 10);
    l.fail('a', T0);
    expect(l.retryAfterSeconds('a', T0 + 60_000)).toBe(0);
    expect(l.size).toBe(0);
  });
});

describe('AUTH_FAILURES_PER_MINUTE', () => {
  it('defaults to 10 and is read from the environment', () => {
    expect(loadConfig({}).authFailuresPerMinute).toBe(10);
    expect(loadConfig({ AUTH_FAILURES_PER_MINUTE: '3' }).authFailuresPerMinute).toBe(3);
  });

  it.each(['0', '-1', 'many', '1.5'])('refuses %j', (v) => {
    expect(() => loadConfig({ AUTH_FAILURES_PER_MINUTE: v })).toThrow(ConfigError);
    expect(() => loadConfig({ AUTH_FAILURES_PER_MINUTE: v })).toThrow(/AUTH_FAILURES_PER_MINUTE must be an integer/);
  });
});
