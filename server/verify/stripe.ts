// Stripe (docs.stripe.com/webhooks#verify-manually): Stripe-Signature "t=<ts>,v1=<hex>[,v1=…]",
// HMAC-SHA256 over "<t>.<body>" keyed with the "whsec_…" secret's text (not decoded). Only v1
// counts; Stripe's own libraries ignore v0.
import type { VerifySchemeT } from '../../shared/schema/verify.ts';
import { DEFAULT_TOLERANCE_SEC } from '../../shared/schema/verify.ts';
import { fromHex } from './crypto.ts';
import { bytesOf, type HeaderIndex } from './headers.ts';
import { textKey, textMistakes } from './keys.ts';
import { readTimestamp } from './timestamp.ts';
import type { MistakenKey, Reading, Received, SchemeDef } from './types.ts';

type S = Extract<VerifySchemeT, { type: 'stripe' }>;

function read(_s: S, h: HeaderIndex): Reading {
  const header = 'Stripe-Signature';
  const received: Received[] = [];
  let t: string | undefined;
  let spacedT = false;
  for (const value of h.get('stripe-signature') ?? []) {
    for (const item of value.split(',')) {
      const eq = item.indexOf('=');
      const rawKey = item.slice(0, eq < 0 ? undefined : eq);
      const k = rawKey.trim();
      const v = eq < 0 ? '' : item.slice(eq + 1).trim();
      if (k === 't' && t === undefined) {
        t = v;
        spacedT = rawKey !== k;
      }
      // As written: a v1 item with spaces is not the text Stripe's libraries compare (see exactText).
      else if (k === 'v1') received.push({ text: item, mac: fromHex(v) });
    }
  }
  const reading: Reading = { header, received, signed: () => [] };
  if (received.length === 0) return { ...reading, problem: { cause: 'malformed_header', message: 'Stripe-Signature has no v1= signature.' } };
  if (t === undefined) return { ...reading, problem: { cause: 'timestamp_missing', message: 'Stripe-Signature has no t= timestamp: it is part of the signed string "<t>.<body>".' } };
  const head = bytesOf(`${t}.`);
  // Stripe's libraries split on "," and "=" and do not trim: " t=…" is no timestamp there.
  const strictProblem = spacedT ? 'Stripe-Signature has a space before its "t=": Stripe\'s libraries split it on "," and "=" without trimming, so they find no timestamp in it.' : undefined;
  return { ...reading, timestamp: readTimestamp(t), signed: (body) => [head, body], ...(strictProblem && { strictProblem }) };
}

export const stripe: SchemeDef<S> = {
  carries: (_s, h) => h.has('stripe-signature'),
  headerNames: () => ['Stripe-Signature'],
  read,
  algorithm: () => 'sha256',
  key: textKey,
  // Stripe keys with the whole "whsec_…" text: a secret saved without the prefix misses it.
  mistakenKeys: (secret: string): MistakenKey[] =>
    secret.startsWith('whsec_')
      ? textMistakes(secret)
      : [...textMistakes(secret), { key: textKey(`whsec_${secret}`), cause: 'wrong_secret', how: 'the secret with "whsec_" before it: Stripe signs with the whole "whsec_…" text, and the one saved here lacks the prefix' }],
  format: (mac) => `v1=${mac.toString('hex')}`,
  toleranceSec: (s) => s.toleranceSec ?? DEFAULT_TOLERANCE_SEC,
  // stripe-node's constructEvent: only an age past the tolerance fails.
  pastOnly: true,
  exactText: "Stripe's libraries (constructEvent)",
};
