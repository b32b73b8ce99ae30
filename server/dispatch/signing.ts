// Standard Webhooks signatures (https://www.standardwebhooks.com): HMAC-SHA256 over
// "<id>.<timestamp>.<body>", keyed with the base64 part of a "whsec_" secret.
import { createHmac, randomBytes } from 'node:crypto';

const PREFIX = 'whsec_';

export function isValidSecret(secret: string): boolean {
  if (!secret.startsWith(PREFIX)) return false;
  const b64 = secret.slice(PREFIX.length);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) return false;
  const key = Buffer.from(b64, 'base64');
  return key.length >= 16 && key.length <= 64;
}

export function generateSecret(): string {
  return PREFIX + randomBytes(24).toString('base64');
}

export function sign(secret: string, msgId: string, timestampSec: number, body: string | Buffer): string {
  const key = Buffer.from(secret.slice(PREFIX.length), 'base64');
  const mac = createHmac('sha256', key).update(`${msgId}.${timestampSec}.`).update(body).digest('base64');
  return `v1,${mac}`;
}
