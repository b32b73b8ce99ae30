// The OpenAPI 3.1 document, generated from the same schemas that validate the input
// (shared/schema), served at GET /api/openapi.json and as a readable page at GET /api/docs.
// Every route the API serves is listed here; test/api/openapi.test.ts checks that against the
// routers and checks real answers against what is declared.
import { extendZodWithOpenApi, OpenAPIRegistry, OpenApiGeneratorV31, type RouteConfig } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { ApiError } from '../../shared/schema/common.ts';
import * as B from '../../shared/schema/bins.ts';
import * as D from '../../shared/schema/dispatch.ts';
import * as X from '../../shared/schema/exchange.ts';
import * as F from '../../shared/schema/forward.ts';
import * as S from '../../shared/schema/search.ts';
import * as V from '../../shared/schema/verify.ts';
import { type ResponseLimits, ResponseCheckAnswer, ResponseControlView, responseConfigInput } from '../../shared/schema/response.ts';

export interface OpenApiOptions {
  version: string;
  limits: ResponseLimits;
  /** Server URL shown in the document. */
  publicUrl: string;
}

// Lets the registry name schemas built here at run time (the response settings' schema depends
// on MAX_DELAY_MS); shared schemas name themselves with .meta({ id }).
extendZodWithOpenApi(z);

type Method = RouteConfig['method'];

/**
 * A stable operationId from the method and path, for client generators: `get /api/bins/{id}`
 * → getBinsById, `post /h/{binId}/{path}` → postHByBinIdByPath (unique as paths are).
 */
export function operationIdOf(method: Method, path: string): string {
  const cap = (w: string) => w.charAt(0).toUpperCase() + w.slice(1);
  const words = path
    .split('/')
    .filter((seg) => seg && seg !== 'api')
    .map((seg) => {
      const param = /^\{(\w+)\}$/.exec(seg);
      return param ? `By${cap(param[1])}` : seg.split(/[^A-Za-z0-9]+/).filter(Boolean).map(cap).join('');
    });
  return method + words.join('');
}

const json = (schema: z.ZodType, description: string) => ({ description, content: { 'application/json': { schema } } });
const err = (description: string) => json(ApiError, description);
/** The wait API's budget (WAIT_MAX_WAITERS, WAIT_MAX_WAITERS_PER_IP: see api/wait-budget.ts). */
const busyWaiting = () => ({ ...err('As many waits are open as allowed, here or from this client (code "too_many_waiters"): retry after Retry-After.'), headers: retryAfter });
const binId = z.string().meta({ description: 'The bin id (also the secret part of its receiver URL).' });

/** Every method a path item can have: the receiver takes any. */
const ALL_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const satisfies readonly Method[];

/** What the guards in front of the API answer (server/app.ts, server/http): one component each. */
const GUARD_RESPONSES = {
  Unauthorized: {
    status: 401,
    description: 'AUTH_TOKEN is set and the request carries no token, or a wrong one (code "unauthorized"): send `Authorization: Bearer <token>`.',
    example: { error: { code: 'unauthorized', message: 'missing or wrong access token (AUTH_TOKEN)' } },
  },
  ForbiddenHost: {
    status: 403,
    description:
      "No AUTH_TOKEN is set and the Host header (or a browser's Origin) is not one of hooklab's own host:port pairs (code \"forbidden_host\"): add it to ALLOWED_HOSTS, or set AUTH_TOKEN. With AUTH_TOKEN, a browser's Origin that is neither the request's own (its Host) nor one of those (code \"forbidden_origin\"): another site's page, sending the sign-in cookie.",
    example: { error: { code: 'forbidden_host', message: "this host or origin is not one of hooklab's (…); add it to ALLOWED_HOSTS (name:port), or set AUTH_TOKEN to answer to any host name (a browser's Origin must still be one of these)" } },
  },
  RateLimited: {
    status: 429,
    description:
      'AUTH_TOKEN is set and this address sent too many wrong tokens (AUTH_FAILURES_PER_MINUTE; code "rate_limited"): refused, even with the right token, until Retry-After seconds have passed.',
    example: { error: { code: 'rate_limited', message: 'too many wrong access tokens from this address; try again in 42 s' } },
  },
} as const;

const retryAfter = { 'Retry-After': { description: 'Seconds to wait before trying again.', schema: { type: 'integer' as const, minimum: 1 } } };

export function openApiDocument(o: OpenApiOptions): object {
  const reg = new OpenAPIRegistry();
  reg.registerComponent('securitySchemes', 'bearer', {
    type: 'http',
    scheme: 'bearer',
    description: 'AUTH_TOKEN, when the server has one. Browsers get it as a cookie from /auth/login.',
  });
  const ResponseConfigInput = reg.register('ResponseConfigInput', responseConfigInput(o.limits));
  const apiErrorRef = { $ref: '#/components/schemas/ApiError' };
  for (const [name, r] of Object.entries(GUARD_RESPONSES)) {
    reg.registerComponent('responses', name, {
      description: r.description,
      ...(r.status === 429 ? { headers: retryAfter } : {}),
      content: { 'application/json': { schema: apiErrorRef, example: r.example } },
    });
  }
  /** The guards' answers, for a route behind them (every /api route but /api/health). */
  const guarded = Object.fromEntries(Object.entries(GUARD_RESPONSES).map(([name, r]) => [r.status, { $ref: `#/components/responses/${name}` }]));

  const route = (
    method: Method,
    path: string,
    summary: string,
    responses: RouteConfig['responses'],
    request: RouteConfig['request'] = undefined,
    tag = 'API',
    description: string | undefined = undefined,
  ) => {
    const params = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
    const fullRequest = { ...request };
    if (params.length) fullRequest.params = z.object(Object.fromEntries(params.map((p) => [p, p === 'id' && path.startsWith('/api/bins') ? binId : z.string()])));
    const withErrors = { ...responses };
    if (request?.body || request?.query) withErrors[400] ??= err('Bad input: every bad field is listed in `error.fields`.');
    // A body is parsed whenever one is sent, so these answer for operations that take none too.
    if (!path.endsWith('/import') && (request?.body || method !== 'get')) {
      withErrors[415] ??= err('The body was not sent as JSON in UTF-8 (code "unsupported_media_type"). Nothing was changed.');
      withErrors[413] ??= err('The JSON body is larger than 1 MB (code "too_large"). Nothing was changed.');
    }
    if (method !== 'get' && !request?.body) withErrors[400] ??= err('This operation takes no body; one that was sent and is not valid JSON is refused (code "invalid_json"). Valid JSON is ignored.');
    if (params.length) withErrors[400] ??= err('A path parameter that is not valid percent-encoding (code "bad_request").');
    if (params.length) withErrors[404] ??= err('Not found.');
    // Express tags every GET answer with an ETag: one asked with If-None-Match naming it is a 304.
    const jsonAnswer = (r: unknown) => !!(r && typeof r === 'object' && 'content' in r && (r.content as Record<string, unknown>)['application/json']);
    if (method === 'get' && !/\/(wait|export|raw)$/.test(path) && jsonAnswer(withErrors[200])) withErrors[304] ??= { description: 'Not modified: If-None-Match named the current ETag (no body).' };
    if (method !== 'get') withErrors[503] ??= err('Storage cannot be written (see /api/health); retry later. Nothing was changed.');
    // Settings with revisions (server/http/etag.ts): read with their ETag, changed with If-Match.
    if (/\/response$|\/forward$|\/verify$|\/webhooks\/\{id\}$/.test(path)) {
      if (method !== 'get') {
        withErrors[412] ??= err('If-Match named an older revision (ETag) of these settings: reload and apply the change again.');
        withErrors[503] = err('Storage cannot be written (see /api/health), or MAX_WAITING_WRITES changes to these settings are under way or waiting, or (Redis) another instance\'s change to them took longer than SETTINGS_LOCK_WAIT_MS (code "busy", with Retry-After); retry later. Nothing was changed.');
        fullRequest.headers = z.object({
          'If-Match': z.string().optional().meta({ description: 'The ETag these settings were read with: the change is refused (412) if they changed since. Without it, the change applies whatever they are now.' }),
        });
      }
      for (const status of ['200', '201'] as const) {
        const r = withErrors[status];
        if (r && !('$ref' in r)) withErrors[status] = { ...r, headers: { ...(r.headers as object | undefined), ETag: { description: 'The revision of these settings, for If-Match.', schema: { type: 'string' } } } };
      }
    }
    // /api/health answers before the host guard and the token check (server/app.ts).
    if (path !== '/api/health') for (const [status, ref] of Object.entries(guarded)) withErrors[status] ??= ref;
    reg.registerPath({ method, path, operationId: operationIdOf(method, path), summary, ...(description ? { description } : {}), tags: [tag], request: fullRequest, responses: withErrors });
  };
  const body = (schema: z.ZodType, required = true) => ({ body: { content: { 'application/json': { schema } }, required } });

  // ------------------------------------------------------------------------- bins
  route('post', '/api/bins', 'Create a bin (optionally with a chosen id)', { 201: json(B.BinCreated, 'The new bin.'), 409: err('That id is taken (bin_exists), or MAX_BINS bins exist already.') }, body(B.BinInput, false), 'Bins');
  route('get', '/api/bins', 'List bins, newest first', { 200: json(B.BinList, 'Every bin.') }, undefined, 'Bins');
  route('get', '/api/bins/{id}', 'One bin', { 200: json(B.Bin, 'The bin.') }, undefined, 'Bins');
  route('patch', '/api/bins/{id}', 'Rename a bin, or set where its list rows take their label from', { 200: json(B.Bin, 'The bin.') }, body(B.BinUpdate), 'Bins');
  route('delete', '/api/bins/{id}', 'Delete a bin and everything it captured', { 204: { description: 'Deleted (on disk when answered).' } }, undefined, 'Bins');

  // --------------------------------------------------------------------- requests
  route(
    'get',
    '/api/bins/{id}/requests',
    'Captured requests, newest first, in pages; filtered when any filter is given',
    { 200: json(B.RequestPage, 'A page.'), 503: { ...err('A filter on bodies (`q`) while MAX_BODY_SEARCHES searches are under way and as many wait (code "busy"), or a capture the store could not read back: retry after Retry-After.'), headers: retryAfter } },
    { query: S.RequestSearchQuery },
    'Requests',
  );
  route(
    'get',
    '/api/bins/{id}/requests/wait',
    'Wait for a capture matching the filters (the oldest after `after`, stored or yet to come)',
    {
      200: json(B.RequestDetail, 'The first match.'),
      404: err('No such bin (code "not_found"), or it was deleted while the wait was on (code "bin_deleted").'),
      408: err('None within the timeout (code "timeout").'),
      503: {
        ...err(
          'Retry after Retry-After: as many waits are open as allowed, here or from this client ("too_many_waiters"); or the match was found but its detail cannot be sent now, as GET …/requests/{rid} would answer ("busy", "response_buffers_full", "storage_unavailable").',
        ),
        headers: retryAfter,
      },
    },
    { query: S.RequestWaitQuery },
    'Requests',
  );
  route(
    'get',
    '/api/bins/{id}/requests/{rid}',
    'One capture with its body',
    { 200: json(B.RequestDetail, 'The capture.'), 503: { ...err('Too many details waiting to be built (code "busy"), answers holding RESPONSE_BUFFER_BYTES already (code "response_buffers_full"), or a capture the store could not read back (code "storage_unavailable"): retry after Retry-After.'), headers: retryAfter } },
    undefined,
    'Requests',
  );
  route(
    'get',
    '/api/bins/{id}/requests/{rid}/raw',
    'The body exactly as received',
    { 200: { description: 'The stored bytes, with the capture\'s own content type (sandboxed). `?download` for an attachment.', content: { '*/*': { schema: z.string().meta({ format: 'binary' }) } } } },
    undefined,
    'Requests',
  );
  route(
    'get',
    '/api/bins/{id}/export',
    "Export a bin's captures, oldest first",
    {
      200: {
        description:
          'NDJSON: one ExportLine per line (byte-exact, body in base64); or HAR 1.2 (hooklab details in `_hooklab`, chunked request trailers as `_hooklab.trailers` [{name, value}], binary bodies `_encoding: base64`). Captures gone when their turn came (evicted or deleted meanwhile; with `ids`, also ids never there) are left out and counted: in the trailer `X-Hooklab-Export-Missing` (sent only then), and in a HAR\'s `log.comment`.',
        headers: {
          'X-Hooklab-Export-Count': { description: 'How many captures the export set out to hold (the bin\'s when it began, or the ids asked for).', schema: { type: 'integer' } },
          Trailer: { description: '`x-hooklab-export-missing`: a trailer with how many of those it does not hold, when any.', schema: { type: 'string' } },
        },
        content: { 'application/x-ndjson': { schema: X.ExportLine }, 'application/json': { schema: z.object({ log: z.object({ version: z.literal('1.2'), creator: z.object({ name: z.literal('hooklab'), version: z.string() }), entries: z.array(z.unknown()) }) }) } },
      },
    },
    { query: X.ExportQuery },
    'Requests',
  );
  route(
    'post',
    '/api/bins/{id}/import',
    'Add captures from an NDJSON export (streamed; stops at the first bad line) or a HAR document (at most 64 MiB, all or nothing)',
    { 200: json(X.ImportResult, 'How many were added.'), 400: err('A bad NDJSON line (code "invalid_line", those before it imported) or HAR entry (nothing added): a field no replay could send, or more headers and trailers together than MAX_HEADER_COUNT, as a live capture.'), 413: err('HAR over 64 MiB; or (line_too_large) an NDJSON line longer than an export line can be, those before it imported.'), 415: err('Sent as neither NDJSON nor JSON (XML, a form…), code "unsupported_media_type". Nothing was added.') },
    { body: { content: { 'application/x-ndjson': { schema: X.ExportLine }, 'application/json': { schema: z.unknown() } }, required: true } },
    'Requests',
  );
  route('delete', '/api/bins/{id}/requests/{rid}', 'Delete one capture', { 204: { description: 'Deleted (on disk when answered).' } }, undefined, 'Requests');
  route('delete', '/api/bins/{id}/requests', 'Delete every capture of a bin', { 204: { description: 'Cleared (on disk when answered).' } }, undefined, 'Requests');

  // --------------------------------------------------------------------- response
  route('get', '/api/bins/{id}/response', "The bin's response settings and its plan's position", { 200: json(ResponseControlView, 'Settings and position.') }, undefined, 'Response');
  route('put', '/api/bins/{id}/response', 'Replace the response settings (the plan starts over)', { 200: json(ResponseControlView, 'The new settings.') }, body(ResponseConfigInput), 'Response');
  route('post', '/api/bins/{id}/response/reset', 'Start the plan over', { 200: json(ResponseControlView, 'Settings and position.') }, undefined, 'Response');
  route('post', '/api/bins/{id}/response/check', 'Check response settings as PUT would, saving nothing', { 200: json(ResponseCheckAnswer, 'They would be taken (refused ones: 400 listing every bad field).') }, body(ResponseConfigInput), 'Response');

  // ------------------------------------------------------------- forward, replay
  route('get', '/api/bins/{id}/forward', "The bin's forward targets", { 200: json(F.ForwardSettingsView, 'Targets (none: forwarding is off).') }, undefined, 'Forward');
  route(
    'put',
    '/api/bins/{id}/forward',
    'Set the forward targets (at most 10) and proxy mode; an empty list turns forwarding off (proxy mode needs a target)',
    { 200: json(F.ForwardSettingsView, 'The settings.') },
    body(F.ForwardSettings),
    'Forward',
    "Besides the body's schema, a target is a 400 on its `targets[i].url` when it is one of this hooklab's own receiver URLs (forwarding there would loop) " +
      'or the outbound rules keep hooklab from it (a private address while HOST is public, outside DISPATCH_ALLOW): these depend on the server, so no schema can say them.',
  );
  route('delete', '/api/bins/{id}/forward', 'Turn forwarding off', { 204: { description: 'Off.' } }, undefined, 'Forward');
  route(
    'post',
    '/api/bins/{id}/requests/{rid}/replay',
    "Send a capture again, to a URL or to the bin's targets, optionally edited; the result is stored with it",
    {
      200: json(z.object({ records: z.array(F.ForwardRecord) }), 'One record per target.'),
      409: err('The capture\'s body was cut at MAX_BODY_BYTES (code "body_truncated"): the target would get other bytes than the sender sent. Nothing was sent.'),
      413: err('The JSON body is larger than MAX_BODY_BYTES in base64 plus 1 MB (code "too_large"): room for a whole body over MAX_BODY_BYTES, which a capture cut there is replayed with. Nothing was sent.'),
      503: { ...err('FORWARD_CONCURRENCY replays asked for this way are waiting or under way (code "too_many_replays"): retry after Retry-After. Nothing was sent.'), headers: retryAfter } },
    body(F.ReplayInput),
    'Forward',
  );
  route(
    'post',
    '/api/bins/{id}/replay',
    'Replay captures (a selection, or the whole bin) in arrival order',
    {
      202: json(F.ReplayJob, 'Started; follow GET /api/replays/{id}.'),
      503: err(`${F.MAX_REPLAY_JOBS} bulk replays are running already (code "too_many_replays"), or storage cannot be written: retry after Retry-After. Nothing was started.`),
    },
    body(F.BulkReplayInput),
    'Forward',
  );
  route('get', '/api/replays/{id}', 'A bulk replay and its progress', { 200: json(F.ReplayJob, 'The job.') }, undefined, 'Forward');

  // ------------------------------------------------------------------- signatures
  route('get', '/api/bins/{id}/verify', "The bin's signature settings (secrets shown as their last characters only)", { 200: json(V.VerifySettingsView, 'The settings (no schemes: off).') }, undefined, 'Signatures');
  route(
    'put',
    '/api/bins/{id}/verify',
    "Set the signature schemes and secrets; every capture the bin holds is checked again",
    {
      200: json(V.VerifyPutAnswer, 'The settings (saved), and how many captures were re-checked.'),
      428: err('The body keeps saved secrets ({"keep": …}) but If-Match does not name one ETag (code "precondition_required"). Nothing was changed.'),
    },
    body(V.VerifySettingsPut),
    'Signatures',
    'Secrets are write-only. To change other fields without typing the saved secrets again, keep them by reference: {"keep": {"scheme": i, "secret": j}} is schemes[i].secrets[j] as GET showed them; send If-Match with the ETag GET answered (required then).',
  );
  route('delete', '/api/bins/{id}/verify', 'Turn signature checks off', { 204: { description: 'Off.' } }, undefined, 'Signatures');
  route(
    'get',
    '/api/bins/{id}/idempotency',
    "The bin's captures grouped by idempotency key, and bodies that arrived under more than one key (one key's captures as list rows: GET /api/bins/{id}/requests?key=…)",
    { 200: json(V.KeyGroups, 'Groups, oldest first.') },
    undefined,
    'Signatures',
  );

  // --------------------------------------------------------------------- webhooks
  route('get', '/api/webhooks', 'List webhooks', { 200: json(D.WebhookList, 'Every webhook.') }, undefined, 'Dispatcher');
  route('post', '/api/webhooks', 'Create a webhook', { 201: json(D.Webhook, 'The new webhook.'), 409: err('MAX_WEBHOOKS webhooks exist already (code "too_many_webhooks").') }, body(D.WebhookCreate), 'Dispatcher');
  route('get', '/api/webhooks/{id}', 'One webhook', { 200: json(D.Webhook, 'The webhook.') }, undefined, 'Dispatcher');
  route('patch', '/api/webhooks/{id}', 'Change a webhook (disabling cancels its pending deliveries)', { 200: json(D.Webhook, 'The webhook.') }, body(D.WebhookUpdate), 'Dispatcher');
  route('delete', '/api/webhooks/{id}', 'Delete a webhook (cancels its pending deliveries)', { 204: { description: 'Deleted; it had no pending delivery left.' }, 202: json(D.WebhookDeleted, 'Deleted; some of its pending deliveries are still being cancelled (their attempts under way finish first).') }, undefined, 'Dispatcher');
  const pendingBudget = {
    409: err('It alone would make more deliveries than MAX_PENDING_DELIVERIES allows pending (code "too_many_pending_deliveries").'),
    503: { ...err('As many deliveries are pending as MAX_PENDING_DELIVERIES allows (code "too_many_pending_deliveries"), or storage cannot be written: retry after Retry-After. Nothing was made.'), headers: retryAfter },
  };
  route('post', '/api/webhooks/{id}/test', 'Send one `test` event now', { 200: json(D.TestResult, 'How it went.'), ...pendingBudget }, undefined, 'Dispatcher');

  // ------------------------------------------------------------- runs, deliveries
  route('post', '/api/runs', 'Simulate a flow run: sync_start now, sync_end when it ends', { 201: json(D.Run, 'The run.'), ...pendingBudget }, body(D.RunInput, false), 'Dispatcher');
  route('get', '/api/runs', 'List runs, newest first', { 200: json(D.RunList, 'Runs.') }, undefined, 'Dispatcher');
  route('get', '/api/runs/{id}', 'One run', { 200: json(D.Run, 'The run.') }, undefined, 'Dispatcher');
  route('get', '/api/deliveries', 'Deliveries with every attempt, newest first', { 200: json(D.DeliveryList, 'Deliveries.') }, { query: D.DeliveryListQuery }, 'Dispatcher');
  route('get', '/api/deliveries/{id}', 'One delivery', { 200: json(D.Delivery, 'The delivery.') }, undefined, 'Dispatcher');
  route(
    'get',
    '/api/deliveries/{id}/wait',
    'Wait until a delivery reaches a state',
    { 200: json(D.Delivery, 'The delivery in that state.'), 408: err('Not within the timeout (code "timeout").'), 409: err('It ended in another state (code "ended").'), 503: busyWaiting() },
    { query: S.DeliveryWaitQuery },
    'Dispatcher',
  );
  const timeline = (what: string) => ({
    200: {
      description: `${what}: one row per attempt, made or still planned, in virtual time. \`?format=csv\` answers the same as CSV (an attachment).`,
      content: { 'application/json': { schema: D.Timeline }, 'text/csv': { schema: z.string() } },
    },
  });
  route('get', '/api/deliveries/{id}/timeline', "Export a delivery's timeline (JSON or CSV)", timeline('The delivery'), { query: D.TimelineQuery }, 'Dispatcher');
  route('get', '/api/runs/{id}/timeline', "Export a run's timeline: every delivery it caused (JSON or CSV)", timeline('Every delivery of the run, oldest first'), { query: D.TimelineQuery }, 'Dispatcher');
  route('post', '/api/deliveries/{id}/retry', 'One manual attempt now', { 200: json(D.Delivery, 'The delivery after it.'), 409: err('The webhook was deleted or disabled (`webhook_deleted`, `webhook_disabled`), or it was turned off during an attempt still under way (`cancelling`: the delivery ends once that attempt is recorded).') }, undefined, 'Dispatcher');

  // ------------------------------------------------------------------ clock, plan
  route('get', '/api/clock', 'The virtual clock', { 200: json(D.ClockState, 'The clock.') }, undefined, 'Clock');
  route('put', '/api/clock', 'Set its speed, pause or resume', { 200: json(D.ClockState, 'The clock.') }, body(D.ClockInput), 'Clock');
  route('post', '/api/clock/advance', 'Jump ahead, running what falls due on the way; answers when done', { 200: json(D.ClockState, 'The clock.') }, body(D.AdvanceInput), 'Clock');
  route(
    'get',
    '/api/schedule/preview',
    'The planned attempts of a schedule (a preset, a list of waits or numbers), each with why, and what the behaviours would do',
    { 200: json(D.SchedulePreview, 'The plan.'), 404: err('`webhookId` names no webhook.') },
    { query: D.SchedulePreviewQuery },
    'Clock',
    'The schedule parameters combine as a webhook\'s `schedule` does (ScheduleOverride), and the same combinations are a 400 in the same words: ' +
      '`preset` and `delaysMs` exclude each other, and `firstDelayMs` and `factor` do not apply to a list of waits (`delaysMs`, or the ' +
      `${D.LIST_PRESETS.join(' or ')} preset). With \`webhookId\`, the parameters given replace the webhook's schedule when they name a preset or delaysMs, else change its numbers: ` +
      'so `firstDelayMs` or `factor` on a webhook whose schedule is a list of waits is a 400 too. ' +
      'Parameters that make it plan more attempts per delivery than MAX_SCHEDULE_ATTEMPTS are a 400 on the first of them given, as a webhook save is; ' +
      "a webhook's stored schedule past it is shown cut, as its deliveries are, the first of `notes` saying so.",
  );

  // ------------------------------------------------------------------------- meta
  route('get', '/api/health', 'Is hooklab up, and can it write? (open, no token)', { 200: json(B.Health, 'Working.'), 503: json(B.Health, 'Starting, or storage cannot be written.') }, undefined, 'Meta');
  route('get', '/api/openapi.json', 'This document', { 200: { description: 'OpenAPI 3.1.' } }, undefined, 'Meta');
  route('get', '/api/docs', 'This document as a page', { 200: { description: 'HTML.', content: { 'text/html': { schema: z.string() } } } }, undefined, 'Meta');

  // ------------------------------------------------------------------------ auth
  // Served only with AUTH_TOKEN set (server/http/auth.ts): the UI's login form posts here.
  reg.registerPath({
    method: 'post',
    path: '/auth/login',
    operationId: 'postAuthLogin',
    summary: 'Sign a browser in: the token becomes an HttpOnly cookie',
    description:
      'Only with AUTH_TOKEN set (else there is no such route). What the login page posts; scripts send `Authorization: Bearer <token>` instead. ' +
      'Wrong tokens count towards the per-address limit shared with the API and Socket.IO.',
    tags: ['Auth'],
    security: [],
    request: {
      body: {
        required: true,
        content: {
          'application/x-www-form-urlencoded': {
            schema: z.object({
              token: z.string().meta({ description: 'AUTH_TOKEN.' }),
              next: z.string().optional().meta({ description: 'Where to go after (a path on this site; default "/").' }),
            }),
          },
        },
      },
    },
    responses: {
      303: {
        description: 'Signed in: `Set-Cookie: hooklab_token=…` (HttpOnly, SameSite=Strict) and a redirect to `next`.',
        headers: { Location: { description: '`next`, when it is a path on this site; else "/".', schema: { type: 'string' } }, 'Set-Cookie': { description: 'hooklab_token, HttpOnly, SameSite=Strict, Path=/.', schema: { type: 'string' } } },
      },
      401: { description: 'Wrong token: the login page again, saying so.', content: { 'text/html': { schema: z.string() } } },
      429: { description: 'Too many wrong tokens from this address: the login page, saying how long to wait.', headers: retryAfter, content: { 'text/html': { schema: z.string() } } },
    },
  });
  reg.registerPath({
    method: 'post',
    path: '/auth/logout',
    operationId: 'postAuthLogout',
    summary: 'Sign a browser out: the token cookie is cleared',
    description: 'Only with AUTH_TOKEN set (else there is no such route).',
    tags: ['Auth'],
    security: [],
    responses: {
      303: { description: 'Signed out (the cookie is cleared); a redirect to "/".', headers: { Location: { description: '"/"', schema: { type: 'string' } } } },
      403: {
        description: 'Sent from another site\'s page (code "forbidden_origin"): an Origin that is not this server\'s, or "null" from a page the browser does not call same-origin (Sec-Fetch-Site). Nothing is changed.',
        content: { 'application/json': { schema: apiErrorRef } },
      },
    },
  });

  // ------------------------------------------------------------------- receivers
  // Answered by node:http before Express (server/app.ts): no host guard, no token, any method.
  const subPath = z.string().meta({
    description: 'The sub-path below the bin: any number of segments (a/b/c), kept as sent (the capture\'s `path`). The URL may also end right after the bin id.',
  });
  const receiverResponses = {
    200: { description: "The bin's answer (status, headers, body and delay as set; `X-Hooklab-Request-Id` names the capture)." },
    default: {
      description:
        "Whatever status the bin is set to answer (its plan, rules or default: 200-599), a 204 to a CORS preflight (OPTIONS, when the bin's `cors` is on), or in proxy mode the first target's answer.",
    },
    404: err('No such bin (code "bin_not_found").'),
    429: err('RATE_LIMIT_PER_BIN reached (code "rate_limited"; Retry-After).'),
    431: err('More than MAX_HEADER_COUNT headers, chunked trailers counted with them (code "too_many_headers"); over MAX_HEADER_BYTES (headers, or trailers on their own), Node\'s bare 431 without a body. Nothing was stored.'),
    502: err('Proxy mode: the first target could not be reached (target_unreachable), cut its answer off after the head (target_incomplete), or the rules keep hooklab from it or it leads back into this hooklab (target_blocked); generic words only, the detail is in the capture\'s forward record.'),
    503: err('Too much in memory, too many connections, or storage cannot be written: retry after Retry-After. Nothing was stored.'),
    504: err('Proxy mode: the first target did not answer, or finish its answer, within FORWARD_TIMEOUT_MS (code "target_timeout").'),
    508: err('The request was forwarded by this hooklab to itself (code "forward_loop"): refused, so forwarding cannot loop.'),
  };
  for (const path of ['/h/{binId}', '/h/{binId}/{path}'] as const) {
    for (const method of ALL_METHODS) {
      reg.registerPath({
        method,
        path,
        operationId: operationIdOf(method, path),
        summary: `${method.toUpperCase()} to a receiver URL${path.endsWith('{path}') ? ', with a sub-path' : ''}: captured, and answered as the bin is set`,
        description:
          'Any method (also ones OpenAPI cannot list), any sub-path (/h/{binId}/any/path), any query string, any body of any content type: captured byte-exact and answered as the bin is set to answer. ' +
          'Open to anyone who knows the bin id: no token, any Host.',
        tags: ['Receiver'],
        security: [],
        request: {
          params: path.endsWith('{path}') ? z.object({ binId, path: subPath }) : z.object({ binId }),
          ...(method === 'head' || method === 'trace'
            ? {}
            : { body: { required: false, description: 'Anything: captured byte-exact (its Content-Type is kept).', content: { '*/*': {} } } }),
        },
        responses: receiverResponses,
      });
    }
  }

  return new OpenApiGeneratorV31(reg.definitions).generateDocument({
    openapi: '3.1.0',
    info: {
      title: 'hooklab',
      version: o.version,
      description:
        'Self-hosted webhook inspector and retry test harness. With AUTH_TOKEN set, every /api route but /api/health needs `Authorization: Bearer <token>`. Errors are `{"error":{"code","message","field?","fields?"}}`.',
    },
    servers: [{ url: o.publicUrl }],
    tags: [...new Set(reg.definitions.flatMap((d) => (d.type === 'route' ? (d.route.tags ?? []) : [])))].map((name) => ({ name })),
    security: [{ bearer: [] }, {}],
  });
}
