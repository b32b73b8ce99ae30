// What a capture's head takes in the store, counted against MAX_STORE_BYTES beside its body:
// a stranger's header-heavy requests (up to MAX_HEADER_BYTES each, and as much again in
// chunked trailers) otherwise added megabytes per bin that the budget never saw.
import type { StoredRequest } from './types.ts';

/**
 * The UTF-8 bytes of a capture's method, path, query, and every header and trailer name and
 * value: what every driver stores for it besides the body (JSON punctuation aside). A function
 * of the record alone, so a store that re-counts at start-up finds what it counted when
 * appending; a field a record lacks (an old record, no trailers) counts 0.
 */
export function headBytes(r: Pick<StoredRequest, 'method' | 'path' | 'queryString' | 'headers' | 'trailers'>): number {
  let n = strBytes(r.method) + strBytes(r.path) + strBytes(r.queryString);
  if (Array.isArray(r.headers)) for (const s of r.headers) n += strBytes(s);
  if (Array.isArray(r.trailers)) for (const s of r.trailers) n += strBytes(s);
  return n;
}

/** As stored (UTF-8: a Latin-1 byte past 0x7f in a header takes two); 0 when missing. */
function strBytes(s: unknown): number {
  return typeof s === 'string' ? Buffer.byteLength(s, 'utf8') : 0;
}
