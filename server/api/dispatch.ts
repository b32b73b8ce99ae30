// Runs, deliveries, the virtual clock and the schedule preview.
import { Router } from 'express';
import { AdvanceInput, ClockInput, DeliveryListQuery, RunInput, scheduleConflicts, SchedulePreviewQuery } from '../../shared/schema/dispatch.ts';
import { DeliveryWaitQuery } from '../../shared/schema/search.ts';
import { reached } from '../dispatch/delivery-waiters.ts';
import { waitSlot } from './wait-budget.ts';
import { previewSchedule } from '../dispatch/preview.ts';
import { mergeOverrides, resolveSchedule } from '../dispatch/schedule.ts';
import { scheduleRefusal } from '../dispatch/schedule-limit.ts';
import { HttpError, invalid, notFound } from '../http/errors.ts';
import { parse } from '../http/parse.ts';
import type { Delivery, DeliveryPage } from '../../shared/api.ts';
import type { ApiContext } from './context.ts';

export function dispatchRouter(ctx: ApiContext): Router {
  const r = Router();

  r.post('/runs', async (req, res) => {
    res.status(201).json(await ctx.dispatcher.fireRun(parse(RunInput, req.body ?? {})));
  });

  r.get('/runs', async (_req, res) => {
    res.json({ runs: (await ctx.store.runs.list()).reverse() });
  });

  r.get('/runs/:id', async (req, res) => {
    const run = await ctx.store.runs.get(req.params.id);
    if (!run) throw notFound('run');
    res.json(run);
  });

  r.get('/deliveries', async (req, res) => {
    const q = parse(DeliveryListQuery, req.query, 'query');
    const limit = q.limit ?? 200;
    // One more than asked: whether an older page exists, told as its cursor.
    const found = await ctx.store.deliveries.query({ ...q, limit: limit + 1 });
    const deliveries = found.slice(0, limit);
    const answer: DeliveryPage = { deliveries, nextBefore: found.length > limit ? deliveries[limit - 1].id : null };
    res.json(answer);
  });

  r.get('/deliveries/:id', async (req, res) => {
    const d = await ctx.store.deliveries.get(req.params.id);
    if (!d) throw notFound('delivery');
    res.json(d);
  });

  r.get('/deliveries/:id/wait', async (req, res) => {
    const { state = 'done', timeout = 30_000 } = parse(DeliveryWaitQuery, req.query, 'query');
    const id = req.params.id;
    let done = false;
    const release = waitSlot(ctx, req, res, () => finish());
    let timer: NodeJS.Timeout | undefined;
    const finish = () => {
      done = true;
      remove();
      clearTimeout(timer);
      release();
    };
    const ended = (d: Delivery) => new HttpError(409, 'ended', `the delivery ended ${d.state} (${d.endReason ?? 'no reason'}), not ${state}`);
    // Registered before the read (on Redis a round trip), so a change landing meanwhile is not missed.
    const remove = ctx.deliveryWaiters.add(id, (next) => {
      if (done) return;
      // A final state other than the one waited for will not change any more: say so.
      if (reached(next, state)) {
        finish();
        res.json(next);
      } else if (next.state !== 'pending') {
        finish();
        res.status(409).json(ended(next).toBody());
      }
    });
    let d: Delivery | undefined;
    try {
      d = await ctx.store.deliveries.get(id);
    } catch (err) {
      finish();
      throw err;
    }
    if (done) return; // told meanwhile
    if (!d || reached(d, state) || d.state !== 'pending') {
      finish();
      if (!d) throw notFound('delivery');
      if (reached(d, state)) return void res.json(d);
      throw ended(d);
    }
    timer = setTimeout(() => {
      if (done) return;
      finish();
      res.status(408).json({ error: { code: 'timeout', message: `the delivery did not become ${state} within ${timeout / 1000} s` } });
    }, timeout);
  });

  r.post('/deliveries/:id/retry', async (req, res) => {
    res.json(await ctx.dispatcher.retryNow(req.params.id));
  });

  r.get('/clock', async (_req, res) => {
    res.json(await ctx.dispatcher.clockState());
  });

  r.put('/clock', async (req, res) => {
    res.json(await ctx.dispatcher.setClock(parse(ClockInput, req.body)));
  });

  r.post('/clock/advance', async (req, res) => {
    res.json(await ctx.dispatcher.advance(parse(AdvanceInput, req.body)));
  });

  r.get('/schedule/preview', async (req, res) => {
    const { webhookId, seed: givenSeed, retryAfter, retryAfterS, disableAfterDays, ...override } = parse(SchedulePreviewQuery, req.query, 'query');
    const w = webhookId !== undefined ? await ctx.store.webhooks.get(webhookId) : undefined;
    if (webhookId !== undefined && !w) throw notFound('webhook');
    const merged = mergeOverrides(w?.schedule, override);
    // The query's own conflicts are refused by its schema; these are the query's numbers on the
    // webhook's list of waits (its preset or delaysMs), which the preview would silently ignore.
    const clash = scheduleConflicts(merged).filter((c) => override[c.field] !== undefined);
    if (clash.length) throw new HttpError(400, 'invalid_field', clash.map((c) => `${c.field}: ${c.message}`).join('; '), clash[0].field, clash);
    const settings = resolveSchedule(ctx.config.schedule, merged);
    // Numbers the query gives that plan past MAX_SCHEDULE_ATTEMPTS: refused, as a webhook's
    // save refuses them. A webhook's stored schedule is shown cut, with a note saying so.
    // A query that leaves the webhook's schedule as it is shows it (cut, with the note).
    const tooLong = scheduleRefusal(settings, override, ctx.config.maxScheduleAttempts, w && resolveSchedule(ctx.config.schedule, w.schedule));
    if (tooLong) throw invalid(tooLong.field, tooLong.message);
    const behaviors = { ...w?.behaviors };
    if (retryAfter !== undefined) behaviors.retryAfter = retryAfter;
    if (disableAfterDays !== undefined) behaviors.disableAfterDays = disableAfterDays;
    res.json(previewSchedule(settings, givenSeed ?? 1, behaviors, { retryAfterS, maxAttempts: ctx.config.maxScheduleAttempts }));
  });

  return r;
}
