// Forward targets of a bin, proxy mode, and replays: where captures are sent on, and what each
// sending gave.
import { z } from 'zod';
import { HeaderPair, list, obj, oneOf, str, time } from './common.ts';
import { httpUrl } from './dispatch.ts';
import { DOT_SEGMENT_REASON, hasDotSegment } from '../sub-path.ts';
import { FRAGMENT_REASON, hasFragment, targetKey } from '../forward-target.ts';
import { quoteHeaderName as quoted } from '../header-reasons.ts';
import { isHeaderValue, isHttpToken } from './headers.ts';

export const MAX_FORWARD_TARGETS = 10;
/**
 * Bulk replays kept (in the store) for GET /api/replays/{id}: every running one, and the newest
 * this many ended (finished or failed) ones, per store (on Redis, across all instances). A
 * running one is never dropped: with this many running on one instance, a new bulk replay
 * started there is refused (503 too_many_replays, with Retry-After) until one has finished (the
 * cap is per instance).
 */
export const MAX_REPLAY_JOBS = 100;

export const PROXY_NEEDS_TARGET = 'proxy mode (answerWith: target) needs at least one target: the first target answers the sender';

export const ForwardSettings = obj({
  targets: list(obj({ url: httpUrl({ why: FRAGMENT_REASON }) }), MAX_FORWARD_TARGETS).meta({
    // uniqueItems says the plainest case of the refinement below (the same URL as written twice); the words say the rest.
    uniqueItems: true,
    description:
      "Each capture is sent on to each target: the target URL followed by the capture's sub-path and query string. No #fragment (a 400: it is never sent). " +
      'Each target at most once: a second URL naming the same place is a 400 on it, also when written differently (the scheme or host in other letter case, a default port, a trailing "/" on its path, which every sub-path is joined to the same way).',
  }),
  answerWith: oneOf(['bin', 'target'])
    .optional()
    .meta({
      description:
        "bin (default): the sender gets the bin's own answer, forwarding runs in the background. target: proxy mode, the sender gets the first target's answer, so it needs at least one target.",
    }),
})
  .superRefine((f, ctx) => {
    // Refused rather than stored as "bin": no targets turns forwarding off, which would drop
    // proxy mode without a word (here and in the config file, which uses this schema).
    if (f.answerWith === 'target' && f.targets.length === 0) {
      ctx.addIssue({ code: 'custom', path: ['answerWith'], message: PROXY_NEEDS_TARGET });
    }
    // The same target twice would get every capture twice: a slip, not a wish. Compared as
    // used: ".../a" and ".../a/" get every sub-path joined the same way (one with a fragment
    // has its own error).
    const keys = f.targets.map((t) => (hasFragment(t.url) ? null : targetKey(t.url)));
    keys.forEach((k, i) => {
      const first = keys.indexOf(k);
      if (k === null || first === i) return;
      const why = f.targets[first].url === f.targets[i].url ? '' : ' (only a trailing "/" differs: every sub-path is joined to both the same way)';
      ctx.addIssue({ code: 'custom', path: ['targets', i, 'url'], message: `is targets[${first}] again${why}: each capture would be sent there twice` });
    });
  })
  .meta({
    id: 'ForwardSettings',
    // The refinement above, as the document says it.
    if: { properties: { answerWith: { const: 'target' } }, required: ['answerWith'] },
    then: { properties: { targets: { minItems: 1 } } },
    // (Each target once: the same URL twice, or with only a trailing "/" more, is a 400 on the second, which no schema keyword says for objects' fields.)
  });

export const ForwardSettingsView = z
  .object({ targets: z.array(z.object({ url: z.string() })), answerWith: z.enum(['bin', 'target']) })
  .meta({ id: 'ForwardSettingsView' });

export const ForwardError = z
  .enum(['timeout', 'refused', 'reset', 'dns', 'blocked', 'loop', 'overloaded', 'truncated', 'error'])
  .meta({
    description:
      'overloaded: too many forwards were waiting (FORWARD_CONCURRENCY); this one was not sent. truncated: the capture\'s body was cut at MAX_BODY_BYTES, so it was not sent (the target would have got other bytes than the sender sent).',
  });

/** One sending of a capture: a forward (automatic) or a replay (asked for). */
export const ForwardRecord = z
  .object({
    kind: z.enum(['forward', 'proxy', 'replay']),
    at: time(),
    target: z.string().meta({ description: 'The target as configured (or the replay URL).' }),
    url: z.string().meta({ description: 'The URL the request went to.' }),
    method: z.string(),
    status: z.int().nullable(),
    headers: z.array(HeaderPair),
    body: z.string().meta({ description: "The answer's first bytes: UTF-8 text, or base64 (bodyEncoding)." }),
    bodyEncoding: z.enum(['utf8', 'base64']),
    bodyTruncated: z.boolean().meta({
      description: 'Only the first bytes are kept: cut at FORWARD_MAX_RESPONSE_BYTES (error null: a whole answer), or cut off after its head (status and error both set: reset, timeout or error, the rest never came).',
    }),
    durationMs: z.number(),
    error: ForwardError.nullable(),
    errorDetail: z.string().nullable(),
    edited: z.boolean().meta({ description: 'A replay with changes (method, path, headers or body).' }),
    trailersNotSent: z
      .int()
      .optional()
      .meta({ description: "How many of the capture's chunked trailers were not sent (none is: the body goes with Content-Length), when it had some. A signature in a trailer does not reach the target." }),
  })
  .meta({ id: 'ForwardRecord' });

/** Standard base64, padded (what the UI sends and Buffer#toString('base64') writes). */
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

// Checked here, not left to the HTTP client: it refuses them only when sending, which stored a
// failed record ("invalid header key") that did not say which header, for a 200.
const ReplayMethod = str(32, 1)
  .refine((m) => m === '' || isHttpToken(m), { error: "must be an HTTP method: a token of letters, digits and !#$%&'*+-.^_`|~ (no spaces or line breaks)" })
  .refine((m) => m.toUpperCase() !== 'CONNECT', { error: 'cannot be CONNECT: it asks the target for a tunnel, there is no answer to record' });

const ReplayHeader = z.tuple([str(256, 1), str(8192)]).superRefine(([name, value], ctx) => {
  if (name.length > 0 && name.length <= 256 && !isHttpToken(name)) {
    ctx.addIssue({ code: 'custom', path: [0], message: `header name ${quoted(name)} must be an HTTP token: letters, digits and !#$%&'*+-.^_\`|~ (no spaces, colons or line breaks)` });
  }
  if (value.length <= 8192 && !isHeaderValue(value)) {
    ctx.addIssue({ code: 'custom', path: [1], message: `the value of header ${quoted(name)} must not contain CR, LF, NUL or other control characters (tab is allowed), nor characters beyond Latin-1` });
  }
});

export const ReplayInput = obj({
  url: httpUrl().optional().meta({ description: "Where to send it; default: the bin's forward targets." }),
  method: ReplayMethod.optional().meta({ description: 'An HTTP method token, not CONNECT (default: as captured).' }),
  path: str(2048, 1)
    .refine((p) => p.startsWith('/'), { error: 'must start with "/"' })
    .refine((p) => !hasDotSegment(p), { error: DOT_SEGMENT_REASON })
    .optional()
    .meta({ description: 'Sub-path (default: as captured); no "." or ".." segment.' }),
  queryString: str(8192).optional(),
  headers: list(ReplayHeader, 200)
    .optional()
    .meta({
      description:
        'All headers, in order (default: as captured). Names are HTTP tokens; values have no CR, LF, NUL or other control characters (tab aside) and are bytes, one character each (Latin-1): a UTF-8 value goes as its bytes read as Latin-1 (RequestDetail.headerCharsets tells how a shown value was made text).',
    }),
  body: z.string().optional(),
  bodyEncoding: oneOf(['utf8', 'base64']).optional(),
})
  .superRefine((r, ctx) => {
    // Checked here: Node's decoder skips what it does not know, so a typo would send other bytes.
    if (r.bodyEncoding === 'base64' && r.body !== undefined && !BASE64.test(r.body)) {
      ctx.addIssue({ code: 'custom', path: ['body'], message: 'must be base64 (A-Z, a-z, 0-9, + and /, padded with = to a multiple of 4) when bodyEncoding is "base64"' });
    }
  })
  .meta({ id: 'ReplayInput' });

export const BulkReplayInput = obj({
  url: httpUrl().optional().meta({ description: "Default: the bin's forward targets." }),
  ids: list(str(40, 1), 5000).optional().meta({ description: 'These captures (in arrival order); default: the whole bin.' }),
}).meta({ id: 'BulkReplayInput' });

export const ReplayJob = z
  .object({
    id: z.string(),
    binId: z.string(),
    total: z.int(),
    done: z.int(),
    failed: z.int().meta({
      description: 'Captures one of whose sends got no answer (refused, timed out, ...) or was not made (a body cut at MAX_BODY_BYTES); on jobs from before `missing` was counted, also those no longer stored.',
    }),
    missing: z
      .int()
      .optional()
      .meta({ description: 'Ids the bin did not hold when their turn came (never captured there, or pushed out or deleted since): nothing was sent for them (absent on jobs from before it was counted).' }),
    non2xx: z
      .int()
      .optional()
      .meta({ description: 'Captures whose sends were all answered, one of them outside 2xx (absent on jobs from before it was counted).' }),
    state: z.enum(['running', 'finished', 'failed', 'cancelled']).meta({ description: 'failed: the replay stopped on an error (see error); done and failed count what it got through.' }),
    error: z.string().nullable().meta({ description: 'Why the replay stopped (state failed); null otherwise.' }),
    startedAt: time(),
    finishedAt: time().nullable(),
  })
  .meta({ id: 'ReplayJob' });

