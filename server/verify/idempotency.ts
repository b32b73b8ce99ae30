// The sender's idempotency key of a capture: a header or JSON field the user names first, then
// the well-known ones. The body is parsed only when a JSON path is named or it may be a Stripe
// event (opens like JSON and mentions both "object" and "event").
import { createHash } from 'node:crypto';
import type { IdempotencyKeyT, VerifySettingsT } from '../../shared/schema/verify.ts';
import { first, indexHeaders, textOf } from './headers.ts';
import { numberTextAt } from './json-number-text.ts';
import { parseJsonBody } from './json-variants.ts';

/** Bodies larger than this are not parsed for a key. */
export const MAX_KEY_JSON_BYTES = 1024 * 1024;
/** Longer keys are kept as their hash: no sender's id is this long, and every capture stores one. */
const MAX_KEY_CHARS = 256;

const KNOWN_HEADERS = [
  // svix-id before webhook-id: the id the signature covers (standard-webhooks.ts reads each
  // svix-* header first, as the svix library does), so key and signature name the same message.
  ['svix-id', 'svix-id'],
  ['webhook-id', 'webhook-id'],
  ['x-github-delivery', 'x-github-delivery'],
  // Shopify's id of one webhook, the same on each of its retries.
  ['x-shopify-webhook-id', 'x-shopify-webhook-id'],
] as const;

// A Stripe event body names both; most other bodies lack one, so they are never parsed.
const EVENT = Buffer.from('"event"');
const OBJECT = Buffer.from('"object"');

function asKey(v: unknown): string | null {
  const s = typeof v === 'string' ? v : typeof v === 'number' && Number.isFinite(v) ? String(v) : null;
  if (!s) return null;
  return s.length > MAX_KEY_CHARS ? `sha256:${createHash('sha256').update(s).digest('hex')}` : s;
}

/** "data.items.0.id": field names joined by dots, a number picks an array item; JSONPath's "$." before it is the root. */
const partsOf = (path: string) => path.replace(/^\$\./, '').split('.');

export function atPath(value: unknown, path: string): unknown {
  let v = value;
  for (const part of partsOf(path)) {
    if (Array.isArray(v) && /^\d+$/.test(part)) v = v[Number(part)];
    else if (v && typeof v === 'object' && !Array.isArray(v) && Object.hasOwn(v, part)) v = (v as Record<string, unknown>)[part];
    else return undefined;
  }
  return v;
}

/**
 * The key at `path` of the parsed body: a number as written in the body, not as parsed (ids past
 * 2^53 would round, and two events' ids become one key; 1.50 would read as 1.5).
 */
function keyAt(body: Buffer, value: unknown, path: string): string | null {
  const v = atPath(value, path);
  if (typeof v !== 'number') return asKey(v);
  return asKey(numberTextAt(body.toString('utf8'), partsOf(path)) ?? v);
}

export function idempotencyKey(
  settings: Pick<VerifySettingsT, 'idempotency'> | null | undefined,
  req: { headers: readonly string[]; body: Buffer },
): IdempotencyKeyT | null {
  const h = indexHeaders(req.headers);
  const named = settings?.idempotency;
  let parsed: { ok: true; value: unknown } | { ok: false } | undefined;
  const json = () => (parsed ??= parseJsonBody(req.body, MAX_KEY_JSON_BYTES));

  if (named?.header) {
    const key = asKey(textOf(first(h, named.header.toLowerCase()) ?? ''));
    if (key) return { key, source: 'header' };
  }
  if (named?.jsonPath) {
    const j = json();
    const key = j.ok ? keyAt(req.body, j.value, named.jsonPath) : null;
    if (key) return { key, source: 'json-path' };
  }
  for (const [name, source] of KNOWN_HEADERS) {
    const key = asKey(textOf(first(h, name) ?? ''));
    if (key) return { key, source };
  }
  if (req.body.includes(OBJECT) && req.body.includes(EVENT)) {
    const j = json();
    const v = j.ok ? (j.value as { object?: unknown; id?: unknown } | null) : null;
    if (v && typeof v === 'object' && !Array.isArray(v) && v.object === 'event') {
      const key = keyAt(req.body, v, 'id');
      if (key) return { key, source: 'stripe-event-id' };
    }
  }
  return null;
}
