// The reference dispatcher: webhooks, simulated runs, deliveries with their attempts, the
// virtual clock and the retry schedule.
import { z } from 'zod';
import { bool, HeaderPair, int, list, num, obj, oneOf, qInt, qNum, str, time, typeError } from './common.ts';
import { httpToken } from './headers.ts';
import { AnswerSource, PlanRoll } from './response.ts';
import { WITH_CREDENTIALS, hasCredentials } from '../url-credentials.ts';

const DAY = 86_400_000;

/** The article's three subscription checkboxes. */
export const SUBSCRIPTIONS = ['flow_started', 'flow_succeeded', 'flow_failed'] as const;
export const Subscription = oneOf(SUBSCRIPTIONS);
export const EventName = z.enum(['sync_start', 'sync_end', 'test']);
export const RunOutcome = oneOf(['SUCCESSFUL', 'FAILED']);
export const SuccessPolicy = oneOf(['200', '2xx']).meta({ description: '"200": only 200 counts as delivered; "2xx": any 2xx.' });

/** Retry schedules of real senders (see server/dispatch/schedule.ts for what each one is). */
export const SCHEDULE_PRESETS = ['portable', 'svix', 'standard-webhooks', 'stripe', 'linear'] as const;
export const SchedulePreset = oneOf(SCHEDULE_PRESETS).meta({
  description:
    'portable (default): 5 s, then x4 with ±20% jitter, last attempt on the 24 h deadline; svix: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h; ' +
    'standard-webhooks: the spec\'s example, 5 s … 24 h over 75.6 h; stripe: 1 h doubling for up to 3 days; linear: every hour for 24 h.',
});
/** A list of waits is at most this long (MAX_SCHEDULE_ATTEMPTS may refuse a shorter one). */
export const MAX_DELAYS = 100;

export const ScheduleSettings = z
  .object({
    preset: SchedulePreset.optional(),
    firstDelayMs: z.int().meta({ description: 'Delay before the first retry.' }),
    factor: z.number().meta({ description: 'Each delay is this many times the previous one.' }),
    jitter: z.number().meta({ description: '±fraction of random spread on each delay (0.2 = ±20%).' }),
    deadlineMs: z.int().meta({ description: 'No attempt later than this after the event; an exponential schedule\'s last one lands on it. A list\'s defaults to twice the sum of its waits (room for Retry-After to stretch each to twice).' }),
    delaysMs: z
      .array(z.int())
      .optional()
      .meta({ description: 'A list schedule: the wait before each retry, in order (firstDelayMs and factor do not apply; no attempt is added at the deadline).' }),
  })
  .meta({ id: 'ScheduleSettings' });

export const SCHEDULE_KEYS = ['firstDelayMs', 'factor', 'jitter', 'deadlineMs'] as const;

/** Presets that are lists of waits: firstDelayMs and factor mean nothing to them. */
export const LIST_PRESETS: readonly string[] = ['svix', 'standard-webhooks'];

export type ScheduleConflictField = 'delaysMs' | 'firstDelayMs' | 'factor';

/**
 * What a schedule combines that does not go together: a preset and delaysMs, or firstDelayMs or
 * factor with a list of waits (delaysMs, or a preset that is one), whose numbers would be
 * silently ignored. The webhook API and the schedule preview refuse the same, in these words.
 */
export function scheduleConflicts(s: { preset?: string; delaysMs?: unknown; firstDelayMs?: unknown; factor?: unknown }): { field: ScheduleConflictField; message: string }[] {
  const out: { field: ScheduleConflictField; message: string }[] = [];
  if (s.delaysMs !== undefined && s.preset !== undefined) out.push({ field: 'delaysMs', message: 'give either a preset or delaysMs, not both' });
  // A list of waits replaces the exponential rule.
  const list = s.delaysMs !== undefined || (s.preset !== undefined && LIST_PRESETS.includes(s.preset));
  if (!list) return out;
  const what = s.delaysMs !== undefined ? 'delaysMs' : `the ${s.preset} preset`;
  for (const k of ['firstDelayMs', 'factor'] as const) {
    if (s[k] !== undefined) out.push({ field: k, message: `does not apply to ${what} (a list of waits)` });
  }
  return out;
}

function scheduleFieldsAgree(s: Parameters<typeof scheduleConflicts>[0], ctx: z.RefinementCtx) {
  for (const c of scheduleConflicts(s)) ctx.addIssue({ code: 'custom', path: [c.field], message: c.message });
}

const noExponentialNumbers = { not: { anyOf: [{ required: ['firstDelayMs'] }, { required: ['factor'] }] } };

/** A webhook's overrides of the global schedule: a preset or a list of waits, and/or the numbers. */
export const ScheduleOverride = obj({
  preset: SchedulePreset.optional(),
  firstDelayMs: int(1, 7 * DAY).optional(),
  factor: num(1, 100).optional(),
  jitter: num(0, 0.99).optional(),
  deadlineMs: int(1, 30 * DAY).optional(),
  delaysMs: list(int(1, 30 * DAY), MAX_DELAYS)
    .min(1, { error: 'must list at least one wait' })
    .optional()
    .meta({ description: 'Explicit waits (ms) before each retry; the deadline defaults to twice their sum (room for Retry-After to stretch each to twice).' }),
})
  .superRefine(scheduleFieldsAgree)
  .meta({
    id: 'ScheduleOverride',
    description: `A preset or delaysMs, not both; firstDelayMs and factor do not apply to a list of waits (delaysMs, or the ${LIST_PRESETS.join(' or ')} preset). A schedule that plans more attempts per delivery than MAX_SCHEDULE_ATTEMPTS (200 by default; every jittered wait counted at its shortest) is refused: 400 on the field that sets the count.`,
    // scheduleConflicts, as the document says it.
    allOf: [
      { not: { required: ['preset', 'delaysMs'] } },
      { if: { required: ['delaysMs'] }, then: noExponentialNumbers },
      { if: { properties: { preset: { enum: [...LIST_PRESETS] } }, required: ['preset'] }, then: noExponentialNumbers },
    ],
  });

/** Sender behaviours beyond Portable's, each off when absent. */
export const BehaviorsInput = obj({
  retryAfter: bool().optional().meta({ description: 'Honour Retry-After on 429 and 503: the next wait is the asked one, kept between the scheduled wait and twice it.' }),
  disableOn410: bool().optional().meta({ description: 'A 410 Gone disables the webhook and cancels its pending deliveries.' }),
  abortHeader: httpToken(256)
    .transform((h) => h.toLowerCase())
    .nullable()
    .optional()
    .meta({ description: 'A response carrying this header (any value) ends the delivery: no more retries.' }),
  disableAfterDays: num(0.001, 365).nullable().optional().meta({ description: 'Disable the webhook once its attempts have failed without a break for this many (virtual) days.' }),
  disableAfterDeliveries: int(1, 100_000).nullable().optional().meta({ description: 'Disable the webhook after this many deliveries in a row ended undelivered.' }),
}).meta({ id: 'BehaviorsInput' });

export const Behaviors = z
  .object({
    retryAfter: z.boolean().optional(),
    disableOn410: z.boolean().optional(),
    abortHeader: z.string().nullable().optional(),
    disableAfterDays: z.number().nullable().optional(),
    disableAfterDeliveries: z.int().nullable().optional(),
  })
  .meta({ id: 'Behaviors', description: 'Each behaviour is off when absent (or false/null).' });

/** Why hooklab turned a webhook off by itself (null when a person did, or it is enabled). */
export const AutoDisabled = z
  .object({
    reason: z.enum(['gone', 'failing']).meta({ description: 'gone: a 410 answer (disableOn410); failing: disableAfterDays or disableAfterDeliveries reached.' }),
    at: time().meta({ description: 'Virtual time.' }),
    deliveryId: z.string().nullable(),
    detail: z.string(),
  })
  .meta({ id: 'AutoDisabled' });

/** The failure streak the disable-after behaviours count (null after a success). */
export const FailureStreak = z
  .object({
    since: time().meta({ description: 'Virtual time of the first failed attempt since the last success.' }),
    deliveries: z.int().meta({ description: 'Deliveries ended undelivered since the last success.' }),
  })
  .meta({ id: 'FailureStreak' });

/**
 * `whsec_` + base64 of 16 to 64 bytes (Standard Webhooks): 22 to 86 base64 characters before
 * any padding. A pattern, so that the OpenAPI document says it too.
 */
const SECRET_PATTERN = /^whsec_[A-Za-z0-9+/]{22,86}={0,2}$/;

export const isValidSecret = (secret: string): boolean => SECRET_PATTERN.test(secret);

const NOT_A_URL = 'must be an absolute URL such as https://example.com/hooks';

/**
 * http: or https: (any case, after leading white space), then the authority up to the first
 * "/", "\", "?" or "#" as WHATWG URL parsing reads it, without an "@": credentials in a URL end
 * up in logs and screens (the signing secret is the place for them); a host (an IPv6 one in
 * brackets), then a port of digits up to 65535 (leading zeros allowed, as URL parsing takes
 * them) or none; no tab or line break inside it (URL parsing would drop them, and the request
 * would go somewhere other than what was typed). In the OpenAPI document as the field's pattern;
 * the server also parses the URL (a valid host).
 */
const HTTP_URL = /^(?![\s\S]*\S\s*[\t\r\n]\s*\S)\s*[Hh][Tt][Tt][Pp][Ss]?:[/\\]*(?:\[[^/\\?#@\]]*\]|[^/\\?#@:\[\]]+)(?::0*(?:\d{1,4}|[1-5]\d{4}|6[0-4]\d{3}|65[0-4]\d{2}|655[0-2]\d|6553[0-5])?)?\s*(?:[/\\?#][\s\S]*)?$/;

/** A tab or line break with text on both sides (at either end it is white space, trimmed). */
const INNER_BREAK = /\S\s*[\t\r\n]\s*\S/;

/** Why a string is not an HTTP_URL, in the API's words. */
function httpUrlProblem(s: string): string {
  if (INNER_BREAK.test(s)) return 'must not contain a tab or line break';
  let u: URL;
  try {
    u = new URL(s.trim());
  } catch {
    return NOT_A_URL;
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return 'must use http or https';
  return hasCredentials(s) ? WITH_CREDENTIALS : NOT_A_URL;
}

/** An absolute http(s) URL without credentials, normalised; `noFragment`: and without a #fragment (`why` says why not). */
export const httpUrl = (noFragment?: { why: string }) =>
  z
    .string({ error: typeError('must be a string') })
    // Abort: one message per field (the pattern fails on these too).
    .min(1, { error: 'must not be empty', abort: true })
    .max(2048, { error: 'must be at most 2048 characters', abort: true })
    // One pattern (the OpenAPI document keeps one per field): no "#" at all, which in an http
    // URL starts its fragment, where a fragment is refused.
    .regex(noFragment ? new RegExp(`^(?![\\s\\S]*#)${HTTP_URL.source.slice(1)}`) : HTTP_URL, {
      error: (iss) => (noFragment && HTTP_URL.test(String(iss.input)) ? noFragment.why : httpUrlProblem(String(iss.input))),
    })
    .transform((s, ctx) => {
      try {
        return new URL(s.trim()).toString();
      } catch {
        ctx.addIssue({ code: 'custom', message: NOT_A_URL });
        return z.NEVER;
      }
    })
    .meta({
      format: 'uri',
      description: `An absolute http or https URL, without a user name or password${noFragment ? ' or #fragment' : ''}; it must parse as a URL (a valid host, a port up to 65535).`,
    });

/** A signing secret (write-only). Never echo the value back: the message names the format only. */
const secretField = () =>
  z
    .union([
      z.null(),
      z.literal(''),
      z
        .string({ error: typeError('must be a string') })
        .max(200, { error: 'must be at most 200 characters', abort: true })
        .regex(SECRET_PATTERN, { error: 'must be "whsec_" followed by base64 of 16 to 64 random bytes' }),
    ])
    .transform((s) => (s === '' ? null : s))
    .optional();

/** A webhook's settings besides its URL (shared by create, update and the config file). */
export const webhookFields = {
  name: str(200).transform((s) => s.trim()).optional().meta({ description: 'Default: the URL\'s host.' }),
  enabled: bool().optional(),
  events: list(Subscription, SUBSCRIPTIONS.length * 4)
    // Kept in one order, without repeats, whatever the input's.
    .transform((ev) => SUBSCRIPTIONS.filter((s) => ev.includes(s)))
    .optional(),
  secret: secretField().meta({ description: '`whsec_` + base64; null or "" removes it. Write-only: answers say `hasSecret`.' }),
  previousSecret: secretField().meta({
    description:
      'During a secret rotation: the old secret. Deliveries then carry two signatures in `webhook-signature` (new, then old, space-separated, as Standard Webhooks allows), so receivers on either secret verify them. null or "" ends the rotation. Write-only: answers say `hasPreviousSecret`.',
  }),
  successPolicy: SuccessPolicy.optional(),
  schedule: ScheduleOverride.optional(),
  behaviors: BehaviorsInput.optional().meta({ description: 'Replaces the webhook\'s behaviours as a whole; {} turns them all off.' }),
  timeoutMs: int(1, 600_000).nullable().optional().meta({ description: 'Per-attempt timeout; null: DISPATCH_TIMEOUT_MS.' }),
};

export const WebhookCreate = obj({ url: httpUrl(), ...webhookFields }).meta({ id: 'WebhookCreate' });
export const WebhookUpdate = obj({ url: httpUrl().optional(), ...webhookFields }).meta({ id: 'WebhookUpdate' });

export const Webhook = z
  .object({
    id: z.string(),
    name: z.string(),
    url: z.string(),
    enabled: z.boolean(),
    events: z.array(Subscription),
    hasSecret: z.boolean().meta({ description: 'The secret itself is never sent back.' }),
    hasPreviousSecret: z.boolean().meta({ description: 'A rotation is under way: deliveries are signed with both secrets.' }),
    successPolicy: SuccessPolicy,
    schedule: ScheduleSettings.partial(),
    scheduleNote: z
      .string()
      .optional()
      .meta({
        description:
          'Only when the schedule plans more attempts than MAX_SCHEDULE_ATTEMPTS (saved before the limit was checked, or under other server settings; a save giving such a schedule is refused, 400): what its deliveries make instead.',
      }),
    behaviors: Behaviors,
    disabledBy: AutoDisabled.nullable().meta({ description: 'Set when hooklab disabled the webhook by itself; cleared when it is enabled again.' }),
    failing: FailureStreak.nullable(),
    timeoutMs: z.int().nullable(),
    createdAt: time(),
    updatedAt: time(),
    cancelling: z
      .int()
      .optional()
      .meta({
        description:
          'Only in the answer to a PATCH that disabled the webhook (and its `webhook` live event): how many of its pending deliveries are still being cancelled. Each waits for its attempt under way to be recorded, then ends `webhook_disabled` (unless that attempt delivered it); none is attempted again.',
      }),
  })
  .meta({ id: 'Webhook' });

export const WebhookDeleted = z
  .object({
    id: z.string(),
    cancelling: z.int().meta({ description: 'Pending deliveries still being cancelled: each ends `webhook_deleted` once its attempt under way is recorded (unless that attempt delivered it); none is attempted again.' }),
  })
  .meta({ id: 'WebhookDeleted' });

export const WebhookList = z.object({ webhooks: z.array(Webhook) }).meta({ id: 'WebhookList' });

/** The body Portable sends, field for field (keys in the article's order). */
export const PortablePayload = z
  .object({
    created: z.string(),
    destination_id: z.number(),
    destination_type: z.string(),
    details: z.string().optional(),
    event: EventName,
    flow_id: z.number(),
    run_attempt_id: z.number(),
    source_id: z.number(),
    source_type: z.string(),
    status: RunOutcome.optional(),
  })
  .meta({ id: 'PortablePayload' });

export const AttemptError = z.enum(['timeout', 'refused', 'reset', 'redirect', 'dns', 'blocked', 'error']);

/** Why an attempt was made when it was. */
export const ATTEMPT_REASONS = ['first', 'schedule', 'retry-after', 'deadline', 'restart', 'manual', 'test'] as const;
export const AttemptReason = z.enum(ATTEMPT_REASONS).meta({
  description:
    'first: at the event; schedule: the planned wait; retry-after: moved by the answer\'s Retry-After; deadline: the last planned attempt, on the deadline; ' +
    'restart: in flight when the server stopped, or due while no dispatcher ran (a crash, a failover to another instance), and made when one started: it may arrive twice; manual: Retry now; test: the Test button.',
});

/** How the bin's response plan answered an attempt, and who else used the plan just before. */
export const PlanUse = z
  .object({
    source: AnswerSource.meta({ description: "As the capture's answer.source." }),
    index: z.int().nullable().meta({ description: 'The step or rule that answered.' }),
    roll: PlanRoll.nullable()
      .optional()
      .meta({
        description:
          "As the capture's answer.roll: for a probability step, the draw. hit false: the step's chance missed and the default response answered. Absent on attempts recorded before it existed.",
      }),
    others: z
      .array(z.object({ requestId: z.string(), label: z.string().meta({ description: 'e.g. "test · attempt 1", or "POST /hooks".' }) }))
      .meta({ description: 'Requests (newest first, at most 10) that used plan steps since this delivery\'s previous attempt (or, for its first, since the plan started).' }),
    othersCount: z.int(),
  })
  .meta({ id: 'PlanUse' });

export const Attempt = z
  .object({
    n: z.int(),
    plannedAt: time(),
    sentAt: time(),
    status: z.int().nullable(),
    error: AttemptError.nullable(),
    errorDetail: z.string().nullable().meta({ description: 'For people (never holds secrets).' }),
    ok: z.boolean(),
    durationMs: z.number().meta({ description: 'Real (wall) time the exchange took.' }),
    requestHeaders: z.array(HeaderPair),
    responseHeaders: z.array(HeaderPair),
    responseBody: z.string().meta({ description: 'First bytes of the response body, as UTF-8 text.' }),
    responseBodyTruncated: z.boolean(),
    manual: z.boolean(),
    capturedRequestId: z.string().nullable().meta({ description: 'When the receiver was one of our bins: the capture.' }),
    reason: AttemptReason.optional().meta({ description: 'Why it was made when it was (absent on attempts recorded before this existed).' }),
    reasonDetail: z.string().nullable().optional(),
    planUse: PlanUse.nullable().optional().meta({ description: 'When the receiver is one of our bins: which part of its settings answered.' }),
  })
  .meta({ id: 'Attempt' });

export const DeliveryState = oneOf(['pending', 'delivered', 'failed', 'cancelled']);

export const Delivery = z
  .object({
    id: z.string(),
    webhookId: z.string(),
    webhookName: z.string(),
    url: z.string(),
    runId: z.string().nullable(),
    event: EventName,
    payload: PortablePayload,
    webhookMessageId: z.string().meta({ description: 'The `webhook-id` header: the same on every attempt.' }),
    state: DeliveryState,
    createdAt: time(),
    nextAttemptAt: time().nullable(),
    plannedAt: z.array(time()).meta({ description: 'Every attempt time planned: at creation, then moved when an answer asked for it (Retry-After).' }),
    schedule: ScheduleSettings,
    seed: z.int(),
    attempts: z.array(Attempt),
    endReason: z
      .string()
      .nullable()
      .meta({ description: 'delivered, deadline, gone (410), aborted (abort header), disabled (hooklab disabled the webhook), test_failed, webhook_disabled, webhook_deleted.' }),
    endDetail: z.string().nullable().optional().meta({ description: 'Why it ended, in words.' }),
    nextReason: AttemptReason.nullable().optional().meta({ description: 'Why the next attempt is planned when it is.' }),
    nextReasonDetail: z.string().nullable().optional(),
    binId: z.string().nullable().meta({ description: 'Set when the receiver URL is one of our bins.' }),
  })
  .meta({ id: 'Delivery' });

export const DeliveryList = z
  .object({
    deliveries: z.array(Delivery),
    nextBefore: z.string().nullable().meta({ description: 'Pass as `before` for the next (older) page; null when there is none.' }),
  })
  .meta({ id: 'DeliveryList' });

// A delivery's id: "dl_", then 9 characters of time and 4 of counter and a random tail
// (server/ids.ts). Any other string was compared as an id: `before=nope` listed everything.
const deliveryId = z.string().regex(/^dl_[0-9a-z]{13,40}$/, { error: 'must be a delivery id, as the API gives them (its "id", dl_…)' });

export const DeliveryListQuery = obj({
  webhookId: str(100).optional(),
  runId: str(100).optional(),
  state: DeliveryState.optional(),
  before: deliveryId.optional().meta({ description: 'Only deliveries older than this id: the last one of a page, for the next page.' }),
  limit: qInt(1, 5000).optional().meta({ description: 'Default 200.' }),
});

export const RunInput = obj({
  flow_id: int(1, Number.MAX_SAFE_INTEGER).optional(),
  source_type: str(100, 1).optional(),
  destination_type: str(100, 1).optional(),
  outcome: RunOutcome.optional(),
  durationMs: int(0, 30 * DAY).optional().meta({ description: 'Virtual time until sync_end (default 20 s).' }),
  details: str(1000).optional(),
}).meta({ id: 'RunInput' });

export const Run = z
  .object({
    id: z.string(),
    flow_id: z.number(),
    run_attempt_id: z.number(),
    source_id: z.number(),
    destination_id: z.number(),
    source_type: z.string(),
    destination_type: z.string(),
    outcome: RunOutcome,
    details: z.string(),
    startedAt: time(),
    endsAt: time(),
    ended: z.boolean(),
  })
  .meta({ id: 'Run' });

export const RunList = z.object({ runs: z.array(Run) }).meta({ id: 'RunList' });

export const TestResult = z
  .object({ delivery: Delivery, status: z.int().nullable(), error: AttemptError.nullable(), ok: z.boolean(), durationMs: z.number() })
  .meta({ id: 'TestResult' });

export const ClockState = z
  .object({
    now: time(),
    scale: z.number(),
    paused: z.boolean(),
    nextDueAt: time().nullable().meta({ description: 'The next thing due (attempt or run end), or null. The clock never passes it before it is done.' }),
    nextDeadlineAt: time()
      .nullable()
      .meta({ description: "When the first pending delivery gives up (its event's time plus its schedule's deadlineMs), or null when none is pending." }),
    behindMs: z.number().meta({ description: 'Virtual ms the clock is held back because the dispatcher has not yet sent what was due (0 when it keeps up).' }),
    lagging: z.boolean().meta({ description: 'Held back by more than 250 ms of real time: the dispatcher cannot keep up at this speed, so the clock waits for it.' }),
  })
  .meta({ id: 'ClockState' });

export const ClockInput = obj({ scale: num(0.001, 1_000_000_000).optional(), paused: bool().optional() }).meta({ id: 'ClockInput' });

export const AdvanceInput = obj({
  ms: int(0, 365 * DAY).optional().meta({ description: 'Jump this far, running what falls due on the way.' }),
  to: oneOf(['next']).optional().meta({ description: 'Jump to the next due instant.' }),
})
  .superRefine((v, ctx) => {
    if ((v.ms === undefined) === (v.to === undefined)) ctx.addIssue({ code: 'custom', message: 'give exactly one of "ms" or "to"' });
  })
  // The refinement above, as the document says it.
  .meta({ id: 'AdvanceInput', description: 'Exactly one of `ms` and `to`.', oneOf: [{ required: ['ms'] }, { required: ['to'] }] });

export const SchedulePreview = z
  .object({
    settings: ScheduleSettings,
    seed: z.int(),
    behaviors: Behaviors,
    attempts: z.array(
      z.object({
        n: z.int(),
        offsetMs: z.number(),
        delayMs: z.number(),
        reason: AttemptReason,
        detail: z.string().nullable(),
      }),
    ),
    endsBy: z.enum(['deadline', 'disabled']).meta({ description: 'How a delivery that never succeeds ends: at its last attempt, or when disableAfterDays disables the webhook.' }),
    notes: z.array(z.string()).meta({ description: 'What the behaviours would do, in words; first, for a webhook\'s stored schedule past MAX_SCHEDULE_ATTEMPTS, that its deliveries are cut there (the attempts shown are cut too).' }),
  })
  .meta({ id: 'SchedulePreview' });

/** "5000,300000" in a query string. */
const qList = z
  .string()
  .regex(/^\s*\d+(\s*,\s*\d+)*\s*$/, { error: 'must be a comma-separated list of whole milliseconds' })
  .transform((s) => s.split(',').map((x) => Number(x.trim())))
  .pipe(list(int(1, 30 * DAY), MAX_DELAYS));

const qBool = oneOf(['true', 'false']).transform((v) => v === 'true');

export const SchedulePreviewQuery = obj({
  webhookId: str(100).optional().meta({ description: "Start from this webhook's settings." }),
  preset: SchedulePreset.optional(),
  firstDelayMs: qInt(1, 7 * DAY).optional().meta({ description: 'Not with a list of waits (delaysMs, or a list preset, given or the webhook\'s): 400.' }),
  factor: qNum(1, 100).optional().meta({ description: 'Not with a list of waits (delaysMs, or a list preset, given or the webhook\'s): 400.' }),
  jitter: qNum(0, 0.99).optional(),
  deadlineMs: qInt(1, 30 * DAY).optional(),
  delaysMs: qList.optional().meta({ description: 'A list of waits, e.g. 5000,300000 (not with preset).' }),
  seed: qInt(0, 2 ** 32 - 1).optional(),
  retryAfter: qBool.optional().meta({ description: 'Honour Retry-After (default: the webhook\'s behaviour).' }),
  retryAfterS: qInt(0, 30 * 86_400).optional().meta({ description: 'Assume every failed attempt is a 503 with `Retry-After: <this many seconds>`.' }),
  disableAfterDays: qNum(0.001, 365).optional().meta({ description: 'Default: the webhook\'s behaviour.' }),
})
  // As a webhook's schedule (400, in the same words): the preview never shows numbers it ignores.
  .superRefine(scheduleFieldsAgree);

// ------------------------------------------------------------------ timeline export

export const TimelineQuery = obj({
  format: oneOf(['json', 'csv']).optional().meta({ description: 'Default json. csv: one row per attempt, made or still planned.' }),
});

export const TimelineAttempt = z
  .object({
    n: z.int().nullable().meta({ description: 'The attempt number; for one still planned, the number it will have (unless a manual retry comes first).' }),
    status: z.enum(['made', 'planned']),
    reason: AttemptReason.nullable(),
    reasonDetail: z.string().nullable(),
    plannedAt: time(),
    sentAt: time().nullable(),
    offsetMs: z.number().meta({ description: 'Virtual ms after the event (sent, else planned).' }),
    lateMs: z.number().nullable().meta({ description: 'Sent minus planned (virtual).' }),
    httpStatus: z.int().nullable(),
    error: AttemptError.nullable(),
    ok: z.boolean().nullable(),
    durationMs: z.number().nullable().meta({ description: 'Real ms.' }),
    manual: z.boolean(),
    capturedRequestId: z.string().nullable(),
  })
  .meta({ id: 'TimelineAttempt' });

export const TimelineDelivery = z
  .object({
    id: z.string(),
    runId: z.string().nullable(),
    event: EventName,
    webhookId: z.string(),
    webhookName: z.string(),
    url: z.string(),
    binId: z.string().nullable(),
    webhookMessageId: z.string(),
    state: DeliveryState,
    endReason: z.string().nullable(),
    endDetail: z.string().nullable(),
    createdAt: time(),
    deadlineAt: time(),
    schedule: ScheduleSettings,
    attempts: z.array(TimelineAttempt),
  })
  .meta({ id: 'TimelineDelivery' });

export const Timeline = z
  .object({
    runId: z.string().nullable(),
    deliveryId: z.string().nullable(),
    exportedAt: time().meta({ description: 'Virtual time of the export.' }),
    deliveries: z.array(TimelineDelivery),
  })
  .meta({ id: 'Timeline' });
