// Slack (api.slack.com/authentication/verifying-requests-from-slack): X-Slack-Signature
// "v0=<hex>", HMAC-SHA256 over "v0:<X-Slack-Request-Timestamp>:<body>", keyed with the signing
// secret's text.
import type { VerifySchemeT } from '../../shared/schema/verify.ts';
import { DEFAULT_TOLERANCE_SEC } from '../../shared/schema/verify.ts';
import { fromHex } from './crypto.ts';
import { bytesOf, first, type HeaderIndex } from './headers.ts';
import { textKey, textMistakes } from './keys.ts';
import { repeatedProblem } from './repeated.ts';
import { readTimestamp } from './timestamp.ts';
import type { Reading, SchemeDef } from './types.ts';

type S = Extract<VerifySchemeT, { type: 'slack' }>;

function read(_s: S, h: HeaderIndex): Reading {
  const received = (h.get('x-slack-signature') ?? []).map((text) => ({ text, mac: text.startsWith('v0=') ? fromHex(text.slice(3)) : null }));
  const reading: Reading = { header: 'X-Slack-Signature', received, signed: () => [] };
  // Bolt takes both headers from req.headers: the signature is compared whole, the timestamp read with Number().
  const problem =
    repeatedProblem(h, 'x-slack-signature', reading.header, "which Slack's SDKs compare whole and reject") ??
    repeatedProblem(h, 'x-slack-request-timestamp', 'X-Slack-Request-Timestamp', "which Slack's Bolt reads as no number and rejects");
  if (problem) return { ...reading, problem };
  const ts = first(h, 'x-slack-request-timestamp');
  if (ts === undefined) return { ...reading, problem: { cause: 'timestamp_missing', message: 'X-Slack-Request-Timestamp is missing: it is part of the signed string "v0:<timestamp>:<body>".' } };
  const head = bytesOf(`v0:${ts}:`);
  return { ...reading, timestamp: readTimestamp(ts), signed: (body) => [head, body] };
}

export const slack: SchemeDef<S> = {
  carries: (_s, h) => h.has('x-slack-signature'),
  headerNames: () => ['X-Slack-Signature'],
  read,
  algorithm: () => 'sha256',
  key: textKey,
  mistakenKeys: textMistakes,
  format: (mac) => `v0=${mac.toString('hex')}`,
  exactText: "Slack's SDKs",
  toleranceSec: (s) => s.toleranceSec ?? DEFAULT_TOLERANCE_SEC,
};
