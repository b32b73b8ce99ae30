// Bytes as a "binary" string, one character per byte (code points 0-255), and back: the form
// atob and btoa use, and the one header values take on their way to a replay or Copy as cURL
// (see header-bytes.ts). Pure.

/** Bytes as a string, one character per byte. */
export function bytesToString(bytes: Uint8Array): string {
  let s = '';
  // In slices: one call per byte is slow, one for a large body overflows the stack.
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return s;
}

/**
 * A string of one character per byte back to its bytes. A character above 0xFF is text where
 * bytes were meant (a value with no charset to rebuild its bytes): it goes as its UTF-8 bytes,
 * not cut to its low byte ("✓", U+2713, is not the control byte 0x13).
 */
export function stringToBytes(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0xff) return mixedToBytes(s);
    out[i] = c;
  }
  return out;
}

function mixedToBytes(s: string): Uint8Array {
  const enc = new TextEncoder();
  const out: number[] = [];
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (c <= 0xff) out.push(c);
    else for (const b of enc.encode(ch)) out.push(b);
  }
  return Uint8Array.from(out);
}

/** `text` as UTF-8, one character per byte (ASCII stays as it is). */
export function utf8Bytes(text: string): string {
  // eslint-disable-next-line no-control-regex
  if (!/[^\x00-\x7f]/.test(text)) return text;
  return bytesToString(new TextEncoder().encode(text));
}
