// Standard Webhooks (https://www.standardwebhooks.com) and Svix, its origin with svix-* names:
// HMAC-SHA256 over "<id>.<timestamp>.<body>", keyed with the base64-decoded secret; the
// signature header lists space-separated "v1,<base64>" entries (several during a rotation).
import { isUtf8 } from 'node:buffer';
import type { VerifySchemeT } from '../../shared/schema/verify.ts';
import { DEFAULT_TOLERANCE_SEC } from '../../shared/schema/verify.ts';
import { fromBase64 } from './crypto.ts';
import { bytesOf, type HeaderIndex } from './headers.ts';
import { whsecKey, whsecMistakes } from './keys.ts';
import { repeatedMessage } from './repeated.ts';
import type { Reading, Received, SchemeDef } from './types.ts';

type S = Extract<VerifySchemeT, { type: 'standard-webhooks' }>;

/** Each family's header names, made once (a name built per request is hashed on every lookup). */
const NAMES = {
  webhook: { signature: 'webhook-signature', id: 'webhook-id', timestamp: 'webhook-timestamp' },
  svix: { signature: 'svix-signature', id: 'svix-id', timestamp: 'svix-timestamp' },
} as const;

type Part = keyof typeof NAMES.svix;

/**
 * Which header gives each part: as the svix library reads a request, each svix-* header before
 * its webhook-* one (the standardwebhooks library reads only webhook-*, so the two agree on
 * any request without svix-* headers). A request carrying svix-* headers comes from Svix or
 * imitates it, and its receivers use the svix library.
 */
const nameOf = (h: HeaderIndex, part: Part): string => (h.has(NAMES.svix[part]) ? NAMES.svix[part] : NAMES.webhook[part]);

const LIBRARIES = 'the standardwebhooks and svix libraries';

/**
 * The spec signs the body's bytes, and so does this check; but the Node libraries turn the body
 * into text first (payload.toString(), then TextEncoder): bytes that are not UTF-8 become
 * U+FFFD and the HMAC differs. Likewise a header value, which Node hands over as Latin-1 text.
 */
function caveat(idName: string, id: string, body: Buffer): string | undefined {
  const notes: string[] = [];
  if (!isUtf8(body)) notes.push('the body is not valid UTF-8 (they decode it as UTF-8 first, each invalid byte becoming U+FFFD)');
  // `id` holds the header's bytes as Latin-1 characters.
  if (/[^\x00-\x7f]/.test(id)) notes.push(`${idName} has non-ASCII bytes (Node hands a header value over as Latin-1 text, which they sign re-encoded as UTF-8)`);
  if (notes.length === 0) return undefined;
  return `Signed right over the raw bytes, as the spec says, but ${LIBRARIES} reject this signature in Node: ${notes.join(', and ')}. A receiver that signs the raw bytes accepts it.`;
}

function read(_s: S, h: HeaderIndex): Reading {
  const header = nameOf(h, 'signature');
  const received: Received[] = [];
  let other = 0;
  // Line by line gives the signatures the libraries find in the joined lines too: they split
  // "a, b" on spaces into "a," and "b", and the trailing comma goes with split(",").
  for (const value of h.get(header) ?? []) {
    // One signature (no rotation under way) is the common case: no split needed.
    for (const entry of value.includes(' ') ? value.split(' ') : [value]) {
      if (!entry) continue;
      const comma = entry.indexOf(',');
      const version = comma < 0 ? '' : entry.slice(0, comma);
      // v1a (asymmetric, ed25519) and later versions are not HMACs: skipped, as the spec says.
      if (version !== 'v1' && /^v\d+[a-z]*$/.test(version)) other++;
      else received.push({ text: entry, mac: version === 'v1' ? fromBase64(entry.slice(comma + 1)) : null });
    }
  }
  const idName = nameOf(h, 'id');
  const tsName = nameOf(h, 'timestamp');
  // The libraries get each header as Node hands it over (lines joined with ", ") and take an
  // empty one for none.
  const idLines = h.get(idName) ?? [];
  const tsLines = h.get(tsName) ?? [];
  const id = idLines.join(', ');
  const ts = tsLines.join(', ');
  const reading: Reading = { header, received, signed: () => [] };
  if (received.length === 0) {
    const why = other ? 'only signature versions other than v1 (v1a, asymmetric, is not checked)' : 'no "v1,<base64>" signature';
    return { ...reading, problem: { cause: 'malformed_header', message: `${header} has ${why}.` } };
  }
  if (!id) return { ...reading, problem: { cause: 'malformed_header', message: `${idName} is missing: it is part of the signed string "<id>.<timestamp>.<body>".` } };
  if (!ts) return { ...reading, problem: { cause: 'timestamp_missing', message: `${tsName} is missing: it is part of the signed string "<id>.<timestamp>.<body>".` } };
  // The libraries read the timestamp with parseInt and sign the number it gives: "0<ts>",
  // "<ts>.5" and "<ts>abc" all sign "<ts>"; one that gives no number is refused unchecked.
  const n = parseInt(ts, 10);
  if (Number.isNaN(n)) {
    return { ...reading, problem: { cause: 'malformed_header', message: `${tsName} "${ts.length > 64 ? `${ts.slice(0, 64)}…` : ts}" is no number: the standardwebhooks and svix libraries read it with parseInt and refuse it before checking the signature.` } };
  }
  const head = bytesOf(`${id}.${n}.`);
  const repeatedName = idLines.length > 1 ? idName : tsLines.length > 1 ? tsName : undefined;
  const repeated = repeatedName && repeatedMessage(h, repeatedName, repeatedName, repeatedName === idName ? 'which the standardwebhooks and svix libraries sign as the id, and no signature matches that' : 'which the standardwebhooks and svix libraries read with parseInt (the first line\'s number), and no signature matches that');
  // Past 2^53 a number of seconds is no time (its age would be no integer): a match over it is refused in check.ts.
  return {
    header,
    received,
    timestamp: { text: ts, sec: Number.isSafeInteger(n) ? n : null },
    signed: (body) => [head, body],
    caveat: (body) => caveat(idName, id, body),
    ...(repeated && { repeated }),
  };
}

export const standardWebhooks: SchemeDef<S> = {
  carries: (_s, h) => h.has(NAMES.webhook.signature) || h.has(NAMES.svix.signature),
  headerNames: () => ['webhook-signature', 'svix-signature'],
  read,
  algorithm: () => 'sha256',
  key: whsecKey,
  mistakenKeys: whsecMistakes,
  format: (mac) => `v1,${mac.toString('base64')}`,
  exactText: LIBRARIES,
  toleranceSec: (s) => s.toleranceSec ?? DEFAULT_TOLERANCE_SEC,
};
