// The access token as every command reads it (--token or HOOKLAB_TOKEN), and kept out of what
// the CLI says. A token read from a CRLF file or `$(cat token.txt)` keeps its CR: fetch took it
// (it trims header values) but socket.io-client's long-polling threw on the header and retried
// for ever without a word, so `bin list` worked while `tail` and `forward` hung. And undici's
// own error for a bad header value quotes it ("Bearer bad…" is an invalid header value).

/** Characters no header value may hold (control characters, a line break) or that are not one byte (fetch throws). */
const NOT_IN_A_HEADER = /[\u0000-\u001f\u007f]|[^\u0000-\u00ff]/;

/**
 * The token, its surrounding white space (CR, LF, spaces) trimmed; null when there is none
 * (empty means not set, as for HOOKLAB_SERVER). Throws a message (never the token) when what is
 * left cannot go in a header.
 */
export function cleanToken(raw: string | undefined | null, from: string): string | null {
  const token = (raw ?? '').trim();
  if (!token) return null;
  const bad = NOT_IN_A_HEADER.exec(token);
  if (bad) {
    const what = bad[0].charCodeAt(0) > 0xff ? 'a character beyond Latin-1' : /[\r\n]/.test(bad[0]) ? 'a line break' : 'a control character';
    throw new Error(`the access token (${from}) holds ${what} at position ${bad.index + 1}: it cannot go in an HTTP header; check how it was set`);
  }
  return token;
}

/** `text` with every occurrence of the token (as given, and trimmed) blanked out: for messages quoting another library's error. */
export function withoutToken(text: string, token: string | null | undefined): string {
  let out = text;
  // A very short "token" would blank out ordinary words; such a one is no secret anyway.
  for (const t of new Set([token ?? '', (token ?? '').trim()])) if (t.length >= 4) out = out.split(t).join('[token]');
  return out;
}
