import { type Response, Router } from 'express';
import type { Bin } from '../../shared/api.ts';
import { RECEIVER_PREFIX } from '../../shared/api.ts';
import { BinInput, BinUpdate, slugWarning } from '../../shared/schema/bins.ts';
import { HttpError, notFound } from '../http/errors.ts';
import { parse } from '../http/parse.ts';
import { newBinId } from '../ids.ts';
import { ChangeNotRecordedError, type StoredBin } from '../store/types.ts';
import { iso } from '../time.ts';
import type { ApiContext } from './context.ts';
import { idleDeadline } from '../bins/idle.ts';
import { CASE_TWIN_REASON, caseTwin } from '../bins/id-case.ts';
import { settingsKey } from './settings-writes.ts';

export async function binView(ctx: ApiContext, b: StoredBin): Promise<Bin> {
  const stats = await ctx.store.requests.stats(b.id);
  const idleMs = ctx.config.binIdleMs;
  const deadline = idleMs ? idleDeadline({ id: b.id, createdAt: b.createdAt, lastRequestAt: stats.lastAt, activeAt: b.activeAt }, idleMs) : NaN;
  return {
    id: b.id,
    name: b.name,
    url: `${ctx.config.publicUrl}${RECEIVER_PREFIX}${b.id}`,
    createdAt: b.createdAt,
    requestCount: stats.count,
    maxRequests: ctx.config.maxRequestsPerBin,
    lastRequestAt: stats.lastAt,
    ...(b.labelFrom?.length ? { labelFrom: b.labelFrom } : {}),
    ...(Number.isFinite(deadline) ? { idleExpiresAt: iso(deadline) } : {}),
  };
}

/** The bin with these label sources (none: the field goes, back to the built-in rules). */
export function withLabelFrom(b: StoredBin, labelFrom: readonly string[] | null | undefined): StoredBin {
  const { labelFrom: _old, ...rest } = b;
  return labelFrom?.length ? { ...rest, labelFrom: [...labelFrom] } : rest;
}

export async function getBinOr404(ctx: ApiContext, id: string): Promise<StoredBin> {
  const b = await ctx.store.bins.get(id);
  if (!b) throw notFound('bin');
  return b;
}

/** Delete a bin with everything that hangs on it, and tell watchers (the API's DELETE, idle expiry). */
export async function removeBin(ctx: ApiContext, id: string): Promise<void> {
  await ctx.store.bins.delete(id);
  try {
    await dropSettings(ctx, id);
    // The bin's deletion is on disk already; its settings' too before the 204 (should this
    // fail, start-up drops them: see bins/orphan-settings.ts).
    await ctx.store.durable().catch(() => {});
  } catch (err) {
    // The bin is gone all the same (a store that takes deletions but no other write: Redis out
    // of memory). Its settings go when a bin is made with its id, or at the next start.
    ctx.log.warn("a deleted bin's settings could not be removed yet; they go when a bin is made with its id, or at the next start", { error: String(err) });
  } finally {
    // Whatever followed the deletion: watchers and waiters learn that the bin is gone.
    ctx.rateLimiter?.forget(id);
    ctx.live.binDeleted(id);
    ctx.waiters.binGone(id);
  }
}

/**
 * A bin's settings (answers, forward targets, signature checks) removed, each in its settings
 * line (see settings-writes.ts): a write under way ends first, then its settings go; one that
 * waited finds the bin gone (404).
 */
async function dropSettings(ctx: ApiContext, id: string): Promise<void> {
  const q = ctx.settingsWrites;
  // Each tried, whatever the others did; the first failure is then told.
  const done = await Promise.allSettled([
    q.run(settingsKey.response(id), () => ctx.control.remove(id), true),
    q.run(settingsKey.forward(id), () => ctx.forwarder.set(id, null), true),
    q.run(settingsKey.verify(id), () => ctx.verifier.forget(id), true),
  ]);
  const failed = done.find((d) => d.status === 'rejected');
  if (failed) throw failed.reason;
}

/** Settings a deleted bin with this id left (see removeBin): a new bin never inherits them. */
async function leftSettings(ctx: ApiContext, id: string): Promise<boolean> {
  const found = await Promise.all([ctx.store.responses.get(id), ctx.store.forwards.get(id), ctx.store.verifications.get(id)]);
  return found.some((x) => x !== undefined);
}

/**
 * A deletion the store could not record did not happen: 503 with Retry-After, saying so (not
 * the "kept in memory" of a change made but not yet on disk).
 */
export async function recordedOr503<T>(res: Response, deletion: Promise<T>): Promise<T> {
  try {
    return await deletion;
  } catch (err) {
    if (!(err instanceof ChangeNotRecordedError)) throw err;
    res.setHeader('retry-after', '5');
    throw new HttpError(503, 'storage_unavailable', err.message);
  }
}

export function binsRouter(ctx: ApiContext): Router {
  const r = Router();

  r.post('/bins', async (req, res) => {
    const { name, id: slug, labelFrom } = parse(BinInput, req.body ?? {});
    const id = slug ?? newBinId();
    const bin = withLabelFrom({ id, name: name || `Bin ${id.slice(0, 6)}`, createdAt: iso(ctx.now()) }, labelFrom);
    const twin = slug ? caseTwin(id, await ctx.store.bins.list()) : null;
    if (twin) throw new HttpError(409, 'bin_exists', `a bin with id "${twin}" exists already: ${CASE_TWIN_REASON}`, 'id');
    // A chosen id may be a deleted bin's whose settings stayed (see removeBin): they go before
    // the bin is made, so that no capture is answered with them.
    if (slug && !(await ctx.store.bins.get(id)) && (await leftSettings(ctx, id))) await dropSettings(ctx, id);
    // Checked and made in one step (on Redis, one script), so concurrent requests, here or on
    // other instances, cannot take one slug twice nor pass MAX_BINS.
    const made = await ctx.store.bins.create(bin, ctx.config.maxBins);
    if (made === 'exists') throw new HttpError(409, 'bin_exists', `a bin with id "${id}" exists already`, 'id');
    if (made === 'full') {
      throw new HttpError(409, 'too_many_bins', `at most ${ctx.config.maxBins} bins (MAX_BINS); delete one first${ctx.config.binIdleMs ? '' : ', or set BIN_IDLE_DAYS so that idle bins go by themselves'}`);
    }
    const warning = slug ? slugWarning(slug) : null;
    res.status(201).location(`/api/bins/${id}`).json({ ...(await binView(ctx, bin)), ...(warning ? { warnings: [warning] } : {}) });
  });

  r.get('/bins', async (_req, res) => {
    const bins = (await ctx.store.bins.list()).reverse();
    res.json({ bins: await Promise.all(bins.map((b) => binView(ctx, b))) });
  });

  r.get('/bins/:id', async (req, res) => {
    res.json(await binView(ctx, await getBinOr404(ctx, req.params.id)));
  });

  r.patch('/bins/:id', async (req, res) => {
    const bin = await getBinOr404(ctx, req.params.id);
    const { name, labelFrom } = parse(BinUpdate, req.body);
    let next: StoredBin = { ...bin, name: name || bin.name };
    if (labelFrom !== undefined) next = withLabelFrom(next, labelFrom);
    // Nothing changed: nothing to store or tell the other tabs.
    if (JSON.stringify(next) === JSON.stringify(bin)) return void res.json(await binView(ctx, bin));
    await ctx.store.bins.put(next);
    const view = await binView(ctx, next);
    ctx.live.binUpdated(view);
    res.json(view);
  });

  r.delete('/bins/:id', async (req, res) => {
    const bin = await getBinOr404(ctx, req.params.id);
    await recordedOr503(res, removeBin(ctx, bin.id));
    res.status(204).end();
  });

  return r;
}
