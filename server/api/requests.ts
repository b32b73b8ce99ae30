import type { IncomingMessage } from 'node:http';
import { type Request, type Response, Router } from 'express';
import type { RequestPage } from '../../shared/api.ts';
import { decodedView, toDetail, toSummary } from '../capture/view.ts';
import { downloadName } from '../../shared/filename.ts';
import { RequestSearchQuery, RequestWaitQuery } from '../../shared/schema/search.ts';
import { fieldErrors } from '../../shared/schema/common.ts';
import { ExportLine, ExportQuery, HarImport } from '../../shared/schema/exchange.ts';
import { VERSION } from '../version.ts';
import { iso } from '../time.ts';
import { fromExportLine, fromHarEntry, harHead, harTail, toExportLine, toHarEntry } from '../capture/exchange.ts';
import { EXPORT_COUNT_HEADER, EXPORT_MISSING_HEADER, exportMissingNote } from '../../shared/export-note.ts';
import { Importer, maxImportLineBytes } from '../capture/importer.ts';
import { isEmpty, search, unsettledBetween } from '../capture/filter.ts';
import { type StoredRequest, StoreReadError, StoreUnavailableError } from '../store/types.ts';
import { readCaptured } from '../store/captured.ts';
import { HttpError, invalid, notFound } from '../http/errors.ts';
import { jsonLineProblem, jsonProblem } from '../lib/json-problem.ts';
import { closeAfterAnswer } from '../http/linger.ts';
import { buffersFull, responseBudget, sendBytes, sendJson, sendJsonText } from '../http/response-budget.ts';
import { Gate } from '../http/gate.ts';
import { boundedLines, LineTooLongError } from '../lib/bounded-lines.ts';
import { parse } from '../http/parse.ts';
import type { ApiContext } from './context.ts';
import { waitSlot } from './wait-budget.ts';
import { refuseFutureAfter } from './wait-after.ts';
import { getBinOr404, recordedOr503 } from './bins.ts';
import { isRedisStore } from '../store/redis/is-redis-store.ts';
import { SearchesFullError } from '../capture/search-turns.ts';

/**
 * Details built at once (reading the body, decoding up to MAX_DECODED_BYTES, serializing: ~45 MB
 * at the peak for the largest), and how many more may wait for their turn (then 503 busy).
 */
const DETAIL_BUILDS = 2;
const DETAIL_WAITING = 256;

/** How often a wait held by an older capture whose answer is not known yet looks again (see the wait). */
const RECHECK_MS = 250;

/**
 * A proxied capture older than this holds no wait: its answer was never recorded (the instance
 * stopped while proxying, or the write failed), and will not be now. Past any exchange: its
 * turn for a forward slot plus the target's time, twice over, and a minute.
 */
const proxyHoldOf = (c: { forwardTimeoutMs: number }) => 2 * c.forwardTimeoutMs + 60_000;

/**
 * A list page stops before the row that would take its JSON past this (at least one row goes),
 * with `nextBefore` set to go on: rows carry every header (up to MAX_HEADER_COUNT, ~100 KB of
 * JSON each), and 500 such rows were 40 MB, built in 1.8 s on the main thread.
 */

/**
 * A JavaScript or CSS type (the WHATWG list) served as the sender gave it would let a page of
 * ours load it by <script src> or <link rel=stylesheet> (the UI's CSP allows 'self'), should an
 * injection ever turn up: sent as text instead. Anything else keeps its type; the sandbox CSP and
 * nosniff keep it from running as our origin.
 */
const ACTIVE_TYPE = /^\s*(?:(?:application|text)\/(?:x-)?(?:javascript|ecmascript)|text\/(?:javascript1\.[0-5]|jscript|livescript|css))\s*(?:;|$)/i;

function rawContentType(type: string | null | undefined): string {
  if (!type) return 'application/octet-stream';
  return ACTIVE_TYPE.test(type) ? 'text/plain' : type;
}
export const LIST_PAGE_MAX_CHARS = 4 * 1024 * 1024;

/** A HAR import is one JSON document, read whole: at most this much. */
const HAR_MAX_BYTES = 64 * 1024 * 1024;

function lineError(lineNo: number, imported: number, message: string) {
  return new HttpError(400, 'invalid_line', `line ${lineNo}: ${message} (the ${imported} capture(s) before it were imported)`, `line ${lineNo}`);
}

/**
 * A store fault stopped an import: how far it got, so the rest can be sent again without
 * duplicating what went in (the fault's own words as the API's other 503s say them).
 */
function importStopped(ctx: ApiContext, e: StoreUnavailableError, imported: number, where: string) {
  const kept = e instanceof StoreReadError || isRedisStore(ctx.store) ? '' : 'Kept in memory, not yet on disk: ';
  return new HttpError(503, 'storage_unavailable', `${kept}${e.message} (the import stopped: ${imported} capture(s) were imported, ${where}; once this is resolved, import the rest from there, not all again)`);
}

function lineTooLong(e: LineTooLongError, imported: number) {
  return new HttpError(
    413,
    'line_too_large',
    `line ${e.lineNo} is longer than ${e.maxBytes} bytes, the most an export line of a capture can take with this MAX_BODY_BYTES and MAX_HEADER_BYTES (the ${imported} capture(s) before it were imported)`,
    `line ${e.lineNo}`,
  );
}

/** The client went away (or REQUEST_TIMEOUT_MS ended its request) before its body ended. */
const clientGone = (req: { complete: boolean; destroyed: boolean }, e: unknown) =>
  !req.complete && (req.destroyed || (e as { code?: string }).code === 'ECONNRESET');

const harTooLarge = () => new HttpError(413, 'too_large', `a HAR import is at most ${HAR_MAX_BYTES / 1024 / 1024} MiB; use NDJSON (streamed) for more`);

async function readBounded(req: IncomingMessage, max: number): Promise<string> {
  const chunks: Buffer[] = [];
  let n = 0;
  // Not destroyed when the loop stops early (too large): the client is still to read why.
  for await (const c of req.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>) {
    n += c.length;
    if (n > max) throw harTooLarge();
    chunks.push(c);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * A capture the store could not read back (its file missing or unreadable): 503 with
 * Retry-After, the cause in /api/health, rather than a 500 (or a 404: it may come back).
 */
async function readOr503<T>(res: Response, read: Promise<T>): Promise<T> {
  try {
    return await read;
  } catch (err) {
    if (!(err instanceof StoreReadError)) throw err;
    if (!res.headersSent) res.setHeader('retry-after', '5');
    throw new HttpError(503, 'storage_unavailable', err.message);
  }
}

/** MAX_BODY_SEARCHES under way: 503 busy with Retry-After. */
async function searchOr503<T>(res: Response, running: Promise<T>): Promise<T> {
  try {
    return await running;
  } catch (err) {
    if (!(err instanceof SearchesFullError)) throw err;
    if (!res.headersSent) res.setHeader('retry-after', '1');
    throw new HttpError(503, 'busy', `${err.message} (MAX_BODY_SEARCHES): retry shortly`);
  }
}

/** A stored capture's metadata and body; null when it is not stored (or went meanwhile). */
async function readCapture(ctx: ApiContext, binId: string, id: string): Promise<{ rec: StoredRequest; body: Buffer } | null> {
  const c = await readCaptured(ctx.store, binId, id);
  return c && { rec: c, body: c.body };
}

/** What an import may be sent as: JSON (a HAR), NDJSON and its kin, plain text or bytes, or no type at all. */
const importable = (type: string) => !type.trim() || /json|^\s*text\/plain|^\s*application\/octet-stream/i.test(type);

export function requestsRouter(ctx: ApiContext): Router {
  const r = Router();
  // Large answers (a detail, a page, a raw body) within MAX_RESPONSE_BUFFER_BYTES.
  const budgetOf = () => responseBudget(ctx.config);
  const detailGate = new Gate(DETAIL_BUILDS, DETAIL_WAITING);

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
      const abandoned = () => req.socket.destroyed;
      ({ rows: page, more } = await searchOr503(res, search(ctx.store, bin.id, filter, { limit, before, after, maxDecodedBytes: ctx.config.maxDecodedBytes, turns: ctx.searchTurns, abandoned })));
      if (abandoned()) return; // no one to answer
    }
    // Serialized row by row, so that a page cut short costs only what it holds.
    const rows: string[] = [];
    let chars = 0;
    for (const rec of page) {
      const row = JSON.stringify(toSummary(rec));
      if (rows.length && chars + row.length > LIST_PAGE_MAX_CHARS) {
        more = true;
        break;
      }
      rows.push(row);
      chars += row.length + 1;
    }
    const nextBefore: RequestPage['nextBefore'] = more ? page[rows.length - 1].id : null;
    sendJsonText(req, res, budgetOf(), `{"requests":[${rows.join(',')}],"nextBefore":${JSON.stringify(nextBefore)}}`);
  });

  // Long-poll for a capture (registered before /:rid, which would take "wait" for an id).
  r.get('/bins/:id/requests/wait', async (req, res) => {
    const bin = await getBinOr404(ctx, req.params.id);
    const { after, timeout = 30_000, ...filter } = parse(RequestWaitQuery, req.query, 'query');
    if (after) await refuseFutureAfter(ctx, bin.id, after);
    let done = false;
    // The client gone (its response or its connection closed): free its waiter.
    const release = waitSlot(ctx, req, res, () => {
      if (!done) finish();
    });
    // The capture's detail, built and held as GET …/requests/:rid's is (its turn among the
    // details built at once, MAX_RESPONSE_BUFFER_BYTES): many waits on one bin may all match
    // one large capture. Answers every outcome itself (nothing awaits a live capture's call).
    const answer = async (id: string) => {
      try {
        const leave = await detailTurn(res);
        if (!leave) return; // the client left before its turn
        try {
          const got = await readOr503(res, readCapture(ctx, bin.id, id));
          if (!got) res.status(404).json({ error: { code: 'not_found', message: 'the matching request was deleted' } });
          else await sendDetail(req, res, got.rec, got.body);
        } finally {
          leave();
        }
      } catch (err) {
        fail(err);
      }
    };
    const fail = (err: unknown) => {
      if (res.headersSent) return;
      const e = err instanceof HttpError ? err : new HttpError(503, 'storage_unavailable', 'The capture could not be read (see /api/health); retry shortly.');
      if (e.status === 503 && !res.getHeader('retry-after')) res.setHeader('retry-after', '5');
      res.status(e.status).json(e.toBody());
    };
    const finish = () => {
      done = true;
      remove();
      clearTimeout(timer);
      clearTimeout(recheck);
      release();
    };
    const binGone = () => {
      if (done) return;
      finish();
      // Its own code: a script can tell a bin removed mid-wait from a wrong id (not_found).
      res.status(404).json(new HttpError(404, 'bin_deleted', 'the bin was deleted while this wait was on').toBody());
    };
    const timedOut = () => {
      finish();
      res.status(408).json({ error: { code: 'timeout', message: `no matching request within ${timeout / 1000} s` } });
    };

    // Answers go in id order, so that a loop of `after=` cursors sees each capture once: a
    // capture whose answer is not known yet (proxied, its target still at it; with `status`, a
    // delayed answer still to go) that may match holds the wait, rather than a newer one being
    // answered and the older one then falling behind the cursor. Held, the wait looks again when
    // told of that capture, and every RECHECK_MS (an answer on another instance, a sender that
    // hung up). Once the timeout comes, the oldest settled match is answered, else 408.
    let from = after; // up to here, every capture was looked at and never matches
    let last = false; // the timeout came: this look is the last
    let heldBy: string | null = null;
    let looking: Promise<void> | null = null;
    let again = false;
    let recheck: NodeJS.Timeout | undefined;
    let firstLook = true;
    const delayedHere = (id: string) => ctx.waiters.answerDelayed(id);
    const proxyHoldMs = proxyHoldOf(ctx.config);
    const look = async () => {
      const final = last;
      const searching = search(ctx.store, bin.id, filter, { limit: 1, after: from, oldestFirst: true, maxDecodedBytes: ctx.config.maxDecodedBytes, settledAt: ctx.now(), delayedHere, pendingFirst: !final, proxyHoldMs, turns: ctx.searchTurns, abandoned: () => done });
      let found: Awaited<typeof searching>;
      try {
        found = await (firstLook ? searchOr503(res, searching) : searching);
      } catch (err) {
        // MAX_BODY_SEARCHES under way: a wait already taken is not refused for it; it looks again.
        if (!(err instanceof SearchesFullError)) throw err;
        if (!done) rearm();
        return;
      } finally {
        firstLook = false;
      }
      if (done) return;
      if (found.passed) from = found.passed;
      const first = found.rows[0];
      if (first) {
        finish();
        await answer(first.id);
      } else if (final) timedOut();
      else {
        heldBy = found.pending ?? null;
        clearTimeout(recheck);
        if (heldBy) rearm();
      }
    };
    const rearm = () => {
      clearTimeout(recheck);
      recheck = setTimeout(poke, RECHECK_MS);
    };
    /** One look at a time (`first`: what it does first); one asked for meanwhile looks again. */
    const run = (first: () => Promise<void>): Promise<void> => {
      looking = (async () => {
        try {
          await first();
          while (again && !done) {
            again = false;
            await look();
          }
        } finally {
          looking = null;
        }
      })();
      return looking;
    };
    const failLate = (err: unknown) => {
      if (done) return;
      finish();
      fail(err);
    };
    // From the timer or the timeout: a look, or another one after the one under way.
    const poke = () => {
      if (done) return;
      if (looking) again = true;
      else run(look).catch(failLate);
    };
    // A capture told to match. Held by an older one, the wait waits for that one (told, or the
    // timer). Else, when nothing between the cursor and it still waits for its answer (list-row
    // checks only), it is the oldest match: answered without a search.
    const told = (id: string) => {
      if (done || heldBy !== null) return;
      if (looking) {
        again = true;
        return;
      }
      run(async () => {
        if (await unsettledBetween(ctx.store, bin.id, filter, { after: from, before: id, settledAt: ctx.now(), delayedHere, proxyHoldMs })) await look();
        else if (!done) {
          finish();
          await answer(id);
        }
      }).catch(failLate);
    };
    // Told of the capture the wait is held by (matching or not): look again.
    const toldOf = (id: string) => {
      if (id === heldBy) poke();
    };
    // Registered before the first look, so a capture landing during it is not missed.
    const remove = ctx.waiters.add(bin.id, filter, after ?? null, (id) => (id === heldBy ? toldOf(id) : told(id)), binGone, toldOf);
    // The timeout is for what has yet to come: what is stored is searched in full first, however
    // short it is (a last short try, as hooklab wait makes at its end, found nothing stored).
    const timer = setTimeout(() => {
      if (done) return;
      last = true;
      poke();
    }, timeout);
    try {
      await run(look);
    } catch (err) {
      if (!done) finish();
      throw err;
    }
    if (!done && !(await ctx.store.bins.get(bin.id))) binGone(); // deleted before the waiter was there to hear it
  });

  /** A turn to build a detail (its release: call it once the answer is held or refused), null when the client left first; 503 busy past DETAIL_WAITING. */
  const detailTurn = async (res: Response) => {
    const turn = detailGate.enter(res);
    if (turn === 'full') {
      res.setHeader('retry-after', '2');
      throw new HttpError(503, 'busy', `${DETAIL_WAITING} requests for a capture's detail are already waiting their turn; retry shortly.`);
    }
    return turn;
  };

  r.get('/bins/:id/requests/:rid', async (req, res) => {
    const leave = await detailTurn(res);
    if (!leave) return; // the client left before its turn
    try {
      await detail(req, res);
    } finally {
      leave(); // once the answer is held (and written on as its client reads), or refused
    }
  });

  const detail = async (req: Request<{ id: string; rid: string }>, res: Response) => {
    const got = await readOr503(res, readCapture(ctx, req.params.id, req.params.rid));
    if (!got) {
      await getBinOr404(ctx, req.params.id); // "bin not found" when it is the bin that is gone
      throw notFound('request');
    }
    await sendDetail(req, res, got.rec, got.body);
  };

  /** A capture's detail as an answer, within MAX_RESPONSE_BUFFER_BYTES. */
  const sendDetail = async (req: Request, res: Response, rec: StoredRequest, body: Buffer) => {
    // The answer carries the body (as text or base64): past the budget already, say so before
    // decoding and serializing it.
    if (!budgetOf().fits(body.length)) throw buffersFull(budgetOf(), res, body.length);
    // Which attempt of its idempotency key this is, and the others with the same key.
    let extra = {};
    if (rec.idempotency) {
      const g = await readOr503(res, ctx.binAttempts.of(rec.binId));
      const info = g.byId.get(rec.id);
      const group = g.groups.find((x) => x.key === rec.idempotency!.key);
      if (info) extra = { idempotency: info, sameKey: (group?.ids ?? []).filter((id) => id !== rec.id) };
    }
    sendJson(req, res, budgetOf(), toDetail(rec, body, await decodedView(rec, body, ctx.config.maxDecodedBytes), extra));
  };

  r.get('/bins/:id/requests/:rid/raw', async (req, res) => {
    const got = await readOr503(res, readCapture(ctx, req.params.id, req.params.rid));
    if (!got) throw notFound('request');
    const { rec, body: bytes } = got;
    // Before its headers: a refusal is JSON, not the capture's content type.
    if (!budgetOf().fits(bytes.length)) throw buffersFull(budgetOf(), res, bytes.length);
    // The bytes are a stranger's: their own content type, but never run as our origin.
    res.setHeader('content-type', rawContentType(rec.contentType));
    res.setHeader('content-security-policy', "sandbox; default-src 'none'");
    res.setHeader('x-content-type-options', 'nosniff');
    if (req.query.download !== undefined) res.setHeader('content-disposition', `attachment; filename="${downloadName(rec.id, rec.contentType)}"`);
    sendBytes(req, res, budgetOf(), bytes);
  });

  r.get('/bins/:id/export', async (req, res) => {
    const bin = await getBinOr404(ctx, req.params.id);
    const { format = 'ndjson', ids } = parse(ExportQuery, req.query, 'query');
    // Oldest first, streamed: a full bin of big bodies never sits in memory at once.
    const items = ids ? ids.filter((id) => id) : (await ctx.store.requests.items(bin.id, { limit: Number.MAX_SAFE_INTEGER, oldestFirst: true })).map((i) => i.id);
    const stamp = new Date(ctx.now()).toISOString().replace(/[:.]/g, '-');
    const chunked = req.method !== 'HEAD' && (req.httpVersionMajor > 1 || req.httpVersionMinor >= 1);
    // Headers go with the first bytes: a capture that cannot be read before then answers 503
    // (JSON), not a download of an error.
    const start = () => {
      if (res.headersSent) return;
      res.setHeader('content-disposition', `attachment; filename="${bin.id}-${stamp}.${format === 'har' ? 'har' : 'ndjson'}"`);
      res.type(format === 'har' ? 'application/json' : 'application/x-ndjson');
      // What it set out to hold, and at the end how many of those it could not (see missing).
      res.setHeader(EXPORT_COUNT_HEADER, String(items.length));
      // Trailers go only in a chunked answer: not to HTTP/1.0 (nginx's default to upstreams)
      // nor HEAD, where Node throws on a Trailer header.
      if (chunked) res.setHeader('trailer', EXPORT_MISSING_HEADER);
      if (format === 'har') res.write(harHead(VERSION));
    };
    let n = 0;
    let missing = 0;
    for (const id of items) {
      let got: { rec: StoredRequest; body: Buffer } | null;
      try {
        got = await readOr503(res, readCapture(ctx, bin.id, id));
      } catch (err) {
        if (!res.headersSent) throw err;
        // Part of it is sent: cut off (its missing end says so), not ended as if whole
        // without that capture. /api/health counts the failure. Its last line says why, as
        // an error answer would ({"error":{code,message}}): the CLI tells it rather than
        // blame the network, and keeps it out of the file.
        const e = err instanceof HttpError ? err : new HttpError(503, 'storage_unavailable', 'A capture could not be read (see /api/health).');
        const cut = () => res.destroy();
        res.write(`\n${JSON.stringify(e.toBody())}\n`, cut);
        setTimeout(cut, 5000).unref(); // a client that reads nothing more gets no say in when
        return;
      }
      if (!got) {
        missing++; // evicted or deleted meanwhile (or, with ids, never there)
        continue;
      }
      const { rec, body } = got;
      start();
      const text = format === 'har' ? (n ? ',' : '') + JSON.stringify(toHarEntry(rec, body, ctx.config.publicUrl)) : JSON.stringify(toExportLine(rec, body)) + '\n';
      n++;
      if (!res.write(text)) await new Promise((r) => res.once('drain', r));
    }
    start();
    // Said, not skipped silently: in a trailer (an extra NDJSON line would not import), and in
    // a HAR's own comment. `hooklab export` tells it.
    const note = missing ? exportMissingNote(missing, ids !== undefined) : undefined;
    if (note && chunked) res.addTrailers({ [EXPORT_MISSING_HEADER]: String(missing) });
    res.end(format === 'har' ? harTail(note) : undefined);
  });

  /** HAR imports under way (see MAX_HAR_IMPORTS). */
  let harImports = 0;
  r.post('/bins/:id/import', async (req, res) => {
    const bin = await getBinOr404(ctx, req.params.id);
    const importer = new Importer(bin.id, ctx);
    const type = String(req.headers['content-type'] ?? '');
    // XML, a form, HTML…: not an export of any kind. Said as such, not as "line 1: not valid JSON".
    if (!importable(type)) {
      if (!req.complete) {
        res.setHeader('connection', 'close');
        closeAfterAnswer(req, res);
      }
      throw new HttpError(415, 'unsupported_media_type', `an import is NDJSON (Content-Type: application/x-ndjson, a hooklab export) or a HAR document (application/json), not "${type.slice(0, 100)}"`);
    }
    if (/json/i.test(type) && !/ndjson|jsonl|json-seq/i.test(type)) {
      // HAR: one JSON document, read whole (bounded), checked whole, then added. Each takes
      // ~4x its size in memory meanwhile (a 63 MB one: ~230 MB): MAX_HAR_IMPORTS at once.
      // Announced too large: a 413 whether or not others are under way (a 503 would invite a
      // retry that can never succeed).
      if (Number(req.headers['content-length']) > HAR_MAX_BYTES) {
        res.setHeader('connection', 'close');
        closeAfterAnswer(req, res);
        throw harTooLarge();
      }
      if (harImports >= ctx.config.maxHarImports) {
        if (!req.complete) {
          res.setHeader('connection', 'close');
          closeAfterAnswer(req, res);
        }
        res.setHeader('retry-after', '5');
        throw new HttpError(503, 'busy', `${ctx.config.maxHarImports} HAR import(s) are under way (MAX_HAR_IMPORTS): retry shortly, or import NDJSON (streamed, not limited)`);
      }
      harImports++;
      try {
        let text: string;
        try {
          text = await readBounded(req, HAR_MAX_BYTES);
        } catch (e) {
          // Too large: answered, then the rest of the body is read and dropped (see linger.ts),
          // not a reset that can wipe the 413 before the client reads it.
          if (!req.complete && !clientGone(req, e)) {
            res.setHeader('connection', 'close');
            closeAfterAnswer(req, res);
          }
          throw e;
        }
        let doc: unknown;
        try {
          doc = JSON.parse(text);
        } catch {
          // Where, quoting none of it (JSON.parse's message quotes the text: a header may hold a secret).
          throw new HttpError(400, 'invalid_json', `body is not valid JSON (${jsonProblem(text)})`);
        }
        const har = parse(HarImport, doc);
        // As many headers as a live capture may have (MAX_HEADER_COUNT, trailers counted with
        // them), checked before any is added.
        const crowded = har.log.entries.findIndex((e) => e.request.headers.length + (e._hooklab?.trailers?.length ?? 0) > ctx.config.maxHeaderCount);
        if (crowded !== -1) {
          const e = har.log.entries[crowded];
          const where = e._hooklab?.trailers?.length ? `log.entries[${crowded}]._hooklab.trailers` : `log.entries[${crowded}].request.headers`;
          throw invalid(where, tooManyHeaders(ctx.config.maxHeaderCount, !!e._hooklab?.trailers?.length));
        }
        for (const [i, e] of har.log.entries.entries()) {
          try {
            if (!(await importer.add(fromHarEntry(e)))) throw notFound('bin');
          } catch (err) {
            if (err instanceof StoreUnavailableError) throw importStopped(ctx, err, importer.imported, `log.entries[0] to [${i}]`);
            throw err;
          }
        }
      } finally {
        harImports--;
      }
    } else {
      // NDJSON, one capture per line, streamed. It stops at the first bad line; the lines
      // before it stay imported (the answer says how many).
      // The line of the last capture imported (a store fault says how far the import got).
      let lastLine = 0;
      try {
        // Not destroyed when the loop stops early: the client is still to hear why.
        const body = req.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>;
        for await (const { lineNo, text } of boundedLines(body, maxImportLineBytes(ctx.config))) {
          if (!text.trim()) continue;
          let value: unknown;
          try {
            value = JSON.parse(text);
          } catch {
            throw lineError(lineNo, importer.imported, `not valid JSON (${jsonLineProblem(text)})`);
          }
          const r = ExportLine.safeParse(value);
          if (!r.success) throw lineError(lineNo, importer.imported, fieldErrors(r.error, 'line').map((f) => `${f.field}: ${f.message}`).join('; '));
          const trailers = r.data.trailers?.length ?? 0;
          if (r.data.headers.length + trailers > ctx.config.maxHeaderCount) {
            throw lineError(lineNo, importer.imported, `${trailers ? 'headers and trailers' : 'headers'}: ${tooManyHeaders(ctx.config.maxHeaderCount, trailers > 0)}`);
          }
          const before = importer.imported;
          try {
            if (!(await importer.add(fromExportLine(r.data)))) throw notFound('bin');
          } finally {
            // Counted even when the write after it failed (it is kept, to be written).
            if (importer.imported > before) lastLine = lineNo;
          }
        }
      } catch (e) {
        if (clientGone(req, e)) {
          // Nobody is left to answer; not a fault of hooklab's (no stack, no bin id).
          ctx.log.info('import: the client went away, or REQUEST_TIMEOUT_MS ended it, before the end of its body', { imported: importer.imported });
          return;
        }
        if (!req.complete) {
          // Stopped early: the rest of the body is read and dropped, not waited for.
          res.setHeader('connection', 'close');
          closeAfterAnswer(req, res);
        }
        if (e instanceof StoreUnavailableError) throw importStopped(ctx, e, importer.imported, importer.imported ? `through line ${lastLine}` : 'none of its lines');
        throw e instanceof LineTooLongError ? lineTooLong(e, importer.imported) : e;
      }
    }
    res.json({ imported: importer.imported, evicted: importer.evicted });
  });

  r.delete('/bins/:id/requests/:rid', async (req, res) => {
    await getBinOr404(ctx, req.params.id);
    // Before it goes: a background forward of it still waiting then knows it was no loss.
    ctx.forwarder.deleted(req.params.id, req.params.rid);
    if (!(await recordedOr503(res, ctx.store.requests.delete(req.params.id, req.params.rid)))) throw notFound('request');
    ctx.verifier.gone(req.params.id, [req.params.rid]);
    ctx.live.requestsDeleted(req.params.id, [req.params.rid]);
    res.status(204).end();
  });

  r.delete('/bins/:id/requests', async (req, res) => {
    const bin = await getBinOr404(ctx, req.params.id);
    await recordedOr503(res, ctx.store.requests.clear(bin.id));
    // Emptied on purpose, so in use: idle expiry (BIN_IDLE_DAYS, if set now or later) counts
    // from now, not from its creation. The clear is on disk: a store fault (a full disk) keeps
    // this in memory, written once writes succeed, and does not turn the clear into a 503.
    const at = iso(ctx.now());
    await ctx.store.bins.put({ ...bin, activeAt: at, clearedAt: at }).catch((err) => {
      if (!(err instanceof StoreUnavailableError)) throw err;
    });
    ctx.verifier.gone(bin.id, 'all');
    ctx.live.requestsDeleted(bin.id, 'all');
    res.status(204).end();
  });

  return r;
}

/** An imported capture with more headers (and trailers, counted with them) than a live one may have. */
const tooManyHeaders = (max: number, trailers = false) => `at most ${max} ${trailers ? 'header and trailer fields' : 'headers'} (MAX_HEADER_COUNT), as a live capture`;
