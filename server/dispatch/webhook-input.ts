// Validation of webhook settings (the article's settings page, as JSON).
import type { SuccessPolicy, Subscription, Webhook, WebhookInput } from '../../shared/api.ts';
import { SUBSCRIPTIONS } from '../../shared/api.ts';
import { invalid } from '../http/errors.ts';
import { boolean, integer, object, onlyKeys, oneOf, string } from '../http/validate.ts';
import type { StoredWebhook } from '../store/types.ts';
import { parseScheduleOverride } from './schedule.ts';
import { isValidSecret } from './signing.ts';

const KEYS = ['name', 'url', 'enabled', 'events', 'secret', 'successPolicy', 'schedule', 'timeoutMs'] as const;

export function parseUrl(v: unknown, field = 'url'): string {
  const s = string(v, field, 2048, 1).trim();
  let u: URL;
  try {
    u = new URL(s);
  } catch {
    throw invalid(field, 'must be an absolute URL such as https://example.com/hooks');
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw invalid(field, 'must use http or https');
  // Credentials in a URL end up in logs and screens; the signing secret is the place for them.
  if (u.username || u.password) throw invalid(field, 'must not contain a user name or password');
  return u.toString();
}

/** Parse input for create (`partial` false) or update (`partial` true). */
export function parseWebhookInput(body: unknown, partial: boolean): WebhookInput {
  const o = object(body, 'body');
  onlyKeys(o, KEYS, '');
  const out: WebhookInput = {};
  if (o.url !== undefined) out.url = parseUrl(o.url);
  else if (!partial) throw invalid('url', 'is required');
  if (o.name !== undefined) out.name = string(o.name, 'name', 200).trim();
  if (o.enabled !== undefined) out.enabled = boolean(o.enabled, 'enabled');
  if (o.events !== undefined) {
    if (!Array.isArray(o.events)) throw invalid('events', `must be a list of: ${SUBSCRIPTIONS.join(', ')}`);
    const ev = o.events.map((e, i) => oneOf(e, `events[${i}]`, SUBSCRIPTIONS));
    out.events = SUBSCRIPTIONS.filter((s) => ev.includes(s));
  }
  if (o.secret !== undefined) {
    if (o.secret === null || o.secret === '') out.secret = null;
    else {
      const s = string(o.secret, 'secret', 200);
      // Never echo the value back: the message names the format only.
      if (!isValidSecret(s)) throw invalid('secret', 'must be "whsec_" followed by base64 of 16 to 64 random bytes');
      out.secret = s;
    }
  }
  if (o.successPolicy !== undefined) out.successPolicy = oneOf(o.successPolicy, 'successPolicy', ['200', '2xx'] as const) as SuccessPolicy;
  if (o.schedule !== undefined) out.schedule = parseScheduleOverride(o.schedule, 'schedule');
  if (o.timeoutMs !== undefined) out.timeoutMs = o.timeoutMs === null ? null : integer(o.timeoutMs, 'timeoutMs', 1, 600_000);
  return out;
}

export function applyWebhookInput(prev: StoredWebhook | null, input: WebhookInput, id: string, now: string): StoredWebhook {
  const url = input.url ?? prev!.url;
  return {
    id,
    name: input.name || prev?.name || new URL(url).host,
    url,
    enabled: input.enabled ?? prev?.enabled ?? true,
    events: (input.events ?? prev?.events ?? [...SUBSCRIPTIONS]) as Subscription[],
    secret: input.secret !== undefined ? input.secret : (prev?.secret ?? null),
    successPolicy: input.successPolicy ?? prev?.successPolicy ?? '200',
    schedule: input.schedule ?? prev?.schedule ?? {},
    timeoutMs: input.timeoutMs !== undefined ? input.timeoutMs : (prev?.timeoutMs ?? null),
    createdAt: prev?.createdAt ?? now,
    updatedAt: now,
  };
}

/** What the API shows: never the secret itself. */
export function webhookView(w: StoredWebhook): Webhook {
  const { secret, ...rest } = w;
  return { ...rest, hasSecret: secret !== null };
}
