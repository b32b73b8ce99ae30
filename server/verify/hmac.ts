// A generic HMAC for any other sender: the named header holds [prefix]<hex|base64> of the body,
// or of "<timestamp header><separator><body>"; the secret is used as UTF-8 text.
import type { VerifySchemeT } from '../../shared/schema/verify.ts';
import { DEFAULT_SEPARATOR, DEFAULT_TOLERANCE_SEC } from '../../shared/schema/verify.ts';
import { decodeAs } from './crypto.ts';
import { bytesOf, first, type HeaderIndex } from './headers.ts';
import { textKey, textMistakes } from './keys.ts';
import { nodeLines, repeatedProblem } from './repeated.ts';
import { readTimestamp } from './timestamp.ts';
import type { Reading, SchemeDef } from './types.ts';

type S = Extract<VerifySchemeT, { type: 'hmac' }>;

const withTimestamp = (s: S): boolean => s.signed === 'timestamp+body';

function read(s: S, h: HeaderIndex): Reading {
  const prefix = s.prefix ?? '';
  // Of a header Node keeps once (Authorization, say), the first line is what a receiver gets.
  const received = nodeLines(h, s.header.toLowerCase()).map((text) => ({
    text,
    // Prefixes like "sha256=" are case-insensitive in practice ("SHA256=" exists).
    mac: text.slice(0, prefix.length).toLowerCase() === prefix.toLowerCase() ? decodeAs(text.slice(prefix.length), s.encoding) : null,
  }));
  const reading: Reading = { header: s.header, received, signed: (body) => [body] };
  // No library to follow: a receiver reading req.headers gets the lines joined, which is no signature (nor the signed timestamp).
  const problem = repeatedProblem(h, s.header.toLowerCase(), s.header, 'which no signature is: a receiver comparing it with the one it computes rejects it');
  if (problem) return { ...reading, signed: () => [], problem };
  if (!withTimestamp(s)) return reading;
  const ts = first(h, s.timestampHeader!.toLowerCase());
  const sep = s.separator ?? DEFAULT_SEPARATOR;
  const tsProblem = repeatedProblem(h, s.timestampHeader!.toLowerCase(), s.timestampHeader!, `so a receiver signs "<that value>${sep}<body>", which no sender signed`);
  if (tsProblem) return { ...reading, signed: () => [], problem: tsProblem };
  if (ts === undefined) {
    return { ...reading, signed: () => [], problem: { cause: 'timestamp_missing', message: `${s.timestampHeader} is missing: it is part of the signed string "<timestamp>${sep}<body>".` } };
  }
  const head = Buffer.concat([bytesOf(ts), Buffer.from(sep, 'utf8')]);
  return { ...reading, timestamp: readTimestamp(ts, true), signed: (body) => [head, body] };
}

export const hmac: SchemeDef<S> = {
  carries: (s, h) => h.has(s.header.toLowerCase()),
  headerNames: (s) => [s.header],
  read,
  algorithm: (s) => s.algorithm,
  key: textKey,
  mistakenKeys: textMistakes,
  format: (mac, s) => (s.prefix ?? '') + mac.toString(s.encoding),
  toleranceSec: (s) => s.toleranceSec ?? DEFAULT_TOLERANCE_SEC,
};
