import { type Request, type Response, Router } from 'express';
import { resolveSchedule } from '../dispatch/schedule.ts';
import { scheduleRefusal } from '../dispatch/schedule-limit.ts';
import { applyWebhookInput, parseWebhookInput, webhookView as viewOf } from '../dispatch/webhook-input.ts';
import { HttpError, invalid, notFound } from '../http/errors.ts';
import type { ScheduleSettings, Webhook } from '../../shared/api.ts';
import type { StoredWebhook } from '../store/types.ts';
import { etagOf, sendSettingsView } from '../http/etag.ts';
import { newId } from '../ids.ts';
import { iso } from '../time.ts';
import type { ApiContext } from './context.ts';
import { inTurn, settingsKey, type Turn } from './settings-writes.ts';

/**
 * A webhook's revision: its settings, not the dispatcher's running notes on it (the failure
 * streak changes with every delivery and must not make an editor's save a conflict).
 */
export function webhookEtag(view: Webhook): string {
  // scheduleNote follows from the server's settings, not the webhook's.
  const { failing: _f, cancelling: _c, scheduleNote: _n, ...settings } = view;
  return etagOf(settings);
}

export function webhooksRouter(ctx: ApiContext): Router {
  const r = Router();
  const webhookView = (w: StoredWebhook) => viewOf(w, { schedule: ctx.config.schedule, maxAttempts: ctx.config.maxScheduleAttempts });

  const getOr404 = async (id: string) => {
    const w = await ctx.store.webhooks.get(id);
    if (!w) throw notFound('webhook');
    return w;
  };

  // Out of the settings' line, and not waited for past the store's writes: a delivery whose
  // attempt is under way (up to its timeout, 10 minutes at most) ends once that is recorded.
  // How many are left so: the answer and the live event say they are being cancelled.
  const cancel = async (id: string, reason: 'webhook_disabled' | 'webhook_deleted'): Promise<number> =>
    // null: another instance's dispatcher ends them; those still pending are the ones left.
    (await ctx.dispatcher.cancelFor(id, reason)) ?? (await ctx.store.deliveries.query({ webhookId: id, state: 'pending' })).length;

  r.get('/webhooks', async (_req, res) => {
    res.json({ webhooks: (await ctx.store.webhooks.list()).map(webhookView) });
  });

  // A URL the outbound rules keep the dispatcher from is refused when saved, as a forward
  // target is: every attempt would be "blocked", for up to 24 hours.
  const refuseUrl = (url: string | undefined) => {
    if (url === undefined) return;
    const v = ctx.outbound.checkUrl(new URL(url));
    if (!v.ok) throw new HttpError(400, 'invalid_field', `url: ${v.reason}`, 'url', [{ field: 'url', message: v.reason }]);
  };

  // Past MAX_SCHEDULE_ATTEMPTS a delivery would be cut short: refused when given. One stored
  // already is not refused for other changes, nor when sent back as it is (the console's form
  // sends it with every change: else such a webhook could not even be turned off).
  const refuseSchedule = (given: Partial<ScheduleSettings> | undefined, stored?: Partial<ScheduleSettings>) => {
    const resolve = (s: Partial<ScheduleSettings>) => resolveSchedule(ctx.config.schedule, s);
    const no = given && scheduleRefusal(resolve(given), given, ctx.config.maxScheduleAttempts, stored && resolve(stored));
    if (no) throw invalid(`schedule.${no.field}`, no.message);
  };

  r.post('/webhooks', async (req, res) => {
    const input = parseWebhookInput(req.body, false);
    refuseUrl(input.url);
    refuseSchedule(input.schedule);
    const w = applyWebhookInput(null, input, newId('wh'), iso(ctx.now()));
    // Each holds a secret, a schedule and its deliveries' history: a budget, as bins have,
    // checked and made in one step (concurrent requests cannot pass it; see Creatable).
    if ((await ctx.store.webhooks.create(w, ctx.config.maxWebhooks)) !== 'created') {
      throw new HttpError(409, 'too_many_webhooks', `at most ${ctx.config.maxWebhooks} webhooks (MAX_WEBHOOKS); delete one first`);
    }
    const view = webhookView(w);
    ctx.live.webhookChanged(view);
    res.status(201).location(`/api/webhooks/${w.id}`).setHeader('etag', webhookEtag(view)).json(view);
  });

  r.get('/webhooks/:id', async (req, res) => {
    const view = webhookView(await getOr404(req.params.id));
    // Its failure streak and cancellations are outside the ETag: see sendSettingsView.
    sendSettingsView(req, res, webhookEtag(view), view);
  });

  // Writes one at a time per webhook: each reads (and checks If-Match against) what the one
  // before stored, so none is lost. The dispatcher's own changes (its failure streak, disabling
  // it) take their turn in the same line (see DispatcherDeps.webhookTurn).
  const turn = (req: Request, res: Response): Turn => ({
    key: settingsKey.webhook(req.params.id as string),
    req,
    res,
    etag: async () => webhookEtag(webhookView(await getOr404(req.params.id as string))),
    stillThere: async () => {},
  });

  r.patch('/webhooks/:id', async (req, res) => {
    const { prev, w } = await inTurn(ctx, turn(req, res), async () => {
      const prev = await getOr404(req.params.id);
      const input = parseWebhookInput(req.body, true);
      refuseUrl(input.url);
      refuseSchedule(input.schedule, prev.schedule);
      const w = applyWebhookInput(prev, input, prev.id, iso(ctx.now()));
      await ctx.store.webhooks.put(w);
      return { prev, w };
    });
    const view = webhookView(w);
    const answer = prev.enabled && !w.enabled ? { ...view, cancelling: await cancel(w.id, 'webhook_disabled') } : view;
    // Other tabs: the console's list, and an editor holding edits (its ETag is now stale).
    ctx.live.webhookChanged(answer);
    res.setHeader('etag', webhookEtag(view));
    res.json(answer);
  });

  r.delete('/webhooks/:id', async (req, res) => {
    const w = await inTurn(ctx, turn(req, res), async () => {
      const w = await getOr404(req.params.id);
      await ctx.store.webhooks.delete(w.id);
      return w;
    });
    const cancelling = await cancel(w.id, 'webhook_deleted');
    ctx.live.webhookDeleted(w.id, cancelling);
    if (cancelling === 0) res.status(204).end();
    else res.status(202).json({ id: w.id, cancelling });
  });

  r.post('/webhooks/:id/test', async (req, res) => {
    await getOr404(req.params.id);
    res.json(await ctx.dispatcher.fireTest(req.params.id));
  });

  return r;
}
