// Header values as bytes. The API shows a value as text, decoded from UTF-8 when its bytes are
// UTF-8 (headerCharsets says how each was made text). Replaying or copying one must send the
// captured bytes, so they are rebuilt here as a "binary" string, one character per byte:
// what the replay API and curl.ts take as header values. Pure.
import type { HeaderCharset, HeaderPair } from '../../../shared/api.ts';
import { utf8Bytes } from './byte-string.ts';

/** The captured bytes of a value the API shows as `text`: ascii and latin1 text is the bytes already. */
export function capturedBytes(text: string, charset: HeaderCharset | undefined): string {
  return charset === 'utf8' ? utf8Bytes(text) : text;
}

/** A detail's headers (or trailers) with each value as its captured bytes. */
export function capturedPairs(pairs: readonly HeaderPair[], charsets: readonly HeaderCharset[] | undefined): HeaderPair[] {
  return pairs.map(([n, v], i) => [n, capturedBytes(v, charsets?.[i])]);
}

/**
 * The headers of an edited replay, as bytes. A line as it was shown (same name and text) keeps
 * the bytes of the captured header it shows, the first not yet used (two captures of "café",
 * one UTF-8 and one Latin-1, look alike); an edited or new value goes as UTF-8, what typed
 * text means everywhere else.
 */
export function replayHeaderBytes(typed: readonly HeaderPair[], shown: readonly HeaderPair[], charsets: readonly HeaderCharset[] | undefined): HeaderPair[] {
  const used = new Array<boolean>(shown.length).fill(false);
  return typed.map(([name, value]) => {
    const i = shown.findIndex(([n, v], j) => !used[j] && n === name && v === value);
    if (i === -1) return [name, utf8Bytes(value)];
    used[i] = true;
    return [name, capturedBytes(value, charsets?.[i])];
  });
}
