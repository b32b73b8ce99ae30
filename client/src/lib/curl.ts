// "Copy as cURL" for a captured request, and the ready-made example for a bin. Pure.
import type { HeaderPair } from '../../../shared/api.ts';
import { decodeUtf8 } from './body-views.ts';
import { stringToBytes } from './byte-string.ts';

/** Quote for a POSIX shell: single quotes, with ' written as '\''. */
export function shellQuote(s: string): string {
  if (s !== '' && /^[A-Za-z0-9_\-.,:/@%+=]+$/.test(s)) return s;
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * Quote bytes (one character per byte) as bash's $'…', each byte outside printable ASCII as
 * \xHH: what a header that is not UTF-8 needs, since a pasted command is UTF-8 text. A
 * character above 0xFF (text, not a byte) goes as its UTF-8 bytes (see stringToBytes).
 */
export function bytesQuote(s: string): string {
  const hex = (c: string) => Array.from(stringToBytes(c), (b) => `\\x${b.toString(16).padStart(2, '0')}`).join('');
  return `$'${s.replace(/[\\']/g, '\\$&').replace(/[^\x20-\x7e]/gu, hex)}'`;
}

/** A header line for -H, from its bytes: UTF-8 ones as the text they are, others as bytes. */
function headerArg(line: string): { arg: string; bytes: boolean } {
  // eslint-disable-next-line no-control-regex
  if (!/[^\x00-\x7f]/.test(line)) return { arg: shellQuote(line), bytes: false };
  const text = decodeUtf8(stringToBytes(line));
  return text === null ? { arg: bytesQuote(line), bytes: true } : { arg: shellQuote(text), bytes: false };
}

/** Headers curl computes itself or that describe the hop, not the request. */
const SKIP = new Set(['host', 'content-length', 'connection', 'transfer-encoding', 'keep-alive', 'upgrade', 'expect', 'te', 'trailer', 'proxy-connection']);

/**
 * The longest body put in the command itself, in bytes of quoted text. Linux refuses any one
 * argument over 128 KiB (MAX_ARG_STRLEN: "Argument list too long"); half that leaves room.
 */
export const MAX_INLINE_BODY = 64 * 1024;

/** curl sends "Expect: 100-continue" on its own for bodies over 1 MiB (and waits for the 100). */
const CURL_EXPECT_THRESHOLD = 1024 * 1024;

export interface CurlInput {
  method: string;
  /** Full URL to send to (receiver URL + path + query). */
  url: string;
  /** Values as their bytes, one character per byte (header-bytes.ts capturedPairs). */
  headers: HeaderPair[];
  /** The body as text, or null when it is binary (see bodyFile). */
  bodyText: string | null;
  /** Size of the body in bytes. */
  size: number;
  /** The name "Download raw body" saves it as (shared/filename.ts). */
  bodyFile: string;
  truncated: boolean;
}

/** UTF-8 length without encoding the whole string when its length alone decides. */
function utf8Over(s: string, limit: number): boolean {
  if (s.length > limit) return true;
  if (s.length * 3 <= limit) return false;
  return new TextEncoder().encode(s).length > limit;
}

/**
 * One command per line, joined with backslash-newline. It sends what was captured and no
 * more: curl's own User-Agent, Accept, form Content-Type and Expect are switched off when
 * the capture had none, so the receiver sees the same headers.
 */
export function toCurl(r: CurlInput): string {
  const hasBody = r.size > 0;
  const method = r.method.toUpperCase();
  const notes: string[] = [];
  const opts: string[] = [];
  // curl reads [] and {} in a URL as ranges to expand, and squashes /./ and /../ segments.
  if (/[[\]{}]/.test(r.url)) opts.push('--globoff');
  const urlPath = r.url.replace(/^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i, '').split(/[?#]/)[0];
  if (/\/\.\.?(?:\/|$)/.test(urlPath)) opts.push('--path-as-is');
  let methodArg = '';
  if (method === 'HEAD' && !hasBody) {
    // -X HEAD makes curl wait for a body the answer never has.
    methodArg = '--head ';
  } else {
    const sameAsDefault = (method === 'GET' && !hasBody) || (method === 'POST' && hasBody);
    if (!sameAsDefault) methodArg = `-X ${shellQuote(method)} `;
    if (method === 'HEAD') notes.push('# A HEAD with a body: curl waits for an answer body after it, stop it with Ctrl-C once the answer is in.');
  }
  const args: string[] = [`curl ${methodArg}${opts.map((o) => `${o} `).join('')}${shellQuote(r.url)}`];
  const seen = new Set<string>();
  let bytesHeader = false;
  for (const [name, value] of r.headers) {
    const lower = name.toLowerCase();
    seen.add(lower);
    if (SKIP.has(lower)) continue;
    // "-H 'Name: '" would remove the header; "Name;" is curl's way to send it empty.
    const h = headerArg(value === '' ? `${name};` : `${name}: ${value}`);
    args.push(`-H ${h.arg}`);
    bytesHeader ||= h.bytes;
  }
  if (bytesHeader) notes.push(`# A header value is not UTF-8: its bytes are written as $'\\xHH' (bash, zsh; not sh or fish).`);
  if (!seen.has('user-agent')) args.push(`-H 'User-Agent:'`);
  if (!seen.has('accept')) args.push(`-H 'Accept:'`);
  if (hasBody) {
    // --data-raw and --data-binary would add "Content-Type: application/x-www-form-urlencoded".
    if (!seen.has('content-type')) args.push(`-H 'Content-Type:'`);
    if (r.size > CURL_EXPECT_THRESHOLD && !seen.has('expect')) args.push(`-H 'Expect:'`);
    const inline = r.bodyText !== null && !r.bodyText.includes('\0') ? shellQuote(r.bodyText) : null;
    if (inline !== null && !utf8Over(inline, MAX_INLINE_BODY)) {
      // --data-raw: a body starting with "@" is sent as it is, not read from the file it names
      // (--data-binary '@/home/me/.ssh/id_rsa' would upload that file).
      args.push(`--data-raw ${inline}`);
    } else {
      const why = inline === null ? 'The body is binary' : 'The body is too long for one shell argument';
      notes.push(`# ${why}: save it first with "Download raw body" (${r.bodyFile})`);
      args.push(`--data-binary @${shellQuote(r.bodyFile)}`);
    }
    if (r.truncated) notes.push(`# Only the first bytes of this body were stored; the original was ${r.size} bytes.`);
  }
  return [...notes, args.join(' \\\n  ')].join('\n');
}

/** The example shown under a bin's URL. */
export function exampleCurl(binUrl: string): string {
  return `curl -X POST ${shellQuote(binUrl)} \\\n  -H 'Content-Type: application/json' \\\n  -d '{"event":"hello","id":1}'`;
}
