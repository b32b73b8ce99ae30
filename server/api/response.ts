import { Router } from 'express';
import type { ResponseCheckAnswer } from '../../shared/api.ts';
import { responseLimitsOf } from '../config.ts';
import { parseResponseConfig } from '../control/validate.ts';
import { etagOf, sendSettingsView } from '../http/etag.ts';
import type { ApiContext } from './context.ts';
import { getBinOr404 } from './bins.ts';
import { responseEtag } from './settings-etags.ts';
import { inTurn, settingsKey } from './settings-writes.ts';

export function responseRouter(ctx: ApiContext): Router {
  const r = Router();

  // The ETag covers the settings, not the plan's position (which moves with every request):
  // If-Match needs no reload per request, and a GET is never answered 304 (sendSettingsView).
  r.get('/bins/:id/response', async (req, res) => {
    const bin = await getBinOr404(ctx, req.params.id);
    const view = await ctx.control.view(bin.id);
    sendSettingsView(req, res, etagOf(view.config), view);
  });

  r.put('/bins/:id/response', async (req, res) => {
    const bin = await getBinOr404(ctx, req.params.id);
    // One write at a time per bin: each checks If-Match against what the one before stored.
    const turn = { key: settingsKey.response(bin.id), req, res, etag: () => responseEtag(ctx, bin.id), stillThere: () => getBinOr404(ctx, bin.id), refresh: () => ctx.control.refresh?.(bin.id) ?? Promise.resolve() };
    await inTurn(ctx, turn, async () => {
      const view = await ctx.control.set(bin.id, req.body);
      // Tabs open on these settings reload them, or show the conflict if they hold edits.
      ctx.live.settingsChanged(bin.id, 'response', etagOf(view.config));
      res.setHeader('etag', etagOf(view.config));
      res.json(view);
    });
  });

  // Checked as a PUT checks them, nothing saved: the form shows the server's every refusal with
  // its own (a header line it cannot read), rather than one round of each.
  r.post('/bins/:id/response/check', async (req, res) => {
    await getBinOr404(ctx, req.params.id);
    parseResponseConfig(req.body, responseLimitsOf(ctx.config), () => 0);
    const answer: ResponseCheckAnswer = { ok: true };
    res.json(answer);
  });

  r.post('/bins/:id/response/reset', async (req, res) => {
    const bin = await getBinOr404(ctx, req.params.id);
    res.json(await ctx.control.reset(bin.id));
  });

  return r;
}
