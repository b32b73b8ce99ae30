// Export and import of a bin's captures: NDJSON (one capture per line, byte-exact) and HAR 1.2.
import { z } from 'zod';
import { quoteHeaderName as quoted } from '../header-reasons.ts';
import { int, obj, oneOf, str, typeError } from './common.ts';
import { AnswerOutcome } from './bins.ts';
import { isHeaderValue, isHttpToken } from './headers.ts';

export const ExportQuery = obj({
  format: oneOf(['ndjson', 'har']).optional().meta({ description: 'Default ndjson.' }),
  ids: z
    .string()
    .regex(/^[0-9a-z]{1,40}(,[0-9a-z]{1,40})*$/, { error: 'must be request ids separated by commas' })
    .transform((s) => s.split(','))
    .optional()
    .meta({ description: 'Only these captures (e.g. "Copy as HAR" for one).' }),
});

// An import refuses what a replay could not send again (the replay API's checks, ReplayInput in
// forward.ts), so every capture stored can be replayed. A live capture always passes: Node's
// parser lets through only token methods and header names, header values of tab, printable
// ASCII and obs-text (bytes 0x80-0xff, kept as Latin-1 characters) and request targets of
// printable ASCII, so any export re-imports.

/**
 * The largest request head a capture can have (MAX_HEADER_BYTES' upper bound, server/config.ts;
 * Node counts the URL and the header names and values). No field is refused for its size alone
 * below it, nor a capture for its number of headers (each counts at least its name's 1 byte):
 * an NDJSON line is capped as a whole instead (server/capture/importer.ts).
 */
const MAX_HEAD_BYTES = 1024 * 1024;
const MAX_HEADERS = MAX_HEAD_BYTES;

// A request target undici sends: Latin-1 with no space, DEL or control character (CR, LF, NUL…).
const TARGET = /^[\x21-\x7e\x80-\xff]*$/;
const TARGET_REASON = 'must not contain spaces, line breaks or other control characters, nor characters beyond Latin-1';

const method = str(64, 1)
  .refine((m) => m === '' || isHttpToken(m), { error: "must be an HTTP method: a token of letters, digits and !#$%&'*+-.^_`|~ (no spaces or line breaks)" })
  .refine((m) => m.toUpperCase() !== 'CONNECT', { error: 'cannot be CONNECT: it asks for a tunnel, there is no request to replay' });

const path = str(MAX_HEAD_BYTES, 1)
  .refine((p) => p.startsWith('/'), { error: 'must start with "/"' })
  .refine((p) => TARGET.test(p), { error: TARGET_REASON });

/** Issues of one header, at `at` (its name's path, its value's path). */
function checkHeader(name: string, value: string, ctx: z.RefinementCtx, at: [PropertyKey[], PropertyKey[]]) {
  if (!isHttpToken(name)) {
    ctx.addIssue({ code: 'custom', path: at[0], message: `header name ${quoted(name)} must be an HTTP token: letters, digits and !#$%&'*+-.^_\`|~ (no spaces, colons or line breaks)` });
  }
  if (!isHeaderValue(value)) {
    ctx.addIssue({ code: 'custom', path: at[1], message: `the value of header ${quoted(name)} must not contain CR, LF, NUL or other control characters (tab is allowed), nor characters beyond Latin-1` });
  }
}

// Sent back as the raw body's Content-Type (GET …/raw): what a header can carry.
const contentType = z.string().refine(isHeaderValue, { error: 'must be a header value: no CR, LF or other control characters, nothing beyond Latin-1' });

/** Header (or trailer) fields as [name, value] pairs, each one a request can carry. */
const fieldPairs = (what: string) =>
  z
    .array(
      z.tuple([str(MAX_HEAD_BYTES), str(MAX_HEAD_BYTES)]).superRefine(([name, value], ctx) => checkHeader(name, value, ctx, [[0], [1]])),
      { error: typeError('must be a list of [name, value] pairs') },
    )
    .max(MAX_HEADERS, { error: `at most ${MAX_HEADERS} ${what}` });

/** One line of an NDJSON export: everything about a capture, the body in base64. */
export const ExportLine = z
  .object({
    id: z.string(),
    method,
    path,
    queryString: str(MAX_HEAD_BYTES).refine((q) => TARGET.test(q), { error: TARGET_REASON }),
    headers: fieldPairs('headers'),
    // Optional: exports before trailers were kept have none, and still import.
    trailers: fieldPairs('trailers')
      .optional()
      .meta({ description: 'Chunked-encoding trailers, in order, when the request had some (checked as headers are).' }),
    ip: str(64),
    receivedAt: z.iso.datetime({ offset: true, error: typeError('must be an RFC 3339 time') }),
    size: int(0, Number.MAX_SAFE_INTEGER),
    truncated: z.boolean(),
    contentType: contentType.nullable(),
    answer: AnswerOutcome,
    body: z.base64({ error: typeError('must be base64') }),
  })
  .meta({ id: 'ExportLine' });

/**
 * HTTP/2's pseudo-headers (":authority", ":path", …), which browsers' HARs list with the
 * headers: they are no HTTP/1.1 headers (the method, URL and Host say the same), so an import
 * leaves them out rather than refuse the document.
 */
const isPseudoHeader = (name: string) => name.startsWith(':');

const FORM = 'application/x-www-form-urlencoded';

/**
 * Why a body given as `params` (without `text`) cannot be rebuilt, or null. Only a urlencoded
 * form can, byte for byte as a form sends it: a multipart body's boundary and parts' headers are
 * not in a HAR, and a made-up one would be stored as if sent. Its type as the import stores it:
 * the Content-Type header, else the mimeType.
 */
function paramsProblem(pd: { mimeType?: string; text?: string; params?: { fileName?: string }[] } | undefined, headers: { name: string; value: string }[]): string | null {
  if (!pd?.params?.length || pd.text !== undefined) return null;
  const type = (headers.find((h) => h.name.toLowerCase() === 'content-type')?.value || pd.mimeType || '').split(';')[0].trim().toLowerCase();
  if (type !== FORM) {
    return `gives the body as params without text, which is rebuilt for ${FORM} only, not ${type ? `"${type}"` : 'a body of no type'} (its boundary and parts are not in a HAR): give postData.text`;
  }
  if (pd.params.some((p) => p.fileName !== undefined)) return `names a file (fileName), which an ${FORM} body cannot carry: give postData.text`;
  return null;
}

/** A urlencoded form's body from its fields, encoded as a browser's form sends it. */
export const formBody = (params: { name: string; value?: string }[]): string => new URLSearchParams(params.map((p) => [p.name, p.value ?? ''])).toString();

/** The parts of a HAR 1.2 document an import reads. */
export const HarImport = z.object({
  log: z.object({
    entries: z.array(
      z.object({
        startedDateTime: z.iso.datetime({ offset: true, error: typeError('must be an RFC 3339 time') }),
        request: z.object({
          method,
          url: z.string().refine((u) => URL.canParse(u), { error: 'must be an absolute URL' }),
          headers: z
            .array(z.object({ name: z.string(), value: z.string() }))
            .superRefine((hs, ctx) => hs.forEach((h, i) => isPseudoHeader(h.name) || checkHeader(h.name, h.value, ctx, [[i, 'name'], [i, 'value']])))
            .transform((hs) => hs.filter((h) => !isPseudoHeader(h.name))),
          postData: z
            .object({
              mimeType: contentType.optional(),
              text: z.string().optional(),
              // HAR 1.2 lets a form be given as its fields instead of its text.
              params: z.array(z.object({ name: z.string(), value: z.string().optional(), fileName: z.string().optional() })).optional(),
              _encoding: z.literal('base64').optional(),
            })
            .optional(),
          bodySize: z.number().optional(),
        })
          .superRefine((r, ctx) => {
            const problem = paramsProblem(r.postData, r.headers);
            if (problem) ctx.addIssue({ code: 'custom', path: ['postData', 'params'], message: problem });
          }),
        response: z.object({ status: z.number() }).optional(),
        _hooklab: z
          .object({
            ip: z.string().optional(),
            answer: AnswerOutcome.optional(),
            path: path.optional(),
            // hooklab's HAR export says whether the capture's body was cut (MAX_BODY_BYTES).
            truncated: z.boolean().optional(),
            // hooklab's HAR export writes a capture's chunked trailers here (HAR has no place for them).
            trailers: z
              .array(z.object({ name: z.string(), value: z.string() }))
              .superRefine((ts, ctx) => ts.forEach((t, i) => checkHeader(t.name, t.value, ctx, [[i, 'name'], [i, 'value']])))
              .optional(),
          })
          .optional(),
      }),
    ),
  }),
});

export const ImportResult = z
  .object({ imported: z.int(), evicted: z.int().meta({ description: 'Captures pushed out by the caps to make room.' }) })
  .meta({ id: 'ImportResult' });
