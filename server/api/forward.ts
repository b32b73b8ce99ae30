// A bin's forward targets (and proxy mode), replaying captures one by one (optionally edited)
// or in bulk, with the result of every sending stored with its capture.
import { type Request, type Response, Router } from 'express';
import type { z } from 'zod';
import type { ReplayJob } from '../../shared/api.ts';
import { BulkReplayInput, ForwardSettings, MAX_FORWARD_TARGETS, MAX_REPLAY_JOBS, ReplayInput } from '../../shared/schema/forward.ts';
import type { Capture } from '../forward/request.ts';
import { ReplayAbandoned, truncatedWhy } from '../forward/forwarder.ts';
import { etagOf } from '../http/etag.ts';
import type { FieldErrorT as FieldError } from '../../shared/schema/common.ts';
import { HttpError, invalid, notFound } from '../http/errors.ts';
import { parse } from '../http/parse.ts';
import { newId } from '../ids.ts';
import { iso } from '../time.ts';
import { getBinOr404 } from './bins.ts';
import { forwardEtag, forwardView as view } from './settings-etags.ts';
import type { ApiContext } from './context.ts';
import { inTurn, settingsKey, type Turn } from './settings-writes.ts';

/** Errors in the order of the body: by target index (other fields first). */
const fieldOrder = (field: string) => Number(/^body\.targets\[(\d+)\]|^targets\[(\d+)\]/.exec(field)?.slice(1).find(Boolean) ?? -1);

/** Retry-After (seconds) when MAX_REPLAY_JOBS bulk replays are running already. */
const JOBS_RETRY_AFTER_S = 5;

export function forwardRouter(ctx: ApiContext): Router {
  const r = Router();

  r.get('/bins/:id/forward', async (req, res) => {
    const bin = await getBinOr404(ctx, req.params.id);
    const v = view(ctx.forwarder.settingsOf(bin.id));
    res.setHeader('etag', etagOf(v));
    res.json(v);
  });

  const turn = (req: Request, res: Response, binId: string): Turn => ({
    key: settingsKey.forward(binId),
    req,
    res,
    etag: () => forwardEtag(ctx, binId),
    stillThere: () => getBinOr404(ctx, binId),
    refresh: () => ctx.forwarder.reload(binId),
  });

  r.put('/bins/:id/forward', async (req, res) => {
    const bin = await getBinOr404(ctx, req.params.id);
    // One write at a time per bin: each checks If-Match against what the one before stored.
    await inTurn(ctx, turn(req, res, bin.id), async () => {
      // Every problem at once: the schema's, and targets that would loop or are not allowed.
      let input: z.output<typeof ForwardSettings> | null = null;
      let problems: FieldError[] = [];
      try {
        input = parse(ForwardSettings, req.body);
      } catch (err) {
        if (!(err instanceof HttpError) || !err.fields) throw err;
        problems = err.fields;
      }
      const targets: unknown[] = Array.isArray(req.body?.targets) ? req.body.targets : [];
      targets.forEach((t, i) => {
        const field = `targets[${i}].url`;
        const url = (t as { url?: unknown } | null)?.url;
        if (typeof url !== 'string' || problems.some((p) => p.field === field)) return;
        const why = ctx.forwarder.refuse(url);
        if (why) problems.push({ field, message: why });
      });
      if (problems.length || !input) {
        problems.sort((a, b) => fieldOrder(a.field) - fieldOrder(b.field));
        throw new HttpError(400, 'invalid_field', problems.map((p) => `${p.field}: ${p.message}`).join('; '), problems[0]?.field, problems);
      }
      await ctx.forwarder.set(bin.id, { targets: input.targets, answerWith: input.answerWith ?? 'bin' });
      const v = view(ctx.forwarder.settingsOf(bin.id));
      ctx.live.settingsChanged(bin.id, 'forward', etagOf(v));
      res.setHeader('etag', etagOf(v));
      res.json(v);
    });
  });

  r.delete('/bins/:id/forward', async (req, res) => {
    const bin = await getBinOr404(ctx, req.params.id);
    await inTurn(ctx, turn(req, res, bin.id), async () => {
      await ctx.forwarder.set(bin.id, null);
      ctx.live.settingsChanged(bin.id, 'forward', etagOf(view(undefined)));
      res.status(204).end();
    });
  });

  async function captureOf(binId: string, rid: string): Promise<Capture> {
    const c = await ctx.forwarder.capture(binId, rid);
    if (!c) throw notFound('request');
    return c;
  }

  async function targetsOf(binId: string, url: string | undefined): Promise<string[]> {
    if (url) return [url];
    const f = ctx.forwarder.settingsOf(binId);
    if (!f?.targets.length) throw invalid('url', 'is required (this bin has no forward targets)');
    return f.targets.map((t) => t.url);
  }

  r.post('/bins/:id/requests/:rid/replay', async (req, res) => {
    const bin = await getBinOr404(ctx, req.params.id);
    const input = parse(ReplayInput, req.body ?? {});
    const original = await captureOf(bin.id, req.params.rid);
    // Its first bytes are not the request that came: replayed as it is, a target would get other bytes.
    if (original.truncatedFrom !== undefined && input.body === undefined) {
      throw new HttpError(409, 'body_truncated', `This capture cannot be replayed as captured: ${truncatedWhy(original.body.length, original.truncatedFrom)}. To replay it, send the whole body in "body" (an edited replay).`);
    }
    const c: Capture = {
      // As it is sent (forwardTo writes methods upper-case), so the record shows what went out.
      method: (input.method ?? original.method).toUpperCase(),
      path: input.path ?? original.path,
      queryString: input.queryString ?? original.queryString,
      headers: input.headers ? input.headers.flat() : original.headers,
      body: input.body === undefined ? original.body : Buffer.from(input.body, input.bodyEncoding === 'base64' ? 'base64' : 'utf8'),
    };
    if (original.trailerCount) c.trailerCount = original.trailerCount;
    const edited = ['method', 'path', 'queryString', 'headers', 'body'].some((k) => (input as Record<string, unknown>)[k] !== undefined);
    const targets = await targetsOf(bin.id, input.url);
    const ticket = ctx.forwarder.replayTicket();
    if (!ticket) {
      res.setHeader('retry-after', '5');
      throw new HttpError(503, 'too_many_replays', `As many replays are waiting or under way as hooklab allows (FORWARD_CONCURRENCY, ${ctx.config.forwardConcurrency}). Retry shortly.`);
    }
    // A client that leaves while its replay waits for a slot: nothing more is sent for it.
    const wanted = () => !res.destroyed && !req.socket.destroyed;
    const records = [];
    try {
      for (const t of targets) records.push(await ctx.forwarder.send(bin.id, req.params.rid, t, c, 'replay', edited, wanted));
    } catch (err) {
      if (err instanceof ReplayAbandoned) return;
      throw err;
    } finally {
      ticket();
    }
    res.json({ records });
  });

  r.post('/bins/:id/replay', async (req, res) => {
    const bin = await getBinOr404(ctx, req.params.id);
    const input = parse(BulkReplayInput, req.body ?? {});
    const targets = await targetsOf(bin.id, input.url);
    // In arrival order: ids sort by arrival.
    const ids = input.ids ? [...new Set(input.ids)].sort() : (await ctx.store.requests.items(bin.id, { limit: Number.MAX_SAFE_INTEGER, oldestFirst: true })).map((i) => i.id);
    // The cap is per instance (each bounds the work it takes on); the store keeps every
    // running job, whichever instance runs it, and the newest MAX_REPLAY_JOBS ended ones.
    if (ctx.replays.running() >= MAX_REPLAY_JOBS) {
      res.setHeader('retry-after', String(JOBS_RETRY_AFTER_S));
      throw new HttpError(503, 'too_many_replays', `${MAX_REPLAY_JOBS} bulk replays are running already; retry when one has finished (GET /api/replays/{id})`);
    }
    const job: ReplayJob = { id: newId('rp'), binId: bin.id, total: ids.length, done: 0, failed: 0, non2xx: 0, missing: 0, state: 'running', error: null, startedAt: iso(ctx.now()), finishedAt: null };
    const started = { ...job };
    // In the store before the answer: a progress poll reaching another instance finds it.
    await ctx.replays.start(job, (j) => replayAll(j, ids, targets));
    res.status(202).location(`/api/replays/${job.id}`).json(started);
  });

  /**
   * A bulk replay, detached from its request (ReplayJobs runs it, and ends the job finished,
   * or failed with why when this throws). It counts on its job as it goes, and stops once the
   * job is no longer running (failed because this instance is stopping).
   */
  async function replayAll(job: ReplayJob, ids: readonly string[], targets: readonly string[]): Promise<void> {
    for (const id of ids) {
      if (job.state !== 'running') return;
      // A store that fails throws: the job ends failed, with why.
      const c = await ctx.forwarder.capture(job.binId, id);
      if (!c) {
        // Not held (an id it never had, or pushed out or deleted meanwhile), or the whole bin gone.
        if (!(await ctx.store.bins.get(job.binId))) throw new Error('the bin was deleted while it was being replayed');
        job.missing = (job.missing ?? 0) + 1;
        job.done++;
        continue;
      }
      let ok = true;
      let all2xx = true;
      for (const t of targets) {
        const { status } = await ctx.forwarder.send(job.binId, id, t, c, 'replay');
        if (status === null) ok = false;
        else if (status < 200 || status > 299) all2xx = false;
      }
      job.done++;
      // Each capture counts once: no answer first, else an answer outside 2xx.
      if (!ok) job.failed++;
      else if (!all2xx) job.non2xx = (job.non2xx ?? 0) + 1;
    }
  }

  // From the store (any instance's job, also after a restart); ReplayJobs answers its own from memory.
  r.get('/replays/:id', async (req, res) => {
    const job = await ctx.replays.get(req.params.id);
    if (!job) throw notFound('replay');
    res.json(job);
  });

  return r;
}

export { MAX_FORWARD_TARGETS };
