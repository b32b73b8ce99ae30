// Standard Webhooks (https://www.standardwebhooks.com) and Svix, its origin with svix-* names:
// HMAC-SHA256 over "<id>.<timestamp>.<body>", keyed with the base64-decoded secret; the
// signature header lists space-separated "v1,<base64>" entries (several during a rotation).
import type { VerifySchemeT } from '../../shared/schema/verify.ts';
import { DEFAULT_TOLERANCE_SEC } from '../../shared/schema/verify.ts';
import { fromBase64 } from './crypto.ts';
import { bytesOf, first, type HeaderIndex } from './headers.ts';
import { whsecKey, whsecMistakes } from './keys.ts';
import { readTimestamp } from './timestamp.ts';
import type { Reading, Received, SchemeDef } from './types.ts';

type S = Extract<VerifySchemeT, { type: 'standard-webhooks' }>;

/** Each family's header names, made once (a name built per request is hashed on every lookup). */
const NAMES = {
  webhook: { signature: 'webhook-signature', id: 'webhook-id', timestamp: 'webhook-timestamp' },
  svix: { signature: 'svix-signature', id: 'svix-id', timestamp: 'svix-timestamp' },
} as const;

/** The webhook-* names win when a request carries both families. */
const family = (h: HeaderIndex) => (h.has(NAMES.webhook.signature) ? NAMES.webhook : NAMES.svix);

function read(_s: S, h: HeaderIndex): Reading {
  const names = family(h);
  const header = names.signature;
  const received: Received[] = [];
  let other = 0;
  for (const value of h.get(header) ?? []) {
    // One signature (no rotation under way) is the common case: no split needed.
    for (const entry of value.includes(' ') ? value.split(' ') : [value]) {
      if (!entry) continue;
      const comma = entry.indexOf(',');
      const version = comma < 0 ? '' : entry.slice(0, comma);
      // v1a (asymmetric, ed25519) and later versions are not HMACs: skipped, as the spec says.
      if (version !== 'v1' && /^v\d+[a-z]*$/.test(version)) other++;
      else received.push({ text: entry, mac: version === 'v1' ? fromBase64(entry.slice(comma + 1)) : null });
    }
  }
  const id = first(h, names.id);
  const ts = first(h, names.timestamp);
  const reading: Reading = { header, received, signed: () => [] };
  if (received.length === 0) {
    const why = other ? 'only signature versions other than v1 (v1a, asymmetric, is not checked)' : 'no "v1,<base64>" signature';
    return { ...reading, problem: { cause: 'malformed_header', message: `${header} has ${why}.` } };
  }
  if (id === undefined) return { ...reading, problem: { cause: 'malformed_header', message: `${names.id} is missing: it is part of the signed string "<id>.<timestamp>.<body>".` } };
  if (ts === undefined) return { ...reading, problem: { cause: 'timestamp_missing', message: `${names.timestamp} is missing: it is part of the signed string "<id>.<timestamp>.<body>".` } };
  const head = bytesOf(`${id}.${ts}.`);
  return { header, received, timestamp: readTimestamp(ts), signed: (body) => [head, body] };
}

export const standardWebhooks: SchemeDef<S> = {
  carries: (_s, h) => h.has(NAMES.webhook.signature) || h.has(NAMES.svix.signature),
  headerNames: () => ['webhook-signature', 'svix-signature'],
  read,
  algorithm: () => 'sha256',
  key: whsecKey,
  mistakenKeys: whsecMistakes,
  format: (mac) => `v1,${mac.toString('base64')}`,
  exactText: 'the standardwebhooks and svix libraries',
  toleranceSec: (s) => s.toleranceSec ?? DEFAULT_TOLERANCE_SEC,
};
