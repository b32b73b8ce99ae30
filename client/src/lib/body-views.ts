// Pure parsing behind the body views: JSON (pretty-printed from the original text, so
// numbers such as 2.50 or 12345678901234567890 stay exactly as sent, with the position of a
// syntax error), text in its declared charset, form fields, multipart parts, hex dump. No DOM,
// no framework.
import { bytesToString, stringToBytes } from './byte-string.ts';
import { JSON_MAX_DEPTH, TOO_DEEP, indentCharsMax, tooLong } from './json-limits.ts';

// ------------------------------------------------------------------- bytes

export function base64ToBytes(b64: string): Uint8Array {
  return stringToBytes(atob(b64));
}

export function bodyBytes(body: string, encoding: 'utf8' | 'base64'): Uint8Array {
  return encoding === 'base64' ? base64ToBytes(body) : new TextEncoder().encode(body);
}

/** UTF-8 text, or null when the bytes are not valid UTF-8. */
export function decodeUtf8(bytes: Uint8Array): string | null {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    return null;
  }
}

/** Labels for UTF-8 itself (the Encoding Standard's), decoded the usual way. */
const UTF8_LABELS = new Set(['utf-8', 'utf8', 'unicode-1-1-utf-8', 'unicode11utf8', 'unicode20utf8', 'x-unicode20utf8']);

/** The charset a Content-Type declares (lower case), or null. */
export function declaredCharset(contentType: string | null): string | null {
  const cs = contentType ? headerParams(contentType).charset?.trim().toLowerCase() : undefined;
  return cs ? cs : null;
}

export interface BodyText {
  text: string;
  /** The declared charset it was decoded with, as declared; null when read as UTF-8. */
  charset: string | null;
  /** The decoder's name for it when that differs (iso-8859-1 is read as windows-1252, as browsers do). */
  decodedAs: string | null;
}

/**
 * A body as text to show: in the charset its Content-Type declares (iso-8859-1, utf-16le,
 * shift_jis…), else UTF-8. null when the bytes are not text in it: a strict decode fails
 * (UTF-16 of odd length or with a lone surrogate, invalid UTF-8), or too many control
 * characters (single-byte charsets map every byte, so only this tells binary apart). A
 * label the browser does not know is read as UTF-8, as if none were given. `utf8`: the body
 * already as UTF-8 text (the API sends valid UTF-8 as a string), so a big one is not decoded twice.
 */
export function decodeBody(bytes: Uint8Array, contentType: string | null, utf8?: string): BodyText | null {
  const cs = declaredCharset(contentType);
  if (cs && !UTF8_LABELS.has(cs)) {
    let decoder: TextDecoder | null = null;
    try {
      decoder = new TextDecoder(cs, { fatal: true });
    } catch {
      // Unknown label (RangeError): fall through to UTF-8.
    }
    if (decoder) {
      const utf16 = decoder.encoding.startsWith('utf-16');
      // A UTF-16 text is whole code units: an odd length is not one.
      if (utf16 && bytes.length % 2 !== 0) return null;
      let text: string;
      try {
        text = decoder.decode(bytes);
      } catch {
        return null;
      }
      if (!isProbablyText(text)) return null;
      return { text, charset: cs, decodedAs: decoder.encoding === cs ? null : decoder.encoding };
    }
  }
  const text = utf8 ?? decodeUtf8(bytes);
  return text !== null && isProbablyText(text) ? { text, charset: null, decodedAs: null } : null;
}

/** Text worth showing as text: valid UTF-8 without NULs or many control characters. */
export function isProbablyText(s: string): boolean {
  let control = 0;
  const n = Math.min(s.length, 4096);
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c === 0) return false;
    if (c < 32 && c !== 9 && c !== 10 && c !== 13 && c !== 12) control++;
  }
  return control <= n * 0.02;
}

// -------------------------------------------------------------------- JSON

export type JsonTokenKind = 'punct' | 'key' | 'string' | 'number' | 'literal' | 'space';
export interface JsonToken {
  k: JsonTokenKind;
  s: string;
}

export interface JsonSyntaxError {
  message: string;
  /** Offset in the text (UTF-16 code units), 0-based. */
  offset: number;
  /** 1-based. */
  line: number;
  /** 1-based. */
  column: number;
  /** Not a syntax error: nested past the formatting limits (json-limits.ts). */
  tooDeep?: boolean;
}

export type JsonView = { ok: true; tokens: JsonToken[]; pretty: string } | { ok: false; error: JsonSyntaxError };

export function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}

class JsonFail extends Error {
  constructor(
    message: string,
    readonly offset: number,
    readonly tooDeep = false,
  ) {
    super(message);
  }
}

function describeChar(c: string | undefined): string {
  if (c === undefined) return 'end of input';
  if (c === '\n') return 'a line break';
  if (c === '\r') return 'a carriage return';
  if (c === '\t') return 'a tab';
  if (c.charCodeAt(0) < 32) return `control character U+${c.charCodeAt(0).toString(16).padStart(4, '0').toUpperCase()}`;
  return `"${c}"`;
}

/** Validate and pretty-print JSON (2-space indent) keeping every literal as written. */
export function jsonView(text: string, indentUnit = '  '): JsonView {
  const tokens: JsonToken[] = [];
  let i = 0;
  const n = text.length;
  if (text.charCodeAt(0) === 0xfeff) i = 1; // a byte order mark is tolerated

  const skipWs = () => {
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 32 || c === 9 || c === 10 || c === 13) i++;
      else break;
    }
  };
  const maxIndent = indentCharsMax(n);
  let indented = 0;
  const push = (k: JsonTokenKind, s: string) => tokens.push({ k, s });
  const nl = (depth: number) => {
    const s = `\n${indentUnit.repeat(depth)}`;
    // Only indentation can blow the text up (see json-limits.ts); the rest is the input's size.
    indented += s.length;
    if (indented > maxIndent) throw new JsonFail(tooLong(maxIndent), i, true);
    push('space', s);
  };
  const fail = (message: string, at = i): never => {
    throw new JsonFail(message, at);
  };

  const readString = (): string => {
    const start = i;
    i++; // opening quote
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 34) {
        i++;
        return text.slice(start, i);
      }
      if (c === 92) {
        const e = text[i + 1];
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) fail('Invalid \\u escape in a string: expected 4 hex digits', i);
          i += 6;
        } else if (e !== undefined && '"\\/bfnrt'.includes(e)) i += 2;
        else fail(e === undefined ? 'Unterminated string' : `Invalid escape "\\${e}" in a string`, i);
      } else if (c < 32) {
        fail(`Unescaped ${describeChar(text[i])} in a string`, i);
      } else i++;
    }
    return fail('Unterminated string: missing the closing quote', start);
  };

  const readNumber = (): string => {
    const m = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/.exec(text.slice(i, i + 400));
    if (!m) fail(`Invalid number`, i);
    const s = m![0];
    const after = text[i + s.length];
    if (after !== undefined && /[0-9.eE+\-]/.test(after)) fail('Invalid number', i + s.length);
    i += s.length;
    return s;
  };

  const value = (depth: number): void => {
    if (depth > JSON_MAX_DEPTH) throw new JsonFail(TOO_DEEP, i, true);
    skipWs();
    const c = text[i];
    if (c === '{') {
      i++;
      skipWs();
      if (text[i] === '}') {
        i++;
        push('punct', '{}');
        return;
      }
      push('punct', '{');
      for (;;) {
        skipWs();
        if (text[i] !== '"') fail(text[i] === '}' ? 'Trailing comma before "}"' : `Expected a property name in double quotes, found ${describeChar(text[i])}`);
        nl(depth + 1);
        push('key', readString());
        skipWs();
        if (text[i] !== ':') fail(`Expected ":" after the property name, found ${describeChar(text[i])}`);
        i++;
        push('punct', ': ');
        value(depth + 1);
        skipWs();
        if (text[i] === ',') {
          i++;
          push('punct', ',');
          continue;
        }
        if (text[i] === '}') {
          i++;
          nl(depth);
          push('punct', '}');
          return;
        }
        fail(`Expected "," or "}" after a property value, found ${describeChar(text[i])}`);
      }
    }
    if (c === '[') {
      i++;
      skipWs();
      if (text[i] === ']') {
        i++;
        push('punct', '[]');
        return;
      }
      push('punct', '[');
      for (;;) {
        skipWs();
        if (text[i] === ']') fail('Trailing comma before "]"');
        nl(depth + 1);
        value(depth + 1);
        skipWs();
        if (text[i] === ',') {
          i++;
          push('punct', ',');
          continue;
        }
        if (text[i] === ']') {
          i++;
          nl(depth);
          push('punct', ']');
          return;
        }
        fail(`Expected "," or "]" after an array element, found ${describeChar(text[i])}`);
      }
    }
    if (c === '"') {
      push('string', readString());
      return;
    }
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) {
      push('number', readNumber());
      return;
    }
    for (const lit of ['true', 'false', 'null']) {
      if (text.startsWith(lit, i)) {
        i += lit.length;
        push('literal', lit);
        return;
      }
    }
    if (c === "'") fail('Strings must use double quotes, not single quotes');
    fail(c === undefined ? 'Unexpected end of input: a value is missing' : `Unexpected ${describeChar(c)}: expected a value`);
  };

  try {
    skipWs();
    if (i >= n) fail('Empty body: no JSON value');
    value(0);
    skipWs();
    if (i < n) fail(`Unexpected ${describeChar(text[i])} after the end of the JSON value`);
  } catch (err) {
    if (!(err instanceof JsonFail)) throw err;
    const offset = Math.min(err.offset, n);
    return { ok: false, error: { message: err.message, offset, ...lineColumn(text, offset), ...(err.tooDeep ? { tooDeep: true } : {}) } };
  }
  return { ok: true, tokens, pretty: tokens.map((t) => t.s).join('') };
}

/** The text around an offset, for showing a syntax error in place. */
export function excerptAround(text: string, offset: number, radius = 60): { before: string; at: string; after: string; cutStart: boolean; cutEnd: boolean } {
  // Stay on the error's line (and the one before) so the caret reads naturally.
  const lineStart = text.lastIndexOf('\n', offset - 1) + 1;
  const prevLineStart = lineStart > 0 ? text.lastIndexOf('\n', lineStart - 2) + 1 : lineStart;
  let lineEnd = text.indexOf('\n', offset);
  if (lineEnd === -1) lineEnd = text.length;
  const from = Math.max(prevLineStart, offset - radius);
  const to = Math.min(lineEnd, offset + radius);
  const atEnd = offset >= text.length;
  return {
    before: text.slice(from, offset),
    at: atEnd ? '' : text.slice(offset, offset + 1),
    after: atEnd ? '' : text.slice(offset + 1, to),
    cutStart: from > 0 && from > prevLineStart,
    cutEnd: to < lineEnd,
  };
}

// ------------------------------------------------------------------- forms

/** application/x-www-form-urlencoded fields in order, repeats kept. */
export function formFields(text: string): [string, string][] {
  return [...new URLSearchParams(text.startsWith('?') ? text.slice(1) : text)];
}

/**
 * Work done a slice at a time (as the JSON view formats a big body): `items` grows with each
 * step. Reading 120,000 form fields or 17,000 multipart parts at once was a long task of its own.
 */
export interface SlicedJob<T> {
  items: T[];
  done: boolean;
  /** Work on for about `budgetMs`; answers true when everything is read. */
  step(budgetMs: number, now?: () => number): boolean;
}

const FORM_CHUNK = 16 * 1024;

/**
 * formFields a chunk at a time. URLSearchParams splits on "&" before it decodes anything, so
 * reading the text in pieces cut just after an "&" gives exactly the fields it gives whole.
 */
export function formFieldsJob(text: string, chunkChars = FORM_CHUNK): SlicedJob<[string, string]> {
  let i = text.startsWith('?') ? 1 : 0;
  const job: SlicedJob<[string, string]> = {
    items: [],
    done: false,
    step(budgetMs, now = () => performance.now()) {
      const until = now() + budgetMs;
      while (i < text.length) {
        let end = text.indexOf('&', Math.min(text.length, i + chunkChars));
        end = end === -1 ? text.length : end + 1;
        // A leading "&": URLSearchParams drops a "?" that starts its text, and a chunk may start with a field named "?…".
        for (const pair of new URLSearchParams(`&${text.slice(i, end)}`)) job.items.push(pair);
        i = end;
        if (now() > until) break;
      }
      job.done = i >= text.length;
      return job.done;
    },
  };
  return job;
}
/** A query string's pairs in order. */
export const queryPairs = formFields;

// --------------------------------------------------------------- multipart

export interface MultipartPart {
  headers: [string, string][];
  name: string | null;
  filename: string | null;
  contentType: string | null;
  /** Body bytes of this part. */
  body: Uint8Array;
  size: number;
}

export interface MultipartView {
  boundary: string | null;
  parts: MultipartPart[];
  /** Set when the body does not follow the format (parts found so far are kept). */
  error: string | null;
}

/** Parameters of a header value such as `form-data; name="a"; filename="b.txt"`. */
export function headerParams(value: string): Record<string, string> {
  const out: Record<string, string> = {};
  const re = /;\s*([^=;\s]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;]*)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(value))) {
    const key = m[1].toLowerCase();
    let v = m[2].trim();
    if (v.startsWith('"')) v = v.slice(1, -1).replace(/\\(.)/g, '$1');
    if (key.endsWith('*')) {
      // RFC 5987: charset'lang'percent-encoded
      const ext = /^([^']*)'[^']*'(.*)$/.exec(v);
      if (ext) {
        try {
          out[key.slice(0, -1)] = decodeURIComponent(ext[2]);
          continue;
        } catch {
          /* keep the raw value */
        }
      }
    }
    if (!(key in out)) out[key] = v;
  }
  return out;
}

function indexOfBytes(hay: Uint8Array, needle: Uint8Array, from: number): number {
  const first = needle[0];
  const last = hay.length - needle.length;
  outer: for (let i = hay.indexOf(first, from); i !== -1 && i <= last; i = hay.indexOf(first, i + 1)) {
    for (let j = 1; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

export function parseMultipart(bytes: Uint8Array, contentType: string | null): MultipartView {
  const job = multipartJob(bytes, contentType);
  job.step(Infinity);
  return { boundary: job.boundary, parts: job.items, error: job.error };
}

export interface MultipartJob extends SlicedJob<MultipartPart> {
  boundary: string | null;
  /** Set when the body does not follow the format (parts found before it are kept). */
  error: string | null;
}

/** Header values are bytes (read as latin-1); most senders put UTF-8 in filenames. */
const headerUtf8 = (s: string) => (/[\x80-\xff]/.test(s) ? (decodeUtf8(stringToBytes(s)) ?? s) : s);

/** parseMultipart a slice at a time: `items` are the parts read so far. */
export function multipartJob(bytes: Uint8Array, contentType: string | null): MultipartJob {
  const boundary = contentType ? (headerParams(contentType).boundary ?? null) : null;
  const job: MultipartJob = { boundary, items: [], error: null, done: false, step };
  const finish = (error: string | null) => {
    job.error = error;
    job.done = true;
    return true;
  };
  if (!boundary) {
    finish('The Content-Type has no boundary parameter.');
    return job;
  }
  const enc = new TextEncoder();
  const delim = enc.encode(`--${boundary}`);
  // The next delimiter, preceded by a line break (CRLF, or a bare LF from lax senders).
  const nextDelim = enc.encode(`\n--${boundary}`);
  let pos = indexOfBytes(bytes, delim, 0);
  if (pos === -1) finish(`The boundary "${boundary}" does not occur in the body.`);

  function step(budgetMs: number, now: () => number = () => performance.now()): boolean {
    if (job.done) return true;
    const until = now() + budgetMs;
    for (let k = 1; ; k++) {
      // The clock is read every 64 parts: a part costs microseconds.
      if (k % 64 === 0 && now() > until) return false;
      let p = pos + delim.length;
      if (bytes[p] === 45 && bytes[p + 1] === 45) return finish(null); // "--": the end
      while (bytes[p] === 32 || bytes[p] === 9) p++; // transport padding
      if (bytes[p] === 13) p++;
      if (bytes[p] === 10) p++;
      else return finish('Expected a line break after a boundary line.');
      const next = indexOfBytes(bytes, nextDelim, p);
      const end = next === -1 ? bytes.length : bytes[next - 1] === 13 ? next - 1 : next;
      const raw = bytes.subarray(p, end);
      // Headers end at the first empty line.
      let split = -1;
      let bodyStart = 0;
      for (let i = 0; i < raw.length; i++) {
        if (raw[i] === 10 && (raw[i + 1] === 10 || (raw[i + 1] === 13 && raw[i + 2] === 10))) {
          split = i;
          bodyStart = raw[i + 1] === 10 ? i + 2 : i + 3;
          break;
        }
        if (i === 0 && (raw[0] === 10 || (raw[0] === 13 && raw[1] === 10))) {
          split = 0;
          bodyStart = raw[0] === 10 ? 1 : 2;
          break;
        }
      }
      const headerText = split === -1 ? '' : bytesToString(raw.subarray(0, split)).replace(/\r$/, '');
      const body = split === -1 ? raw : raw.subarray(bodyStart);
      const headers: [string, string][] = [];
      for (const line of headerText.split(/\r?\n/)) {
        const c = line.indexOf(':');
        if (c > 0) headers.push([line.slice(0, c).trim(), line.slice(c + 1).trim()]);
      }
      const disp = headers.find(([k]) => k.toLowerCase() === 'content-disposition')?.[1];
      const params = disp ? headerParams(headerUtf8(disp)) : {};
      job.items.push({
        headers: headers.map(([k, v]) => [k, headerUtf8(v)]),
        name: params.name ?? null,
        filename: params.filename ?? null,
        contentType: headers.find(([k]) => k.toLowerCase() === 'content-type')?.[1] ?? null,
        body,
        size: body.length,
      });
      if (next === -1) return finish('The closing boundary is missing (the body may be truncated).');
      if (split === -1 && raw.length > 0) return finish('A part has no empty line between its headers and its body.');
      pos = next + 1;
    }
  }
  return job;
}

// --------------------------------------------------------------------- hex

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** Classic hex dump: offset, 16 bytes in two groups of 8, printable ASCII. */
export function hexDump(bytes: Uint8Array, start = 0, length = bytes.length - start): string {
  const end = Math.min(bytes.length, start + length);
  const lines: string[] = [];
  for (let off = start; off < end; off += 16) {
    let hex = '';
    let ascii = '';
    for (let j = 0; j < 16; j++) {
      const k = off + j;
      if (j === 8) hex += ' ';
      if (k < end) {
        const b = bytes[k];
        hex += HEX[b] + ' ';
        ascii += b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.';
      } else hex += '   ';
    }
    lines.push(`${off.toString(16).padStart(8, '0')}  ${hex} |${ascii}|`);
  }
  return lines.join('\n');
}

// ------------------------------------------------------------- view choice

export type BodyViewKind = 'json' | 'form' | 'multipart' | 'text' | 'hex';

export function mediaType(contentType: string | null): string {
  return (contentType ?? '').split(';')[0].trim().toLowerCase();
}

export function isJsonType(contentType: string | null): boolean {
  const t = mediaType(contentType);
  return t === 'application/json' || t.endsWith('+json') || t === 'text/json';
}

/** Which views make sense for a body, best first. */
export function availableViews(contentType: string | null, text: string | null, size: number): BodyViewKind[] {
  if (size === 0) return [];
  const t = mediaType(contentType);
  const views: BodyViewKind[] = [];
  const trimmed = text?.trimStart() ?? '';
  if (text !== null && (isJsonType(contentType) || trimmed.startsWith('{') || trimmed.startsWith('['))) views.push('json');
  if (text !== null && t === 'application/x-www-form-urlencoded') views.push('form');
  if (t.startsWith('multipart/')) views.push('multipart');
  if (text !== null) views.push('text');
  views.push('hex');
  // A form body that is actually JSON (or the other way round) still gets both views.
  if (views[0] === 'json' && !isJsonType(contentType) && t === 'application/x-www-form-urlencoded') {
    views.splice(views.indexOf('form'), 1);
    views.unshift('form');
  }
  return views;
}
