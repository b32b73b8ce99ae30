// GitHub (docs.github.com "Validating webhook deliveries"): X-Hub-Signature-256 "sha256=<hex>",
// HMAC-SHA256 of the body keyed with the secret's text. The legacy SHA-1 X-Hub-Signature is not
// checked (GitHub sends it only alongside the SHA-256 one).
import type { VerifySchemeT } from '../../shared/schema/verify.ts';
import { fromHex } from './crypto.ts';
import type { HeaderIndex } from './headers.ts';
import { textKey, textMistakes } from './keys.ts';
import { repeatedProblem } from './repeated.ts';
import type { Reading, SchemeDef } from './types.ts';

type S = Extract<VerifySchemeT, { type: 'github' }>;

function read(_s: S, h: HeaderIndex): Reading {
  const received = (h.get('x-hub-signature-256') ?? []).map((text) => ({ text, mac: text.startsWith('sha256=') ? fromHex(text.slice(7)) : null }));
  const reading: Reading = { header: 'X-Hub-Signature-256', received, signed: (body) => [body] };
  const problem = repeatedProblem(h, 'x-hub-signature-256', reading.header, 'which @octokit/webhooks (verify) compares whole and rejects');
  return problem ? { ...reading, signed: () => [], problem } : reading;
}

export const github: SchemeDef<S> = {
  carries: (_s, h) => h.has('x-hub-signature-256'),
  headerNames: () => ['X-Hub-Signature-256'],
  read,
  algorithm: () => 'sha256',
  key: textKey,
  mistakenKeys: textMistakes,
  format: (mac) => `sha256=${mac.toString('hex')}`,
  exactText: '@octokit/webhooks (verify)',
};
