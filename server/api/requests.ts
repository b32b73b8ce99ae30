import { Router } from 'express';
import type { RequestPage } from '../../shared/api.ts';
import { toDetail, toSummary } from '../capture/view.ts';
import { RequestPageQuery } from '../../shared/schema/bins.ts';
import { notFound } from '../http/errors.ts';
import { parse } from '../http/parse.ts';
import type { ApiContext } from './context.ts';
import { getBinOr404 } from './bins.ts';

export function requestsRouter(ctx: ApiContext): Router {
  const r = Router();

  r.get('/bins/:id/requests', async (req, res) => {
    const bin = await getBinOr404(ctx, req.params.id);
    const { limit: rawLimit = 50, before, after } = parse(RequestPageQuery, req.query, 'query');
    // One extra tells whether an older page exists.
    const rows = await ctx.store.requests.page(bin.id, { limit: rawLimit + 1, before, after });
    const page = rows.slice(0, rawLimit);
    const body: RequestPage = { requests: page.map(toSummary), nextBefore: rows.length > rawLimit ? page[page.length - 1].id : null };
    res.json(body);
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
