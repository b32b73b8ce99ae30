// The revision (ETag) of each of a bin's settings resources, as their GETs send it. One place, so
// the routers' answers, their live announcements and what a viewer is told on joining agree.
import type { StoredForward } from '../store/types.ts';
import { etagOf } from '../http/etag.ts';
import { settingsView } from '../verify/index.ts';
import type { ApiContext } from './context.ts';

/** A bin's forward settings as answered (none: no targets, the bin answers). */
export const forwardView = (f: StoredForward | undefined) => ({ targets: f?.targets ?? [], answerWith: f?.answerWith ?? ('bin' as const) });

/** A bin's signature settings as answered (secrets shown by hint only). */
export function verifyView(ctx: Pick<ApiContext, 'verifier'>, binId: string) {
  const s = ctx.verifier.get(binId);
  return s ? settingsView(s) : { schemes: [] };
}

export const forwardEtag = (ctx: Pick<ApiContext, 'forwarder'>, binId: string) => etagOf(forwardView(ctx.forwarder.settingsOf(binId)));
// The view hides secrets (two can show the same hint): the revision tells writes apart.
export const verifyEtag = (ctx: Pick<ApiContext, 'verifier'>, binId: string) => etagOf({ view: verifyView(ctx, binId), rev: ctx.verifier.revisionOf(binId) });
// The settings only, not the plan's position (which moves with every request).
export const responseEtag = async (ctx: Pick<ApiContext, 'control'>, binId: string) => etagOf((await ctx.control.view(binId)).config);
