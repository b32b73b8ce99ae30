// Shopify (shopify.dev "Verify webhooks"): X-Shopify-Hmac-Sha256 is the base64 HMAC-SHA256 of
// the raw body, keyed with the app's client secret as text.
import type { VerifySchemeT } from '../../shared/schema/verify.ts';
import { fromBase64 } from './crypto.ts';
import type { HeaderIndex } from './headers.ts';
import { textKey, textMistakes } from './keys.ts';
import { repeatedProblem } from './repeated.ts';
import type { Reading, SchemeDef } from './types.ts';

type S = Extract<VerifySchemeT, { type: 'shopify' }>;

function read(_s: S, h: HeaderIndex): Reading {
  const received = (h.get('x-shopify-hmac-sha256') ?? []).map((text) => ({ text, mac: fromBase64(text) }));
  const reading: Reading = { header: 'X-Shopify-Hmac-Sha256', received, signed: (body) => [body] };
  const problem = repeatedProblem(h, 'x-shopify-hmac-sha256', reading.header, 'which is no base64 HMAC: a receiver comparing it with the one it computes rejects it');
  return problem ? { ...reading, signed: () => [], problem } : reading;
}

export const shopify: SchemeDef<S> = {
  carries: (_s, h) => h.has('x-shopify-hmac-sha256'),
  headerNames: () => ['X-Shopify-Hmac-Sha256'],
  read,
  algorithm: () => 'sha256',
  key: textKey,
  mistakenKeys: textMistakes,
  format: (mac) => mac.toString('base64'),
};
