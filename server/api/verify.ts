// A bin's signature settings (secrets write-only), and its captures grouped by idempotency key.
import { Router } from 'express';
import { VerifySettingsInput } from '../../shared/schema/verify.ts';
import { checkIfMatch, etagOf } from '../http/etag.ts';
import { parse } from '../http/parse.ts';
import { settingsView } from '../verify/index.ts';
import { getBinOr404 } from './bins.ts';
import type { ApiContext } from './context.ts';

export function verifyRouter(ctx: ApiContext): Router {
  const r = Router();
  const viewOf = (binId: string) => {
    const s = ctx.verifier.get(binId);
    return s ? settingsView(s) : { schemes: [] };
  };

  r.get('/bins/:id/verify', async (req, res) => {
    const bin = await getBinOr404(ctx, req.params.id);
    const v = viewOf(bin.id);
    res.setHeader('etag', etagOf(v));
    res.json(v);
  });

  r.put('/bins/:id/verify', async (req, res) => {
    const bin = await getBinOr404(ctx, req.params.id);
    checkIfMatch(req, etagOf(viewOf(bin.id)));
    const settings = parse(VerifySettingsInput, req.body);
    const rechecked = await ctx.verifier.set(bin.id, settings.schemes.length ? settings : null);
    const v = viewOf(bin.id);
    ctx.live.settingsChanged(bin.id, 'verify', etagOf(v));
    res.setHeader('etag', etagOf(v));
    res.json({ ...v, rechecked });
  });

  r.delete('/bins/:id/verify', async (req, res) => {
    const bin = await getBinOr404(ctx, req.params.id);
    await ctx.verifier.set(bin.id, null);
    ctx.live.settingsChanged(bin.id, 'verify', etagOf(viewOf(bin.id)));
    res.status(204).end();
  });

  r.get('/bins/:id/idempotency', async (req, res) => {
    const bin = await getBinOr404(ctx, req.params.id);
    const g = await ctx.binAttempts.of(bin.id);
    res.json({ groups: g.groups, keyChurn: g.keyChurn });
  });

  return r;
}
