// HMACs over a signed string in pieces, strict decoding of received signatures, and the
// constant-time comparison.
import { createHmac, type KeyObject, timingSafeEqual } from 'node:crypto';
import type { Algorithm } from './types.ts';

export const DIGEST_BYTES: Record<Algorithm, number> = { sha1: 20, sha256: 32, sha512: 64 };

export function hmac(algorithm: Algorithm, key: Buffer | KeyObject, parts: readonly Buffer[]): Buffer {
  const h = createHmac(algorithm, key);
  for (const p of parts) h.update(p);
  return h.digest();
}

/** Equal MACs, compared in constant time (their length is no secret). */
export const sameMac = (a: Buffer, b: Buffer): boolean => a.length === b.length && timingSafeEqual(a, b);

const HEX = /^(?:[0-9a-fA-F]{2})+$/;
// Standard or URL-safe alphabet; padding optional (Buffer would silently skip junk instead).
const BASE64 = /^[A-Za-z0-9+/_-]+={0,2}$/;

export const fromHex = (s: string): Buffer | null => (HEX.test(s) ? Buffer.from(s, 'hex') : null);
export const fromBase64 = (s: string): Buffer | null => (BASE64.test(s) ? Buffer.from(s, 'base64') : null);
export const decodeAs = (s: string, encoding: 'hex' | 'base64'): Buffer | null => (encoding === 'hex' ? fromHex(s) : fromBase64(s));
