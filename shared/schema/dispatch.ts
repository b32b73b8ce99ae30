// The reference dispatcher: webhooks, simulated runs, deliveries with their attempts, the
// virtual clock and the retry schedule.
import { z } from 'zod';
import { bool, int, list, num, obj, oneOf, qInt, qNum, str, time } from './common.ts';
import { HeaderPair } from './bins.ts';

const DAY = 86_400_000;

/** The article's three subscription checkboxes. */
export const SUBSCRIPTIONS = ['flow_started', 'flow_succeeded', 'flow_failed'] as const;
export const Subscription = oneOf(SUBSCRIPTIONS);
export const EventName = z.enum(['sync_start', 'sync_end', 'test']);
export const RunOutcome = oneOf(['SUCCESSFUL', 'FAILED']);
export const SuccessPolicy = oneOf(['200', '2xx']).meta({ description: '"200": only 200 counts as delivered; "2xx": any 2xx.' });

export const ScheduleSettings = z
  .object({
    firstDelayMs: z.int().meta({ description: 'Delay before the first retry.' }),
    factor: z.number().meta({ description: 'Each delay is this many times the previous one.' }),
    jitter: z.number().meta({ description: '±fraction of random spread on each delay (0.2 = ±20%).' }),
    deadlineMs: z.int().meta({ description: 'No attempt later than this after the event; the last one lands on it.' }),
  })
  .meta({ id: 'ScheduleSettings' });

export const SCHEDULE_KEYS = ['firstDelayMs', 'factor', 'jitter', 'deadlineMs'] as const;

/** A webhook's overrides of the global schedule. */
export const ScheduleOverride = obj({
  firstDelayMs: int(1, 7 * DAY).optional(),
  factor: num(1, 100).optional(),
  jitter: num(0, 0.99).optional(),
  deadlineMs: int(1, 30 * DAY).optional(),
}).meta({ id: 'ScheduleOverride' });

const SECRET_PREFIX = 'whsec_';

/** `whsec_` + base64 of 16 to 64 bytes (Standard Webhooks). */
export function isValidSecret(secret: string): boolean {
  if (!secret.startsWith(SECRET_PREFIX)) return false;
  const b64 = secret.slice(SECRET_PREFIX.length);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) return false;
  const bytes = Math.floor((b64.replace(/=+$/, '').length * 3) / 4);
  return bytes >= 16 && bytes <= 64;
}

/** An absolute http(s) URL without credentials, normalised. */
export const httpUrl = () =>
  str(2048, 1)
    .transform((s, ctx) => {
      let u: URL;
      try {
        u = new URL(s.trim());
      } catch {
        ctx.addIssue({ code: 'custom', message: 'must be an absolute URL such as https://example.com/hooks' });
        return z.NEVER;
      }
      if (u.protocol !== 'http:' && u.protocol !== 'https:') ctx.addIssue({ code: 'custom', message: 'must use http or https' });
      // Credentials in a URL end up in logs and screens; the signing secret is the place for them.
      else if (u.username || u.password) ctx.addIssue({ code: 'custom', message: 'must not contain a user name or password' });
      return u.toString();
    })
    .meta({ format: 'uri' });

/** A webhook's settings besides its URL (shared by create, update and the config file). */
export const webhookFields = {
  name: str(200).transform((s) => s.trim()).optional().meta({ description: 'Default: the URL\'s host.' }),
  enabled: bool().optional(),
  events: list(Subscription, SUBSCRIPTIONS.length * 4)
    // Kept in one order, without repeats, whatever the input's.
    .transform((ev) => SUBSCRIPTIONS.filter((s) => ev.includes(s)))
    .optional(),
  secret: z
    .union([z.null(), z.literal(''), str(200)])
    // Never echo the value back: the message names the format only.
    .refine((s) => s === null || s === '' || isValidSecret(s), { error: 'must be "whsec_" followed by base64 of 16 to 64 random bytes' })
    .transform((s) => (s === '' ? null : s))
    .optional()
    .meta({ description: '`whsec_` + base64; null or "" removes it. Write-only: answers say `hasSecret`.' }),
  successPolicy: SuccessPolicy.optional(),
  schedule: ScheduleOverride.optional(),
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
    successPolicy: SuccessPolicy,
    schedule: ScheduleSettings.partial(),
    timeoutMs: z.int().nullable(),
    createdAt: time(),
    updatedAt: time(),
  })
  .meta({ id: 'Webhook' });

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
    plannedAt: z.array(time()).meta({ description: 'Every attempt time the schedule planned at creation.' }),
    schedule: ScheduleSettings,
    seed: z.int(),
    attempts: z.array(Attempt),
    endReason: z.string().nullable().meta({ description: 'delivered, deadline, test_failed, webhook_disabled, webhook_deleted.' }),
    binId: z.string().nullable().meta({ description: 'Set when the receiver URL is one of our bins.' }),
  })
  .meta({ id: 'Delivery' });

export const DeliveryList = z.object({ deliveries: z.array(Delivery) }).meta({ id: 'DeliveryList' });

export const DeliveryListQuery = obj({
  webhookId: str(100).optional(),
  runId: str(100).optional(),
  state: DeliveryState.optional(),
  before: str(100).optional().meta({ description: 'Only deliveries older than this id (the next page).' }),
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
    nextDueAt: time().nullable().meta({ description: 'The next thing due (attempt or run end), or null.' }),
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
  .meta({ id: 'AdvanceInput' });

export const SchedulePreview = z
  .object({
    settings: ScheduleSettings,
    seed: z.int(),
    attempts: z.array(z.object({ n: z.int(), offsetMs: z.number(), delayMs: z.number() })),
  })
  .meta({ id: 'SchedulePreview' });

export const SchedulePreviewQuery = obj({
  webhookId: str(100).optional().meta({ description: "Start from this webhook's settings." }),
  firstDelayMs: qInt(1, 7 * DAY).optional(),
  factor: qNum(1, 100).optional(),
  jitter: qNum(0, 0.99).optional(),
  deadlineMs: qInt(1, 30 * DAY).optional(),
  seed: qInt(0, 2 ** 32 - 1).optional(),
});
