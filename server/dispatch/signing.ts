// Standard Webhooks signatures (https://www.standardwebhooks.com): HMAC-SHA256 over
// "<id>.<timestamp>.<body>", keyed with the base64 part of a "whsec_" secret.
import { createHmac, randomBytes } from 'node:crypto';

const PREFIX = 'whsec_';

/** The format check lives with the API's schema (shared/schema/dispatch.ts). */
export { isValidSecret } from '../../shared/schema/dispatch.ts';

export function generateSecret(): string {
  return PREFIX + randomBytes(24).toString('base64');
}

export function sign(secret: string, msgId: string, timestampSec: number, body: string | Buffer): string {
  const key = Buffer.from(secret.slice(PREFIX.length), 'base64');
  const mac = createHmac('sha256', key).update(`${msgId}.${timestampSec}.`).update(body).digest('base64');
  return `v1,${mac}`;
}

/** The webhook-signature header: one signature per secret, space-separated (a rotation signs twice). */
export function signatureHeader(secrets: readonly (string | null | undefined)[], msgId: string, timestampSec: number, body: string | Buffer): string | null {
  const sigs = secrets.filter((s): s is string => !!s).map((s) => sign(s, msgId, timestampSec, body));
  return sigs.length ? sigs.join(' ') : null;
}
