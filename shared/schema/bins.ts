// Bins and the requests they captured.
import { z } from 'zod';
import { HeaderPair, list, obj, str, time, typeError } from './common.ts';
import { ForwardRecord } from './forward.ts';
import { AttemptInfo, InvalidCause, SchemeType, Verification, VerifyStatus } from './verify.ts';
import { AnswerSource, Fault, PlanRoll } from './response.ts';

/**
 * A bin id as a config file names it: URL-safe, like generated ids. It may start with "-" (a bin
 * chosen before that was refused must still be configurable); a new one may not (see applyConfig).
 */
const BIN_ID = /^[A-Za-z0-9_-]{4,64}$/;
const BIN_ID_REASON = 'must be 4 to 64 characters of A-Z, a-z, 0-9, "_" and "-"';
export const ConfigBinId = z.string({ error: typeError('must be a string') }).regex(BIN_ID, { error: BIN_ID_REASON });

// The CLI takes a bin id as an argument: one starting with "-" would read as an option.
export const LEADING_DASH = 'must not start with "-" (the CLI would take it for an option)';

/** A bin id chosen by the user for a new bin (POST /api/bins). */
// One pattern, so that the OpenAPI document says it too (it keeps one pattern per field).
export const BinSlug = z
  .string({ error: typeError('must be a string') })
  .regex(new RegExp(`^(?!-)${BIN_ID.source.slice(1)}`), { error: (iss) => (BIN_ID.test(String(iss.input)) ? LEADING_DASH : BIN_ID_REASON) })
  .meta({
  description: 'URL-safe, 4 to 64 characters, not starting with "-". It is the secret part of the receiver URL: short ones are guessable.',
});

/** Ids shorter than generated ones (21 characters) can be guessed by trying. */
export const SHORT_SLUG = 16;

/** `which`: how the bin is named in the warning (a log names it by its place in the config file, not by its id, the URL's secret). */
export function slugWarning(id: string, which = `bin id "${id}"`): string | null {
  return id.length < SHORT_SLUG
    ? `${which} is short: anyone who guesses it can send to its URL (and, without AUTH_TOKEN, read it); use ${SHORT_SLUG}+ characters or a generated id`
    : null;
}

/** At most this many label sources per bin, each at most LABEL_SOURCE_MAX characters. */
export const MAX_LABEL_SOURCES = 10;
export const LABEL_SOURCE_MAX = 200;

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** What is wrong with one label source ("json:data.object.type", "header:x-github-event"), or null. */
export function labelSourceProblem(s: string): string | null {
  if (s.startsWith('json:')) {
    const path = s.slice(5);
    if (!path) return 'needs a path after "json:" (e.g. json:data.object.type)';
    if (path.split('.').some((seg) => seg === '')) return 'has an empty path segment (write json:a.b.0.c)';
    return null;
  }
  if (s.startsWith('header:')) {
    const name = s.slice(7);
    if (!name) return 'needs a header name after "header:" (e.g. header:x-github-event)';
    if (!HEADER_NAME.test(name)) return 'is not a valid header name';
    return null;
  }
  return 'must start with json: or header:';
}

/** What labelSourceProblem accepts, as one pattern (it is the field's pattern in the OpenAPI document). */
const LABEL_SOURCE = new RegExp(`^(?:json:[^.]+(?:\\.[^.]+)*|header:${HEADER_NAME.source.slice(1, -1)})$`);

/** One place a list row's label is read from. */
export const LabelSource = z
  .string({ error: typeError('must be a string') })
  // Abort: empty and over-long values have their message, and only that one.
  .min(1, { error: 'must not be empty', abort: true })
  .max(LABEL_SOURCE_MAX, { error: `must be at most ${LABEL_SOURCE_MAX} characters`, abort: true })
  .regex(LABEL_SOURCE, { error: (iss) => labelSourceProblem(String(iss.input)) ?? 'must be json:<dot.path> or header:<name>' })
  .meta({ description: '`json:<dot.path>` or `header:<name>`.', examples: ['json:data.object.type', 'header:x-github-event'] });

export const LabelFrom = list(LabelSource, MAX_LABEL_SOURCES).meta({
  id: 'LabelFrom',
  description:
    "Where the request list's rows take their label from, tried in order: `json:<dot.path>` (a JSON body's value, e.g. `json:data.object.type`, `json:items.0.kind`) or `header:<name>`; the first that gives a non-empty string (or a number or boolean) wins. When none does, or the list is empty, the built-in rules apply (the dispatcher's event and attempt, X-GitHub-Event with the body's action, the body's event, type or action).",
});

export const BinInput = obj({
  id: BinSlug.optional().meta({ description: 'Ask for this id (a slug); 409 when taken. Default: a random 21-character id.' }),
  name: str(200).transform((s) => s.trim()).optional().meta({ description: 'Shown in the UI; default "Bin <first 6 of the id>".' }),
  labelFrom: LabelFrom.optional(),
}).meta({ id: 'BinInput' });

export const BinUpdate = obj({
  name: str(200).transform((s) => s.trim()).optional().meta({ description: 'A new name (empty: unchanged).' }),
  labelFrom: LabelFrom.nullable().optional().meta({ description: 'New row label sources; `[]` or null: back to the built-in rules. Absent: unchanged.' }),
}).meta({ id: 'BinUpdate' });

export const Bin = z
  .object({
    id: z.string(),
    name: z.string(),
    url: z.string().meta({ description: 'Absolute receiver URL, built from PUBLIC_URL.' }),
    createdAt: time(),
    requestCount: z.int().meta({ description: 'Captures the bin holds now.' }),
    maxRequests: z
      .int()
      .optional()
      .meta({
        description:
          "MAX_REQUESTS_PER_BIN: the bin keeps its newest this many captures; each new one past it pushes the oldest out (the live `requests:deleted` event with reason 'evicted'). Absent from servers before it was added.",
      }),
    lastRequestAt: time().nullable(),
    labelFrom: z.array(z.string()).optional().meta({ description: 'Where list rows take their label from (see LabelFrom); absent: the built-in rules.' }),
    idleExpiresAt: time().optional().meta({ description: 'With BIN_IDLE_DAYS set: when the bin is deleted unless something is sent to it (or its requests are cleared) first. Absent: bins do not expire.' }),
  })
  .meta({ id: 'Bin' });

export const BinList = z.object({ bins: z.array(Bin) }).meta({ id: 'BinList' });

export const BinCreated = Bin.extend({ warnings: z.array(z.string()).optional().meta({ description: 'E.g. a short, guessable id.' }) }).meta({ id: 'BinCreated' });

export { HeaderPair };

export const Query = z.record(z.string(), z.union([z.string(), z.array(z.string())])).meta({ id: 'Query', description: 'Parsed query string; a repeated key becomes a list, in order.' });

export const AnswerOutcome = z
  .object({
    status: z.int().nullable().meta({ description: 'HTTP status sent, or null when a fault answered.' }),
    delayMs: z.int(),
    fault: Fault.nullable(),
    source: AnswerSource,
    index: z.int().nullable().meta({ description: 'Index of the step or rule that answered.' }),
    roll: PlanRoll.nullable().meta({ description: 'For a probability step: the draw.' }),
    planUses: z.int().optional().meta({ description: 'Requests that had used the plan since its last reset, this one included.' }),
    hungUpAfterMs: z
      .int()
      .optional()
      .meta({
        description:
          'Set when the connection closed before this answer went, that many ms after the request arrived: the sender closed it (a delay or a hang longer than its timeout, or a store slow to confirm), or, with closedByFault, hooklab did. The sender never got the answer.',
      }),
    closedByFault: Fault.optional().meta({
      description:
        "Set with hungUpAfterMs when hooklab, not the sender, closed the connection before this answer went: an earlier request pipelined on the same connection got this fault (a `reset`, once the answers before it had gone; a `timeout`, at the end of its hang). Answers go in request order, so none behind it could be sent.",
    }),
  })
  .meta({ id: 'AnswerOutcome' });

/** Set on a capture that hooklab's dispatcher sent (read from its x-hooklab-* headers). */
export const DispatchLabel = z
  .object({
    deliveryId: z.string(),
    attempt: z.int().nullable(),
    event: z.string().nullable(),
    virtualAt: time().nullable().meta({ description: "The attempt's virtual send time." }),
  })
  .meta({ id: 'DispatchLabel' });

/** A capture's signature check, at a glance: for the list row. */
export const VerificationBadge = z
  .object({ status: VerifyStatus, scheme: SchemeType.optional(), secretIndex: z.int().optional(), skewSec: z.int().optional(), cause: InvalidCause.optional() })
  .meta({ id: 'VerificationBadge' });

const itemShape = {
  id: z.string().meta({ description: 'Sorts by arrival: also the paging cursor.' }),
  binId: z.string(),
  seq: z.int().optional().meta({ description: 'Its arrival number in the bin (1, 2, …): a gap tells how many were missed, even once evicted. Absent on captures stored by builds before it existed.' }),
  method: z.string(),
  path: z.string().meta({ description: "Path below the bin, always starting with '/'." }),
  queryString: z.string().meta({ description: "The query string exactly as sent, without the '?'." }),
  ip: z.string(),
  receivedAt: time(),
  size: z.int().meta({ description: 'Full body size in bytes, even when truncated.' }),
  truncated: z.boolean(),
  contentType: z.string().nullable(),
  status: z.int().nullable().meta({ description: 'Status answered (null for a fault).' }),
  answer: AnswerOutcome,
  dispatch: DispatchLabel.optional().meta({ description: 'When the dispatcher sent it: the delivery, attempt, event and virtual time it says.' }),
  verification: VerificationBadge.optional().meta({ description: "Its signature under the bin's verify settings, at a glance (the detail says why)." }),
  idempotencyKey: z.string().optional().meta({ description: "The sender's idempotency key (webhook-id, svix-id, X-GitHub-Delivery, a Stripe event id, or as set). The request search finds a key's captures with key=." }),
};

/** A list row; the live `request` event carries exactly this. */
export const RequestItem = z.object(itemShape).meta({ id: 'RequestItem' });

export const RequestSummary = z.object({ ...itemShape, query: Query, headers: z.array(HeaderPair) }).meta({ id: 'RequestSummary' });

export const BodyEncoding = z.enum(['utf8', 'base64']);

/** How a header value's bytes became the text the API shows (values are stored as bytes). */
export const HeaderCharset = z.enum(['ascii', 'utf8', 'latin1']).meta({
  id: 'HeaderCharset',
  description:
    "ascii: every byte is below 0x80, the text is the bytes. utf8: the bytes are valid UTF-8 and are shown decoded: they are the text's UTF-8. latin1: not UTF-8, shown one character per byte: the bytes are the text's Latin-1 (ISO-8859-1) code points.",
});

export const RequestDetail = z
  .object({
    ...itemShape,
    query: Query,
    headers: z.array(HeaderPair).meta({ description: "As sent; a value is shown as UTF-8 text when its bytes are valid UTF-8 (headerCharsets says which)." }),
    headerCharsets: z.array(HeaderCharset).meta({
      description: "For each of headers, in order: how its value's bytes were made text. With it a client gets the captured bytes back (to replay or copy them as they came).",
    }),
    body: z.string().meta({ description: 'The stored body: UTF-8 text when valid UTF-8, else base64.' }),
    bodyEncoding: BodyEncoding,
    storedBytes: z.int(),
    trailers: z.array(HeaderPair).optional().meta({ description: 'Chunked-encoding trailers, when the request had some (values shown as headers are).' }),
    trailerCharsets: z.array(HeaderCharset).optional().meta({ description: 'For each of trailers, as headerCharsets.' }),
    forwards: z.array(ForwardRecord).meta({ description: 'Where it was sent on (forward targets, proxy mode, replays), oldest first.' }),
    verification: Verification.optional().meta({ description: 'Its signature check, with what was signed and expected when it failed.' }),
    idempotency: AttemptInfo.optional().meta({ description: 'Its idempotency key and which attempt of that key it is.' }),
    sameKey: z.array(z.string()).optional().meta({ description: 'The other captures with the same key, oldest first.' }),
    decoded: z
      .object({ body: z.string(), bodyEncoding: BodyEncoding, bytes: z.int(), truncated: z.boolean(), error: z.string().nullable() })
      .nullable()
      .meta({ description: 'Decoded view when content-encoding is gzip/deflate/br (display only).' }),
  })
  .meta({ id: 'RequestDetail' });

export const RequestPage = z
  .object({
    requests: z.array(RequestSummary),
    nextBefore: z.string().nullable().meta({ description: 'Pass as `before` for the next (older) page; null when there is none.' }),
  })
  .meta({ id: 'RequestPage' });

export const Health = z
  .object({
    ok: z.boolean(),
    status: z.enum(['ok', 'starting', 'storage_fault', 'dispatcher_fault', 'forwarder_fault']),
    version: z.string().optional(),
    fault: z.object({ code: z.string(), message: z.string(), since: time() }).optional(),
    warnings: z.array(z.string()).optional(),
    dispatcher: z
      .object({ runsHere: z.boolean() })
      .optional()
      .meta({ description: 'With STORE=redis: whether this instance runs the dispatcher (one instance does at a time).' }),
  })
  .meta({ id: 'Health' });

