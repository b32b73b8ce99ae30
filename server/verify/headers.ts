// Captured headers are Node's rawHeaders: a flat [name, value, …] list, names in their sent
// case, values as Latin-1 strings (one char per byte). Looked up case-insensitively, repeats kept.
import { isUtf8 as isUtf8Bytes } from 'node:buffer';

export type HeaderIndex = ReadonlyMap<string, readonly string[]>;

export function indexHeaders(flat: readonly string[]): HeaderIndex {
  const out = new Map<string, string[]>();
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const name = flat[i].toLowerCase();
    const list = out.get(name);
    if (list) list.push(flat[i + 1]);
    else out.set(name, [flat[i + 1]]);
  }
  return out;
}

/** First value of a header, or undefined. */
export const first = (h: HeaderIndex, name: string): string | undefined => h.get(name)?.[0];

/** The bytes a header value carries (Node decoded them as Latin-1). */
export const bytesOf = (v: string): Buffer => Buffer.from(v, 'latin1');

/** A header value as text: its bytes as UTF-8 when they are UTF-8, else as received. */
export function textOf(v: string): string {
  // eslint-disable-next-line no-control-regex
  if (!/[\x80-\xff]/.test(v)) return v;
  const b = bytesOf(v);
  return isUtf8Bytes(b) ? b.toString('utf8') : v;
}
