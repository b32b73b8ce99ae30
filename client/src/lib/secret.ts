// Webhook signing secrets, made in the browser: "whsec_" + base64 of random bytes
// (Standard Webhooks). The server accepts 16-64 bytes; 24 is what hooklab itself makes.
import { bytesToString } from './byte-string.ts';

export function generateSecret(bytes = 24): string {
  const b = new Uint8Array(bytes);
  crypto.getRandomValues(b);
  return `whsec_${btoa(bytesToString(b))}`;
}

export function isValidSecret(s: string): boolean {
  if (!s.startsWith('whsec_')) return false;
  const b64 = s.slice(6);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) return false;
  try {
    const n = atob(b64).length;
    return n >= 16 && n <= 64;
  } catch {
    return false;
  }
}
