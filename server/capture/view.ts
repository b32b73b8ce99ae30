// Stored request -> the API's shapes. Derived fields (parsed query, text/base64 body,
// decoded content-encoding) are computed here on read, never stored twice.
import { isUtf8 } from 'node:buffer';
import type { BodyEncoding, HeaderCharset, HeaderPair, Query, RequestDetail, RequestSummary } from '../../shared/api.ts';
import { toItem } from '../store/request-index.ts';
import type { StoredRequest } from '../store/types.ts';
import { decodeContentHead } from './decode.ts';

export function parseQuery(qs: string): Query {
  const out: Query = {};
  if (!qs) return out;
  for (const [k, v] of new URLSearchParams(qs)) {
    const prev = out[k];
    if (prev === undefined) out[k] = v;
    else if (Array.isArray(prev)) prev.push(v);
    else out[k] = [prev, v];
  }
  return out;
}

export { toItem };

/**
 * A header value as people read it. Node hands header bytes over as Latin-1 (one char per
 * byte), so the bytes are kept exactly; when they are valid UTF-8 (`X-Utf8: café ✓`), show
 * them as that text rather than as mojibake.
 */
export function displayValue(v: string): string {
  return charsetOf(v) === 'utf8' ? Buffer.from(v, 'latin1').toString('utf8') : v;
}

/** How displayValue shows a stored value: what a client needs to get its bytes back from the text. */
export function charsetOf(v: string): HeaderCharset {
  // eslint-disable-next-line no-control-regex
  if (!/[\x80-\xff]/.test(v)) return 'ascii';
  return isUtf8(Buffer.from(v, 'latin1')) ? 'utf8' : 'latin1';
}

/** charsetOf each value of a flat rawHeaders list, in order. */
export function charsets(flat: readonly string[]): HeaderCharset[] {
  const out: HeaderCharset[] = new Array(flat.length >> 1);
  for (let i = 1; i < flat.length; i += 2) out[i >> 1] = charsetOf(flat[i]);
  return out;
}

export function displayPairs(flat: readonly string[]): HeaderPair[] {
  const out = pairs(flat);
  for (const p of out) p[1] = displayValue(p[1]);
  return out;
}

export function toSummary(r: StoredRequest): RequestSummary {
  return { ...toItem(r), query: parseQuery(r.queryString), headers: displayPairs(r.headers) };
}

export function encodeBody(bytes: Buffer): { body: string; bodyEncoding: BodyEncoding } {
  return isUtf8(bytes) ? { body: bytes.toString('utf8'), bodyEncoding: 'utf8' } : { body: bytes.toString('base64'), bodyEncoding: 'base64' };
}

export function pairs(flat: readonly string[]): HeaderPair[] {
  const out: HeaderPair[] = new Array(flat.length >> 1);
  for (let i = 0; i < flat.length; i += 2) out[i >> 1] = [flat[i], flat[i + 1]];
  return out;
}

/** First value of a header (case-insensitive) in pairs. */
export function headerValue(headers: readonly HeaderPair[], name: string): string | undefined {
  const want = name.toLowerCase();
  for (const [n, v] of headers) if (n.toLowerCase() === want) return v;
  return undefined;
}

/** First value of a header (case-insensitive) in a flat rawHeaders list. */
export function flatHeaderValue(flat: readonly string[], name: string): string | undefined {
  const want = name.toLowerCase();
  for (let i = 0; i < flat.length; i += 2) if (flat[i].toLowerCase() === want) return flat[i + 1];
  return undefined;
}

/** The detail's `decoded`: a content-encoded body's first MAX_DECODED_BYTES, decoded; null when not encoded (or cut short). */
export async function decodedView(r: StoredRequest, bytes: Buffer, maxDecodedBytes: number): Promise<RequestDetail['decoded']> {
  const encoding = flatHeaderValue(r.headers, 'content-encoding');
  if (!encoding || r.truncated) return null;
  const d = await decodeContentHead(bytes, encoding, maxDecodedBytes);
  if (!d) return null;
  return d.error ? { body: '', bodyEncoding: 'utf8', bytes: 0, truncated: false, error: d.error } : { ...encodeBody(d.bytes), bytes: d.bytes.length, truncated: d.truncated, error: null };
}

/** `decoded`: from decodedView. */
export function toDetail(r: StoredRequest, bytes: Buffer, decoded: RequestDetail['decoded'], extra: Pick<RequestDetail, 'idempotency' | 'sameKey'> = {}): RequestDetail {
  return {
    ...toSummary(r),
    headerCharsets: charsets(r.headers),
    ...encodeBody(bytes),
    storedBytes: bytes.length,
    ...(r.trailers?.length ? { trailers: displayPairs(r.trailers), trailerCharsets: charsets(r.trailers) } : {}),
    forwards: r.forwards ?? [],
    ...(r.verification ? { verification: r.verification } : {}),
    ...extra,
    decoded,
  };
}
