// Settings writes to one resource (a bin's signature settings, forward targets or response
// settings; a webhook), one at a time across every instance on the same Redis. Each instance
// lines its own writes up already (lib/keyed-queue.ts); in its turn a write also holds the
// resource's lock here (<p>lock:<resource>, a random token, expiring), reads the resource from
// the store again and only then checks If-Match and applies. Without it, two instances could
// each pass their If-Match check at the same instant and both apply, the second silently
// replacing the first.
//
// The lock expires (ttlMs) so that an instance that dies holding it does not block the
// resource; a write whose holder stalls past that (a pause longer than the ttl) may overlap
// the next one. Released only by its holder (the token), so a late release cannot free
// another instance's lock.
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';

/**
 * Take the lock if free. One found without an expiry (not one of ours: set by hand, or kept by
 * a restore) is given one, so that it frees in time. KEYS: lock. ARGV: token, ttl. Answers 1 when taken.
 */
const TAKE = `
if redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2], 'NX') then return 1 end
if redis.call('PTTL', KEYS[1]) == -1 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
`;

/** Delete the lock if it is still ours. KEYS: lock. ARGV: token. */
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

/** How long a lock lives unreleased: a write holds it for a few round trips; an instance that died holding it blocks the resource this long. */
export const SETTINGS_LOCK_TTL_MS = 10_000;

type LockClient = Redis & {
  hooklabSettingsLock(lock: string, token: string, ttl: number): Promise<number>;
  hooklabSettingsUnlock(lock: string, token: string): Promise<number>;
};

/** The lock stayed taken longer than a write waits for it (the store's lock, not this instance's line). */
export class SettingsLockBusyError extends Error {}

export interface SettingsLockOptions {
  client: Redis;
  prefix: string;
  /** Runs commands, classifying Redis faults (RedisConnection.run: a fault is loud, and a 503). */
  run: <T>(fn: () => Promise<T>) => Promise<T>;
  /** How long a lock lives unreleased (a holder that died frees it after this). */
  ttlMs: number;
  /** How long a write waits for a lock another instance holds, then busy (503, retry). */
  waitMs: number;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

export class SettingsLock {
  private readonly client: LockClient;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly now: () => number;

  constructor(private readonly o: SettingsLockOptions) {
    const c = o.client as LockClient;
    c.defineCommand('hooklabSettingsLock', { numberOfKeys: 1, lua: TAKE });
    c.defineCommand('hooklabSettingsUnlock', { numberOfKeys: 1, lua: RELEASE });
    this.client = c;
    this.sleep = o.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    this.now = o.now ?? Date.now;
  }

  private key(resource: string) {
    return `${this.o.prefix}lock:${resource}`;
  }

  /**
   * Run `fn` holding the resource's lock. `patient`: a removal or the dispatcher's own change,
   * which should not be refused: it waits up to three times the lock's ttl (a lock frees within
   * one), then is busy too, rather than wait for good behind a stream of changes.
   */
  async hold<T>(resource: string, fn: () => Promise<T>, patient = false): Promise<T> {
    const key = this.key(resource);
    const token = randomUUID();
    const waitMs = patient ? 3 * this.o.ttlMs : this.o.waitMs;
    const giveUpAt = this.now() + waitMs;
    // Short waits first: a write holds it for a few round trips.
    for (let wait = 5; ; wait = Math.min(wait * 2, 100)) {
      if ((await this.o.run(() => this.client.hooklabSettingsLock(key, token, this.o.ttlMs))) === 1) break;
      if (this.now() + wait > giveUpAt) {
        throw new SettingsLockBusyError(`another instance is changing this right now (waited ${patient ? `${waitMs / 1000} s` : 'SETTINGS_LOCK_WAIT_MS'})`);
      }
      await this.sleep(wait);
    }
    try {
      return await fn();
    } finally {
      // Sent at once and not awaited: the answer need not wait for it, and this instance's next
      // SET goes after it on the same connection. Not through `run`: a fault noticed meanwhile
      // (a slow probe) must not skip it, leaving the lock to expire; one that fails does expire.
      this.client.hooklabSettingsUnlock(key, token).catch(() => {});
    }
  }
}
