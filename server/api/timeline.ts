// Timeline exports: a delivery's, or every delivery of a run, as JSON or CSV.
import { type Response, Router } from 'express';
import type { Delivery, Timeline } from '../../shared/api.ts';
import { TimelineQuery } from '../../shared/schema/dispatch.ts';
import { deliveryTimeline, timelineCsv } from '../dispatch/timeline-export.ts';
import { notFound } from '../http/errors.ts';
import { parse } from '../http/parse.ts';
import type { ApiContext } from './context.ts';

export function timelineRouter(ctx: ApiContext): Router {
  const r = Router();

  const send = (res: Response, format: 'json' | 'csv' | undefined, name: string, t: Timeline) => {
    if (format === 'csv') {
      res.type('text/csv; charset=utf-8').attachment(`${name}.csv`).send(timelineCsv(t));
    } else {
      res.json(t);
    }
  };

  r.get('/deliveries/:id/timeline', async (req, res) => {
    const { format } = parse(TimelineQuery, req.query, 'query');
    const d = await ctx.store.deliveries.get(req.params.id);
    if (!d) throw notFound('delivery');
    send(res, format, `delivery-${d.id}-timeline`, { runId: d.runId, deliveryId: d.id, exportedAt: (await ctx.dispatcher.clockState()).now, deliveries: [deliveryTimeline(d)] });
  });

  r.get('/runs/:id/timeline', async (req, res) => {
    const { format } = parse(TimelineQuery, req.query, 'query');
    const run = await ctx.store.runs.get(req.params.id);
    if (!run) throw notFound('run');
    // Oldest first: the run's story in order.
    const ds: Delivery[] = (await ctx.store.deliveries.query({ runId: run.id, limit: 5000 })).reverse();
    send(res, format, `run-${run.id}-timeline`, { runId: run.id, deliveryId: null, exportedAt: (await ctx.dispatcher.clockState()).now, deliveries: ds.map(deliveryTimeline) });
  });

  return r;
}
