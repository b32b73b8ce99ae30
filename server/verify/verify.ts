// A capture against a bin's verification settings. Pure: the arrival time is passed in, so a
// re-check of stored captures judges each against the time it arrived, not today.
import { createSecretKey, type KeyObject } from 'node:crypto';
import type { VerificationT, VerifySettingsT } from '../../shared/schema/verify.ts';
import { checkScheme } from './check.ts';
import { indexHeaders } from './headers.ts';
import { schemeDef } from './registry.ts';
import type { VerifyRequest } from './types.ts';

const RANK: Record<VerificationT['status'], number> = { valid: 3, expired: 2, invalid: 1, missing: 0, unchecked: 0 };

/** Verify settings' secrets as HMAC keys, [scheme][secret]: see secretKeys. */
export type SecretKeys = readonly (readonly KeyObject[])[];

/**
 * The settings' secrets decoded once into KeyObjects, for checking many captures with them:
 * an HMAC keyed with a KeyObject starts about twice as fast as one keyed with bytes, and a
 * Standard Webhooks secret need not be base64-decoded again for every capture.
 */
export function secretKeys(settings: VerifySettingsT): SecretKeys {
  return settings.schemes.map((s) => s.secrets.map((secret) => createSecretKey(schemeDef(s).key(secret))));
}

/**
 * The scheme whose signature header the request carries decides. When it carries several
 * (or one type is configured twice), a valid one wins, then expired, then the first in order.
 * `settings` must have passed VerifySettingsInput; `nowMs` is the arrival time; `keys`, when
 * given, are secretKeys(settings).
 */
export function verify(settings: VerifySettingsT | null | undefined, req: VerifyRequest, nowMs: number, keys?: SecretKeys): VerificationT {
  if (!settings || settings.schemes.length === 0) return { status: 'unchecked' };
  const h = indexHeaders(req.headers);
  let best: VerificationT | null = null;
  for (let i = 0; i < settings.schemes.length; i++) {
    const scheme = settings.schemes[i];
    if (!schemeDef(scheme).carries(scheme, h)) continue;
    const r = checkScheme(settings, i, req, h, nowMs, keys?.[i]);
    if (r.status === 'valid') return r;
    if (!best || RANK[r.status] > RANK[best.status]) best = r;
  }
  if (best) return best;
  const names = [...new Set(settings.schemes.flatMap((s) => schemeDef(s).headerNames(s)))];
  // GitHub's legacy SHA-1 header alone: a webhook set up without a secret long ago, or a sender imitating an old GitHub.
  const sha1Only = settings.schemes.some((s) => s.type === 'github') && h.has('x-hub-signature') ? ' The request carries X-Hub-Signature, GitHub\'s legacy SHA-1 signature, which is not checked: GitHub sends X-Hub-Signature-256 beside it.' : '';
  return { status: 'missing', details: { message: `No signature header of the configured schemes (looked for ${names.join(', ')}).${sha1Only}` } };
}
