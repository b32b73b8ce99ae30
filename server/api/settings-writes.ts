// A write to a bin's settings (signature settings, forward targets, response settings) or a
// webhook: If-Match checked, then applied, one at a time per resource (see KeyedQueue), and on
// Redis one at a time across the instances too (see cluster/settings-lock.ts).
import type { Request, Response } from 'express';
import type { SettingsLock } from '../cluster/settings-lock.ts';
import { checkIfMatch } from '../http/etag.ts';
import { HttpError } from '../http/errors.ts';
import { type KeyedQueue, QueueFullError } from '../lib/keyed-queue.ts';
import type { ApiContext } from './context.ts';

/** Each resource's line: this instance's, and with a lock (Redis) the cluster's. */
export class SettingsWrites {
  constructor(
    private readonly queue: KeyedQueue,
    private readonly lock: SettingsLock | null = null,
  ) {}

  get maxPerKey(): number {
    return this.queue.maxPerKey;
  }

  /** Other instances write the same settings: a write reads the resource again in its turn (see Turn.refresh). */
  get shared(): boolean {
    return this.lock !== null;
  }

  /** Run `fn` in `key`'s turn. `always`: never refused as busy (a removal, the dispatcher's own change). */
  run<T>(key: string, fn: () => Promise<T>, always = false): Promise<T> {
    const lock = this.lock;
    return this.queue.run(key, lock ? () => lock.hold(key, fn, always) : fn, always);
  }

  /** This instance's writes to `key` under way or waiting. */
  pending(key: string): number {
    return this.queue.pending(key);
  }
}

export interface Turn {
  /** The resource's line (see settingsKey). */
  key: string;
  req: Request;
  res: Response;
  /** The resource's current ETag, for If-Match. */
  etag: () => string | Promise<string>;
  /** Throws (404) when the resource is gone. */
  stillThere: () => Promise<unknown>;
  /**
   * Read the resource from the store again into this instance's copy (which `etag` reads), for
   * settings other instances write too: their change may not have reached this copy yet.
   */
  refresh?: () => Promise<unknown>;
}

/**
 * Run `apply` in the resource's turn, after checking If-Match: once before joining the line (a
 * write already stale answers 412 at once, not after waiting; not on Redis) and again in its turn (the
 * writes before it, here or on another instance, may have changed what it names: on Redis the
 * resource is read again first). `stillThere` runs first in its turn: a bin deleted while the
 * write waited is a 404, not settings written for no bin.
 */
export async function inTurn<T>(ctx: ApiContext, t: Turn, apply: () => Promise<T>): Promise<T> {
  // Shared settings: this instance's copy may not have heard of a change made elsewhere yet,
  // and an If-Match naming that change is current: only the check in turn, after the re-read, tells.
  if (!ctx.settingsWrites.shared) checkIfMatch(t.req, await t.etag());
  try {
    return await ctx.settingsWrites.run(t.key, async () => {
      await t.stillThere();
      if (ctx.settingsWrites.shared) await t.refresh?.();
      checkIfMatch(t.req, await t.etag());
      return apply();
    });
  } catch (err) {
    if (!(err instanceof QueueFullError)) throw err;
    t.res.setHeader('retry-after', '1');
    throw new HttpError(503, 'busy', `${ctx.settingsWrites.maxPerKey} changes to this are under way or waiting (MAX_WAITING_WRITES): retry shortly`);
  }
}

export const settingsKey = {
  verify: (binId: string) => `verify:${binId}`,
  forward: (binId: string) => `forward:${binId}`,
  response: (binId: string) => `response:${binId}`,
  webhook: (id: string) => `webhook:${id}`,
};
