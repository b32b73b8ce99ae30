// The receiver: the hot path. Served straight from node:http, before Express, because a
// sender under test may burst thousands of requests. One capture:
//   headers in -> plan picks the answer -> body read (capped) -> store.append -> live emit
//   -> answer (after its delay, or a fault).
// Around it: CORS preflights answered by hooklab (no plan step used), proxy mode (the first
// forward target answers instead of the plan), and, off the path, forwards and signature checks.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { AnswerOutcome, Fault } from '../../shared/api.ts';
import type { Control } from '../control/control.ts';
import type { Decision, RequestFacts } from '../control/engine.ts';
import type { Forwarder } from '../forward/forwarder.ts';
import type { Capture } from '../forward/request.ts';
import { LOOP_HEADER, type SelfConnections } from '../forward/self-connections.ts';
import type { Verifier } from '../verify/service.ts';
import { nestsWithin } from '../lib/json-depth.ts';
import { withoutAuthCookie } from '../http/auth-cookie.ts';
import { answerCorsHeaders, isPreflight, preflightHeaders } from './cors.ts';
import { addressOf } from '../net/client-key.ts';
import { namesOf, proxyAnswer } from './proxy-answer.ts';
import { AnswerBodies } from './answer-bodies.ts';
import { closedByPeer } from './hang-up.ts';
import { answerWent, onClosed, onTurn } from './answer-order.ts';
import { ORIGIN_HEADERS } from '../../shared/schema/headers.ts';
import type { LiveBus } from '../live/bus.ts';
import { toItem } from '../store/request-index.ts';
import { readCaptured } from '../store/captured.ts';
import { type AppendGuard, type CapturedRequest, SettingsChangedError, type Store } from '../store/types.ts';
import { AppendInDoubtError } from '../store/redis/in-doubt.ts';
import { closeAfterAnswer } from '../http/linger.ts';
import { overHeaderCount, tooManyHeaders } from '../http/too-many-headers.ts';
import type { BodyBudget } from './body-budget.ts';
import type { RequestWaiters } from './waiters.ts';
import { iso } from '../time.ts';
import type { RateLimiter } from './rate-limit.ts';

export interface ReceiverDeps {
  store: Store;
  control: Control;
  live: LiveBus;
  newRequestId: () => string;
  now: () => number;
  maxBodyBytes: number;
  /** MAX_HEADER_COUNT: header and trailer fields together (the server checked the headers alone). */
  maxHeaderCount: number;
  maxRequestsPerBin: number;
  hangTimeoutMs: number;
  trustProxy: boolean;
  rateLimiter: RateLimiter | null;
  budget: BodyBudget;
  /** MAX_UNWRITTEN_BYTES: past this backlog, a capture is answered once it is on disk. */
  maxUnwrittenBytes: number;
  /** Past this age of the oldest capture not yet on disk, captures are answered once written (see unwrittenLimitMs). */
  maxUnwrittenMs: number;
  /** The wait API's waiters, told of every capture stored. */
  waiters?: RequestWaiters;
  /** A delayed answer went (a bin's delayMs): waiters with a `status` filter count it now, here and on other instances (see RequestWaiters.answered). */
  onAnswered?: (binId: string, requestId: string) => void;
  /** Told of every capture stored (the other instances' waiters, on Redis). */
  onStored?: (r: CapturedRequest) => void;
  /** Forward targets and proxy mode (absent: none). */
  forwarder?: Forwarder;
  /** Our own forwards in flight: one arriving here is a loop, refused (508). */
  selfConnections?: SelfConnections;
  /** Signature checks and idempotency keys (absent: none). */
  verifier?: Verifier;
  /** AUTH_TOKEN: its sign-in cookie is not captured (see auth-cookie.ts). */
  authToken?: string | null;
}

/** Answers hooklab gives itself rather than the bin's settings. */
const PREFLIGHT: AnswerOutcome = { status: 204, delayMs: 0, fault: null, source: 'preflight', index: null, roll: null };
const PROXY_PENDING: AnswerOutcome = { status: null, delayMs: 0, fault: null, source: 'proxy', index: null, roll: null };
// The CORS-safelisted answer headers need no exposing.
const SAFELISTED = new Set(['cache-control', 'content-language', 'content-length', 'content-type', 'expires', 'last-modified', 'pragma']);
const exposable = (names: string[]) => names.filter((n) => !SAFELISTED.has(n.toLowerCase()) && !n.toLowerCase().startsWith('access-control-'));

export interface ParsedTarget {
  binId: string;
  path: string;
  queryString: string;
}

/** "/h/<binId>/a/b?x=1" -> { binId, path: "/a/b", queryString: "x=1" }. Path kept as sent. */
export function parseTarget(url: string, prefix: string): ParsedTarget {
  const q = url.indexOf('?');
  const pathPart = q === -1 ? url : url.slice(0, q);
  const queryString = q === -1 ? '' : url.slice(q + 1);
  const rest = pathPart.slice(prefix.length);
  const slash = rest.indexOf('/');
  const binId = slash === -1 ? rest : rest.slice(0, slash);
  const path = slash === -1 ? '/' : rest.slice(slash);
  return { binId, path, queryString };
}

/**
 * How old the oldest acknowledged capture not yet on disk may get before new ones are answered
 * only once written: writes are coalesced for FLUSH_INTERVAL_MS, and one may then run late by as
 * much again (at least 50 ms) before senders wait. Under a flood on a busy CPU a write took up
 * to 1.4 s, and a hard kill lost every capture acknowledged meanwhile.
 */
export const unwrittenLimitMs = (flushIntervalMs: number): number => Math.max(2 * flushIntervalMs, 50);

/** Whether a capture (or an import) must wait until written before it is answered (see above, and MAX_UNWRITTEN_BYTES). */
export const writesBehind = (store: Store, maxUnwrittenBytes: number, maxUnwrittenMs: number): boolean =>
  store.requests.pendingBytes() > maxUnwrittenBytes || store.unwrittenForMs() > maxUnwrittenMs;

/** What a sender that was refused with 503 by hooklab's store got, for its record (the plan step it used stays used). */
function refusedAnswer(planned: AnswerOutcome): AnswerOutcome {
  const answer: AnswerOutcome = { status: 503, delayMs: 0, fault: null, source: 'store', index: null, roll: null };
  if (planned.planUses !== undefined) answer.planUses = planned.planUses;
  return answer;
}

export function clientIp(req: IncomingMessage, trustProxy: boolean): string {
  if (trustProxy) {
    // The last entry is the one our proxy added; earlier ones are whatever the client sent.
    const xff = req.headers['x-forwarded-for'];
    const list = Array.isArray(xff) ? xff.join(',') : xff;
    const last = list?.split(',').pop()?.trim();
    const ip = last ? addressOf(last) : null;
    if (ip) return ip;
  }
  const a = req.socket.remoteAddress ?? '';
  return a.startsWith('::ffff:') ? a.slice(7) : a;
}

function sendJson(res: ServerResponse, status: number, body: unknown) {
  const s = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(s) });
  res.end(s);
}

/** Answer headers hooklab sets itself after a bin's own (see answer()). */
const SET_BELOW = new Set(['x-hooklab-request-id', 'content-security-policy', 'x-content-type-options', 'content-length']);

export function createReceiver(deps: ReceiverDeps, prefix: string) {
  const { store, control, live } = deps;
  // A burst puts dozens of requests in one millisecond: format its time once.
  let isoMs = -1;
  let isoText = '';
  const receivedIso = (ms: number) => (ms === isoMs ? isoText : ((isoMs = ms), (isoText = iso(ms))));
  const answerBodies = new AnswerBodies();
  // Connections a bin's fault closed (a reset, a hang's end): the answers still held on them
  // behind that request never went, and their captures say so (see hangUpRecorder).
  const closedByFault = new WeakMap<Socket, Fault>();
  const closeFor = (socket: Socket, fault: Fault) => {
    closedByFault.set(socket, fault);
    socket.destroy();
  };

  /**
   * The bin's own answer (its settings). cors: the request's Origin may read it. Should the
   * sender hang up before a delayed (or never coming) answer goes, the capture's answer as
   * stored says so: a slow bin past the sender's timeout must not read as answered.
   */
  function answer(req: IncomingMessage, res: ServerResponse, d: Decision, requestId: string, cors: boolean, binId: string, receivedAt: number) {
    // A fault's own end of the connection is no hang-up for its capture (only the sender's is).
    const onHangUp = hangUpRecorder(req, res, binId, requestId, receivedAt, { senderOnly: d.fault !== null });
    const socket = req.socket;
    // Gone while the capture was being stored (a sender with a short timeout, a store behind,
    // an earlier request's reset on this connection).
    if (socket.destroyed) {
      if (d.fault !== 'reset') onHangUp();
      return;
    }
    let hang: NodeJS.Timeout | undefined;
    let delay: NodeJS.Timeout | undefined;
    // An answer written now, in its turn (the common case: no delay, no fault, none ahead of it
    // on the connection), is not cut off unsent: only the others watch for the close.
    if (d.delayMs > 0 || d.fault !== null || !res.socket) {
      onClosed(socket, res, () => {
        clearTimeout(hang);
        clearTimeout(delay);
        // Gone unsent (or sent: 'finish' came first and this is a no-op).
        if (d.delayMs > 0) deps.waiters?.delaying(requestId, false);
        onHangUp();
      });
    }
    const act = () => {
      // Both wait for the answers owed to earlier requests on this connection (pipelined) to go.
      if (d.fault === 'reset') return onTurn(res, () => closeFor(socket, 'reset'));
      if (d.fault === 'timeout') {
        // Never answer; drop the socket at the bound so a forgotten sender does not pin it.
        return onTurn(res, () => (hang = setTimeout(() => closeFor(socket, 'timeout'), deps.hangTimeoutMs)));
      }
      const r = d.response!;
      // A flat list: the bin's names keep the case it gave them, and two that differ only in
      // case both go (sent as given). Each name the bin sets replaces hooklab's default for it.
      let binNames: Set<string> | null = null;
      for (const k in r.headers) (binNames ??= new Set()).add(k.toLowerCase());
      const headers: string[] = [];
      if (!binNames?.has('content-type')) headers.push('content-type', r.contentType);
      // Before the bin's headers: a bin that sets its own Access-Control-* keeps them.
      // Only a browser's request (it has an Origin) needs them: other senders get none.
      if (cors && req.headers.origin !== undefined) {
        for (const [k, v] of Object.entries(answerCorsHeaders(req.headers.origin, exposable(['x-hooklab-request-id', ...Object.keys(r.headers)])))) if (!binNames?.has(k)) headers.push(k, v);
      }
      // Never a header that acts for the whole origin, even from settings an earlier build
      // saved, nor one set below (such settings may name it too).
      for (const k in r.headers) {
        const name = k.toLowerCase();
        if (!ORIGIN_HEADERS.has(name) && !SET_BELOW.has(name)) headers.push(k, r.headers[k]);
      }
      // Receiver URLs share the UI's origin: a configured HTML answer must not run there.
      // Set after the bin's headers, so no bin can relax them.
      headers.push('x-hooklab-request-id', requestId, 'content-security-policy', 'sandbox', 'x-content-type-options', 'nosniff');
      // 204 and 304 carry no body, so no content-length either; a 205 carries none whatever the
      // settings say, with a length of 0 (RFC 9110 §15.3.6). Node strips only the first two.
      const bodyless = r.status === 204 || r.status === 304 || r.status === 205;
      // A large body: bytes shared by every answer that sends it (see answer-bodies.ts).
      const body = bodyless ? undefined : answerBodies.bytesOf(r.body);
      if (body !== undefined) headers.push('content-length', String(typeof body === 'string' ? Buffer.byteLength(body) : body.length));
      else if (r.status === 205) headers.push('content-length', '0');
      try {
        res.writeHead(r.status, headers);
        // A string body lets Node send head and body in one write.
        res.end(body);
      } catch {
        // Settings are validated on the way in; should a bad header slip through anyway,
        // drop this one connection rather than the server.
        req.socket.destroy();
      }
    };
    if (d.delayMs > 0) {
      // Its delay runs from now (after the store, maybe after the disk): until the answer went,
      // a wait's status filter must not take it for sent (see RequestWaiters.delaying). Not when
      // the delay ends: the answer may then be held behind an earlier one on the connection
      // (pipelined), to go later, or never (the close above clears it then).
      deps.waiters?.delaying(requestId, true);
      res.once('finish', () => {
        deps.waiters?.delaying(requestId, false);
        if (d.fault === null) deps.onAnswered?.(binId, requestId);
      });
      delay = setTimeout(() => {
        delay = undefined;
        act();
      }, d.delayMs);
    } else act();
  }

  /**
   * A handler for the sender's connection closing: should it close before its answer went, the
   * capture's answer says so (hungUpAfterMs), and `known` is told. A close from the sender's side
   * counts (closedByPeer), and, unless senderOnly, one for an earlier request's fault on the
   * connection (closedByFault: pipelined answers held behind it never went). hooklab's other
   * closes (a stop, MAX_PIPELINED) do not.
   */
  function hangUpRecorder(req: IncomingMessage, res: ServerResponse, binId: string, requestId: string, receivedAt: number, o: { senderOnly?: boolean; known?: (cut: CutOff) => void } = {}) {
    let told = false;
    return () => {
      // Its head may be out while the answer is still held (behind an earlier one): only a whole answer went.
      if (told || answerWent(res)) return;
      // The fault's close is why, should the sender also have ended its side (half-closed).
      const byFault = o.senderOnly ? undefined : closedByFault.get(req.socket);
      if (!byFault && !closedByPeer(req.socket)) return;
      told = true;
      const cut: CutOff = { hungUpAfterMs: Math.max(0, deps.now() - receivedAt) };
      if (byFault) cut.closedByFault = byFault;
      o.known?.(cut);
      store.requests
        .annotate(binId, requestId, (r) => ({ answer: { ...r.answer, ...cut } }))
        .then((item) => item && live.requestUpdated(item))
        .catch(() => {});
    };
  }

  function answerPreflight(req: IncomingMessage, res: ServerResponse, requestId: string) {
    res.writeHead(204, { ...preflightHeaders(req.headers), 'x-hooklab-request-id': requestId, 'content-security-policy': 'sandbox', 'x-content-type-options': 'nosniff' });
    res.end();
  }

  /** Proxy mode: the first target's answer, as passed on (see proxy-answer.ts). */
  function answerFromTarget(req: IncomingMessage, res: ServerResponse, a: ReturnType<typeof proxyAnswer>, requestId: string, cors: boolean) {
    const headers = [...a.headers, 'x-hooklab-request-id', requestId];
    if (cors && req.headers.origin !== undefined && !a.headers.some((h, i) => i % 2 === 0 && h.toLowerCase() === 'access-control-allow-origin')) {
      for (const [k, v] of Object.entries(answerCorsHeaders(req.headers.origin, exposable(namesOf(headers))))) headers.push(k, v);
    }
    headers.push('content-security-policy', 'sandbox', 'x-content-type-options', 'nosniff');
    // As in answer(): a 205 goes with no body and a length of 0.
    const bodyless = a.status === 204 || a.status === 304 || a.status === 205 || req.method === 'HEAD';
    if (!bodyless) headers.push('content-length', String(a.body.length));
    else if (a.status === 205) headers.push('content-length', '0');
    try {
      res.writeHead(a.status, headers);
      res.end(bodyless ? undefined : a.body);
    } catch {
      req.socket.destroy(); // a header Node refuses: drop this one connection, not the server
    }
  }

  /**
   * An append the store could not confirm (see AppendInDoubtError): the sender got 503 and
   * retries; should the capture have been stored after all, its record says so (answered 503
   * by hooklab), and viewers and waiters are told. Out here, so that nothing of the request
   * (its body) is held meanwhile: only the bin and the answer.
   */
  function recordRefusal(err: AppendInDoubtError, planned: AnswerOutcome) {
    void err.settle(refusedAnswer(planned)).then(
      async (item) => {
        if (!item) return;
        live.requestUpdated(item);
        // This instance's waiters (the others heard of it from the capture feed).
        if (!deps.waiters?.wants(item.binId) && !deps.onStored) return;
        const stored = await readCaptured(store, item.binId, item.id);
        if (!stored) return;
        deps.waiters?.captured(stored);
        deps.onStored?.(stored);
      },
      () => {},
    ).catch(() => {});
  }

  /**
   * A capture kept in memory whose write failed (a full disk, say), so its sender got 503: its
   * record says so, as the sender will retry it. Should the disk recover before a restart, it
   * is written with that answer; viewers get the corrected row now.
   */
  function recordUnwritten(binId: string, id: string, planned: AnswerOutcome) {
    store.requests
      .annotate(binId, id, () => ({ answer: refusedAnswer(planned) }))
      .then((item) => item && live.requestUpdated(item))
      .catch(() => {});
  }

  /** Refuse with 503 and close the connection: the sender retries later, nothing is stored. */
  function refuse(req: IncomingMessage, res: ServerResponse, code: string, message: string, retryAfterS: number) {
    if (res.headersSent) {
      req.socket.destroy();
      return;
    }
    res.setHeader('retry-after', String(retryAfterS));
    // Closing (after a short linger, see linger.ts): a stalled upload must not keep its
    // connection, and what it still sends is dropped, not kept.
    res.setHeader('connection', 'close');
    sendJson(res, 503, { error: { code, message } });
    closeAfterAnswer(req, res);
  }

  return async function receive(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const receivedAt = deps.now();
    const target = parseTarget(req.url ?? '/', prefix);
    let bin;
    try {
      bin = target.binId ? await store.bins.get(target.binId) : undefined;
    } catch {
      // The store cannot answer (Redis unreachable): nothing is acknowledged; try again later.
      refuse(req, res, 'storage_unavailable', store.health().fault?.message ?? 'The store cannot be reached; retry shortly.', 5);
      return;
    }
    if (!bin) {
      req.resume();
      sendJson(res, 404, { error: { code: 'bin_not_found', message: 'No bin at this URL. Create one with POST /api/bins.' } });
      return;
    }
    if (deps.selfConnections?.isOwn(req.socket, req.method, req.url)) {
      // One of our own forwards came back in under a name the target check did not know.
      req.resume();
      res.setHeader(LOOP_HEADER, 'refused');
      sendJson(res, 508, { error: { code: 'forward_loop', message: "This request was forwarded by this hooklab to itself: refused, so that forwarding cannot loop. Point the forward target at your app, not at a hooklab receiver URL." } });
      return;
    }
    const fault = store.health().fault;
    if (fault) {
      refuse(req, res, 'storage_unavailable', fault.message, 5);
      return;
    }
    if (deps.rateLimiter && !deps.rateLimiter.take(bin.id, receivedAt)) {
      req.resume();
      res.setHeader('retry-after', String(deps.rateLimiter.retryAfterSeconds(bin.id, receivedAt)));
      sendJson(res, 429, { error: { code: 'rate_limited', message: 'This bin is receiving too many requests.' } });
      return;
    }
    // Room for the body it announces? Checked before reading it (and before the plan moves), not
    // reserved: its bytes count as they arrive (see body-budget.ts).
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > 0 && !deps.budget.fits(Math.min(declared, deps.maxBodyBytes))) {
      refuse(req, res, 'busy', BUSY, 2);
      return;
    }
    let reserved = 0;
    // Kept as Node gives it: flat, original case and order; only hooklab's own sign-in cookie
    // is taken out (a signed-in browser sends it to receiver URLs too: see auth-cookie.ts).
    const headers = withoutAuthCookie(req.rawHeaders, deps.authToken ?? null);
    const method = req.method ?? 'GET';
    const cors = control.cors(bin.id);
    // A browser's preflight is answered by hooklab: the bin's plan is for the real request.
    const preflight = cors && isPreflight(method, req.headers);
    const forward = preflight ? undefined : deps.forwarder?.settingsOf(bin.id);
    const proxied = forward?.answerWith === 'target';
    // Decide at arrival: plan steps are consumed in arrival order, exactly once each. Settings
    // that match on the JSON body decide once it is in (then in order of completion).
    const byBody = !preflight && !proxied && control.needsBody(bin.id);
    let facts: RequestFacts = { method, path: target.path, headers };
    // A bin without a plan may be answered with no step in the shared store (Redis): the
    // answer's guard goes with the append, which checks it atomically; see keep().
    let guard: AppendGuard | undefined;
    const decideNow = (): Decision | Promise<Decision> => {
      const quick = control.quickDecision?.(bin.id, facts);
      if (!quick) return control.decide(bin.id, facts);
      guard = quick.guard;
      return quick.decision;
    };
    let decision: Decision | Promise<Decision> | null = preflight || proxied || byBody ? null : decideNow();

    const chunks: Buffer[] = [];
    let stored = 0;
    let size = 0;
    let refused = false;
    const releaseAll = () => {
      deps.budget.release(reserved);
      reserved = 0;
    };
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (refused || stored >= deps.maxBodyBytes) return;
      const take = Math.min(chunk.length, deps.maxBodyBytes - stored);
      if (stored + take > reserved) {
        const more = stored + take - reserved;
        if (!deps.budget.take(more)) {
          refused = true;
          chunks.length = 0;
          releaseAll();
          refuse(req, res, 'busy', BUSY, 2);
          return;
        }
        reserved += more;
      }
      chunks.push(take === chunk.length ? chunk : chunk.subarray(0, take));
      stored += take;
    });
    let ended = false;
    // Aborted mid-body: nothing is recorded; the socket is gone.
    req.on('error', () => {});
    req.once('close', () => {
      if (!ended) releaseAll();
    });
    req.on('end', () => {
      ended = true;
      if (refused) return;
      // Trailers come with the body's end, before any answer: stored with the headers, they
      // count with them (a chunked body could end with any number of them).
      if (req.rawTrailers.length && overHeaderCount(req, deps.maxHeaderCount)) {
        chunks.length = 0;
        releaseAll();
        if (res.headersSent) req.socket.destroy();
        else {
          tooManyHeaders(res, deps.maxHeaderCount, true);
          closeAfterAnswer(req, res);
        }
        return;
      }
      // '' lets the store number it (the redis driver: in the order appends reach Redis).
      const id = deps.newRequestId();
      // A right-sized copy: a slice would pin the socket's read buffer. Small bodies come from
      // Node's 8 KiB pool (a backing store of its own each cost the scavenger more: ~2 % of a
      // flood's throughput in one A/B of alternating slices). The stores keep no pooled view
      // past the write: the disk store copies the bodies it caches, the memory store each one
      // (see ownBytes).
      const body = Buffer.allocUnsafe(stored);
      let at = 0;
      for (const c of chunks) at += c.copy(body, at);
      chunks.length = 0;
      if (byBody) {
        facts = { method, path: target.path, headers, json: size > stored ? null : jsonBody(body) };
        decision = decideNow();
      }
      const undecided = () => {
        releaseAll();
        refuse(req, res, 'storage_unavailable', 'The answer could not be decided (see /api/health); retry shortly.', 5);
      };
      // A decision made in Redis comes back later; one made here is used at once.
      const settle = (d: Decision | Promise<Decision> | null) => (d instanceof Promise ? d.then(keep, undecided) : keep(d));
      const keep = (d: Decision | null) => {
        const trailers = req.rawTrailers.length ? req.rawTrailers : undefined;
        const key = preflight ? null : (deps.verifier?.keyOf(bin.id, { headers, body }) ?? null);
        const record: CapturedRequest = {
          id,
          binId: bin.id,
          method,
          path: target.path,
          queryString: target.queryString,
          headers,
          ip: clientIp(req, deps.trustProxy),
          receivedAt: receivedIso(receivedAt),
          size,
          truncated: size > stored,
          storedBytes: stored,
          contentType: (req.headers['content-type'] as string | undefined) ?? null,
          answer: preflight ? PREFLIGHT : proxied ? PROXY_PENDING : d!.outcome,
          body,
        };
        // Set, not spread into the literal: spreads build and copy a temporary object per capture.
        if (trailers) record.trailers = trailers;
        if (key) record.idempotency = key;
        // From here the store counts these bytes (until they are written). A proxied body is
        // also held (and copied to the forwarding thread) until the target answers or the
        // exchange fails: it stays reserved until then (see the proxy exchange below).
        if (!proxied) releaseAll();
        const guarded = guard;
        guard = undefined;
        store.requests.append(record, deps.maxRequestsPerBin, guarded).then(
          (evictions) => {
            if (evictions === null) {
              // The bin was deleted while the body was arriving.
              releaseAll();
              sendJson(res, 404, { error: { code: 'bin_not_found', message: 'This bin was deleted.' } });
              return;
            }
            // From here on the id is record.id: the store may have given it.
            let own: string[] = NO_IDS;
            for (const ev of evictions) {
              deps.verifier?.gone(ev.binId, ev.ids);
              if (ev.binId === bin.id) own = ev.ids;
              else live.requestsEvicted(ev.binId, ev.ids);
            }
            // Before the live event: the check is then done before that event leaves, and its
            // verdict goes with it (see Verifier.captured). It runs after the answer all the same.
            if (!preflight) deps.verifier?.captured(record);
            if (live.wants(bin.id)) live.requestCaptured(toItem(record), own);
            deps.waiters?.captured(record);
            deps.onStored?.(record);
            const capture: Capture | null = forward ? { method, path: target.path, queryString: target.queryString, headers, body } : null;
            if (capture && record.truncated) capture.truncatedFrom = size;
            if (capture && trailers) capture.trailerCount = trailers.length / 2;
            if (forward && capture) deps.forwarder!.forwardInBackground(bin.id, record.id, forward, capture, proxied);
            // The target works while the capture is written.
            const proxying = proxied && capture ? deps.forwarder!.proxy(forward!.targets[0].url, capture) : null;
            // Registered before the answer's handler: once the sender has its answer, the bytes
            // are free. The exchange always ends (FORWARD_TIMEOUT_MS), whatever the sender does.
            if (proxying) proxying.then(releaseAll, releaseAll);
            const reply = () => {
              if (preflight) answerPreflight(req, res, record.id);
              else if (!proxying) answer(req, res, d!, record.id, cors, bin.id, receivedAt);
              else {
                // A sender that gives up before the target answered (its own timeout shorter
                // than the target's pace) is recorded as a slow bin's is: it never got the answer.
                let cut: CutOff | undefined;
                const onHangUp = hangUpRecorder(req, res, bin.id, record.id, receivedAt, { known: (c) => (cut = c) });
                if (req.socket.destroyed) onHangUp();
                else onClosed(req.socket, res, onHangUp);
                void proxying.then((r) => {
                  const a = proxyAnswer(r);
                  if (!res.destroyed) answerFromTarget(req, res, a, record.id, cors);
                  // The whole answer is replaced: a hang-up recorded meanwhile is kept in it.
                  const outcome: AnswerOutcome = { ...PROXY_PENDING, status: a.status };
                  if (cut) Object.assign(outcome, cut);
                  void deps.forwarder!.recordProxy(bin.id, record.id, forward!.targets[0].url, capture!, r, outcome);
                });
              }
            };
            // Normally answered at once and written with the next flush. When more than
            // MAX_UNWRITTEN_BYTES waits for the disk, or the writes fall behind (the oldest
            // unwritten capture older than unwrittenLimitMs), answer only once written: senders
            // then go at the disk's pace, and a hard kill still loses no more than that window.
            if (!writesBehind(store, deps.maxUnwrittenBytes, deps.maxUnwrittenMs)) reply();
            else {
              store.durable().then(reply, () => {
                refuse(req, res, 'storage_unavailable', 'The capture could not be written to disk (see /api/health).', 5);
                recordUnwritten(bin.id, record.id, record.answer);
              });
            }
          },
          (err) => {
            releaseAll(); // a proxied capture's bytes, not stored: no exchange will hold them
            // The quick answer's guard failed: the bin's settings changed elsewhere (a plan may
            // now be due). Nothing was stored: decide with the store's settings (a step is
            // used up now, once) and append that, unguarded.
            if (err instanceof SettingsChangedError) settle(control.decide(bin.id, facts));
            else if (err instanceof AppendInDoubtError) {
              // Sent, never confirmed (Redis stalled past the command timeout, say): it may yet
              // be stored. Not acknowledged all the same, so the sender tries again; should it
              // land, its record is made to say what the sender got (see recordRefusal).
              refuse(req, res, 'storage_unavailable', err.message, 5);
              recordRefusal(err, record.answer);
            }
            // Not stored (the store is down: Redis unreachable, say): nothing was acknowledged,
            // so the sender is told to try again.
            else refuse(req, res, 'storage_unavailable', 'The capture could not be stored (see /api/health); retry shortly.', 5);
          },
        );
      };
      settle(decision);
    });
  };
}

const NO_IDS: string[] = [];

/** What a capture's answer says when its connection closed before the answer went. */
type CutOff = Pick<AnswerOutcome, 'hungUpAfterMs' | 'closedByFault'>;

/** A body as JSON for `json` matches: { value } when it parses, else null (never throws). */
function jsonBody(body: Buffer): { value: unknown } | null {
  let i = 0;
  while (i < body.length && (body[i] === 0x20 || body[i] === 0x0a || body[i] === 0x0d || body[i] === 0x09)) i++;
  if (body[i] !== 0x7b && body[i] !== 0x5b) return null; // only objects and arrays
  // Nested thousands deep, it would take the event loop for seconds: not JSON to match on.
  if (!nestsWithin(body)) return null;
  try {
    return { value: JSON.parse(body.toString('utf8')) };
  } catch {
    return null;
  }
}
const BUSY = 'hooklab holds as many request bodies in memory as it may (MAX_BUFFERED_BYTES: being received, not yet written, or waiting for a proxy target\'s answer). Retry shortly.';
