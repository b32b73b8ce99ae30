// Why a signature that can be read does not check out. Each cause is found by reproducing the
// received signature with the mistake, so a named cause is proven, not guessed; only
// body_changed (the fallback) is a judgement.
import type { InvalidCauseT, VerifySchemeT, VerifySettingsT } from '../../shared/schema/verify.ts';
import { decodeContent } from '../capture/decode.ts';
import { hmac, sameMac } from './crypto.ts';
import { first, indexHeaders } from './headers.ts';
import { jsonVariants, MAX_JSON_TRY_BYTES, parseJsonBody } from './json-variants.ts';
import { textKey } from './keys.ts';
import type { Algorithm, Reading, SchemeDef, VerifyRequest } from './types.ts';

export interface Explanation {
  cause: InvalidCauseT;
  message: string;
  matched?: { schemeIndex: number; secretIndex: number; how: string };
}

export interface ExplainInput {
  settings: VerifySettingsT;
  index: number;
  scheme: VerifySchemeT;
  def: SchemeDef;
  reading: Reading;
  req: VerifyRequest;
  algorithm: Algorithm;
  /** The well-formed received MACs (at least one). */
  macs: readonly Buffer[];
}

// Text for people counts from 1, as the UI labels them ("secret #1", "Scheme 1"); the
// schemeIndex/secretIndex fields stay 0-based (the API documents them so).
const secretLabel = (i: number) => `secret #${i + 1}`;
const schemeLabel = (j: number) => `scheme ${j + 1}`;

const anyMatch = (mac: Buffer, macs: readonly Buffer[]) => macs.some((m) => sameMac(mac, m));

/**
 * A compressed body decoded to try as the signed bytes: at most this much (a few hundred
 * bytes of gzip inflate to far more; every configured secret then HMACs it), and once per
 * request however many schemes look (a stranger's signed gzip must not cost each of them).
 */
const MAX_DECODED_TRY_BYTES = 64 * 1024;
const decoded = new WeakMap<VerifyRequest, Buffer | null>();
function decodedOnce(req: VerifyRequest, encoding: string): Buffer | null {
  if (decoded.has(req)) return decoded.get(req)!;
  const d = decodeContent(req.body, encoding, MAX_DECODED_TRY_BYTES);
  const bytes = d && !d.error && !d.truncated ? d.bytes : null;
  decoded.set(req, bytes);
  return bytes;
}

export function explain(x: ExplainInput): Explanation {
  const { settings, index, scheme, def, reading, req, algorithm, macs } = x;
  if (req.truncated) {
    return { cause: 'body_truncated', message: `hooklab stored only the first ${req.body.length} bytes of the body; the signature covers all of it, so it cannot be checked.` };
  }

  const parts = reading.signed(req.body);
  for (let i = 0; i < scheme.secrets.length; i++) {
    for (const m of def.mistakenKeys(scheme.secrets[i])) {
      if (anyMatch(hmac(algorithm, m.key, parts), macs)) {
        return { cause: m.cause, matched: { schemeIndex: index, secretIndex: i, how: m.how }, message: `The signature is ${secretLabel(i)}'s, made with ${m.how}.` };
      }
    }
  }

  const json = parseJsonBody(req.body, MAX_JSON_TRY_BYTES);
  if (json.ok) {
    for (const v of jsonVariants(req.body, json.value)) {
      const vparts = reading.signed(v.bytes);
      for (let i = 0; i < scheme.secrets.length; i++) {
        if (anyMatch(hmac(algorithm, def.key(scheme.secrets[i]), vparts), macs)) {
          return {
            cause: 'reserialized_json',
            matched: { schemeIndex: index, secretIndex: i, how: v.how },
            message: `The sender signed a re-serialised copy of the JSON body (${v.how}), not the bytes it sent; sign the exact bytes sent.`,
          };
        }
      }
    }
  }

  // Signed, then compressed (Content-Encoding): the signature is over the bytes before it.
  const encoding = first(indexHeaders(req.headers), 'content-encoding');
  const plain = encoding ? decodedOnce(req, encoding) : null;
  if (plain) {
    const pparts = reading.signed(plain);
    for (let i = 0; i < scheme.secrets.length; i++) {
      if (anyMatch(hmac(algorithm, def.key(scheme.secrets[i]), pparts), macs)) {
        return {
          cause: 'signed_before_compression',
          matched: { schemeIndex: index, secretIndex: i, how: `the body before its Content-Encoding (${encoding!.trim()})` },
          message: `The sender signed the body before compressing it (Content-Encoding: ${encoding!.trim()}): the signature is over the decompressed bytes, not the bytes sent. A receiver that checks the bytes as received rejects it; sign the bytes you send.`,
        };
      }
    }
  }

  // A secret meant for another configured scheme (another account, a test vs live secret).
  for (let j = 0; j < settings.schemes.length; j++) {
    if (j === index) continue;
    const other = settings.schemes[j];
    for (let k = 0; k < other.secrets.length; k++) {
      const key = def.key(other.secrets[k]);
      const text = textKey(other.secrets[k]);
      const keys = text.equals(key) ? [key] : [key, text];
      if (keys.some((kk) => anyMatch(hmac(algorithm, kk, parts), macs))) {
        return {
          cause: 'wrong_secret',
          matched: { schemeIndex: j, secretIndex: k, how: `${secretLabel(k)} of ${schemeLabel(j)} (${other.type}) as the key` },
          message: `Signed with ${secretLabel(k)} of ${schemeLabel(j)} (${other.type}), not with one of this scheme's secrets.`,
        };
      }
    }
  }

  return {
    cause: 'body_changed',
    message:
      'No configured secret gives the received signature over these bytes. Usually the body (or another signed part) changed after it was signed; ' +
      'if no capture from this sender ever verifies, the secret is the likelier culprit.',
  };
}
