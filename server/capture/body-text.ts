// What a body search (the request list's `q`, the wait API) looks in: the body as the detail
// view shows it, not only its bytes read as UTF-8. A gzip body is searched decoded, a text in
// another charset (Latin-1, UTF-16) as that text, and a form as its decoded fields, so that
// `q=José` finds `name=Jos%C3%A9`. All bounded: decoding stops at MAX_DECODED_BYTES (a bigger
// one is searched as stored), and nothing here runs unless a search asks about the body.
import { decodeContent } from './decode.ts';
import { flatHeaderValue } from './view.ts';

const UTF8 = new Set(['utf-8', 'utf8', 'us-ascii', 'ascii']);

/** The `charset` parameter of a Content-Type, lower-cased, or ''. */
function charsetOf(contentType: string): string {
  const m = /;\s*charset\s*=\s*"?([^";\s]+)"?/i.exec(contentType);
  return m ? m[1].toLowerCase() : '';
}

/** The declared charset's text, when it is not UTF-8 and TextDecoder knows it. */
function inCharset(bytes: Buffer, charset: string): string | null {
  if (!charset || UTF8.has(charset)) return null;
  try {
    return new TextDecoder(charset).decode(bytes);
  } catch {
    return null; // a label TextDecoder does not know
  }
}

/** A urlencoded form's fields as "name=value" lines, decoded (+ as space, %XX as UTF-8). */
function formFields(text: string): string {
  const out: string[] = [];
  for (const [k, v] of new URLSearchParams(text)) out.push(`${k}=${v}`);
  return out.join('\n');
}

/**
 * The texts a search of this body looks in besides its bytes as UTF-8 (which the caller tries
 * first), lower-cased (the search is case-insensitive); none for a plain UTF-8 body.
 */
export function searchableTexts(body: Buffer, headers: readonly string[], maxDecodedBytes: number): string[] {
  let bytes = body;
  const texts: string[] = [];
  const encoding = flatHeaderValue(headers, 'content-encoding');
  if (encoding) {
    const d = decodeContent(body, encoding, maxDecodedBytes);
    if (d && !d.error && !d.truncated) {
      bytes = d.bytes;
      texts.push(bytes.toString('utf8'));
    }
  }
  const contentType = flatHeaderValue(headers, 'content-type') ?? '';
  const charsetText = inCharset(bytes, charsetOf(contentType));
  if (charsetText !== null) texts.push(charsetText);
  if (/^\s*application\/x-www-form-urlencoded\b/i.test(contentType)) texts.push(formFields(charsetText ?? bytes.toString('utf8')));
  return texts.map((t) => t.toLowerCase());
}
