// Stripe (docs.stripe.com/webhooks#verify-manually): Stripe-Signature "t=<ts>,v1=<hex>[,v1=…]",
// HMAC-SHA256 over "<t>.<body>" keyed with the "whsec_…" secret's text (not decoded). Only v1
// counts; Stripe's own libraries ignore v0.
import type { VerifySchemeT } from '../../shared/schema/verify.ts';
import { DEFAULT_TOLERANCE_SEC } from '../../shared/schema/verify.ts';
import { fromHex } from './crypto.ts';
import { bytesOf, type HeaderIndex } from './headers.ts';
import { textKey, textMistakes } from './keys.ts';
import { repeatedMessage } from './repeated.ts';
import type { MistakenKey, Reading, Received, SchemeDef } from './types.ts';

type S = Extract<VerifySchemeT, { type: 'stripe' }>;

/**
 * Read as stripe-node's parseHeader does (it is the judge of form): the items split on "," and
 * "=" without trimming, the LAST "t" item counts, and its value is read with parseInt, whose
 * number is what is signed ("t=0123" signs "123"; "t=<real>,t=1" signs "1"). Several headers
 * are joined with ", " as Node hands them to the library.
 */
function read(_s: S, h: HeaderIndex): Reading {
  const header = 'Stripe-Signature';
  const received: Received[] = [];
  let t: string | undefined;
  // Only when no item is exactly "t": one with spaces around its name, for the strict problem.
  let spacedT: string | undefined;
  const values = h.get('stripe-signature') ?? [];
  for (const item of values.join(', ').split(',')) {
    const eq = item.indexOf('=');
    const name = item.slice(0, eq < 0 ? undefined : eq);
    // The library's value: up to a second "=", if any.
    const value = eq < 0 ? '' : item.slice(eq + 1).split('=')[0];
    if (name === 't') t = value;
    else if (name.trim() === 't') spacedT = value;
    // As written: a v1 item with spaces is not the text Stripe's libraries compare (see exactText).
    else if (name.trim() === 'v1') received.push({ text: item, mac: fromHex(item.slice(eq + 1).trim()) });
  }
  const reading: Reading = { header, received, signed: () => [] };
  if (received.length === 0) return { ...reading, problem: { cause: 'malformed_header', message: 'Stripe-Signature has no v1= signature.' } };
  const text = t ?? spacedT;
  if (text === undefined) return { ...reading, problem: { cause: 'timestamp_missing', message: 'Stripe-Signature has no t= timestamp: it is part of the signed string "<t>.<body>".' } };
  const n = parseInt(text, 10);
  // stripe-node's "no timestamp" is -1 (its starting value): a t=-1 is taken for none.
  if (t !== undefined && n === -1) return { ...reading, problem: { cause: 'timestamp_missing', message: 'Stripe-Signature\'s t=-1 is what Stripe\'s library takes for no timestamp.' } };
  // The number, as the library writes it into "<t>.<body>" (NaN too, which it signs as "NaN";
  // here a match over it is refused below: a timestamp that is no number has no age to check).
  const head = bytesOf(`${n}.`);
  const timestamp = { text, sec: Number.isFinite(n) ? n : null };
  // Stripe's libraries split on "," and "=" and do not trim: " t=…" is no timestamp there.
  const strictProblem = t === undefined ? 'Stripe-Signature has a space before its "t=": Stripe\'s libraries split it on "," and "=" without trimming, so they find no timestamp in it.' : undefined;
  // stripe-node may accept the joined lines (the right one first); when nothing matches, the repeat is the cause to name.
  const repeated = values.length > 1 ? repeatedMessage(h, 'stripe-signature', header, 'which stripe-node reads as one list (an item after ", " starts with a space, so it is no t= there), and no v1= signature in it matches') : undefined;
  return { ...reading, timestamp, signed: (body) => [head, body], ...(strictProblem && { strictProblem }), ...(repeated && { repeated }) };
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
  exactText: "Stripe's libraries (constructEvent)",
};
