// Runs, deliveries, the virtual clock and the schedule preview.
import { Router } from 'express';
import type { DeliveryState, RunInput, SchedulePreview } from '../../shared/api.ts';
import { parseScheduleOverride, planAttempts, resolveSchedule, SCHEDULE_KEYS } from '../dispatch/schedule.ts';
import { invalid, notFound } from '../http/errors.ts';
import { boolean, integer, number, object, oneOf, onlyKeys, string } from '../http/validate.ts';
import type { ApiContext } from './context.ts';

const STATES: readonly DeliveryState[] = ['pending', 'delivered', 'failed', 'cancelled'];
const DAY = 86_400_000;

function parseRunInput(body: unknown): RunInput {
  const o = body === undefined ? {} : object(body, 'body');
  onlyKeys(o, ['flow_id', 'source_type', 'destination_type', 'outcome', 'durationMs', 'details'], '');
  const out: RunInput = {};
  if (o.flow_id !== undefined) out.flow_id = integer(o.flow_id, 'flow_id', 1, Number.MAX_SAFE_INTEGER);
  if (o.source_type !== undefined) out.source_type = string(o.source_type, 'source_type', 100, 1);
  if (o.destination_type !== undefined) out.destination_type = string(o.destination_type, 'destination_type', 100, 1);
  if (o.outcome !== undefined) out.outcome = oneOf(o.outcome, 'outcome', ['SUCCESSFUL', 'FAILED'] as const);
  if (o.durationMs !== undefined) out.durationMs = integer(o.durationMs, 'durationMs', 0, 30 * DAY);
  if (o.details !== undefined) out.details = string(o.details, 'details', 1000);
  return out;
}

/** Query-string number, or undefined when absent. */
function qNum(v: unknown, field: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (typeof v !== 'string' || v.trim() === '' || !Number.isFinite(n)) throw invalid(field, 'must be a number');
  return n;
}

export function dispatchRouter(ctx: ApiContext): Router {
  const r = Router();

  r.post('/runs', async (req, res) => {
    res.status(201).json(await ctx.dispatcher.fireRun(parseRunInput(req.body)));
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
    const q = req.query;
    const limit = q.limit === undefined ? 200 : integer(qNum(q.limit, 'limit'), 'limit', 1, 5000);
    res.json({
      deliveries: await ctx.store.deliveries.query({
        webhookId: q.webhookId === undefined ? undefined : string(q.webhookId, 'webhookId', 100),
        runId: q.runId === undefined ? undefined : string(q.runId, 'runId', 100),
        state: q.state === undefined ? undefined : oneOf(q.state, 'state', STATES),
        before: q.before === undefined ? undefined : string(q.before, 'before', 100),
        limit,
      }),
    });
  });

  r.get('/deliveries/:id', async (req, res) => {
    const d = await ctx.store.deliveries.get(req.params.id);
    if (!d) throw notFound('delivery');
    res.json(d);
  });

  r.post('/deliveries/:id/retry', async (req, res) => {
    res.json(await ctx.dispatcher.retryNow(req.params.id));
  });

  r.get('/clock', (_req, res) => {
    res.json(ctx.dispatcher.clockState());
  });

  r.put('/clock', (req, res) => {
    const o = object(req.body, 'body');
    onlyKeys(o, ['scale', 'paused'], '');
    const scale = o.scale === undefined ? undefined : number(o.scale, 'scale', 0.001, 1_000_000_000);
    const paused = o.paused === undefined ? undefined : boolean(o.paused, 'paused');
    res.json(ctx.dispatcher.setClock({ scale, paused }));
  });

  r.post('/clock/advance', async (req, res) => {
    const o = object(req.body, 'body');
    onlyKeys(o, ['ms', 'to'], '');
    if ((o.ms === undefined) === (o.to === undefined)) throw invalid('body', 'give exactly one of "ms" or "to"');
    if (o.to !== undefined) {
      oneOf(o.to, 'to', ['next'] as const);
      res.json(await ctx.dispatcher.advance({ to: 'next' }));
    } else {
      res.json(await ctx.dispatcher.advance({ ms: integer(o.ms, 'ms', 0, 365 * DAY) }));
    }
  });

  r.get('/schedule/preview', async (req, res) => {
    const q = req.query;
    let base = ctx.config.schedule;
    if (q.webhookId !== undefined) {
      const w = await ctx.store.webhooks.get(String(q.webhookId));
      if (!w) throw notFound('webhook');
      base = resolveSchedule(base, w.schedule);
    }
    const override: Record<string, number> = {};
    for (const k of SCHEDULE_KEYS) {
      const v = qNum(q[k], k);
      if (v !== undefined) override[k] = v;
    }
    const settings = resolveSchedule(base, parseScheduleOverride(override, 'query'));
    const seed = q.seed === undefined ? 1 : integer(qNum(q.seed, 'seed'), 'seed', 0, 2 ** 32 - 1);
    const offsets = planAttempts(settings, seed);
    const body: SchedulePreview = {
      settings,
      seed,
      attempts: offsets.map((offsetMs, i) => ({ n: i + 1, offsetMs, delayMs: i === 0 ? 0 : offsetMs - offsets[i - 1] })),
    };
    res.json(body);
  });

  return r;
}
