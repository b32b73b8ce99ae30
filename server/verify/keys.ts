// Which bytes key the HMAC, and the keys senders use by mistake. Standard Webhooks decodes the
// base64 after "whsec_"; everyone else (Stripe too, despite the same prefix) uses the text.
import { fromBase64, fromHex } from './crypto.ts';
import type { MistakenKey } from './types.ts';

const WHSEC = 'whsec_';

export const textKey = (secret: string): Buffer => Buffer.from(secret, 'utf8');

export const whsecKey = (secret: string): Buffer =>
  Buffer.from(secret.startsWith(WHSEC) ? secret.slice(WHSEC.length) : secret, 'base64');

/** A Standard Webhooks sender that forgot to decode the secret. */
export function whsecMistakes(secret: string): MistakenKey[] {
  const out: MistakenKey[] = [];
  if (secret.startsWith(WHSEC)) {
    out.push({ key: textKey(secret), cause: 'secret_not_decoded', how: 'the whole "whsec_…" text as the key, not its decoded base64' });
    out.push({ key: textKey(secret.slice(WHSEC.length)), cause: 'secret_not_decoded', how: 'the base64 text after "whsec_" as the key, not the bytes it decodes to' });
  } else {
    out.push({ key: textKey(secret), cause: 'secret_not_decoded', how: 'the base64 text as the key, not the bytes it decodes to' });
  }
  return out;
}

/** A sender of a text-keyed scheme that decoded the secret (or cut its prefix) anyway. */
export function textMistakes(secret: string): MistakenKey[] {
  const out: MistakenKey[] = [];
  const bare = secret.startsWith(WHSEC) ? secret.slice(WHSEC.length) : null;
  if (bare !== null) {
    const b = fromBase64(bare);
    if (b && b.length > 0) out.push({ key: b, cause: 'secret_decoded', how: 'the base64 after "whsec_" decoded to bytes as the key, not the whole text (as Standard Webhooks libraries do)' });
    out.push({ key: textKey(bare), cause: 'wrong_secret', how: 'the secret without its "whsec_" prefix' });
    return out;
  }
  // Only secrets that look encoded: short text rarely is, and every try costs an HMAC.
  const hex = secret.length >= 32 ? fromHex(secret) : null;
  if (hex) out.push({ key: hex, cause: 'secret_decoded', how: 'the secret decoded from hex to bytes as the key, not its text' });
  const b64 = secret.length >= 16 && /[+/=]|[A-Z]/.test(secret) ? fromBase64(secret) : null;
  if (b64 && b64.length >= 12) out.push({ key: b64, cause: 'secret_decoded', how: 'the secret decoded from base64 to bytes as the key, not its text' });
  return out;
}
