// A bin's signature settings (secrets write-only), and its captures grouped by idempotency key.
import { type Request, type Response, Router } from 'express';
import { type KeyGroupsT, type VerifyPutAnswerT, VerifySettingsPut, type VerifySettingsT } from '../../shared/schema/verify.ts';
import { parse } from '../http/parse.ts';
import { keepsSavedSecrets, requireOneEtag, resolveKeptSecrets } from '../verify/kept-secrets.ts';
import { getBinOr404 } from './bins.ts';
import { verifyEtag, verifyView } from './settings-etags.ts';
import type { ApiContext } from './context.ts';
import { inTurn, settingsKey, type Turn } from './settings-writes.ts';

export function verifyRouter(ctx: ApiContext): Router {
  const r = Router();
  const viewOf = (binId: string) => verifyView(ctx, binId);
  const etagFor = (binId: string) => verifyEtag(ctx, binId);

  r.get('/bins/:id/verify', async (req, res) => {
    const bin = await getBinOr404(ctx, req.params.id);
    res.setHeader('etag', etagFor(bin.id));
    res.json(viewOf(bin.id));
  });

  // Writes one at a time per bin: each checks If-Match against what the one before stored.
  // (Not their re-checks: a newer write stops an older one's, see Verifier.)
  const turn = (req: Request, res: Response, binId: string): Turn => ({
    key: settingsKey.verify(binId),
    req,
    res,
    etag: () => etagFor(binId),
    stillThere: () => getBinOr404(ctx, binId),
    refresh: () => ctx.verifier.reload(binId),
  });

  r.put('/bins/:id/verify', async (req, res) => {
    const bin = await getBinOr404(ctx, req.params.id);
    const saved = await inTurn(ctx, turn(req, res, bin.id), async () => {
      const input = parse(VerifySettingsPut, req.body);
      // Saved secrets kept by reference ({"keep": …}) are resolved against the settings the
      // If-Match ETag named, which inTurn found current: nothing awaited since, so these are
      // the settings it checked.
      let settings: VerifySettingsT;
      if (keepsSavedSecrets(input)) {
        requireOneEtag(req.headers['if-match']);
        settings = resolveKeptSecrets(input, ctx.verifier.get(bin.id));
      } else settings = input as VerifySettingsT;
      // Settings naming no scheme and no idempotency field turn checks off, as DELETE does.
      await ctx.verifier.save(bin.id, settings);
      const etag = etagFor(bin.id);
      ctx.live.settingsChanged(bin.id, 'verify', etag);
      return { view: viewOf(bin.id), etag };
    });
    const recheck = await ctx.verifier.recheckAfterChange(bin.id);
    res.setHeader('etag', saved.etag);
    const answer: VerifyPutAnswerT = { ...saved.view, ...recheck };
    res.json(answer);
  });

  r.delete('/bins/:id/verify', async (req, res) => {
    const bin = await getBinOr404(ctx, req.params.id);
    await inTurn(ctx, turn(req, res, bin.id), async () => {
      await ctx.verifier.save(bin.id, null);
      ctx.live.settingsChanged(bin.id, 'verify', etagFor(bin.id));
    });
    // Off: the re-check drops the badges. One that fails is tried again (see recheckAfterChange).
    await ctx.verifier.recheckAfterChange(bin.id);
    res.status(204).end();
  });

  r.get('/bins/:id/idempotency', async (req, res) => {
    const bin = await getBinOr404(ctx, req.params.id);
    const g = await ctx.binAttempts.of(bin.id);
    const at = (id: string) => g.receivedAt.get(id) ?? '';
    const answer: KeyGroupsT = {
      groups: g.groups.map((x) => ({ key: x.key, ids: x.ids, firstAt: at(x.ids[0]), latestAt: at(x.ids[x.ids.length - 1]) })),
      keyChurn: g.keyChurn,
      unkeyed: g.unkeyed,
    };
    res.json(answer);
  });

  return r;
}
