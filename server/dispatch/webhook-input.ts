// Webhook settings (the article's settings page, as JSON): parsed by the shared schema,
// applied over what is stored, and shown without the secret.
import type { ScheduleSettings, Subscription, Webhook } from '../../shared/api.ts';
import { SUBSCRIPTIONS } from '../../shared/api.ts';
import { WebhookCreate, WebhookUpdate } from '../../shared/schema/dispatch.ts';
import { invalid } from '../http/errors.ts';
import { parse } from '../http/parse.ts';
import type { StoredWebhook } from '../store/types.ts';
import { resolveSchedule } from './schedule.ts';
import { cutNote } from './schedule-limit.ts';

/** What a webhook's schedule is read against: the server's settings and MAX_SCHEDULE_ATTEMPTS. */
export interface ScheduleLimits {
  schedule: ScheduleSettings;
  maxAttempts: number;
}

type WebhookInput = ReturnType<typeof WebhookUpdate.parse>;

/** Parse input for create (`partial` false: url required) or update (`partial` true). */
export function parseWebhookInput(body: unknown, partial: boolean): WebhookInput {
  return parse(partial ? WebhookUpdate : WebhookCreate, body);
}

export const NEEDS_SECRET = 'needs a secret: during a rotation deliveries are signed with both; set `secret` too, or leave this out';

export function applyWebhookInput(prev: StoredWebhook | null, input: WebhookInput, id: string, now: string): StoredWebhook {
  const url = input.url ?? prev!.url;
  const enabled = input.enabled ?? prev?.enabled ?? true;
  // Turned on again by a person: what hooklab noted when it turned it off no longer applies.
  const reEnabled = enabled && prev !== null && !prev.enabled;
  const secret = input.secret !== undefined ? input.secret : (prev?.secret ?? null);
  let previousSecret = input.previousSecret !== undefined ? input.previousSecret : (prev?.previousSecret ?? null);
  // A rotation signs with the new secret and the old one: without a secret nothing is signed.
  // Removing the secret ends a rotation under way; naming an old secret without one is refused.
  if (secret === null && previousSecret !== null) {
    if (input.previousSecret) throw invalid('previousSecret', NEEDS_SECRET);
    previousSecret = null;
  }
  return {
    id,
    name: input.name || prev?.name || new URL(url).host,
    url,
    enabled,
    events: (input.events ?? prev?.events ?? [...SUBSCRIPTIONS]) as Subscription[],
    secret,
    previousSecret,
    successPolicy: input.successPolicy ?? prev?.successPolicy ?? '200',
    schedule: input.schedule ?? prev?.schedule ?? {},
    behaviors: input.behaviors ?? prev?.behaviors ?? {},
    disabledBy: reEnabled ? null : (prev?.disabledBy ?? null),
    failing: reEnabled ? null : (prev?.failing ?? null),
    timeoutMs: input.timeoutMs !== undefined ? input.timeoutMs : (prev?.timeoutMs ?? null),
    createdAt: prev?.createdAt ?? now,
    updatedAt: now,
  };
}

/**
 * A config file's webhook (the file is the desired state): a field it leaves out takes what
 * POST gives (not what is stored), so deleting a line undoes it. Except the secrets, often set
 * outside the file (the API, the console): left out, the stored ones stay. And hooklab's own
 * disabling (a 410, a failure streak) is state, not a setting: kept unless the file says
 * `enabled`.
 */
export function webhookFromFile(prev: StoredWebhook | null, input: WebhookInput & { url: string }, id: string, now: string): StoredWebhook {
  return applyWebhookInput(
    prev,
    {
      ...input,
      name: input.name || new URL(input.url).host,
      enabled: input.enabled ?? !prev?.disabledBy,
      events: input.events ?? [...SUBSCRIPTIONS],
      successPolicy: input.successPolicy ?? '200',
      schedule: input.schedule ?? {},
      behaviors: input.behaviors ?? {},
      timeoutMs: input.timeoutMs !== undefined ? input.timeoutMs : null,
    },
    id,
    now,
  );
}

/**
 * What the API shows: never the secret itself; fields added later read as off. A schedule
 * saved past MAX_SCHEDULE_ATTEMPTS (before it was checked, or under other settings) says what
 * its deliveries make instead.
 */
export function webhookView(w: StoredWebhook, limits: ScheduleLimits): Webhook {
  const { secret, previousSecret, ...rest } = w;
  const note = cutNote(resolveSchedule(limits.schedule, w.schedule), limits.maxAttempts);
  return {
    ...rest,
    ...(note ? { scheduleNote: note } : {}),
    behaviors: w.behaviors ?? {},
    disabledBy: w.disabledBy ?? null,
    failing: w.failing ?? null,
    hasSecret: secret !== null,
    hasPreviousSecret: previousSecret != null,
  };
}
