// Captured headers are Node's rawHeaders: a flat [name, value, …] list, names in their sent
// case, values as Latin-1 strings (one char per byte). Looked up case-insensitively, repeats kept.
import { isUtf8 as isUtf8Bytes } from 'node:buffer';

/** A request's headers, looked up by lower-case name. */
export interface HeaderIndex {
  /** Every value of the header, in order; undefined when it is absent. */
  get(name: string): readonly string[] | undefined;
  has(name: string): boolean;
  /** Its first value. */
  first(name: string): string | undefined;
}

/** `n` (as sent) is `lower` (a lower-case name): lengths first, most names differ there. */
const isName = (n: string, lower: string) => n.length === lower.length && (n === lower || n.toLowerCase() === lower);

/**
 * Looked up in the flat list itself, not copied into a map: a check reads 3-5 headers of a
 * dozen, and building the map (a lower-cased copy of every name, an array per header) cost
 * more than all the scans it saved. This runs for every capture of a bin with verify settings.
 */
class FlatHeaders implements HeaderIndex {
  constructor(private readonly flat: readonly string[]) {}
  get(name: string): string[] | undefined {
    let out: string[] | undefined;
    for (let i = 0; i + 1 < this.flat.length; i += 2) if (isName(this.flat[i], name)) (out ??= []).push(this.flat[i + 1]);
    return out;
  }
  has(name: string): boolean {
    for (let i = 0; i + 1 < this.flat.length; i += 2) if (isName(this.flat[i], name)) return true;
    return false;
  }
  first(name: string): string | undefined {
    for (let i = 0; i + 1 < this.flat.length; i += 2) if (isName(this.flat[i], name)) return this.flat[i + 1];
    return undefined;
  }
}

export const indexHeaders = (flat: readonly string[]): HeaderIndex => new FlatHeaders(flat);

/** First value of a header, or undefined. */
export const first = (h: HeaderIndex, name: string): string | undefined => h.first(name);

/** The bytes a header value carries (Node decoded them as Latin-1). */
export const bytesOf = (v: string): Buffer => Buffer.from(v, 'latin1');

/** A header value as text: its bytes as UTF-8 when they are UTF-8, else as received. */
export function textOf(v: string): string {
  // eslint-disable-next-line no-control-regex
  if (!/[\x80-\xff]/.test(v)) return v;
  const b = bytesOf(v);
  return isUtf8Bytes(b) ? b.toString('utf8') : v;
}
