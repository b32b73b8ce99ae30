import { Router } from 'express';
import type { RequestPage } from '../../shared/api.ts';
import { toDetail, toSummary } from '../capture/view.ts';
import { RequestSearchQuery, RequestWaitQuery } from '../../shared/schema/search.ts';
import { isEmpty, search } from '../capture/filter.ts';
import type { StoredRequest } from '../store/types.ts';
import { notFound } from '../http/errors.ts';
import { parse } from '../http/parse.ts';
import type { ApiContext } from './context.ts';
import { getBinOr404 } from './bins.ts';

export function requestsRouter(ctx: ApiContext): Router {
  const r = Router();

  r.get('/bins/:id/requests', async (req, res) => {
    const bin = await getBinOr404(ctx, req.params.id);
    const { limit = 50, before, after, ...filter } = parse(RequestSearchQuery, req.query, 'query');
    let page: StoredRequest[];
    let more: boolean;
    if (isEmpty(filter)) {
      // One extra tells whether an older page exists.
      const rows = await ctx.store.requests.page(bin.id, { limit: limit + 1, before, after });
      page = rows.slice(0, limit);
      more = rows.length > limit;
    } else {
      ({ rows: page, more } = await search(ctx.store, bin.id, filter, { limit, before, after }));
    }
    const body: RequestPage = { requests: page.map(toSummary), nextBefore: more ? page[page.length - 1].id : null };
    res.json(body);
  });

  // Long-poll for a capture (registered before /:rid, which would take "wait" for an id).
  r.get('/bins/:id/requests/wait', async (req, res) => {
    const bin = await getBinOr404(ctx, req.params.id);
    const { after, timeout = 30_000, ...filter } = parse(RequestWaitQuery, req.query, 'query');
    let done = false;
    let scanning = true;
    let live: string | null = null;
    const answer = async (id: string) => {
      const rec = await ctx.store.requests.get(bin.id, id);
      const body = rec && (await ctx.store.requests.body(bin.id, id));
      if (!rec || !body) return false; // gone meanwhile (evicted, deleted)
      res.json(toDetail(rec, body, ctx.config.maxDecodedBytes));
      return true;
    };
    const finish = () => {
      done = true;
      remove();
      clearTimeout(timer);
    };
    // Registered before the scan, so a capture landing during it is not missed.
    const remove = ctx.waiters.add(bin.id, filter, after ?? null, (id) => {
      if (done) return;
      if (scanning) live ??= id; // an older stored one may still turn up: decide after the scan
      else {
        finish();
        void answer(id);
      }
    });
    const timer = setTimeout(() => {
      if (done) return;
      finish();
      res.status(408).json({ error: { code: 'timeout', message: `no matching request within ${timeout / 1000} s` } });
    }, timeout);
    res.on('close', () => {
      if (!done) finish(); // the client went away: free its waiter
    });
    const found = await search(ctx.store, bin.id, filter, { limit: 1, after, oldestFirst: true });
    scanning = false;
    const first = found.rows[0]?.id ?? live;
    if (first && !done) {
      finish();
      if (!(await answer(first))) res.status(404).json({ error: { code: 'not_found', message: 'the matching request was deleted' } });
    }
  });

  r.get('/bins/:id/requests/:rid', async (req, res) => {
    const rec = await ctx.store.requests.get(req.params.id, req.params.rid);
    const body = rec && (await ctx.store.requests.body(req.params.id, req.params.rid));
    if (!rec || !body) throw notFound('request');
    res.json(toDetail(rec, body, ctx.config.maxDecodedBytes));
  });

  r.get('/bins/:id/requests/:rid/raw', async (req, res) => {
    const rec = await ctx.store.requests.get(req.params.id, req.params.rid);
    const bytes = rec && (await ctx.store.requests.body(req.params.id, req.params.rid));
    if (!rec || !bytes) throw notFound('request');
    // The bytes are a stranger's: their own content type, but never run as our origin.
    res.setHeader('content-type', rec.contentType ?? 'application/octet-stream');
    res.setHeader('content-security-policy', "sandbox; default-src 'none'");
    res.setHeader('x-content-type-options', 'nosniff');
    if (req.query.download !== undefined) res.setHeader('content-disposition', `attachment; filename="${rec.id}.bin"`);
    res.setHeader('content-length', bytes.length);
    res.end(bytes);
  });

  r.delete('/bins/:id/requests/:rid', async (req, res) => {
    await getBinOr404(ctx, req.params.id);
    if (!(await ctx.store.requests.delete(req.params.id, req.params.rid))) throw notFound('request');
    ctx.live.requestsDeleted(req.params.id, [req.params.rid]);
    res.status(204).end();
  });

  r.delete('/bins/:id/requests', async (req, res) => {
    const bin = await getBinOr404(ctx, req.params.id);
    await ctx.store.requests.clear(bin.id);
    ctx.live.requestsDeleted(bin.id, 'all');
    res.status(204).end();
  });

  return r;
}
