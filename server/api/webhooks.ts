import { Router } from 'express';
import { applyWebhookInput, parseWebhookInput, webhookView } from '../dispatch/webhook-input.ts';
import { notFound } from '../http/errors.ts';
import { newId } from '../ids.ts';
import { iso } from '../time.ts';
import type { ApiContext } from './context.ts';

export function webhooksRouter(ctx: ApiContext): Router {
  const r = Router();

  const getOr404 = async (id: string) => {
    const w = await ctx.store.webhooks.get(id);
    if (!w) throw notFound('webhook');
    return w;
  };

  r.get('/webhooks', async (_req, res) => {
    res.json({ webhooks: (await ctx.store.webhooks.list()).map(webhookView) });
  });

  r.post('/webhooks', async (req, res) => {
    const input = parseWebhookInput(req.body, false);
    const w = applyWebhookInput(null, input, newId('wh'), iso(ctx.now()));
    await ctx.store.webhooks.put(w);
    res.status(201).location(`/api/webhooks/${w.id}`).json(webhookView(w));
  });

  r.get('/webhooks/:id', async (req, res) => {
    res.json(webhookView(await getOr404(req.params.id)));
  });

  r.patch('/webhooks/:id', async (req, res) => {
    const prev = await getOr404(req.params.id);
    const input = parseWebhookInput(req.body, true);
    const w = applyWebhookInput(prev, input, prev.id, iso(ctx.now()));
    await ctx.store.webhooks.put(w);
    if (prev.enabled && !w.enabled) await ctx.dispatcher.cancelFor(w.id, 'webhook_disabled');
    res.json(webhookView(w));
  });

  r.delete('/webhooks/:id', async (req, res) => {
    const w = await getOr404(req.params.id);
    await ctx.store.webhooks.delete(w.id);
    await ctx.dispatcher.cancelFor(w.id, 'webhook_deleted');
    res.status(204).end();
  });

  r.post('/webhooks/:id/test', async (req, res) => {
    await getOr404(req.params.id);
    res.json(await ctx.dispatcher.fireTest(req.params.id));
  });

  return r;
}
