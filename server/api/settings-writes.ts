// A write to a bin's settings (signature settings, forward targets, response settings) or a
// webhook: If-Match checked, then applied, one at a time per resource (see KeyedQueue).
import type { Request, Response } from 'express';
import { checkIfMatch } from '../http/etag.ts';
import { HttpError } from '../http/errors.ts';
import { QueueFullError } from '../lib/keyed-queue.ts';
import type { ApiContext } from './context.ts';

export interface Turn {
  /** The resource's line (see settingsKey). */
  key: string;
  req: Request;
  res: Response;
  /** The resource's current ETag, for If-Match. */
  etag: () => string | Promise<string>;
  /** Throws (404) when the resource is gone. */
  stillThere: () => Promise<unknown>;
}

/**
 * Run `apply` in the resource's turn, after checking If-Match: once before joining the line (a
 * write already stale answers 412 at once, not after waiting) and again in its turn (the
 * writes before it may have changed what it names). `stillThere` runs first in its turn: a bin
 * deleted while the write waited is a 404, not settings written for no bin.
 */
export async function inTurn<T>(ctx: ApiContext, t: Turn, apply: () => Promise<T>): Promise<T> {
  checkIfMatch(t.req, await t.etag());
  try {
    return await ctx.settingsWrites.run(t.key, async () => {
      await t.stillThere();
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
