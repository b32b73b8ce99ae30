// HTTP header names and values in the API's input: what a bin may answer with.
import { z } from 'zod';
import { NOT_HTTP_TOKEN, ORIGIN_HEADER_REASON, RESERVED_NAME, SET_BY_SERVER } from '../header-reasons.ts';
import { typeError } from './common.ts';

/** One character of an RFC 9110 token, as a pattern (a method, a header name). */
export const TCHAR = "[!#$%&'*+\\-.^_`|~0-9A-Za-z]";
const TOKEN = new RegExp(`^${TCHAR}+$`);
// eslint-disable-next-line no-control-regex
const VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

/**
 * Headers the server sets itself: letting a plan set them would break HTTP framing, or (the
 * capture's id) mislead a sender or script that looks the capture up by it.
 */
const FRAMING = new Set(['content-length', 'transfer-encoding', 'connection', 'keep-alive', 'upgrade', 'trailer', 'x-hooklab-request-id']);

/**
 * Response headers that change what a whole origin may do: cookies, CSP, HSTS, service-worker
 * scope, isolation, reporting, alternative services. Receiver URLs share the UI's origin, so
 * a bin sending one of these (a Set-Cookie, a relaxed CSP) would act for hooklab itself when
 * a signed-in user opens the bin's URL. The one list: the API refuses them (400) and the
 * receiver never sends them (settings saved by an earlier build may still hold some).
 */
export const ORIGIN_HEADERS: ReadonlySet<string> = new Set([
  'set-cookie',
  'set-cookie2',
  'content-security-policy',
  'content-security-policy-report-only',
  'clear-site-data',
  'strict-transport-security',
  'service-worker-allowed',
  'x-content-type-options',
  'refresh',
  'origin-agent-cluster',
  'cross-origin-opener-policy',
  'cross-origin-embedder-policy',
  'permissions-policy',
  'feature-policy',
  'document-policy',
  'nel',
  'report-to',
  'reporting-endpoints',
  'alt-svc',
  'x-frame-options',
  'x-xss-protection',
  // With the Origin echoed back (cors), other sites could read hooklab's origin with the
  // visitor's credentials: credentials are never allowed.
  'access-control-allow-credentials',
  // Obsolete or niche, but also remembered for (or applied to) the whole origin.
  'public-key-pins',
  'public-key-pins-report-only',
  'expect-ct',
  'accept-ch',
  'critical-ch',
  'x-permitted-cross-domain-policies',
  // Have the browser fetch and run rules for pages of the origin (prerender, prefetch).
  'speculation-rules',
  'supports-loading-mode',
]);

/** An RFC 9110 token (tchar+): what a method or a header name must be. */
export const isHttpToken = (s: string): boolean => TOKEN.test(s);
/** A header value undici (and Node) will write: tab, printable ASCII and Latin-1; no CR, LF, NUL or other control characters. */
export const isHeaderValue = (s: string): boolean => VALUE.test(s);

export const isOriginHeader = (name: string): boolean => ORIGIN_HEADERS.has(name.toLowerCase());

export const httpToken = (max = 64) =>
  z
    .string({ error: typeError('must be a string') })
    .min(1, { error: 'must not be empty' })
    .max(max, { error: `must be at most ${max} characters` })
    .regex(TOKEN, { error: NOT_HTTP_TOKEN });

/** One header value: no control characters or line breaks, Latin-1 only. */
export const headerValue = (max = 8192, min = 0) =>
  z
    .string({ error: typeError('must be a string') })
    .min(min, { error: 'must not be empty' })
    .max(max, { error: `must be at most ${max} characters` })
    .regex(VALUE, { error: 'must not contain control characters, line breaks or characters beyond Latin-1' });

/**
 * A pattern matching exactly these names, in any case, for the OpenAPI document (JSON Schema
 * patterns have no flags): "te" -> ^(?:[Tt][Ee])$.
 */
export function caselessNames(names: Iterable<string>): string {
  const one = (n: string) => [...n].map((c) => (/[a-z]/i.test(c) ? `[${c.toUpperCase()}${c.toLowerCase()}]` : c.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&'))).join('');
  return `^(?:${[...names].map(one).join('|')})$`;
}

const MAX_ANSWER_HEADER_NAME = 256;

/** Headers a bin answers with: valid HTTP, not framing, none that act for hooklab's origin. */
export const answerHeaders = (maxCount = 50, maxValue = 8192) =>
  z.preprocess(refuseProtoKey, z
    .record(z.string(), headerValue(maxValue), { error: 'must be a JSON object' })
    .superRefine((h, ctx) => {
      const names = Object.keys(h);
      if (names.length > maxCount) ctx.addIssue({ code: 'custom', message: `at most ${maxCount} headers` });
      for (const k of names) {
        const why = !TOKEN.test(k) || k.length > MAX_ANSWER_HEADER_NAME
          ? NOT_HTTP_TOKEN
          : FRAMING.has(k.toLowerCase())
            ? SET_BY_SERVER
            : isOriginHeader(k)
              ? ORIGIN_HEADER_REASON
              : null;
        if (why) ctx.addIssue({ code: 'custom', path: [k], message: why });
      }
    })
    .meta({
      description:
        "Header name -> value, sent as given (names keep their case). A name is an HTTP token of at most 256 characters, and none the server sets itself (Content-Length, Transfer-Encoding, …) or that would act for hooklab's whole origin (Set-Cookie, CSP, HSTS, …): see propertyNames.",
      // The same rules as the refinement above, for the document (built from the same lists).
      maxProperties: maxCount,
      propertyNames: { pattern: TOKEN.source, maxLength: MAX_ANSWER_HEADER_NAME, not: { pattern: caselessNames([...FRAMING, ...ORIGIN_HEADERS]) } },
    }));

/**
 * A JSON object's own "__proto__" key: zod's record skips it (assigning it would set the
 * result's prototype), so a header by that name would vanish without a word. Refused instead.
 */
function refuseProtoKey(v: unknown, ctx: z.RefinementCtx): unknown {
  if (v !== null && typeof v === 'object' && Object.prototype.hasOwnProperty.call(v, '__proto__')) {
    ctx.addIssue({ code: 'custom', path: ['__proto__'], message: RESERVED_NAME, input: v });
  }
  return v;
}
