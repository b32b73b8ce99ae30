import { Router } from 'express';
import type { ApiContext } from './context.ts';
import { getBinOr404 } from './bins.ts';

export function responseRouter(ctx: ApiContext): Router {
  const r = Router();

  r.get('/bins/:id/response', async (req, res) => {
    const bin = await getBinOr404(ctx, req.params.id);
    res.json(ctx.control.view(bin.id));
  });

  r.put('/bins/:id/response', async (req, res) => {
    const bin = await getBinOr404(ctx, req.params.id);
    res.json(await ctx.control.set(bin.id, req.body));
  });

  r.post('/bins/:id/response/reset', async (req, res) => {
    const bin = await getBinOr404(ctx, req.params.id);
    res.json(await ctx.control.reset(bin.id));
  });

  return r;
}
